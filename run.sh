#!/usr/bin/env bash
# The reproduction grid: every setup of the three scenarios (MNIST; agreement classification;
# agreement language models) for each seed, resumable, then the report.
#
#   bash run.sh                   # paper schedule (MNIST: 400 epochs per run, days on 2 CPU cores)
#   bash run.sh --quick           # the same grid with :quick configs, in minutes (a smoke test)
#   bash run.sh --short           # the budget recipes (:short) of the committed docs/results
#   bash run.sh --print-jobs      # print one command per (config, seed) for a scheduler
#   bash run.sh --scenario=mnist  # one scenario only (mnist | sva_cl | sva_lm; repeat for several)
#   SEEDS="0 1 2 3" RUNS=runs bash run.sh
#
# The jobs come from inductive_kd/experiments/grid.py: baselines first (they are the teachers of
# the distillation runs of the same seed; a self-distilled student's is the next seed's), then
# students. Finished runs (results.json present) are
# skipped; interrupted ones resume from their checkpoint.
set -euo pipefail
cd "$(dirname "$0")"
QUICK=""; SHORT=""; PRINT=0; SCENARIO_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK="--quick" ;;
    --short) SHORT="--short" ;;
    --print-jobs) PRINT=1 ;;
    --scenario=*) SCENARIO_ARGS+=(--scenario "${arg#--scenario=}") ;;
    *) echo "unknown argument: $arg (use --quick, --short, --print-jobs, --scenario=NAME)" >&2; exit 2 ;;
  esac
done
SEEDS=${SEEDS:-"0 1 2 3"}
if [[ -n $QUICK && -n $SHORT ]]; then echo "--quick and --short are two schedules: choose one" >&2; exit 2; fi
RUNS=${RUNS:-runs${QUICK:+_quick}${SHORT:+_short}}
PYTHON=${PYTHON:-python}

grid=$($PYTHON -m inductive_kd.experiments.grid --runs "$RUNS" --seeds "$SEEDS" \
  --python "$PYTHON" $QUICK $SHORT "${SCENARIO_ARGS[@]}")
if [[ $PRINT == 1 ]]; then
  echo "$grid"
  exit 0
fi
while IFS= read -r job; do
  echo ">>> $job"
  eval "$job" </dev/null
done <<<"$grid"
$PYTHON -m inductive_kd.report --runs "$RUNS" --out "$RUNS/report"
echo "Report: $RUNS/report/REPORT.md"
