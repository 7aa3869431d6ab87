"""The closing section, how this was produced: the command, every run with its schedule and
teacher, and the settings the numbers were computed with."""

from __future__ import annotations

import datetime

from inductive_kd.report import render
from inductive_kd.report.context import Context


def section(ctx: Context) -> list[str]:
  teachers = "".join(f" --teachers {d}" for d in ctx.teacher_dirs)
  teacher_note = (f"Teachers were also looked up in "
                  f"{', '.join(f'`{d}`' for d in ctx.teacher_dirs)} (teacher-only runs, not rows "
                  f"of this report). " if ctx.teacher_dirs else "")
  out = ["## How this was produced", "",
         f"`python -m inductive_kd.report --runs {ctx.runs_dir} --out {ctx.out_dir}{teachers}` on "
         f"{datetime.date.today().isoformat()}, from {len(ctx.runs)} runs found under "
         f"`{ctx.runs_dir}` (every `**/results.json`), grouped by `results.json['name']`. "
         f"{teacher_note}The paper trained 400 epochs per MNIST model and 40 epochs per agreement "
         f"student; compare the `epochs` column to see whether this schedule was shortened.", ""]
  rows = []
  for run in ctx.runs:
    teacher = ctx.teacher_of.get(run.key)
    epochs = run.results.get("epochs")
    rows.append([
        f"`{run.name}`", str(run.seed), f"`{render.rel(str(run.workdir), ctx.runs_dir.resolve())}`",
        str(run.results.get("steps", "—")),
        f"{float(epochs):.2f}" if isinstance(epochs, (int, float)) else "—",
        render.duration(run.results.get("train_wall_s")),
        f"`{teacher.name}` s{teacher.seed}" if teacher else "—",
        str(run.results.get("teacher_mode") or "—")])
  out += render.table(["name", "seed", "workdir", "steps", "epochs", "train wall time",
                       "teacher", "teacher mode"], rows)
  for name, group in ctx.groups.items():
    steps = {r.results.get("steps") for r in group}
    if len(steps) > 1:
      out += [f"Note: the seeds of `{name}` ran different numbers of steps "
              f"({sorted(map(str, steps))}); they are averaged together.", ""]
  o = ctx.opt
  out += [f"Settings: MNIST ECE with {o.mnist_ece_bins:,} bins (and {o.alt_ece_bins} for "
          f"reference), SVA ECE with {o.sva_ece_bins} bins, reliability diagrams with "
          f"{o.reliability_bins} bins, std over seeds with ddof={o.std_ddof}, RSA batch "
          f"{o.rsa_batch_size or 'whole set'}, at most {o.max_probe_points} checkpoints per run "
          f"in the MDS map.", ""]
  return out
