"""PNG figures for the report: reliability diagrams, accuracy by attractors, similarity over
training, MDS training paths.

Figures are built with matplotlib's object API on an Agg canvas (no pyplot), so importing this
module never switches a global backend or needs a display, and figures are freed when the
function returns. Each function writes one PNG and returns its path.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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


def plot_reliability(diagrams: Mapping[str, Mapping[str, Any]], path: str) -> str:
  """One reliability diagram per model, side by side.

  Args:
    diagrams: model name -> dict from `calibration.reliability_diagram` (needs 'bin_edges',
      'counts', 'accuracy', 'confidence'; 'ece' is shown when present).
    path: output PNG.
  """
  _check_nonempty(diagrams, "diagrams")
  n = len(diagrams)
  fig = Figure(figsize=(3.2 * n, 3.4))
  axes = fig.subplots(1, n, squeeze=False)[0]
  for ax, (name, diag) in zip(axes, diagrams.items()):
    missing = {"bin_edges", "counts", "accuracy", "confidence"} - set(diag)
    if missing:
      raise ValueError(f"diagrams[{name!r}] lacks {sorted(missing)}; pass the dict returned by "
                       f"reliability_diagram.")
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
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    title = name if "ece" not in diag else f"{name}\nECE = {float(diag['ece']):.4f}"
    ax.set_title(title, fontsize=9)
  axes[0].set_ylabel("accuracy")
  axes[0].legend(loc="upper left", fontsize=7)
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
  for name, accs in table.items():
    accs = np.asarray(accs, dtype=np.float64)
    if accs.ndim != 1 or accs.size == 0:
      raise ValueError(f"table[{name!r}] must be a non-empty list of accuracies for k = 0..K-1.")
    ax.plot(np.arange(accs.size), accs, marker="o", label=name)
  ax.set_xlabel("number of attractors")
  ax.set_ylabel("agreement accuracy")
  ax.xaxis.get_major_locator().set_params(integer=True)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return _save(fig, path)


def plot_similarity_over_training(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                                  path: str, ylabel: str) -> str:
  """Similarity (or any scalar) against training step, one line per model pair.

  Args:
    curves: name -> (steps, values) of equal length.
    path: output PNG.
    ylabel: y-axis label, e.g. "CKA to teacher (penultimate layer)".
  """
  _check_nonempty(curves, "curves")
  fig = Figure(figsize=(5, 3.4))
  ax = fig.subplots()
  for name, curve in curves.items():
    if len(curve) != 2:
      raise ValueError(f"curves[{name!r}] must be a (steps, values) pair.")
    steps, values = (np.asarray(c, dtype=np.float64) for c in curve)
    if steps.ndim != 1 or steps.shape != values.shape:
      raise ValueError(f"curves[{name!r}]: steps and values must be 1-D of equal length; got "
                       f"{steps.shape} and {values.shape}.")
    ax.plot(steps, values, marker=".", label=name)
  ax.set_xlabel("training step")
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return _save(fig, path)


def plot_mds_paths(points: Any, labels: Sequence[tuple[str, int]], path: str) -> str:
  """2-D training trajectories: one path per model through its checkpoints, in step order.

  Each model's points are joined by a line with arrows showing the direction of training; the
  first checkpoint gets a small circle, the final step a large star annotated with the name.

  Args:
    points: [M, 2] embedded coordinates (e.g. from `trajectories.classical_mds`).
    labels: M (model_name, step) pairs, aligned with the rows of `points`.
    path: output PNG.
  """
  pts = np.asarray(points, dtype=np.float64)
  if pts.ndim != 2 or pts.shape[1] != 2:
    raise ValueError(f"points must have shape [M, 2]; got {pts.shape}.")
  if len(labels) != pts.shape[0]:
    raise ValueError(f"labels must have one (model_name, step) per point: {len(labels)} labels "
                     f"for {pts.shape[0]} points.")
  if not labels:
    raise ValueError("No points to plot.")
  models: dict[str, list[tuple[int, int]]] = {}
  for i, label in enumerate(labels):
    if len(label) != 2:
      raise ValueError(f"labels[{i}] must be a (model_name, step) pair; got {label!r}.")
    models.setdefault(str(label[0]), []).append((int(label[1]), i))
  fig = Figure(figsize=(5.5, 4.5))
  ax = fig.subplots()
  colors = [f"C{i % 10}" for i in range(len(models))]
  for color, (name, members) in zip(colors, models.items()):
    members.sort()
    xy = pts[[i for _, i in members]]
    ax.plot(xy[:, 0], xy[:, 1], "-", color=color, linewidth=1.2, alpha=0.8, label=name)
    for a, b in zip(xy[:-1], xy[1:]):
      ax.annotate("", xy=b, xytext=a,
                  arrowprops=dict(arrowstyle="->", color=color, linewidth=1.0))
    ax.plot(xy[0, 0], xy[0, 1], "o", color=color, markersize=4)
    ax.plot(xy[-1, 0], xy[-1, 1], "*", color=color, markersize=14, markeredgecolor="black",
            markeredgewidth=0.6)
    ax.annotate(f"{name} @{members[-1][0]}", xy=xy[-1], xytext=(5, 5),
                textcoords="offset points", fontsize=7, color=color)
  ax.set_xlabel("MDS 1")
  ax.set_ylabel("MDS 2")
  ax.set_aspect("equal", adjustable="datalim")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return _save(fig, path)
