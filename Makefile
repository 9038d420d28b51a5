# The two quick-start commands, and a few conveniences around them.
.PHONY: demo test services-up services-down bench

demo:            ## install altlas and run the demo on the embedded default
	scripts/demo.sh

test:            ## install test deps, start PostgreSQL, run every test
	scripts/test.sh

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

bench:           ## the benchmarks of bench/, against the services
	scripts/venv.sh test,llm,search,train && scripts/services.sh up && \
	  eval "$$(scripts/services.sh env)" && .venv/bin/python bench/append.py && \
	  .venv/bin/python bench/reactions.py && \
	  .venv/bin/python bench/event_flow.py && .venv/bin/python bench/segmentation.py && \
	  .venv/bin/python bench/chatops.py && .venv/bin/python bench/classify.py && \
	  .venv/bin/python bench/checkpoints.py && .venv/bin/python bench/redaction.py && \
	  .venv/bin/python bench/privacy.py && .venv/bin/python bench/recovery.py && \
	  .venv/bin/python bench/verify_memory.py && .venv/bin/python bench/size.py && \
	  .venv/bin/python bench/soak.py && .venv/bin/python bench/similar.py && \
	  .venv/bin/python bench/leaderboards.py && .venv/bin/python bench/correlation.py && \
	  .venv/bin/python bench/alert_ingest.py && .venv/bin/python bench/incident_response.py && \
	  .venv/bin/python bench/incident_storms.py && .venv/bin/python bench/alert_flow.py && \
	  .venv/bin/python bench/alertmanager_storm.py && \
	  .venv/bin/python bench/classify_nl2bash.py && .venv/bin/python bench/plan_nl2bash.py --models rules && \
	  .venv/bin/python bench/arena.py && .venv/bin/python bench/training.py
