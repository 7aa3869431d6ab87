"""The "Claims" section: each claim of the paper as one line, with our effect, its seed spread
and a verdict.

A claim compares two setups, A and B ("CNN→MLP more accurate than MLP"), on one or more test
sets. Per set the effect is Δ = mean(A) − mean(B) over seeds; its spread is the combined std
sqrt(std_A² + std_B²) (ddof as the tables). The verdict per set (`verdict`):

  reproduced      Δ has the paper's sign and |Δ| > spread
  not reproduced  Δ has the opposite sign and |Δ| > spread
  inconclusive    |Δ| ≤ spread, or no spread (one seed on each side)
  not run         a setup the claim needs has no runs (or no values on that set)

A setup with one seed has no std of its own: it is taken to vary as much as the other side.
A claim over several sets is reproduced when every set is, not reproduced when any set goes the
opposite way beyond the spread, and inconclusive otherwise.

The verdict logic (`spread`, `verdict`, `combine`, `effect`, `row_cells`) is pure; `section`
gathers the per-seed values from the runs (accuracy, ECE, section 3's pair metrics).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

from inductive_kd import paper_results
from inductive_kd import sva_metrics
from inductive_kd.report import comparisons
from inductive_kd.report import provenance
from inductive_kd.report import render
from inductive_kd.report import sva
from inductive_kd.report.context import Context, ece_values
from inductive_kd.report.runs import MNIST_SET_ORDER, SVA_SET_ORDER, Setup, order_sets, setup_label

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN = (
    "reproduced", "not reproduced", "inconclusive", "not run")
# The claim's direction: A above B, A below B, A not below B by more than the spread (the LM
# claim "at similar or worse perplexity"), or A not above B by more than the spread ("Transformer
# teachers barely help").
HIGHER, LOWER, NOT_LOWER, NOT_HIGHER = "higher", "lower", "not lower", "not higher"

RULE = ("Δ = mean(A) − mean(B) over seeds, ± the combined std sqrt(std_A² + std_B²) (a "
        "one-seed setup is taken to vary as much as the other side). **reproduced**: Δ has the "
        "paper's sign and |Δ| > that spread; **not reproduced**: the opposite sign, beyond the "
        "spread; **inconclusive**: within the spread, or one seed on each side; **not run**: a "
        "needed setup has no runs. Over several sets: reproduced when every set is, not "
        "reproduced when any set goes the opposite way.")

MNIST_SHIFTED = ("scale", "translate")
_CNN, _MLP = Setup("mnist", "cnn"), Setup("mnist", "mlp")
_CNN_TO_MLP, _MLP_TO_CNN = Setup("mnist", "mlp", "cnn"), Setup("mnist", "cnn", "mlp")
_MLP_TO_MLP = Setup("mnist", "mlp", "mlp")


# ---------------------------------------------------------------------------------------------
# Pure logic.


def spread(std_a: float | None, n_a: int, std_b: float | None, n_b: int) -> float | None:
  """Combined std of the two sides' seed values; None when neither side has two seeds."""
  if n_a < 2 and n_b < 2:
    return None
  sa = std_a if n_a >= 2 else std_b
  sb = std_b if n_b >= 2 else std_a
  return math.sqrt(sa ** 2 + sb ** 2)


def verdict(delta: float, spread_: float | None, direction: str) -> str:
  """The verdict of one effect Δ = mean(A) − mean(B) against its spread (see the module)."""
  if spread_ is None:
    return INCONCLUSIVE
  if direction == NOT_LOWER:
    # "A at similar or worse (not lower)": only a drop beyond the spread contradicts it.
    return REPRODUCED if delta >= -spread_ else NOT_REPRODUCED
  if direction == NOT_HIGHER:
    return REPRODUCED if delta <= spread_ else NOT_REPRODUCED
  if abs(delta) <= spread_:
    return INCONCLUSIVE
  expected = delta > 0 if direction == HIGHER else delta < 0
  return REPRODUCED if expected else NOT_REPRODUCED


def combine(verdicts: Sequence[str]) -> str:
  """One verdict for a claim over several sets (sets without values are left out)."""
  ran = [v for v in verdicts if v != NOT_RUN]
  if not ran:
    return NOT_RUN
  if all(v == REPRODUCED for v in ran):
    return REPRODUCED
  return NOT_REPRODUCED if NOT_REPRODUCED in ran else INCONCLUSIVE


@dataclasses.dataclass(frozen=True)
class Effect:
  """One claim on one test set: our Δ with its spread and verdict, and the paper's Δ."""
  set_name: str
  delta: float | None
  spread: float | None
  n_a: int
  n_b: int
  verdict: str
  paper_delta: float | None = None


def effect(set_name: str, a: Sequence[float | None], b: Sequence[float | None], direction: str,
           ddof: int = 1, paper_delta: float | None = None) -> Effect:
  """The effect of setup A over setup B on one set from their per-seed values."""
  mean_a, std_a, n_a = render.mean_std(a, ddof)
  mean_b, std_b, n_b = render.mean_std(b, ddof)
  if not n_a or not n_b:
    return Effect(set_name, None, None, n_a, n_b, NOT_RUN, paper_delta)
  delta = mean_a - mean_b
  s = spread(std_a, n_a, std_b, n_b)
  return Effect(set_name, delta, s, n_a, n_b, verdict(delta, s, direction), paper_delta)


@dataclasses.dataclass(frozen=True)
class Claim:
  """One line of the section: the claim as the paper makes it, for one pair of our setups."""
  text: str
  effects: tuple[Effect, ...]
  digits: int = 3
  unit: str = "seeds"      # what n counts: seeds, or (model, teacher) pairs
  note: str = ""           # e.g. "smoke runs", said beside the verdict

  @property
  def verdict(self) -> str:
    return combine([e.verdict for e in self.effects]) if self.effects else NOT_RUN


def _signed(x: float, digits: int) -> str:
  # A Δ that rounds to zero prints as +0.000, not -0.000.
  return f"{x:+.{digits}f}" if round(x, digits) != 0 else f"+{0:.{digits}f}"


def row_cells(claim: Claim) -> list[str]:
  """[claim, verdict, ours: Δ ± spread per set, paper's Δ per set, seeds]."""
  ran = [e for e in claim.effects if e.verdict != NOT_RUN]
  named = len(claim.effects) > 1
  ours, paper = [], []
  for e in ran:
    prefix = f"`{e.set_name}` " if named else ""
    if e.spread is None:
      text = f"{_signed(e.delta, claim.digits)} (no spread: 1 seed each)"
    else:
      text = f"{_signed(e.delta, claim.digits)} ± {e.spread:.{claim.digits}f}"
    ours.append(prefix + text + (f" ({e.verdict})" if named else ""))
  for e in claim.effects:
    if e.paper_delta is not None:
      paper.append((f"`{e.set_name}` " if named else "") + _signed(e.paper_delta, claim.digits))
  counts = sorted({(e.n_a, e.n_b) for e in ran})
  seeds = "; ".join(f"{a} vs {b}" for a, b in counts) + (f" {claim.unit}" if counts else "")
  verdict_text = f"**{claim.verdict}**" + (f" ({claim.note})" if claim.note else "")
  return [claim.text, verdict_text, "; ".join(ours) or "—", "; ".join(paper) or "—",
          seeds or "—"]


def table(claims: Sequence[Claim]) -> list[str]:
  return render.table(["claim (A vs B)", "verdict", "ours: Δ = A − B ± spread", "paper: Δ",
                       "n (A vs B)"], [row_cells(c) for c in claims])


# ---------------------------------------------------------------------------------------------
# Gathering the values from the runs.


def _names(ctx: Context, setup: Setup, names: Sequence[str] | None = None) -> list[str]:
  """Groups (in report order) that trained `setup`; teacher-mode variants are separate groups."""
  pool = names if names is not None else ctx.ordered_groups(
      preferred=paper_results.MNIST_SETUP_ORDER)
  return [n for n in pool if ctx.groups[n][0].setup == setup]


def _mode(ctx: Context, name: str):
  return ctx.groups[name][0].results.get("teacher_mode")


def _pairs(ctx: Context, a_names: list[str], b_names: list[str]) -> list[tuple[str, str]]:
  """The (A, B) group pairs a claim is shown for: every pair, except that two distilled sides
  are matched by teacher mode where they can be (eval-mode against eval-mode)."""
  pairs = [(a, b) for a in a_names for b in b_names]
  matched = [(a, b) for a, b in pairs if _mode(ctx, a) == _mode(ctx, b)]
  both_distilled = all(ctx.groups[n][0].setup.teacher for n in a_names + b_names)
  return matched if both_distilled and matched else pairs


def _smoke_note(ctx: Context, names: Sequence[str]) -> str:
  return "smoke runs: not evidence" if any(provenance.is_smoke(ctx, n) for n in names) else ""


def _paper_center(value) -> float | None:
  """A reported value as one number: the mean, the plotted value, or a range's midpoint."""
  if value is None:
    return None
  for attr in ("mean", "value"):
    if hasattr(value, attr):
      return float(getattr(value, attr))
  return (value.low + value.high) / 2


def _paper_delta(a, b) -> float | None:
  a, b = _paper_center(a), _paper_center(b)
  return None if a is None or b is None else a - b


def _metric_values(ctx: Context, name: str, set_name: str, metric: str, bins: int):
  group = ctx.groups[name]
  if metric == "ece":
    return ece_values(ctx, group, set_name, bins)[0]
  return [r.metric(set_name, metric) for r in group]


def _setup_claims(ctx: Context, template: str, a: Setup, b: Setup, metric: str,
                  sets: Sequence[str], direction: str) -> list[Claim]:
  """One MNIST claim between two setups, a line per matched (A group, B group) pair."""
  a_names, b_names = _names(ctx, a), _names(ctx, b)
  if not a_names or not b_names:
    missing = " and ".join(setup_label(s) for s, n in ((a, a_names), (b, b_names)) if not n)
    return [Claim(template.format(a=setup_label(a), b=setup_label(b)), (),
                  note=f"no {missing} runs")]
  bins = ctx.opt.mnist_ece_bins
  out = []
  for an, bn in _pairs(ctx, a_names, b_names):
    effects = tuple(effect(
        s, _metric_values(ctx, an, s, metric, bins), _metric_values(ctx, bn, s, metric, bins),
        direction, ctx.opt.std_ddof,
        _paper_delta(paper_results.mnist(a.config_name, s, metric),
                     paper_results.mnist(b.config_name, s, metric)))
        for s in sets)
    out.append(Claim(template.format(a=ctx.groups[an][0].label, b=ctx.groups[bn][0].label),
                     effects, note=_smoke_note(ctx, (an, bn))))
  return out


_PAIR_METRICS = (("cka", "linear CKA of the penultimate representations"),
                 ("agreement", "prediction agreement"),
                 ("jaccard", "error overlap (Jaccard)"))


def _toward_teacher_claims(ctx: Context, distilled: Setup) -> list[Claim]:
  """The distilled student is closer to its teacher than the same architecture trained alone
  is to that teacher: section 3's pair metrics, one line per metric."""
  base = distilled.baseline
  t_label = setup_label(Setup(distilled.scenario, distilled.teacher))
  d_names, b_names = _names(ctx, distilled), _names(ctx, base)
  template = "{a} closer to its teacher " + t_label + " than {b} is: {m}, on each test set"
  if not d_names or not b_names:
    missing = " and ".join(setup_label(s) for s, n in ((distilled, d_names), (base, b_names))
                           if not n)
    return [Claim(template.format(a=setup_label(distilled), b=setup_label(base),
                                  m="CKA, prediction agreement, error overlap"), (),
                  note=f"no {missing} runs")]
  out = []
  for dn in d_names:
    pairs = [(r, ctx.teacher_of.get(r.key)) for r in ctx.groups[dn]]
    pairs = [(m, t) for m, t in pairs if t is not None]
    teachers = list({t.key: t for _, t in pairs}.values())
    for bn in b_names:
      bpairs = [(b, t) for t in teachers for b in ctx.groups[bn] if b.key != t.key]
      sets = order_sets({s for m, t in pairs + bpairs for s in m.test_sets()
                         if s in t.test_sets()}, MNIST_SET_ORDER)
      sets = [s for s in sets if s in MNIST_SET_ORDER] or sets
      for metric, title in _PAIR_METRICS:
        effects = tuple(effect(
            s, [comparisons.pair_metrics(ctx, m, t, s).get(metric) for m, t in pairs],
            [comparisons.pair_metrics(ctx, b, t, s).get(metric) for b, t in bpairs],
            HIGHER, ctx.opt.std_ddof) for s in sets)
        if not pairs:
          note = "teacher runs not found"
        elif all(e.verdict == NOT_RUN for e in effects):
          note = "no predictions to compare"
        else:
          note = _smoke_note(ctx, (dn, bn))
        out.append(Claim(template.format(a=ctx.groups[dn][0].label, b=ctx.groups[bn][0].label,
                                         m=title), effects, unit="pairs", note=note))
  return out


def mnist_claims(ctx: Context) -> list[Claim]:
  bins = ctx.opt.mnist_ece_bins
  shifted = "on the shifted sets"
  out = []
  out += _setup_claims(ctx, "{a} more accurate than {b} " + shifted, _CNN_TO_MLP, _MLP,
                       "accuracy", MNIST_SHIFTED, HIGHER)
  out += _setup_claims(ctx, "{a} better calibrated than {b} " + shifted +
                       f" (lower ECE, {bins:,} bins)", _CNN_TO_MLP, _MLP, "ece",
                       MNIST_SHIFTED, LOWER)
  out += _setup_claims(ctx, "Distillation from a CNN helps the MLP more than self-distillation: "
                       "{a} more accurate than {b} " + shifted, _CNN_TO_MLP, _MLP_TO_MLP,
                       "accuracy", MNIST_SHIFTED, HIGHER)
  out += _setup_claims(ctx, "{a} loses some of the CNN's robustness: less accurate than {b} " +
                       shifted, _MLP_TO_CNN, _CNN, "accuracy", MNIST_SHIFTED, LOWER)
  for distilled in (_CNN_TO_MLP, _MLP_TO_CNN):
    out += _toward_teacher_claims(ctx, distilled)
  return out


# --- Subject-verb agreement ------------------------------------------------------------------


def _is_lstm(row: str | None) -> bool:
  return bool(row) and "LSTM" in row


def _is_transformer(row: str | None) -> bool:
  return bool(row) and "Transformer" in row


# The paper's order of the independent classifiers, least to most accurate (and most to least
# calibrated): Transformer < Transformer-seq < UTransformer-seq < LSTM (PAPER.md).
CL_ORDER = ("Transformer", "Transformer-seq", "UTransformer-seq", "LSTM")


def sva_claims(ctx: Context, scenario: str, names: Sequence[str]) -> list[Claim]:
  """The agreement claims among the groups `names` (one scenario, one data source).

  Independent models: each adjacent pair of the paper's order that ran (classification:
  CL_ORDER; a model that did not run is skipped and named in a "not run" line), the LSTM
  against every Transformer, and (classification, all four ran) the whole order as one line in
  accuracy and one in ECE. Distillation: an LSTM teacher lifts each Transformer-family student
  (classification: in accuracy and ECE; LMs: in agreement, with the perplexity beside it), and
  lifts it more (classification: and calibrates it better) than any other teacher that ran; a
  Transformer-family teacher lifts its student by no more than the spread ("Transformer teachers
  barely help").
  """
  task = Setup(scenario, "x").sva_task
  rows = {n: sva.paper_rows(ctx, ctx.groups[n]) for n in names}
  alone = [n for n in names if ctx.groups[n][0].setup.teacher is None]
  by_row: dict[str, list[str]] = {}
  for n in alone:
    if rows[n][1]:
      by_row.setdefault(rows[n][1], []).append(n)
  transformers = [n for n in alone if _is_transformer(rows[n][1])]
  taught = [n for n in names if ctx.groups[n][0].setup.teacher is not None
            and _is_transformer(rows[n][1])]
  metric, metric_title = (("mu_accuracy", "μ-accuracy") if task == "cl"
                          else ("macro_attractors", "A-accuracy"))
  ddof, bins = ctx.opt.std_ddof, ctx.opt.sva_ece_bins
  acc_text = "{a} more accurate than {b} (" + metric_title + ")"
  ece_text = "{a} better calibrated than {b} (lower ECE, " + str(bins) + " bins)"
  ppl_text = "{a} at similar or worse perplexity than {b} (not lower beyond the spread)"

  def sets_of(group_names):
    shared = set.intersection(*[set(r.test_sets()) for n in group_names
                                for r in ctx.groups[n]])
    # `test` is the paper's split; real-text runs have several test sets and no `test`.
    return ["test"] if "test" in shared else order_sets(shared - {"valid"}, SVA_SET_ORDER)

  def claim(text, an, bn, key, direction, digits=3):
    sets = sets_of([an, bn])
    effects, plain = [], []
    for s in sets:
      if key == "ece":
        a_vals, b_vals = (ece_values(ctx, ctx.groups[n], s, bins)[0] for n in (an, bn))
      else:
        a_vals, b_vals = ([r.metric(s, key) for r in ctx.groups[n]] for n in (an, bn))
        if key == "mu_accuracy" and all(v is None for v in a_vals + b_vals):
          # Reflect's μ-accuracy drops items with more than 4 attractors, so a set of
          # 5-attractor items (numpred.test.5) has none: its plain accuracy is compared instead.
          a_vals, b_vals = ([r.metric(s, "accuracy") for r in ctx.groups[n]] for n in (an, bn))
          plain += [s] if any(v is not None for v in a_vals + b_vals) else []
      paper = _paper_delta(paper_results.sva(task, rows[an][1], rows[an][2], key),
                           paper_results.sva(task, rows[bn][1], rows[bn][2], key))
      effects.append(effect(s, a_vals, b_vals, direction, ddof, paper))
    notes = [_smoke_note(ctx, (an, bn))]
    if plain:
      notes.append(", ".join(f"`{s}`" for s in plain) + " in plain accuracy: μ-accuracy "
                   f"counts at most {sva_metrics.MAX_ATTRACTORS} attractors")
    return Claim(text.format(a=ctx.groups[an][0].label, b=ctx.groups[bn][0].label),
                 tuple(effects), digits, note="; ".join(n for n in notes if n))

  def whole_order(template, pair_claims):
    """One line for the paper's whole order: every adjacent pair's effect, as the sets of one
    claim (reproduced when every pair is, not reproduced when any pair goes the other way)."""
    effects = []
    for (hi, lo), c in pair_claims:
      for e in c.effects:
        where = f"{lo} < {hi}" + (f" on {e.set_name}" if len(c.effects) > 1 else "")
        effects.append(dataclasses.replace(e, set_name=where))
    return Claim(template, tuple(effects), note="; ".join(
        dict.fromkeys(c.note for _, c in pair_claims if c.note)))

  def not_run(text, a, b, what):
    return Claim(text.format(a=a, b=b), (), note=f"no {what} runs")

  def independent(an, bn):
    second = (claim(ece_text, an, bn, "ece", LOWER) if task == "cl" else
              claim(ppl_text, an, bn, "perplexity", NOT_LOWER, digits=2))
    return [claim(acc_text, an, bn, metric, HIGHER), second]

  out = []
  # Independent models.
  if task == "cl":
    ran = [r for r in CL_ORDER if r in by_row]
    row_pairs = [(hi, lo) for lo, hi in zip(ran, ran[1:])]
    if "LSTM" in by_row:
      row_pairs += [("LSTM", r) for r in ran
                    if _is_transformer(r) and ("LSTM", r) not in row_pairs]
    group_pairs = [(an, bn) for hi, lo in row_pairs for an in by_row[hi] for bn in by_row[lo]]
  else:  # The LM plots: every LSTM (small or not) against every Transformer.
    group_pairs = [(an, bn) for an in alone if _is_lstm(rows[an][1]) for bn in transformers]
  for an, bn in group_pairs:
    out += independent(an, bn)
  if task == "cl" and len(ran) == len(CL_ORDER):
    adjacent = [((hi, lo), an, bn) for lo, hi in zip(ran, ran[1:])
                for an in by_row[hi] for bn in by_row[lo]]
    order = " < ".join(CL_ORDER)
    out.append(whole_order(f"{order} (μ-accuracy): the whole order, each adjacent pair", [
        (rows_, claim(acc_text, an, bn, metric, HIGHER)) for rows_, an, bn in adjacent]))
    out.append(whole_order(f"{order} in reverse in ECE ({bins} bins, lower is better): the "
                           "whole order, each adjacent pair", [
        (rows_, claim(ece_text, an, bn, "ece", LOWER)) for rows_, an, bn in adjacent]))
  if not group_pairs:
    missing = "LSTM" if not any(_is_lstm(rows[n][1]) for n in alone) else "Transformer"
    out.append(not_run(acc_text, "LSTM", "Transformer", missing))
    out.append(not_run(ece_text if task == "cl" else ppl_text, "LSTM", "Transformer", missing))
  if task == "cl" and len(ran) < len(CL_ORDER):
    out.append(Claim(" < ".join(CL_ORDER) + " (μ-accuracy; the reverse in ECE): the whole "
                     "order", (), note="no " + ", ".join(r for r in CL_ORDER if r not in ran)
                     + " runs"))

  # Distillation, per Transformer-family student.
  students = sorted({rows[n][1] for n in transformers + taught})
  for student in students:
    plain = [n for n in transformers if rows[n][1] == student]
    from_lstm = [n for n in taught if rows[n][1] == student and _is_lstm(rows[n][2])]
    others = [n for n in taught if rows[n][1] == student and not _is_lstm(rows[n][2])]
    if not from_lstm or not plain:
      what = f"plain {student}" if from_lstm else f"LSTM→{student}"
      out.append(not_run(acc_text, f"LSTM→{student}", student, what))
    for dn in from_lstm:
      for bn in plain:
        out.append(claim(acc_text, dn, bn, metric, HIGHER))
        out.append(claim(ece_text, dn, bn, "ece", LOWER) if task == "cl" else
                   claim(ppl_text, dn, bn, "perplexity", NOT_LOWER, digits=2))
      for on in others:
        out.append(claim("{a} more accurate than {b}: the LSTM teacher helps more ("
                         + metric_title + ")", dn, on, metric, HIGHER))
        if task == "cl":
          out.append(claim("{a} better calibrated than {b}: the LSTM teacher calibrates better "
                           "(lower ECE, " + str(bins) + " bins)", dn, on, "ece", LOWER))
    for on in others:
      for bn in plain:
        out.append(claim("{a} not more accurate than {b} beyond the spread: Transformer "
                         "teachers barely help (" + metric_title + ")", on, bn, metric,
                         NOT_HIGHER))
    if from_lstm and not others:
      out.append(not_run("{a} more accurate than {b}: the LSTM teacher helps more",
                         f"LSTM→{student}", f"Transformer-family teacher→{student}",
                         f"Transformer-family teacher→{student}"))
  return out


# ---------------------------------------------------------------------------------------------
# The section.


def section(ctx: Context) -> list[str]:
  out = ["## Claims", "",
         "Each claim of the paper, for the setups that ran. " + RULE + " The paper's Δ is the "
         "difference of its reported means (agreement: values read off its plots; LM ranges "
         "by their midpoints). The full numbers are in the sections below.", ""]
  if "mnist" in ctx.scenarios():
    out += ["### MNIST (MNIST test and MNIST-C shifted sets)", ""]
    out += table(mnist_claims(ctx))
  else:
    out += ["MNIST: **not run** (no MNIST runs).", ""]
  sva_scenarios = [s for s in ctx.scenarios() if sva.is_sva(s)]
  for scenario in ("sva_cl", "sva_lm"):
    task = "classification" if scenario == "sva_cl" else "language models"
    if scenario not in sva_scenarios:
      out += [f"Agreement {task} (`{scenario}`): **not run** (no runs).", ""]
      continue
    by_data: dict[str, list[str]] = {}
    for name in ctx.scenario_groups(scenario):
      by_data.setdefault(provenance.data_source(ctx.groups[name][0]), []).append(name)
    for data, names in by_data.items():
      label = provenance.DATA_SHORT[data]
      if not provenance.is_papers_data(data):
        label += " (not the paper's data: the paper's Δ is from Linzen's data)"
      out += [f"### Agreement {task} (`{scenario}`), {label}", ""]
      out += table(sva_claims(ctx, scenario, names))
  return out
