"""Compact copies of finished runs, small enough to commit beside a report and regenerate it.

  python -m inductive_kd.report.compact --runs R --out docs/results/NAME/runs [--rep [--rep_limit N]]
      [--probes [--probe_limit M]]

Keeps what the report reads: each run's results.json, history.json (the metrics of every
evaluation) and its per-example predictions
(labels, predictions, probabilities and losses, floats as float16), in the same folder layout, so
`python -m inductive_kd.report --runs docs/results/NAME/runs` finds every run and, by the layout,
each student's teacher. Representations (the largest arrays; the CKA/RSA tables need them) only
with --rep, and with --rep_limit N only those of each set's first N examples (the report then
computes CKA and RSA on those N; an MNIST run is ~0.5 MB without them, ~2 MB with all 10,000).
The probe outputs (outputs on a fixed probe set during training: the similarity-over-training and
MDS plots) only with --probes, as float16, and with --probe_limit M only the first M probe
examples. Checkpoints and TensorBoard files never.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from inductive_kd import results as results_lib
from inductive_kd.analysis import trajectories

_FLOAT_KEYS = ("probs", "loss", "rep", "reps")


def compact_npz(src: Path, dst: Path, keep_rep: bool, limit: int = 0,
                limited: tuple[str, ...] = ("rep",)) -> None:
  """Floats as float16; `rep` left out unless keep_rep; the `limited` arrays cut to their first
  `limit` rows (0: all)."""
  with np.load(src) as z:
    arrays = {}
    for key in z.files:
      if key == "rep" and not keep_rep:
        continue
      value = z[key]
      if key in limited and limit:
        value = value[:limit]
      if key in _FLOAT_KEYS and np.issubdtype(value.dtype, np.floating):
        value = value.astype(np.float16)
      arrays[key] = value
  dst.parent.mkdir(parents=True, exist_ok=True)
  np.savez_compressed(dst, **arrays)


def compact_runs(runs: Path, out: Path, keep_rep: bool = False, rep_limit: int = 0,
                 probes: bool = False, probe_limit: int = 0) -> list[Path]:
  """Copies every finished run under `runs` into `out`; returns the results.json files written."""
  written = []
  paths = sorted(Path(runs).glob("**/results.json"))
  if not paths:
    raise ValueError(f"No finished runs (**/results.json) under {runs}.")
  for path in paths:
    rel = path.parent.relative_to(runs)
    dst = Path(out) / rel
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, dst / "results.json")
    # The learning curves: the run's own history.json, or one made from its TensorBoard files
    # (runs finished before the trainer wrote it).
    history = results_lib.read_history(path.parent) or results_lib.eval_history(path.parent)
    if history:
      results_lib.write_json(dst / results_lib.HISTORY, history)
    for npz in sorted((path.parent / "predictions").glob("*.npz")):
      compact_npz(npz, dst / "predictions" / npz.name, keep_rep, rep_limit)
    if probes:
      for npz in sorted((path.parent / trajectories.PROBE_DIRNAME).glob("step_*.npz")):
        compact_npz(npz, dst / trajectories.PROBE_DIRNAME / npz.name, True, probe_limit,
                    limited=("probs", "reps"))
    written.append(dst / "results.json")
  return written


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", required=True, type=Path)
  parser.add_argument("--out", required=True, type=Path)
  parser.add_argument("--rep", action="store_true", help="keep representations (float16)")
  parser.add_argument("--rep_limit", type=int, default=0,
                      help="with --rep: keep the representations of each set's first N examples "
                           "only (0 = all)")
  parser.add_argument("--probes", action="store_true",
                      help="keep the probe outputs over training (float16)")
  parser.add_argument("--probe_limit", type=int, default=0,
                      help="with --probes: keep the first M probe examples only (0 = all)")
  args = parser.parse_args(argv)
  if args.rep_limit < 0 or (args.rep_limit and not args.rep):
    parser.error("--rep_limit takes N >= 0 and needs --rep")
  if args.probe_limit < 0 or (args.probe_limit and not args.probes):
    parser.error("--probe_limit takes M >= 0 and needs --probes")
  try:
    written = compact_runs(args.runs, args.out, args.rep, args.rep_limit, args.probes,
                           args.probe_limit)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
  print(json.dumps({"runs": len(written), "megabytes": round(size / 2**20, 2)}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
