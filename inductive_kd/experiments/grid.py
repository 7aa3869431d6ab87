"""The reproduction grid: every setup of a scenario for each seed, as one command per run.

run.sh (and scripts/submit_slurm.sh, scripts/tpu_pod.sh) take their jobs from here:

  python -m inductive_kd.experiments.grid --runs runs --seeds "0 1 2 3" [--quick] [--phase P]

Runs of seed S live in <runs>/seedS/<config name>. A distillation run's teacher is the baseline
job of the same seed whose config is the run's `config.teacher.config` (read from the config, not
from the run's name), so runs/seedS/mnist_cnn is both the CNN baseline and the CNN teacher of
runs/seedS/mnist_cnn_to_*. Baselines (phase 'teachers') are listed before students.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from typing import Iterator, Sequence

from inductive_kd import config as config_lib

SCENARIOS = {
    "mnist": ("mnist_cnn", "mnist_mlp", "mnist_cnn_to_mlp", "mnist_mlp_to_cnn",
              "mnist_cnn_to_cnn", "mnist_mlp_to_mlp"),
}
PHASES = ("all", "teachers", "students")


def jobs(runs: str, seeds: Sequence[int], *, quick: bool = False, phase: str = "all",
         scenarios: Sequence[str] = tuple(SCENARIOS), python: str = "python") -> Iterator[str]:
  """One `main.py` command line per (config, seed): baselines of every seed first, then students."""
  cells = []
  for scenario in scenarios:
    for name in SCENARIOS[scenario]:
      spec = f"configs/{name}.py" + (":quick" if quick else "")
      teacher = config_lib.load_config_file(spec).teacher.config
      cells.append((spec, name, config_lib.split_config_arg(teacher)[0].stem if teacher else None))
  wanted = {"all": (False, True), "teachers": (False,), "students": (True,)}[phase]
  for is_student in (False, True):
    if is_student not in wanted:
      continue
    for seed in seeds:
      for spec, name, teacher in cells:
        if (teacher is not None) != is_student:
          continue
        cmd = [python, "main.py", f"--config={spec}", f"--workdir={runs}/seed{seed}/{name}",
               f"--config.seed={seed}"]
        if teacher:
          cmd.append(f"--config.teacher.workdir={teacher}")
        yield " ".join(shlex.quote(c) for c in cmd)


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", default="runs")
  parser.add_argument("--seeds", default="0 1 2 3", help="space-separated seeds")
  parser.add_argument("--quick", action="store_true", help=":quick configs (a smoke test)")
  parser.add_argument("--phase", choices=PHASES, default="all")
  parser.add_argument("--scenario", choices=tuple(SCENARIOS), action="append")
  parser.add_argument("--python", default="python")
  args = parser.parse_args(argv)
  try:
    seeds = [int(s) for s in args.seeds.split()]
  except ValueError:
    parser.error(f"--seeds must be integers separated by spaces, got {args.seeds!r}")
  for job in jobs(args.runs, seeds, quick=args.quick, phase=args.phase,
                  scenarios=args.scenario or tuple(SCENARIOS), python=args.python):
    print(job)
  return 0


if __name__ == "__main__":
  sys.exit(main())
