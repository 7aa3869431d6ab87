"""Section 4, reliability diagrams: per scenario and test set, one figure with a panel per setup
(the predictions of all its seeds pooled) and the bin counts under each diagram."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from inductive_kd import paper_results
from inductive_kd.analysis import calibration
from inductive_kd.analysis import plots
from inductive_kd.report.context import Context
from inductive_kd.report.render import figures_or, slug
from inductive_kd.report.runs import MNIST_SET_ORDER, SVA_SET_ORDER, Run, order_sets


def _pooled_diagram(ctx: Context, group: Sequence[Run], set_name: str) -> dict | None:
  probs, labels = [], []
  for run in group:
    p, y = run.array(set_name, "probs"), run.array(set_name, "labels")
    if p is not None and y is not None and p.ndim == 2:
      probs.append(p)
      labels.append(y)
  if not probs or len({p.shape[1] for p in probs}) != 1:
    return None
  try:
    return calibration.reliability_diagram(np.concatenate(probs), np.concatenate(labels),
                                           num_bins=ctx.opt.reliability_bins)
  except ValueError:
    return None


def _figures(ctx: Context, scenario: str) -> Iterator[list[str]]:
  names = ctx.scenario_groups(scenario, paper_results.MNIST_SETUP_ORDER)
  # The paper's shifted sets first for MNIST (calibration under shift is its point).
  order = ("scale", "translate", "mnist") if scenario == "mnist" else SVA_SET_ORDER
  available = {s for n in names for r in ctx.groups[n] for s in r.test_sets()
               if r.array(s, "probs") is not None}
  for set_name in order_sets(available, order if scenario != "mnist" else
                             order + tuple(s for s in MNIST_SET_ORDER if s not in order)):
    diagrams = {}
    for name in names:
      diag = _pooled_diagram(ctx, ctx.groups[name], set_name)
      if diag is not None:
        seeds = len(ctx.groups[name])
        diagrams[f"{ctx.groups[name][0].label} ({seeds} seed{'s' if seeds > 1 else ''})"] = diag
    if not diagrams:
      continue
    path = plots.plot_reliability(
        diagrams, ctx.plot_path(f"reliability_{slug(scenario)}_{slug(set_name)}.png"),
        title=f"{scenario} on {set_name}")
    yield [f"`{scenario}` on `{set_name}` ({ctx.opt.reliability_bins} bins, predictions of all "
           f"seeds pooled; the ECE in each title uses these bins; under each diagram the "
           f"number of examples per bin, log scale):", ""] + ctx.image(
               f"reliability {scenario} {set_name}", path)


def section(ctx: Context) -> list[str]:
  return figures_or("### Reliability diagrams",
                    (fig for s in ctx.scenarios() for fig in _figures(ctx, s)),
                    "No predictions/*.npz with probabilities were found: no reliability "
                    "diagrams.")
