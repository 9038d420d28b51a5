#!/usr/bin/env bash
# The edit-test loop: lint, types, the unit tests and the application's contract on SQLite.
# No services are started and none is needed; under a minute. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/pytest ] || scripts/venv.sh test
.venv/bin/ruff check --quiet .
scripts/typecheck.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit \
  tests/integration/test_application_contract.py::TestApplicationOnSQLite "$@"
