#!/usr/bin/env bash
# Quick start 1: install altlas and run its demo on the embedded default (SQLite, no services).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
exec .venv/bin/altlas demo
