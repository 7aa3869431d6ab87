"""Section 4, function space: per scenario, an MDS map of every run's checkpoints by the
Jensen–Shannon distance between their output distributions on the shared probe set."""

from __future__ import annotations

import collections
import math
import warnings

import numpy as np

from inductive_kd import paper_results
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
  points, labels, panels, finals = [], [], {}, []
  label_count = collections.Counter(f"{r.label} s{r.seed}" for r in runs)
  # Report order (the paper's setups first, each setup's seeds together): one panel per setup.
  rank = {g: i for i, g in enumerate(ctx.ordered_groups(
      preferred=paper_results.MNIST_SETUP_ORDER))}
  for run in sorted(runs, key=lambda r: (rank.get(r.group, len(rank)), r.label, str(r.seed),
                                         r.key)):
    pr = run.probes()
    label = f"{run.label} s{run.seed}"
    if label_count[label] > 1:
      label += f" ({run.workdir.name})"
    panels[label] = run.label
    n = len(pr["steps"])
    keep = np.unique(np.round(np.linspace(0, n - 1, min(n, per_run))).astype(int))
    for i in keep:
      points.append(pr["probs"][i])
      labels.append((label, int(pr["steps"][i])))
    finals.append((len(points) - 1, label[len(run.label):].strip(), run.label))
  if len(points) < 2:
    return []
  dist = trajectories.pairwise_distances(np.stack(points), metric="js")
  coords = trajectories.classical_mds(dist, dim=2)
  with warnings.catch_warnings():
    # matplotlib's note that placing a legend over many points is slow: expected here.
    warnings.filterwarnings("ignore", message=".*legend.*slow", category=UserWarning)
    path = plots.plot_mds_paths(coords, labels, ctx.plot_path(f"mds_{slug(scenario)}.png"),
                                panels=panels)
  final_path = None
  if len(finals) >= 3:
    # The trained models alone, embedded afresh: in the map of whole trajectories the first MDS
    # axes go to the init -> trained direction, and the (smaller) differences between trained
    # models, the paper's "basins", fall in axes the 2-D map drops.
    idx = [i for i, _, _ in finals]
    final_coords = trajectories.classical_mds(dist[np.ix_(idx, idx)], dim=2)
    final_path = plots.plot_mds_points(
        final_coords, [n for _, n, _ in finals], [g for _, _, g in finals],
        ctx.plot_path(f"mds_final_{slug(scenario)}.png"),
        title=f"{scenario}: final checkpoints ({len(finals)} runs)")
  out = [f"`{scenario}`: {len(points)} (run, step) points of {len(runs)} runs; distance = "
         f"mean Jensen–Shannon distance between output distributions on the shared probe "
         f"set (`trajectories.pairwise_distances(metric='js')`), embedded by classical "
         f"MDS; up to {per_run} evenly spaced checkpoints per run. One panel per setup (its "
         f"seeds labelled at their final step, a star; the open circle is the first "
         f"checkpoint; the other setups in grey); when the first checkpoints lie far from "
         f"the trained models, an 'all runs' panel shows the whole paths and the others zoom "
         f"into the trained region.", ""]
  if dropped:
    out += [f"Left out (probe set of another shape): "
            f"{', '.join(f'{r.name} s{r.seed}' for r in dropped)}.", ""]
  out += ctx.image(f"MDS {scenario}", path)
  if final_path:
    out += [f"`{scenario}`, final checkpoints only (the same distances, embedded without the "
            f"trajectories): where each run ended, a colour per setup, labelled by seed.", ""]
    out += ctx.image(f"MDS final checkpoints {scenario}", final_path)
  return out


def section(ctx: Context) -> list[str]:
  heading = "### Function space: MDS map of training trajectories"
  with_probes = [r for r in ctx.by_key.values() if r.probes() is not None]
  if not with_probes:
    return [heading, "", "No probe outputs: no MDS map.", ""]
  scenarios = sorted({r.setup.scenario for r in with_probes})
  return figures_or(heading, (_figure(ctx, [r for r in with_probes if r.setup.scenario == s], s)
                              for s in scenarios),
                    "Fewer than two probe points per scenario: no MDS map.")
