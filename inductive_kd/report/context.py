"""What every report section reads: the options, the runs grouped and matched to their
teachers, where plots go, a memo for numbers that several sections need (ECE, pair metrics),
and the ECE cells that MNIST and agreement tables share.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Sequence

from inductive_kd import paper_results
from inductive_kd.analysis import calibration
from inductive_kd.report import render
from inductive_kd.report.runs import Run, group_by_name, load_run, mark_variants, order_groups

_PLOTS = "plots"


@dataclasses.dataclass(frozen=True)
class ReportOptions:
  """How numbers are computed; every choice is printed in the report."""
  # ECE compared with the paper's MNIST table: the official notebooks call
  # tfp.stats.expected_calibration_error with 1e6 bins (REFLECT.md §4).
  mnist_ece_bins: int = paper_results.MNIST_ECE_BINS
  # A second, conventional bin count shown beside it (our config.eval.ece_bins default).
  alt_ece_bins: int = 15
  # SVA ECE and all reliability diagrams: 20 bins, as the official SVA scripts.
  sva_ece_bins: int = paper_results.SVA_ECE_BINS
  reliability_bins: int = 20
  # Std over seeds: ddof=1 (sample std). With n = 1 no std is shown.
  std_ddof: int = 1
  # rsa_reflect over consecutive batches of this many examples, as the official notebooks
  # (64); sets smaller than one batch are compared whole. 0 = always whole.
  rsa_batch_size: int = 64
  # Checkpoints per run kept for the MDS map (evenly spaced, the last one always kept).
  max_probe_points: int = 20

  def validate(self) -> None:
    for field in ("mnist_ece_bins", "alt_ece_bins", "sva_ece_bins", "reliability_bins",
                  "max_probe_points"):
      value = getattr(self, field)
      if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"--{field} must be a positive integer; got {value!r}.")
    if self.std_ddof not in (0, 1):
      raise ValueError(f"--std_ddof must be 0 or 1; got {self.std_ddof!r}.")
    if self.rsa_batch_size < 0 or self.rsa_batch_size == 1:
      raise ValueError(f"--rsa_batch_size must be 0 (whole set) or >= 2; got "
                       f"{self.rsa_batch_size!r}.")


@dataclasses.dataclass
class Context:
  """The runs of one report and where it is written; sections read it and add to `memo`."""
  runs: list[Run]
  runs_dir: Path
  out_dir: Path
  opt: ReportOptions
  groups: dict[str, list[Run]]
  # Every run by key, teachers found outside the runs folder included.
  by_key: dict[str, Run]
  teacher_of: dict[str, Run | None]
  teacher_notes: list[str]
  # Folders of teacher-only runs: searched for teachers, never tabulated (generate_report).
  teacher_dirs: tuple[Path, ...] = ()
  memo: dict = dataclasses.field(default_factory=dict)

  def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
    if key not in self.memo:
      self.memo[key] = compute()
    return self.memo[key]

  def ordered_groups(self, keep: Callable[[str], bool] = lambda scenario: True,
                     preferred: Sequence[str] = ()) -> list[str]:
    """Group keys whose scenario `keep` accepts, in report order (runs.order_groups)."""
    return order_groups({k: g for k, g in self.groups.items() if keep(g[0].setup.scenario)},
                        preferred)

  def scenario_groups(self, scenario: str, preferred: Sequence[str] = ()) -> list[str]:
    return self.ordered_groups(lambda s: s == scenario, preferred)

  def scenarios(self) -> list[str]:
    return sorted({g[0].setup.scenario for g in self.groups.values()})

  def plot_path(self, filename: str) -> str:
    return str(self.out_dir / _PLOTS / filename)

  def image(self, title: str, path: str) -> list[str]:
    return render.image(title, path, self.out_dir)

  def notes(self) -> list[str]:
    return [f"- {note}" for note in self.teacher_notes] + ([""] if self.teacher_notes else [])


def build_context(runs: list[Run], runs_dir: Path, out_dir: Path, options: ReportOptions,
                  teacher_dirs: Sequence[Path] = ()) -> Context:
  """Marks variants, pools runs into groups and finds every run's teacher."""
  mark_variants(runs)
  ctx = Context(runs=runs, runs_dir=runs_dir, out_dir=out_dir, opt=options,
                groups=group_by_name(runs), by_key={r.key: r for r in runs}, teacher_of={},
                teacher_notes=[], teacher_dirs=tuple(Path(d) for d in teacher_dirs))
  for run in runs:
    ctx.teacher_of[run.key] = _resolve_teacher(ctx, run)
  return ctx


def _resolve_teacher(ctx: Context, run: Run) -> Run | None:
  """The run at results['teacher_workdir'], looked for under --runs first (the longest suffix of
  that path found there), then likewise under each --teachers folder, then at the path itself,
  then beside the student (as configs put it). The committed folders come first so that a report
  made from compact copies reads the same teacher on every machine, not the original workdir
  where it still exists. A teacher that is not itself one of the report's rows (e.g. a
  single-seed retrain of a baseline whose committed seeds were trained vmapped) lives in a
  --teachers folder, so that it is not pooled with those seeds."""
  tw = run.results.get("teacher_workdir")
  if not tw:
    return None
  tw = Path(tw)
  candidates = [root / Path(*tw.parts[k:]) for root in (ctx.runs_dir, *ctx.teacher_dirs)
                for k in range(1, len(tw.parts))]
  candidates += [tw, run.workdir.parent / tw.name]
  for cand in candidates:
    try:
      key = str(cand.resolve())
    except OSError:
      continue
    if key in ctx.by_key:
      return ctx.by_key[key]
    if (cand / "results.json").is_file():
      teacher = load_run(cand / "results.json")
      ctx.by_key[teacher.key] = teacher
      return teacher
  ctx.teacher_notes.append(f"The teacher of {run.name} (seed {run.seed}) was not found at "
                           f"{tw}; its teacher comparisons are skipped.")
  return None


def ece(ctx: Context, run: Run, set_name: str, bins: int) -> tuple[float | None, bool]:
  """(ECE from predictions/<set>.npz with `bins` bins, False), or the results.json value and
  True when the predictions are missing (computed with that run's config.eval.ece_bins)."""

  def compute() -> tuple[float | None, bool]:
    probs, labels = run.array(set_name, "probs"), run.array(set_name, "labels")
    if probs is not None and labels is not None and probs.ndim == 2:
      try:
        return calibration.expected_calibration_error(probs, labels, num_bins=bins), False
      except ValueError:
        pass
    value = run.metric(set_name, "ece")
    return value, value is not None

  return ctx.cached(("ece", run.key, set_name, bins), compute)


def ece_values(ctx: Context, group: Sequence[Run], set_name: str,
               bins: int) -> tuple[list[float | None], bool]:
  """(ECE of each run, True when any came from results.json instead of the predictions)."""
  values, fallback = [], False
  for run in group:
    value, fb = ece(ctx, run, set_name, bins)
    values.append(value)
    fallback |= fb
  return values, fallback


def ece_cell(ctx: Context, group: Sequence[Run], set_name: str, bins: int,
             paper: Any = None, flag: bool = True, paper_label: str = "paper") -> str:
  values, fallback = ece_values(ctx, group, set_name, bins)
  return render.cell(values, ctx.opt.std_ddof, paper=paper,
                     mark=render.DAGGER if fallback else "", flag=flag, paper_label=paper_label)
