#!/usr/bin/env bash
# Quick start 2: install the test dependencies, start the real services, run every test.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
phase() { echo "test: $1 at $(date +%T) ($((SECONDS - started)) s in)" >&2; }
# pytest keeps its last three runs' temp dirs; runs from before the shared model cache left a
# model copy per test there (gigabytes), so start from a clean slate.
rm -rf "${TMPDIR:-/tmp}/pytest-of-$(id -un)"
phase "installing"
scripts/venv.sh test,llm,search,train
.venv/bin/ruff check --quiet .
scripts/typecheck.sh
phase "starting the services"
scripts/services.sh up
eval "$(scripts/services.sh env)"
# Every log record of the run goes to one file, and no test secret may be in it.
logs="${TMPDIR:-/tmp}/altlas-test-logs"
rm -rf "$logs" && mkdir -p "$logs"
status=0
phase "running the tests"
.venv/bin/python -m pytest --durations=25 --log-file="$logs/pytest.log" --log-file-level=DEBUG "$@" || status=$?
.venv/bin/python -m tests.security.leak_check "$logs/pytest.log" || status=1
phase "done"
exit "$status"
