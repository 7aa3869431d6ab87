#!/usr/bin/env bash
# Submits the whole reproduction grid (inductive_kd/experiments/grid.py, the jobs of run.sh) to
# SLURM as two job arrays:
# the baselines (which are also the teachers) first, then the distillation students, which start
# only after every baseline succeeded (a student whose teacher is missing would otherwise train
# it, possibly twice at once). Each array task is one run, on the GPUs scripts/slurm_gpu.sbatch
# asks for.
#
#   bash scripts/submit_slurm.sh [--quick] [extra sbatch options, e.g. --nodes=2 --gpus-per-node=4
#                                 --ntasks-per-node=4 --partition=gpu]
#   DRY_RUN=1 bash scripts/submit_slurm.sh      # print the two sbatch commands only
# SEEDS and RUNS are passed to run.sh (see there).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
if [[ ${1:-} == --quick ]]; then quick=(--quick); shift; fi
runs=${RUNS:-runs$([[ ${#quick[@]} -gt 0 ]] && echo _quick)}
mkdir -p "$runs"
grid=(python -m inductive_kd.experiments.grid --runs "$runs" --seeds "${SEEDS:-0 1 2 3}" "${quick[@]}")
"${grid[@]}" --phase teachers > "$runs/jobs_teachers.txt"
"${grid[@]}" --phase students > "$runs/jobs_students.txt"
n_teachers=$(wc -l < "$runs/jobs_teachers.txt")
n_students=$(wc -l < "$runs/jobs_students.txt")

submit() {  # sbatch "$@"; sets $job_id. DRY_RUN=1 prints the command instead.
  if [[ ${DRY_RUN:-0} == 1 ]]; then
    printf '%q ' sbatch "$@"; echo
    job_id="DRYRUN"
  else
    job_id=$(sbatch --parsable "$@")
    job_id=${job_id%%;*}  # "id;cluster" on federated clusters
  fi
}
submit --array=0-$((n_teachers - 1)) "$@" scripts/slurm_gpu.sbatch \
  "--jobs-file=$runs/jobs_teachers.txt"
teachers=$job_id
echo "baselines/teachers: job $teachers ($n_teachers runs)" >&2
if [[ $n_students -gt 0 ]]; then
  submit --array=0-$((n_students - 1)) --dependency="afterok:$teachers" "$@" \
    scripts/slurm_gpu.sbatch "--jobs-file=$runs/jobs_students.txt"
  echo "students: job $job_id ($n_students runs, after $teachers)" >&2
fi
echo "When all have finished: python -m inductive_kd.report --runs $runs --out $runs/report" >&2
