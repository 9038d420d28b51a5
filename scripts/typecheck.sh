#!/usr/bin/env bash
# mypy --strict over the product code. The top-level folders install as subpackages of
# `altlas` (pyproject's package-dir), which mypy cannot follow in an editable install, so
# it checks a tree of links laid out as installed and reports the repository's paths.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/altlas"
for f in altlas/*; do ln -s "$root/$f" "$tree/altlas/"; done
for d in domain application projections adapters bots streams migrations; do
  ln -s "$root/$d" "$tree/altlas/$d"
done
cd "$tree"
status=0
MYPYPATH="$tree" "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" \
  --cache-dir "$root/.mypy_cache" -p altlas >"$tree/out" 2>&1 || status=$?
sed -E 's#^altlas/(domain|application|projections|adapters|bots|streams|migrations)/#\1/#' \
  "$tree/out"
exit "$status"
