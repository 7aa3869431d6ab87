"""Smoke tests for inductive_kd.analysis.plots: each function writes a non-empty PNG."""

import os

import numpy as np
import pytest

from inductive_kd.analysis import calibration
from inductive_kd.analysis import plots
from inductive_kd.analysis import trajectories

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
  assert os.path.getsize(path) > 1000
  with open(path, "rb") as f:
    assert f.read(8) == _PNG_MAGIC


@pytest.fixture(name="figures")
def fixture_figures(monkeypatch):
  """The Figure objects the plot functions save, drawn, to check their layout."""
  figures, save = [], plots._save

  def capture(fig, path):
    out = save(fig, path)
    figures.append(fig)
    return out

  monkeypatch.setattr(plots, "_save", capture)
  return figures


def _extent(artist, fig):
  return artist.get_window_extent(fig.canvas.get_renderer())


def test_plot_reliability(tmp_path, figures):
  rng = np.random.default_rng(0)
  probs = rng.dirichlet(np.ones(10) * 0.3, size=500)
  labels = rng.integers(0, 10, size=500)
  diagrams = {"cnn": calibration.reliability_diagram(probs, labels, 10),
              "mlp": calibration.reliability_diagram(probs[::-1], labels, 20),
              "cnn->mlp": calibration.reliability_diagram(probs[::2], labels[::2], 20),
              "mlp->mlp": calibration.reliability_diagram(probs[1::2], labels[1::2], 20)}
  path = str(tmp_path / "sub" / "reliability.png")  # the folder is created
  assert plots.plot_reliability(diagrams, path, title="mnist on scale") == path
  _assert_png(path)
  fig, = figures
  # A diagram and its bin counts (log scale) per model, three models per row.
  axes = fig.get_axes()
  assert len(axes) == 8
  assert [ax.get_yscale() for ax in axes] == ["linear", "log"] * 4
  assert axes[1].patches[0].get_height() > 0 and "n = 500" in axes[0].get_title()
  # The legend is the figure's, below every panel, not over a diagram.
  legend, = fig.legends
  assert _extent(legend, fig).y1 <= min(_extent(ax, fig).y0 for ax in axes)
  with pytest.raises(ValueError, match="reliability_diagram"):
    plots.plot_reliability({"x": {"counts": [1]}}, path)
  with pytest.raises(ValueError, match="empty"):
    plots.plot_reliability({}, path)


def test_plot_accuracy_by_attractors(tmp_path):
  path = str(tmp_path / "attractors.png")
  plots.plot_accuracy_by_attractors({"lstm": [0.99, 0.95, 0.9, 0.85, 0.8],
                                     "transformer": [0.98, 0.9, 0.8, 0.7, 0.65]}, path)
  _assert_png(path)


def test_plot_similarity_over_training(tmp_path, figures):
  path = str(tmp_path / "cka.png")
  steps = np.arange(0, 1000, 100)
  plots.plot_similarity_over_training(
      {"cnn->mlp": (steps, np.linspace(0.2, 0.8, 10)), "mlp": (steps, np.linspace(0.2, 0.5, 10))},
      path, ylabel="CKA to teacher", color_keys={"mlp": "cnn->mlp"}, dashed={"mlp"})
  _assert_png(path)
  fig, = figures
  ax, = fig.get_axes()
  kd, base = ax.get_lines()
  assert kd.get_color() == base.get_color() and base.get_linestyle() == "--"
  assert _extent(ax.get_legend(), fig).y1 < _extent(ax, fig).y0  # below the lines
  with pytest.raises(ValueError, match="equal length"):
    plots.plot_similarity_over_training({"a": ([1, 2], [1.0])}, path, ylabel="x")


def test_plot_mds_paths_one_panel_per_setup(tmp_path, figures):
  """24 runs (6 setups x 4 seeds) that start together far from where they end: an overview
  panel, then one zoomed panel per setup with its seeds labelled; the legend outside."""
  rng = np.random.default_rng(2)
  points, labels, panels = [], [], {}
  setups = ["CNN", "MLP", "CNN→MLP", "MLP→CNN", "CNN→CNN", "MLP→MLP"]
  for k, setup in enumerate(setups):
    end = np.array([np.cos(k), np.sin(k)]) * 0.05
    for seed in range(4):
      name = f"{setup} s{seed}"
      panels[name] = setup
      for step in range(5):
        t = 1 - np.exp(-2 * step)
        points.append((1 - t) * np.array([1.0, 0.0]) + t * end + rng.normal(size=2) * 0.002)
        labels.append((name, step * 100))
  path = str(tmp_path / "mds.png")
  plots.plot_mds_paths(np.array(points), labels, path, panels=panels)
  _assert_png(path)
  fig, = figures
  axes = [ax for ax in fig.get_axes() if ax.get_visible()]
  assert len(axes) == 1 + len(setups)
  assert axes[0].get_title().startswith("all runs")
  assert [ax.get_title().split(":")[0] for ax in axes[1:]] == setups
  assert {t.get_text() for t in axes[1].texts} >= {"s0", "s1", "s2", "s3"}
  # Zoomed: the panels show the trained region, not the common start at (1, 0).
  assert axes[1].get_xlim()[1] < 0.5
  legend, = fig.legends
  assert _extent(legend, fig).x0 >= max(_extent(ax, fig).x1 for ax in axes)
  with pytest.raises(ValueError, match="panels lacks a title"):
    plots.plot_mds_paths(np.array(points), labels, path, panels={})


def test_plot_mds_points(tmp_path):
  path = str(tmp_path / "final.png")
  plots.plot_mds_points(np.array([[0, 0], [1, 0], [0, 1.0]]), ["s0", "s1", "s0"],
                        ["CNN", "CNN", "MLP"], path, title="final checkpoints")
  _assert_png(path)
  with pytest.raises(ValueError, match="one entry per point"):
    plots.plot_mds_points(np.zeros((3, 2)), ["s0"], ["CNN"], path)


def test_plot_mds_paths(tmp_path):
  rng = np.random.default_rng(1)
  labels = [(name, step) for name in ("teacher", "student") for step in (300, 0, 100, 200)]
  outputs = rng.dirichlet(np.ones(10), size=(len(labels), 50))
  points = trajectories.classical_mds(trajectories.pairwise_distances(outputs))
  path = str(tmp_path / "mds.png")
  plots.plot_mds_paths(points, labels, path)
  _assert_png(path)
  with pytest.raises(ValueError, match="one \\(model_name, step\\) per point"):
    plots.plot_mds_paths(points, labels[:-1], path)
