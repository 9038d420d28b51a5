# The two quick-start commands, and a few conveniences around them.
.PHONY: demo test fast services-up services-down bench

demo:            ## install altlas and run the demo on the embedded default
	scripts/demo.sh

test:            ## install test deps, start PostgreSQL, run every test
	scripts/test.sh

fast:            ## the edit-test loop: lint, types, unit and SQLite contract tests, no services
	scripts/fast.sh

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

bench:           ## every benchmark of bench/, against the services; one failing does not stop the rest
	scripts/bench.sh
