#!/usr/bin/env bash
# Runs training on a Cloud TPU VM pod slice: the same command on every worker at once (one JAX
# process per worker/host, each driving its local TPU chips); jax.distributed.initialize() finds
# the other workers from the TPU metadata, so no address or process count is given.
#
#   export TPU_NAME=my-v4-32 ZONE=us-central2-b [PROJECT=my-project] [REMOTE_DIR=inductive-kd]
#   bash scripts/tpu_pod.sh setup                 # copy this checkout to every worker, pip install
#   bash scripts/tpu_pod.sh run python main.py --config=configs/mnist_cnn.py \
#       --workdir=/mnt/shared/runs/seed0/mnist_cnn --config.seed=0
#   RUNS=/mnt/shared/runs bash scripts/tpu_pod.sh grid [--quick]  # every run.sh job, in turn
#   DRY_RUN=1 bash scripts/tpu_pod.sh ...          # print the gcloud commands only
#
# The workdir must be one directory that every worker sees (NFS/Filestore, or a gcsfuse mount of
# a bucket at the same path): all workers write the orbax checkpoints, worker 0 results.json.
# A killed job resumes from the latest checkpoint when the same command is run again.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TPU_NAME:?set TPU_NAME to the TPU VM (pod slice) name}"
: "${ZONE:?set ZONE to the TPU zone}"
REMOTE_DIR=${REMOTE_DIR:-inductive-kd}
gcloud_ssh=(gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" --worker=all)
gcloud_scp=(gcloud compute tpus tpu-vm scp --zone="$ZONE" --worker=all)
if [[ -n ${PROJECT:-} ]]; then
  gcloud_ssh+=(--project="$PROJECT"); gcloud_scp+=(--project="$PROJECT")
fi

run() {  # Runs (or, with DRY_RUN=1, prints) one command line.
  if [[ ${DRY_RUN:-0} == 1 ]]; then
    printf '%q ' "$@"; echo
  else
    "$@"
  fi
}

on_all_workers() {  # on_all_workers "shell command": runs it in REMOTE_DIR on every worker.
  run "${gcloud_ssh[@]}" --command="cd $REMOTE_DIR && $1"
}

case "${1:-}" in
  setup)
    archive=${TMPDIR:-/tmp}/inductive-kd-$$.tar.gz
    run tar czf "$archive" --exclude=./runs --exclude=./runs_quick --exclude=./cache \
      --exclude=./.git .
    run "${gcloud_scp[@]}" "$archive" "$TPU_NAME:inductive-kd.tar.gz"
    run "${gcloud_ssh[@]}" --command="mkdir -p $REMOTE_DIR && tar xzf inductive-kd.tar.gz -C $REMOTE_DIR && cd $REMOTE_DIR && pip install -q -e . 'jax[tpu]'"
    ;;
  run)
    shift
    [[ $# -ge 1 ]] || { echo "error: give the command: $0 run python main.py --config=... --workdir=..." >&2; exit 2; }
    on_all_workers "$* --config.distributed=auto"
    ;;
  grid)
    shift
    # Baselines come first in run.sh's order, so every teacher is finished before its students.
    while IFS= read -r job; do
      on_all_workers "$job --config.distributed=auto"
    done < <(bash run.sh "$@" --print-jobs)
    on_all_workers "python -m inductive_kd.report --runs ${RUNS:-runs} --out ${RUNS:-runs}/report"
    ;;
  *)
    echo "usage: $0 setup | run <python main.py ...> | grid [--quick]   (TPU_NAME, ZONE set)" >&2
    exit 2
    ;;
esac
