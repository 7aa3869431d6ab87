"""What a report was made from: each setup's schedule (the paper's, a budget one, or a smoke
test), data, seeds and machine, read from the runs' results.json; the header section that says
so; and the one-line explanation under a table of each ⚠ cell.

Everything but `section` and `schedule` (which read the Context) is a pure function of runs
or numbers, so the tables and the claims ask the same questions the same way.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import Any, Sequence

from inductive_kd import paper_results
from inductive_kd.report import render
from inductive_kd.report.context import Context
from inductive_kd.report.runs import Run

PAPER, BUDGET, SMOKE, UNKNOWN = "paper", "budget", "smoke", "unknown"

# What each agreement data source is, said wherever its numbers stand near the paper's: the
# paper's values come from Linzen's full Wikipedia file, so a number on other data is never shown
# beside them without saying so.
DATA_NOTES = {
    "corpus": "the offline corpus (sentences from an English-like grammar with made-up words, "
              "inductive_kd/data/sva_corpus.py), **not the paper's data**: compare orderings and "
              "gaps with the paper's, not values",
    "numpred": "Linzen's real text, limited data: trained on `numpred.val` (13k prefixes), tested "
               "on `numpred.test.k` (exactly k attractors) and Gulordava et al.'s prefixes; the "
               "paper's classifiers trained on ~150k items of the full file",
    "linzen_tsv": "Linzen's full agr_50_mostcommon_10K file (`data.sva_tsv`), the paper's data",
}
DATA_SHORT = {"corpus": "offline corpus", "numpred": "real text", "linzen_tsv": "Linzen's file"}
# The label a paper value gets beside one of our numbers, by data source: bare where the data is
# the paper's, otherwise saying which data the paper's value is from.
PAPER_LABEL = {"corpus": "paper, on Linzen's data:", "numpred": "paper, full Linzen data:",
               "linzen_tsv": "paper", "mnist": "paper"}


def data_source(run: Run) -> str:
  """'mnist', or for agreement runs 'numpred' | 'linzen_tsv' | 'corpus' from the run's config
  (configs before `data.sva_tsv` existed: `data.path`)."""
  if run.setup.scenario == "mnist":
    return "mnist"
  if run.config("data", "sva_source") == "numpred":
    return "numpred"
  return "linzen_tsv" if run.config("data", "sva_tsv") or run.config("data", "path") else "corpus"


def is_papers_data(source: str) -> bool:
  return source in ("mnist", "linzen_tsv")


def data_label(run: Run) -> str:
  """The data of a run in a few words: which MNIST-C implementation, or which agreement data."""
  source = data_source(run)
  if source != "mnist":
    return DATA_SHORT[source] + ("" if is_papers_data(source) else " (not the paper's data)")
  shifted = [s for s in run.test_sets() if s != "mnist"]
  if not shifted:
    return "MNIST"
  impl = ("TFDS mnist_corrupted" if run.config("eval", "shifted_source") == "tfds"
          else "ours, seeded")
  return f"MNIST + MNIST-C {', '.join(shifted)} ({impl})"


# ---------------------------------------------------------------------------------------------
# Schedules.


@dataclasses.dataclass(frozen=True)
class Schedule:
  """How long a setup trained against the paper: `kind` is 'paper' (the paper's epochs),
  'budget' (at least one epoch, fewer than the paper's: the `short` configs), 'smoke' (under one
  epoch: the `quick` configs' few dozen steps) or 'unknown' (results.json has no epochs)."""
  kind: str
  epochs: float | None
  paper_epochs: float | None
  steps: int | None = None
  mixed: bool = False   # the seeds of the setup trained for different lengths

  def describe(self) -> str:
    """'budget: 24 of the paper's 400 epochs', 'smoke: 60 steps (0.06 epochs)', ..."""
    if self.kind == UNKNOWN:
      return "unknown (no `epochs` in results.json)"
    paper = f"{self.paper_epochs:.3g}" if self.paper_epochs else "?"
    mixed = " (shortest seed)" if self.mixed else ""
    if self.kind == SMOKE:
      steps = f"{self.steps} steps, " if self.steps is not None else ""
      return f"smoke: {steps}{self.epochs:.2f} epochs{mixed}"
    if self.kind == BUDGET:
      return f"budget: {self.epochs:.3g} of the paper's {paper} epochs{mixed}"
    return f"paper: {self.epochs:.3g} epochs{mixed}"


# Fewer steps than this is a smoke test however many epochs they make: the agreement `:quick`
# configs train 40 steps on a 4k-sentence corpus, which is 6.7 "epochs".
SMOKE_STEPS = 500


def classify(epochs: Any, paper_epochs: float | None, steps: Any = None) -> str:
  """The schedule kind of a run that trained `epochs` epochs (`steps` steps) where the paper
  trained `paper_epochs`. The rule (said in the report): under one epoch or under SMOKE_STEPS
  steps is a smoke test whatever the paper did; at least 99 % of the paper's epochs is the
  paper's schedule; between is a budget."""
  if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or not math.isfinite(epochs):
    return UNKNOWN
  if epochs < 1.0 or (isinstance(steps, int) and steps < SMOKE_STEPS):
    return SMOKE
  if paper_epochs is None or epochs >= 0.99 * paper_epochs:
    return PAPER
  return BUDGET


SCHEDULE_RULE = (f"smoke = under one epoch or under {SMOKE_STEPS} steps (the `:quick` configs), "
                 f"paper = at least 99 % of the paper's epochs, budget = in between (the "
                 f"`:short` configs)")


def run_schedule(run: Run) -> Schedule:
  paper = paper_results.paper_epochs(run.setup.scenario, run.setup.teacher is not None)
  epochs = run.results.get("epochs")
  steps = run.results.get("steps")
  steps = steps if isinstance(steps, int) and not isinstance(steps, bool) else None
  kind = classify(epochs, paper, steps)
  return Schedule(kind, float(epochs) if kind != UNKNOWN else None, paper, steps)


def group_schedule(group: Sequence[Run]) -> Schedule:
  """The schedule of a setup's shortest-trained seed (the one that limits its numbers)."""
  schedules = [run_schedule(r) for r in group]
  known = [s for s in schedules if s.epochs is not None]
  if not known:
    return schedules[0]
  shortest = min(known, key=lambda s: s.epochs)
  mixed = len({round(s.epochs, 6) for s in known}) > 1 or len(known) < len(schedules)
  return dataclasses.replace(shortest, mixed=mixed)


def schedule(ctx: Context, name: str) -> Schedule:
  return ctx.cached(("schedule", name), lambda: group_schedule(ctx.groups[name]))


def is_smoke(ctx: Context, name: str) -> bool:
  """Smoke-test numbers say nothing about the paper: their cells carry no ⚠."""
  return schedule(ctx, name).kind == SMOKE


def machine(run: Run) -> str | None:
  """results.json['machine'] (a string, or a dict shown as 'key value, ...'), else None."""
  value = run.results.get("machine")
  if isinstance(value, dict):
    value = ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, ""))
  return str(value) if value else None


def seeds_text(group: Sequence[Run]) -> str:
  """'4 (0-3)', '2 (0, 5)', '1 (0)': how many seeds and which."""
  seeds = sorted({r.seed for r in group}, key=lambda s: (not isinstance(s, int), str(s)))
  ints = all(isinstance(s, int) for s in seeds)
  if ints and len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
    which = f"{seeds[0]}–{seeds[-1]}"
  else:
    which = ", ".join(map(str, seeds))
  return f"{len(group)} ({which})"


# ---------------------------------------------------------------------------------------------
# The header section.


def section(ctx: Context) -> list[str]:
  """'What this report was made from': per setup its seeds, schedule, data and machine, and a
  line per schedule kind saying how to read the paper comparisons."""
  out = ["## What this report was made from", ""]
  names = ctx.ordered_groups(preferred=paper_results.MNIST_SETUP_ORDER)
  rows, by_kind, machines = [], {}, set()
  labels = collections.Counter(ctx.groups[n][0].label for n in names)
  for name in names:
    group = ctx.groups[name]
    sched = schedule(ctx, name)
    # One label can name several setups (the LSTM on the corpus and on real text): the config
    # name tells them apart in the lists, as in the table's name column.
    label = group[0].label
    by_kind.setdefault(sched.kind, []).append(
        label if labels[label] == 1 else f"{label} (`{group[0].name}`)")
    found = sorted({m for m in map(machine, group) if m})
    machines.update(found)
    rows.append([group[0].label, f"`{group[0].name}`", seeds_text(group), sched.describe(),
                 data_label(group[0]), "; ".join(found) or "not recorded"])
  lines = []
  if SMOKE in by_kind:
    lines.append(f"- **Smoke runs** ({', '.join(by_kind[SMOKE])}): their numbers are not "
                 f"comparable to the paper; their cells carry no {render.FLAG}.")
  if BUDGET in by_kind:
    lines.append(f"- **Budget schedule** ({', '.join(by_kind[BUDGET])}): fewer epochs than the "
                 f"paper, so accuracies below the paper's are expected; a {render.FLAG} on "
                 f"them is not by itself a failed reproduction.")
  if PAPER in by_kind:
    lines.append(f"- **The paper's schedule** ({', '.join(by_kind[PAPER])}).")
  if UNKNOWN in by_kind:
    lines.append(f"- **Schedule unknown** ({', '.join(by_kind[UNKNOWN])}): no `epochs` in "
                 f"results.json.")
  sources = {data_source(ctx.groups[n][0]) for n in names}
  if any(not is_papers_data(s) for s in sources):
    lines.append("- **Data**: agreement runs on " + " and ".join(
        DATA_NOTES[s] for s in sorted(sources) if not is_papers_data(s)) + ".")
  if not machines:
    lines.append("- **Machine**: not recorded (results.json has no `machine` field).")
  if not machines:  # said once above rather than on every row
    rows = [r[:-1] for r in rows]
  out += lines + [""] + render.table(
      ["setup", "name", "seeds", "schedule", "data"] + (["machine"] if machines else []), rows)
  out += [f"Schedule rule: {SCHEDULE_RULE}.", ""]
  return out


# ---------------------------------------------------------------------------------------------
# ⚠ cells, explained.


def schedule_footnote(ctx: Context, names: Sequence[str]) -> list[str]:
  """Under a table compared with the paper: which setups ran a budget schedule (expected below
  the paper) and which are smoke runs (no ⚠), setups of one schedule named together."""
  by_schedule: dict[tuple[str, str], list[str]] = {}
  for name in names:
    sched = schedule(ctx, name)
    by_schedule.setdefault((sched.kind, sched.describe()), []).append(ctx.groups[name][0].label)
  budget = [f"{', '.join(labels)} ({text})" for (kind, text), labels in by_schedule.items()
            if kind == BUDGET]
  smoke = [f"{', '.join(labels)} ({text})" for (kind, text), labels in by_schedule.items()
           if kind == SMOKE]
  out = []
  if budget:
    out.append(f"Budget schedule: {'; '.join(budget)}. Runs on a budget schedule are expected "
               f"below the paper's accuracies.")
  if smoke:
    out.append(f"Smoke runs, shown without {render.FLAG} (their numbers are not comparable to "
               f"the paper): {'; '.join(smoke)}.")
  return [" ".join(out), ""] if out else []


@dataclasses.dataclass(frozen=True)
class Flag:
  """One ⚠ cell: our mean outside the paper's band."""
  label: str                  # setup label
  set_name: str
  metric: str                 # 'accuracy', 'ECE', 'perplexity', ...
  mean: float
  paper: Any                  # paper_results.MeanStd | Range
  higher_is_better: bool
  schedule: Schedule
  data: str = "mnist"         # data_source of the runs


def flag_reason(flag: Flag) -> tuple[str, str]:
  """(side, reason): whether ours is 'worse' or 'better' than the paper's ('' where the reason
  says it), and what may explain it, as far as the report can tell: other data, the budget
  schedule (accuracy and perplexity: a shorter run ends less trained; ECE can move either way,
  so it is not attributed), or nothing the report knows of."""
  center = getattr(flag.paper, "mean", None)
  if center is None:
    center = (flag.paper.low + flag.paper.high) / 2
  worse = flag.mean < center if flag.higher_is_better else flag.mean > center
  side = "worse" if worse else "better"
  sched = flag.schedule
  if not is_papers_data(flag.data):
    return side, f"other data than the paper's ({DATA_SHORT[flag.data]}): not comparable"
  if sched.kind == BUDGET:
    length = f"{sched.epochs:.3g} of {sched.paper_epochs:.3g} epochs"
    if flag.metric == "ECE":
      return side, (f"not attributed to the budget schedule ({length}), which can move "
                    f"calibration either way")
    if worse:
      return "", f"worse than the paper, as expected of the budget schedule ({length})"
    return "", "better than the paper: not explained by the schedule"
  if sched.kind == PAPER:
    return side, "on the paper's schedule: not explained"
  return side, "schedule unknown: not explained"


def flag_notes(flags: Sequence[Flag], digits: int = 4) -> list[str]:
  """The lines under a table: every ⚠ cell with what may explain it, one line per reason."""
  if not flags:
    return []
  by_reason: dict[str, list[str]] = {}
  for f in flags:
    side, reason = flag_reason(f)
    by_reason.setdefault(reason, []).append(
        f"{f.label} `{f.set_name}` {f.mean:.{digits}f} (paper {f.paper}"
        + (f", {side})" if side else ")"))
  out = [f"{render.FLAG} cells ({flags[0].metric}" +
         ("" if len({f.metric for f in flags}) == 1 else ", ...") + "), by what may explain them:"]
  out += [f"- {reason[0].upper()}{reason[1:]}: {'; '.join(cells)}."
          for reason, cells in by_reason.items()]
  return out + [""]
