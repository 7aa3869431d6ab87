"""Section 4, reliability diagrams: per scenario, one diagram per setup with the predictions of
all its seeds pooled, on the most shifted test set available."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from inductive_kd import paper_results
from inductive_kd.analysis import calibration
from inductive_kd.analysis import plots
from inductive_kd.report.context import Context
from inductive_kd.report.render import figures_or, slug
from inductive_kd.report.runs import Run, order_sets


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


def _figure(ctx: Context, scenario: str) -> list[str]:
  names = ctx.scenario_groups(scenario, paper_results.MNIST_SETUP_ORDER)
  # The shifted set first: calibration under shift is the paper's point.
  order = ("scale", "mnist") if scenario == "mnist" else ("valid", "test")
  available = {s for n in names for r in ctx.groups[n] for s in r.test_sets()
               if r.array(s, "probs") is not None}
  if not available:
    return []
  set_name = order_sets(available, order)[0]
  diagrams = {}
  for name in names:
    diag = _pooled_diagram(ctx, ctx.groups[name], set_name)
    if diag is not None:
      diagrams[ctx.groups[name][0].label] = diag
  if not diagrams:
    return []
  path = plots.plot_reliability(
      diagrams, ctx.plot_path(f"reliability_{slug(scenario)}_{slug(set_name)}.png"))
  return [f"`{scenario}` on `{set_name}` ({ctx.opt.reliability_bins} bins, predictions "
          f"of all seeds pooled; the ECE in each title uses these bins):", ""] + ctx.image(
              f"reliability {scenario} {set_name}", path)


def section(ctx: Context) -> list[str]:
  return figures_or("### Reliability diagrams", (_figure(ctx, s) for s in ctx.scenarios()),
                    "No predictions/*.npz with probabilities were found: no reliability "
                    "diagrams.")
