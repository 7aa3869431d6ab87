"""Section 4, function space: per scenario, an MDS map of every run's checkpoints by the
Jensen–Shannon distance between their output distributions on the shared probe set."""

from __future__ import annotations

import collections
import math
import warnings

import numpy as np

from inductive_kd.analysis import plots
from inductive_kd.analysis import trajectories
from inductive_kd.report.context import Context
from inductive_kd.report.render import figures_or, slug
from inductive_kd.report.runs import Run

_MDS_BUDGET = 4e9  # (pair, probe example, class) terms allowed in the MDS distance matrix


def _figure(ctx: Context, runs: list[Run], scenario: str) -> list[str]:
  shapes = collections.Counter(r.probes()["probs"].shape[1:] for r in runs)
  shape = shapes.most_common(1)[0][0]
  dropped = [r for r in runs if r.probes()["probs"].shape[1:] != shape]
  runs = [r for r in runs if r.probes()["probs"].shape[1:] == shape]
  # pairwise_distances costs ~M^2/2 * n * C terms: cap M so that a large output space (an
  # LM's vocabulary) cannot stall the report; MNIST (n = 1000, C = 10) keeps the default.
  per_run = max(2, min(ctx.opt.max_probe_points,
                       int(math.sqrt(2 * _MDS_BUDGET / (shape[0] * shape[1]))) // len(runs)))
  points, labels = [], []
  label_count = collections.Counter(f"{r.label} s{r.seed}" for r in runs)
  for run in sorted(runs, key=lambda r: (r.name, str(r.seed), r.key)):
    pr = run.probes()
    label = f"{run.label} s{run.seed}"
    if label_count[label] > 1:
      label += f" ({run.workdir.name})"
    n = len(pr["steps"])
    keep = np.unique(np.round(np.linspace(0, n - 1, min(n, per_run))).astype(int))
    for i in keep:
      points.append(pr["probs"][i])
      labels.append((label, int(pr["steps"][i])))
  if len(points) < 2:
    return []
  dist = trajectories.pairwise_distances(np.stack(points), metric="js")
  coords = trajectories.classical_mds(dist, dim=2)
  with warnings.catch_warnings():
    # matplotlib's note that placing a legend over many points is slow: expected here.
    warnings.filterwarnings("ignore", message=".*legend.*slow", category=UserWarning)
    path = plots.plot_mds_paths(coords, labels, ctx.plot_path(f"mds_{slug(scenario)}.png"))
  out = [f"`{scenario}`: {len(points)} (run, step) points of {len(runs)} runs; distance = "
         f"mean Jensen–Shannon distance between output distributions on the shared probe "
         f"set (`trajectories.pairwise_distances(metric='js')`), embedded by classical "
         f"MDS; up to {per_run} evenly spaced checkpoints per run, the star marks the "
         f"final step.", ""]
  if dropped:
    out += [f"Left out (probe set of another shape): "
            f"{', '.join(f'{r.name} s{r.seed}' for r in dropped)}.", ""]
  return out + ctx.image(f"MDS {scenario}", path)


def section(ctx: Context) -> list[str]:
  heading = "### Function space: MDS map of training trajectories"
  with_probes = [r for r in ctx.by_key.values() if r.probes() is not None]
  if not with_probes:
    return [heading, "", "No probe outputs: no MDS map.", ""]
  scenarios = sorted({r.setup.scenario for r in with_probes})
  return figures_or(heading, (_figure(ctx, [r for r in with_probes if r.setup.scenario == s], s)
                              for s in scenarios),
                    "Fewer than two probe points per scenario: no MDS map.")
