#!/usr/bin/env bash
# Every benchmark of bench/, to its last line: one that fails is reported and the rest go on.
# Arguments name benchmarks to run (e.g. scripts/bench.sh append reactions); none: all of them.
# It ends with the headline figures beside those recorded in BENCHMARKS.json (bench/compare.py):
# exit 1 if a benchmark failed, 3 if a figure is more than 30% worse than recorded.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh test,llm,search,train,speech || exit 1
scripts/services.sh up || exit 1
eval "$(scripts/services.sh env)"
ALL=(append reactions event_flow segmentation chatops classify checkpoints redaction privacy
     recovery verify_memory size soak similar leaderboards correlation alert_ingest
     replay_check incident_response incident_storms alert_flow alertmanager_storm classify_nl2bash
     "plan_nl2bash --models rules" arena training cli_startup)
[ "$#" -gt 0 ] && ALL=("$@")
ALTLAS_BENCH_FIGURES=${ALTLAS_BENCH_FIGURES:-$(mktemp --suffix=.jsonl)}
export ALTLAS_BENCH_FIGURES
failed=()
for bench in "${ALL[@]}"; do
  read -r -a argv <<<"$bench"
  echo "== bench/${argv[0]}.py ${argv[*]:1} ($(date +%T))"
  .venv/bin/python "bench/${argv[0]}.py" "${argv[@]:1}" || failed+=("$bench (exit $?)")
done
echo "== compared with the figures recorded in BENCHMARKS.json ($ALTLAS_BENCH_FIGURES)"
.venv/bin/python bench/compare.py "$ALTLAS_BENCH_FIGURES"
compared=$?
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'bench: %d of %d failed:\n' "${#failed[@]}" "${#ALL[@]}" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "bench: all ${#ALL[@]} ran to their last line"
exit "$compared"
