#!/usr/bin/env bash
# mypy --strict over the product code, straight from the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/mypy --config-file pyproject.toml --cache-dir .mypy_cache \
  -p altlas -p domain -p application -p projections -p adapters -p bots -p streams -p migrations
