"""PNG figures for the report: reliability diagrams, accuracy by attractors, similarity over
training, MDS training paths.

Figures are built with matplotlib's object API on an Agg canvas (no pyplot), so importing this
module never switches a global backend or needs a display, and figures are freed when the
function returns. Each function writes one PNG and returns its path.
"""

from __future__ import annotations

import os
from typing import Any, Collection, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_DPI = 120


def _save(fig: Figure, path: str) -> str:
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  FigureCanvasAgg(fig)
  fig.savefig(path, format="png", dpi=_DPI, bbox_inches="tight")
  return path


def _check_nonempty(mapping: Mapping[str, Any], name: str) -> None:
  if not mapping:
    raise ValueError(f"{name} is empty: nothing to plot.")


def _colors(n: int) -> list:
  """n distinct colours: tab10 up to 10, tab20 up to 20, then evenly spaced hues (so 24 runs or
  12 setups never share a colour, which the default C0..C9 cycle would)."""
  from matplotlib import colormaps  # pylint: disable=import-outside-toplevel
  if n <= 10:
    return [colormaps["tab10"](i) for i in range(n)]
  if n <= 20:
    return [colormaps["tab20"](i) for i in range(n)]
  return [colormaps["hsv"](i / n) for i in range(n)]


def _grid(n: int, max_cols: int) -> tuple[int, int]:
  """(rows, columns) for n panels, at most max_cols a row, rows as even as they can be (7 panels
  in 4 + 3 rather than 3 + 3 + 1)."""
  rows = max(1, -(-n // max_cols))
  return rows, max(1, -(-n // rows))


def plot_reliability(diagrams: Mapping[str, Mapping[str, Any]], path: str,
                     title: str | None = None, max_cols: int = 3) -> str:
  """Reliability diagrams, one panel per model in a grid, each with its bin counts below.

  Each panel: accuracy per confidence bin (bars), the gap to the bin's mean confidence
  (hatched), the diagonal, and under it the number of examples per bin on a log scale, since
  a bin's bar means little when it holds a handful of examples (and most examples sit in the
  last bin).

  Args:
    diagrams: model name -> dict from `calibration.reliability_diagram` (needs 'bin_edges',
      'counts', 'accuracy', 'confidence'; 'ece' is shown when present).
    path: output PNG.
    title: figure title (e.g. the test set), optional.
    max_cols: panels per row.
  """
  _check_nonempty(diagrams, "diagrams")
  for name, diag in diagrams.items():
    missing = {"bin_edges", "counts", "accuracy", "confidence"} - set(diag)
    if missing:
      raise ValueError(f"diagrams[{name!r}] lacks {sorted(missing)}; pass the dict returned by "
                       f"reliability_diagram.")
  nrows, ncols = _grid(len(diagrams), max_cols)
  # Constrained layout keeps each panel's title clear of the counts axis of the panel above.
  fig = Figure(figsize=(3.2 * ncols, 3.9 * nrows + 0.6), layout="constrained")
  outer = fig.add_gridspec(nrows, ncols)
  for k, (name, diag) in enumerate(diagrams.items()):
    inner = outer[divmod(k, ncols)].subgridspec(2, 1, height_ratios=[3.0, 1.0], hspace=0.0)
    c = k % ncols
    ax = fig.add_subplot(inner[0])
    ax_n = fig.add_subplot(inner[1], sharex=ax)
    edges = np.asarray(diag["bin_edges"], dtype=np.float64)
    counts = np.asarray(diag["counts"])
    acc = np.asarray(diag["accuracy"], dtype=np.float64)
    conf = np.asarray(diag["confidence"], dtype=np.float64)
    left, width = edges[:-1], np.diff(edges)
    keep = counts > 0
    ax.bar(left[keep], acc[keep], width=width[keep], align="edge", color="tab:blue",
           edgecolor="black", linewidth=0.4, label="accuracy")
    # The gap between mean confidence and accuracy is what the ECE weighs.
    # Hatched outline only, so an accuracy above the confidence stays readable underneath.
    ax.bar(left[keep], conf[keep] - acc[keep], bottom=acc[keep], width=width[keep],
           align="edge", fill=False, hatch="///", edgecolor="tab:red", linewidth=0.6,
           label="gap to mean confidence")
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.tick_params(labelbottom=False, labelsize=7)
    head = name if "ece" not in diag else f"{name}\nECE = {float(diag['ece']):.4f}"
    ax.set_title(head + f", n = {int(counts.sum()):,}", fontsize=8)
    ax_n.bar(left[keep], counts[keep], width=width[keep], align="edge", color="0.55",
             edgecolor="black", linewidth=0.3)
    ax_n.set_yscale("log")
    ax_n.set_ylim(0.8, max(10.0, float(counts.max()) * 3))
    ax_n.set_xlabel("confidence", fontsize=8)
    ax_n.tick_params(labelsize=7)
    if c == 0:
      ax.set_ylabel("accuracy", fontsize=8)
      ax_n.set_ylabel("examples", fontsize=8)
  handles, labels = ax.get_legend_handles_labels()
  # One legend for the figure, below the panels: inside a panel it would cover the bars.
  fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
  if title:
    fig.suptitle(title, fontsize=10)
  return _save(fig, path)


def plot_accuracy_by_attractors(table: Mapping[str, Sequence[float]], path: str) -> str:
  """Agreement accuracy against the number of attractors k = 0..K-1, one line per model.

  Args:
    table: model name -> accuracies for k = 0, 1, ... (the official attractor bins are 0..4).
    path: output PNG.
  """
  _check_nonempty(table, "table")
  fig = Figure(figsize=(4.5, 3.4))
  ax = fig.subplots()
  for color, (name, accs) in zip(_colors(len(table)), table.items()):
    accs = np.asarray(accs, dtype=np.float64)
    if accs.ndim != 1 or accs.size == 0:
      raise ValueError(f"table[{name!r}] must be a non-empty list of accuracies for k = 0..K-1.")
    ax.plot(np.arange(accs.size), accs, marker="o", color=color, label=name)
  ax.set_xlabel("number of attractors")
  ax.set_ylabel("agreement accuracy")
  ax.xaxis.get_major_locator().set_params(integer=True)
  ax.grid(alpha=0.3)
  # Outside on the right: the agreement grid has up to 20 classifier setups.
  ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
  return _save(fig, path)


def plot_learning_curves(curves: Mapping[str, Sequence[Mapping[str, Sequence[float]]]],
                         panels: Sequence[tuple[str, str]], path: str) -> str:
  """Metrics against training step, one panel per metric, one colour per model, a line per seed.

  Args:
    curves: model name -> one dict per seed, {"steps": [...], metric key: [...]}.
    panels: (metric key, y-axis label) per panel, e.g. ("test/mu_accuracy", "agreement"); a
      label holding "perplexity" gets a log scale (it falls from ~10^4 at the start).
    path: output PNG.
  """
  _check_nonempty(curves, "curves")
  fig = Figure(figsize=(4.0 * len(panels) + 1.8, 3.4))
  axes = np.atleast_1d(fig.subplots(1, len(panels), gridspec_kw={"wspace": 0.35}))
  for color, (name, seeds) in zip(_colors(len(curves)), curves.items()):
    for i, seed in enumerate(seeds):
      steps = np.asarray(seed["steps"], dtype=np.float64)
      for ax, (key, _) in zip(axes, panels):
        values = np.asarray(seed[key], dtype=np.float64)
        if values.shape != steps.shape:
          raise ValueError(f"curves[{name!r}][{i}][{key!r}]: {values.shape} values for "
                           f"{steps.shape} steps.")
        ax.plot(steps, values, marker=".", markersize=4, lw=1.2, color=color,
                label=name if i == 0 else None)
  for ax, (_, ylabel) in zip(axes, panels):
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel)
    if "perplexity" in ylabel:
      ax.set_yscale("log")
    ax.grid(alpha=0.3)
  axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
  return _save(fig, path)


def plot_similarity_over_training(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                                  path: str, ylabel: str,
                                  color_keys: Mapping[str, str] | None = None,
                                  dashed: Collection[str] = ()) -> str:
  """Similarity (or any scalar) against training step, one line per model pair.

  The legend sits below the axes, outside the lines: the curve names are long ("CNN→MLP
  (eval-mode teacher) vs its teacher CNN (n=4)") and would cover the data inside.

  Args:
    curves: name -> (steps, values) of equal length.
    path: output PNG.
    ylabel: y-axis label, e.g. "CKA to teacher (penultimate layer)".
    color_keys: optional name -> key; curves of one key share a colour (a distilled student and
      its un-distilled baseline against the same teacher). Default: a colour per curve.
    dashed: names drawn dashed (e.g. the baselines).
  """
  _check_nonempty(curves, "curves")
  keys = [(color_keys or {}).get(name, name) for name in curves]
  palette = dict(zip(dict.fromkeys(keys), _colors(len(set(keys)))))
  fig = Figure(figsize=(6.0, 3.6))
  ax = fig.subplots()
  for key, (name, curve) in zip(keys, curves.items()):
    color = palette[key]
    if len(curve) != 2:
      raise ValueError(f"curves[{name!r}] must be a (steps, values) pair.")
    steps, values = (np.asarray(c, dtype=np.float64) for c in curve)
    if steps.ndim != 1 or steps.shape != values.shape:
      raise ValueError(f"curves[{name!r}]: steps and values must be 1-D of equal length; got "
                       f"{steps.shape} and {values.shape}.")
    ax.plot(steps, values, "--" if name in dashed else "-", marker=".", markersize=4,
            color=color, label=name)
  ax.set_xlabel("training step")
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
  return _save(fig, path)


def _late_box(paths: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
  """(low, high) corners of the box holding the last quarter of every path's points: where the
  trained models are. Early checkpoints (near-uniform outputs) lie far from every trained model,
  and scaling the axes to them squeezes all the endpoints into one corner."""
  late = np.concatenate([xy[(3 * len(xy)) // 4:] for xy in paths.values()])
  low, high = late.min(axis=0), late.max(axis=0)
  pad = np.maximum((high - low) * 0.12, 1e-9)
  return low - pad, high + pad


# Offsets (points) of endpoint labels, taken in turn: seeds of one setup often end at nearly the
# same place, and labels written at one offset would print over each other.
_LABEL_OFFSETS = ((5, 4), (5, -9), (-16, 4), (-16, -9), (5, 12), (-16, 12), (5, -17), (-16, -17))


def _clusters(points: Mapping[str, np.ndarray], radius: float) -> list[tuple[str, np.ndarray]]:
  """Names whose points lie within `radius` of a cluster's first point, joined with ' / ', at
  the cluster's mean: labels of setups ending in one place would otherwise overprint."""
  out: list[tuple[list[str], list[np.ndarray]]] = []
  for name, xy in points.items():
    for names, xys in out:
      if np.linalg.norm(xys[0] - xy) <= radius:
        names.append(name)
        xys.append(xy)
        break
    else:
      out.append(([name], [xy]))
  return [(" / ".join(names), np.mean(xys, axis=0)) for names, xys in out]


def _draw_path(ax, xy: np.ndarray, color, end_label: str | None, faint: bool = False,
               offset: tuple[int, int] = _LABEL_OFFSETS[0]) -> None:
  if faint:
    ax.plot(xy[:, 0], xy[:, 1], "-", color="0.8", linewidth=0.7, zorder=1)
    ax.plot(xy[-1, 0], xy[-1, 1], "*", color="0.6", markersize=6, zorder=1)
    return
  ax.plot(xy[:, 0], xy[:, 1], "-", color=color, linewidth=1.1, alpha=0.85, zorder=3)
  ax.plot(xy[1:-1, 0], xy[1:-1, 1], ".", color=color, markersize=2.5, zorder=3)
  # The start is a small open circle: every run starts near the same uniform outputs, so a big
  # start marker per run would pile up into a blot that draws the eye from the endpoints.
  ax.plot(xy[0, 0], xy[0, 1], "o", markerfacecolor="none", markeredgecolor=color,
          markersize=3.5, alpha=0.6, zorder=3)
  ax.plot(xy[-1, 0], xy[-1, 1], "*", color=color, markersize=11, markeredgecolor="black",
          markeredgewidth=0.5, zorder=4)
  if end_label:
    ax.annotate(end_label, xy=xy[-1], xytext=offset, textcoords="offset points", fontsize=7,
                color="black", zorder=5, annotation_clip=True)


def plot_mds_paths(points: Any, labels: Sequence[tuple[str, int]], path: str,
                   panels: Mapping[str, str] | None = None, max_cols: int = 4) -> str:
  """2-D training trajectories: one path per model through its checkpoints, in step order.

  Each model's path starts at a small open circle and ends at a star. With `panels` (model name
  -> panel title, e.g. its setup; the panels come in the order of first appearance), there is one
  panel per title: its models in its colour with each endpoint labelled by the rest of the model
  name ('s0' for 'CNN→MLP s0'), every other model as a grey path with its endpoint, and the other
  panels' titles written in grey at the centre of their endpoints, so each panel shows where its
  models end relative to the others (the paper's "basins"). When the early checkpoints lie far
  from where the models end, a first "all runs" panel shows whole paths and a dashed box, and the
  panels zoom into that box. The legend (colours and markers) is outside the panels.

  Args:
    points: [M, 2] embedded coordinates (e.g. from `trajectories.classical_mds`).
    labels: M (model_name, step) pairs, aligned with the rows of `points`.
    path: output PNG.
    panels: optional model name -> panel title; without it, one panel with a colour per model.
    max_cols: panels per row.
  """
  pts = np.asarray(points, dtype=np.float64)
  if pts.ndim != 2 or pts.shape[1] != 2:
    raise ValueError(f"points must have shape [M, 2]; got {pts.shape}.")
  if len(labels) != pts.shape[0]:
    raise ValueError(f"labels must have one (model_name, step) per point: {len(labels)} labels "
                     f"for {pts.shape[0]} points.")
  if not labels:
    raise ValueError("No points to plot.")
  members: dict[str, list[tuple[int, int]]] = {}
  for i, label in enumerate(labels):
    if len(label) != 2:
      raise ValueError(f"labels[{i}] must be a (model_name, step) pair; got {label!r}.")
    members.setdefault(str(label[0]), []).append((int(label[1]), i))
  paths = {name: pts[[i for _, i in sorted(m)]] for name, m in members.items()}
  last_step = {name: max(m)[0] for name, m in members.items()}
  if panels is None:
    return _mds_single(paths, last_step, path)
  missing = sorted(set(paths) - set(panels))
  if missing:
    raise ValueError(f"panels lacks a title for {missing}.")
  titles = list(dict.fromkeys(panels[name] for name in paths))
  order = list(dict.fromkeys(t for t in panels.values() if t in titles))
  color_of = dict(zip(order, _colors(len(order))))
  low, high = _late_box(paths)
  full_low, full_high = pts.min(axis=0), pts.max(axis=0)
  # Zoom only when the trained region is small next to the whole map (a quarter of its area).
  zoom = bool(np.prod(high - low) < 0.25 * np.prod(np.maximum(full_high - full_low, 1e-12)))
  n = len(order) + (1 if zoom else 0)
  nrows, ncols = _grid(n, max_cols)
  fig = Figure(figsize=(3.7 * ncols, 3.5 * nrows))
  axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
  for ax in axes[n:]:
    ax.set_visible(False)
  ends = {t: np.mean([paths[m][-1] for m in paths if panels[m] == t], axis=0) for t in order}
  view_low, view_high = (low, high) if zoom else (full_low, full_high)
  radius = 0.04 * float(np.linalg.norm(view_high - view_low))
  k = 0
  if zoom:
    ax = axes[0]
    for name, xy in paths.items():
      _draw_path(ax, xy, color_of[panels[name]], None)
    ax.add_patch(_rectangle(low, high))
    ax.set_title("all runs, whole paths (dashed: the zoomed area)", fontsize=8)
    k = 1
  for title in order:
    ax = axes[k]
    k += 1
    for name, xy in paths.items():
      if panels[name] != title:
        _draw_path(ax, xy, None, None, faint=True)
    mine = [name for name in paths if panels[name] == title]
    for j, name in enumerate(mine):
      short = name[len(title):].strip() if name.startswith(title) else name
      _draw_path(ax, paths[name], color_of[title], short or name,
                 offset=_LABEL_OFFSETS[j % len(_LABEL_OFFSETS)])
    others = {t: xy for t, xy in ends.items()
              if t != title and (not zoom or np.all((xy >= view_low) & (xy <= view_high)))}
    for text, xy in _clusters(others, radius):
      ax.annotate(text, xy=xy, xytext=(0, -11), textcoords="offset points", fontsize=7,
                  color="0.35", ha="center", zorder=2)
    count = sum(panels[m] == title for m in paths)
    steps = sorted({last_step[m] for m in paths if panels[m] == title})
    ax.set_title(f"{title}: {count} run{'s' if count > 1 else ''}, final step "
                 f"{'/'.join(map(str, steps))}", fontsize=8)
    if zoom:
      ax.set_xlim(low[0], high[0])
      ax.set_ylim(low[1], high[1])
  for ax in axes[:n]:
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(5))  # small panels: long tick labels would touch
    ax.set_xlabel("MDS 1", fontsize=8)
    ax.set_ylabel("MDS 2", fontsize=8)
  fig.legend(handles=_mds_legend(color_of), loc="center left", bbox_to_anchor=(1.0, 0.5),
             fontsize=8, frameon=False)
  fig.tight_layout()
  return _save(fig, path)


def _rectangle(low: np.ndarray, high: np.ndarray):
  from matplotlib.patches import Rectangle  # pylint: disable=import-outside-toplevel
  return Rectangle(tuple(low), *(high - low), fill=False, linestyle="--", edgecolor="black",
                   linewidth=0.8)


def _mds_legend(color_of: Mapping[str, Any]) -> list:
  from matplotlib.lines import Line2D  # pylint: disable=import-outside-toplevel
  handles = [Line2D([], [], color=c, linewidth=2, label=t) for t, c in color_of.items()]
  handles += [
      Line2D([], [], linestyle="none", marker="o", markerfacecolor="none",
             markeredgecolor="black", markersize=4, label="first checkpoint"),
      Line2D([], [], linestyle="none", marker="*", color="0.3", markeredgecolor="black",
             markersize=10, label="final step"),
      Line2D([], [], color="0.8", linewidth=1, label="runs of the other panels")]
  return handles


def _mds_single(paths: Mapping[str, np.ndarray], last_step: Mapping[str, int], path: str) -> str:
  """One panel, a colour per model, legend outside on the right."""
  fig = Figure(figsize=(5.5, 4.5))
  ax = fig.subplots()
  for color, (name, xy) in zip(_colors(len(paths)), paths.items()):
    _draw_path(ax, xy, color, f"@{last_step[name]}")
    ax.plot([], [], "-", color=color, label=name)
  ax.set_xlabel("MDS 1")
  ax.set_ylabel("MDS 2")
  ax.set_aspect("equal", adjustable="datalim")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
  return _save(fig, path)


def plot_mds_points(points: Any, names: Sequence[str], groups: Sequence[str], path: str,
                    title: str | None = None) -> str:
  """A 2-D map of single models (e.g. their final checkpoints): a colour per group, each point
  labelled with its name, the legend outside on the right.

  Args:
    points: [M, 2] embedded coordinates.
    names: M point labels (e.g. 's0').
    groups: M group names (e.g. setups); colours follow their order of first appearance.
    path: output PNG.
    title: optional axes title.
  """
  pts = np.asarray(points, dtype=np.float64)
  if pts.ndim != 2 or pts.shape[1] != 2:
    raise ValueError(f"points must have shape [M, 2]; got {pts.shape}.")
  if not len(names) == len(groups) == pts.shape[0] or not len(names):
    raise ValueError(f"names and groups need one entry per point: {len(names)} names and "
                     f"{len(groups)} groups for {pts.shape[0]} points.")
  order = list(dict.fromkeys(groups))
  color_of = dict(zip(order, _colors(len(order))))
  fig = Figure(figsize=(5.8, 4.6))
  ax = fig.subplots()
  seen: dict[str, int] = {}
  for group in order:
    idx = [i for i, g in enumerate(groups) if g == group]
    ax.scatter(pts[idx, 0], pts[idx, 1], s=46, color=color_of[group], edgecolor="black",
               linewidth=0.5, label=group, zorder=3)
  for i, (name, xy) in enumerate(zip(names, pts)):
    # Points of one place take turns of label offset (see _LABEL_OFFSETS).
    key = f"{xy[0]:.3g},{xy[1]:.3g}"
    j = seen[key] = seen.get(key, -1) + 1
    ax.annotate(name, xy=xy, xytext=_LABEL_OFFSETS[(i + j) % 4], textcoords="offset points",
                fontsize=7, zorder=4)
  ax.set_xlabel("MDS 1")
  ax.set_ylabel("MDS 2")
  ax.grid(alpha=0.3)
  if title:
    ax.set_title(title, fontsize=9)
  ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
  return _save(fig, path)
