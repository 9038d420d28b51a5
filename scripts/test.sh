#!/usr/bin/env bash
# Quick start 2: install the test dependencies, start the real services, run every test.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
# The tests run in two phases: every test but the `serial` ones on ALTLAS_TEST_WORKERS pytest-xdist
# workers, each test module on one worker (each test has its own schema, topics and data dir; a
# module's fixtures are set up once, and the Alertmanager module's fixed receiver port is used by
# one test at a time), then the few that stop the shared broker, alone.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
phase() { echo "test: $1 at $(date +%T) ($((SECONDS - started)) s in)" >&2; }
# pytest keeps its last three runs' temp dirs; runs from before the shared model cache left a
# model copy per test there (gigabytes), so start from a clean slate.
rm -rf "${TMPDIR:-/tmp}/pytest-of-$(id -un)"
phase "installing"
scripts/venv.sh test,llm,search,train,speech
.venv/bin/ruff check --quiet .
scripts/typecheck.sh
phase "starting the services"
scripts/services.sh up
eval "$(scripts/services.sh env)"
# Every log record of the run goes to files here, and no test secret may be in them.
logs="${TMPDIR:-/tmp}/altlas-test-logs"
rm -rf "$logs" && mkdir -p "$logs"
workers="${ALTLAS_TEST_WORKERS:-3}"
# The workers share two cores: a model that spins two threads waits on the other workers' (the
# Slack arena test, at a load of 8: 50 s with two threads, 22 s with one), so each gets one.
export ALTLAS_LLM_THREADS="${ALTLAS_LLM_THREADS:-1}" ALTLAS_SPEECH_THREADS="${ALTLAS_SPEECH_THREADS:-1}"
status=0
# pytest's "no tests collected" (5) is not a failure when the arguments select one phase only.
run() { .venv/bin/python -m pytest "$@" || { rc=$?; [ "$rc" -eq 5 ] || status=$rc; }; }
phase "running the tests on $workers workers"
run -n "$workers" --dist loadfile -m "not serial" --durations=25 \
  --log-file="$logs/pytest.log" --log-file-level=DEBUG "$@"
phase "running the tests that stop the broker, alone"
run -m serial --durations=5 --log-file="$logs/serial.log" --log-file-level=DEBUG "$@"
.venv/bin/python -m tests.security.leak_check "$logs"/*.log || status=1
phase "done"
exit "$status"
