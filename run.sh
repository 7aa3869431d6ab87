#!/usr/bin/env bash
# The reproduction grid: every MNIST setup for each seed, resumable, then the report.
#
#   bash run.sh                 # paper schedule (400 epochs per run: days on a 2-core CPU)
#   bash run.sh --quick         # the same grid with :quick configs, in minutes (a smoke test)
#   bash run.sh --print-jobs    # print one command per (config, seed) for a scheduler
#   SEEDS="0 1 2 3" RUNS=runs bash run.sh
#
# Finished runs (results.json present) are skipped; interrupted ones resume from their checkpoint.
# Baselines run first because they are the teachers of the distillation runs (a student whose
# teacher is missing trains it first, in the same place).
set -euo pipefail
cd "$(dirname "$0")"
QUICK=""; PRINT=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=":quick" ;;
    --print-jobs) PRINT=1 ;;
    *) echo "unknown argument: $arg (use --quick and/or --print-jobs)" >&2; exit 2 ;;
  esac
done
SEEDS=${SEEDS:-"0 1 2 3"}
RUNS=${RUNS:-runs${QUICK:+_quick}}
PYTHON=${PYTHON:-python}
CONFIGS="mnist_cnn mnist_mlp mnist_cnn_to_mlp mnist_mlp_to_cnn mnist_cnn_to_cnn mnist_mlp_to_mlp"

jobs=()
for seed in $SEEDS; do
  for cfg in $CONFIGS; do
    wd="$RUNS/seed$seed/$cfg"
    # Teachers of seed S live beside their students: runs/seedS/mnist_cnn is both the CNN
    # baseline and the CNN teacher of runs/seedS/mnist_cnn_to_*.
    teacher_flag=""
    if [[ $cfg == *_to_* ]]; then
      teacher=${cfg%%_to_*}  # mnist_cnn_to_mlp -> mnist_cnn
      teacher_flag="--config.teacher.workdir=$teacher"
    fi
    jobs+=("$PYTHON main.py --config=configs/$cfg.py$QUICK --workdir=$wd --config.seed=$seed $teacher_flag")
  done
done

if [[ $PRINT == 1 ]]; then
  printf '%s\n' "${jobs[@]}"
  exit 0
fi
for job in "${jobs[@]}"; do
  echo ">>> $job"
  eval "$job"
done
$PYTHON -m inductive_kd.report --runs "$RUNS" --out "$RUNS/report"
echo "Report: $RUNS/report/REPORT.md"
