"""The reproduction grid: every setup of each scenario for each seed, as one command per run.

run.sh (and scripts/submit_slurm.sh, scripts/tpu_pod.sh) take their jobs from here:

  python -m inductive_kd.experiments.grid --runs runs --seeds "0 1 2 3" [--quick | --short] [--phase P]
      [--scenario mnist] [--scenario sva_cl] [--scenario sva_lm]

Runs of seed S live in <runs>/seedS/<config name>. A distillation run's teacher is the baseline
job of the same seed whose config is the run's `config.teacher.config` (read from the config, not
from the run's name), so runs/seedS/mnist_cnn is both the CNN baseline and the CNN teacher of
runs/seedS/mnist_cnn_to_*. A self-distilled student (its teacher has its model) takes the
baseline of the next seed of the list instead (the last seed's, the first's): the seed decides the
initialisation and the batch order, and a student of its teacher's seed would start where the
teacher started. Baselines (phase 'teachers') are listed before students.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from typing import Iterator, Sequence

from inductive_kd import config as config_lib
from inductive_kd import teacher as teacher_lib

# The cells of each scenario, as config specs (the `quick` or `short` arg is added by --quick or
# --short). MNIST: the
# paper's six setups. Agreement classification: students x {alone, LSTM teacher}, and the other
# teachers of the paper's grid (PAPER.md, scenario 2).
_SVA_CL_STUDENTS = ("transformer", "transformer_seq", "ut_seq", "lstm")
SCENARIOS = {
    "mnist": tuple(f"configs/{name}.py" for name in (
        "mnist_cnn", "mnist_mlp", "mnist_cnn_to_mlp", "mnist_mlp_to_cnn", "mnist_cnn_to_cnn",
        "mnist_mlp_to_mlp")),
    "sva_cl": tuple(f"configs/sva_cl.py:student={s}" for s in _SVA_CL_STUDENTS) + tuple(
        f"configs/sva_cl.py:student={s},teacher={t}" for t in ("lstm", "ut_seq",
                                                                "transformer_seq", "transformer")
        for s in _SVA_CL_STUDENTS),
    # Agreement language models: LSTM, Transformer and Universal Transformer, alone and from the
    # LSTM teacher, and the Transformer's self-distillation (the control for LSTM -> Transformer).
    "sva_lm": tuple(f"configs/sva_lm.py:student={s}" for s in ("lstm", "transformer", "ut")) + tuple(
        f"configs/sva_lm.py:student={s},teacher={t}" for s, t in (
            ("transformer", "lstm"), ("ut", "lstm"), ("lstm", "lstm"),
            ("transformer", "transformer"))),
}
PHASES = ("all", "teachers", "students")


def _with_arg(spec: str, arg: str) -> str:
  if not arg:
    return spec
  return f"{spec},{arg}" if ":" in spec else f"{spec}:{arg}"


def jobs(runs: str, seeds: Sequence[int], *, quick: bool = False, short: bool = False,
         phase: str = "all", scenarios: Sequence[str] = tuple(SCENARIOS),
         python: str = "python") -> Iterator[str]:
  """One `main.py` command line per (config, seed): baselines of every seed first, then students.

  quick: the smoke-test configs; short: the budget recipes (each config's `short` arg: only the
  optimiser schedule and the epochs change). A run's workdir is <runs>/seed<S>/<config.name>; a
  student's teacher is the baseline cell whose config spec is the student's
  config.teacher.config, and its workdir is that cell's.
  """
  if quick and short:
    raise ValueError("quick and short are two schedules: choose one.")
  cells = {}
  for scenario in scenarios:
    for spec in SCENARIOS[scenario]:
      spec = _with_arg(spec, "quick" if quick else "short" if short else "")
      cells[spec] = config_lib.load_config_file(spec)
  jobs_ = {False: [], True: []}
  for i, seed in enumerate(seeds):
    for spec, c in cells.items():
      cmd = [python, "main.py", f"--config={spec}", f"--workdir={runs}/seed{seed}/{c.name}",
             f"--config.seed={seed}"]
      if c.teacher.config:
        if c.teacher.config not in cells:
          raise config_lib.ConfigError(f"{spec}: its teacher {c.teacher.config!r} is not a cell "
                                       "of the grid.")
        teacher = cells[c.teacher.config]
        other = seeds[(i + 1) % len(seeds)]
        if other != seed and teacher_lib.architecture(teacher) == teacher_lib.architecture(c):
          # Self-distillation: the teacher of another seed (one seed: the trainer warns).
          cmd.append(f"--config.teacher.workdir=../seed{other}/{teacher.name}")
        else:
          cmd.append(f"--config.teacher.workdir={teacher.name}")
      jobs_[bool(c.teacher.config)].append(" ".join(shlex.quote(x) for x in cmd))
  wanted = {"all": (False, True), "teachers": (False,), "students": (True,)}[phase]
  for is_student in wanted:
    yield from jobs_[is_student]


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", default="runs")
  parser.add_argument("--seeds", default="0 1 2 3", help="space-separated seeds")
  schedule = parser.add_mutually_exclusive_group()
  schedule.add_argument("--quick", action="store_true", help=":quick configs (a smoke test)")
  schedule.add_argument("--short", action="store_true",
                        help=":short configs (the budget recipes of docs/results)")
  parser.add_argument("--phase", choices=PHASES, default="all")
  parser.add_argument("--scenario", choices=tuple(SCENARIOS), action="append",
                      help="repeat for several; default: every scenario")
  parser.add_argument("--python", default="python")
  args = parser.parse_args(argv)
  try:
    seeds = [int(s) for s in args.seeds.split()]
  except ValueError:
    parser.error(f"--seeds must be integers separated by spaces, got {args.seeds!r}")
  for job in jobs(args.runs, seeds, quick=args.quick, short=args.short, phase=args.phase,
                  scenarios=args.scenario or tuple(SCENARIOS), python=args.python):
    print(job)
  return 0


if __name__ == "__main__":
  sys.exit(main())
