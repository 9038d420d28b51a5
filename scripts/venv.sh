#!/usr/bin/env bash
# Create ./.venv (Python >= 3.11) and install altlas into it with the given extras.
# Usage: scripts/venv.sh [EXTRA,...]   e.g. scripts/venv.sh test
set -euo pipefail
cd "$(dirname "$0")/.."

extras=${1:-}
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$candidate; break
  fi
done
[ -n "$python" ] || { echo "venv: altlas needs Python 3.11 or newer" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "venv: creating .venv with $($python --version)" >&2
  "$python" -m venv .venv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# Reinstall only when the project's requirements changed since the last install.
stamp=".venv/.installed-$(printf '%s' "$extras" | tr ',' '-')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "venv: installing altlas$([ -n "$extras" ] && echo "[$extras]")" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$spec"
  touch "$stamp"
fi
