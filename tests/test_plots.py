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


def test_plot_reliability(tmp_path):
  rng = np.random.default_rng(0)
  probs = rng.dirichlet(np.ones(10) * 0.3, size=500)
  labels = rng.integers(0, 10, size=500)
  diagrams = {"cnn": calibration.reliability_diagram(probs, labels, 10),
              "mlp": calibration.reliability_diagram(probs[::-1], labels, 20)}
  path = str(tmp_path / "sub" / "reliability.png")  # the folder is created
  assert plots.plot_reliability(diagrams, path) == path
  _assert_png(path)
  with pytest.raises(ValueError, match="reliability_diagram"):
    plots.plot_reliability({"x": {"counts": [1]}}, path)
  with pytest.raises(ValueError, match="empty"):
    plots.plot_reliability({}, path)


def test_plot_accuracy_by_attractors(tmp_path):
  path = str(tmp_path / "attractors.png")
  plots.plot_accuracy_by_attractors({"lstm": [0.99, 0.95, 0.9, 0.85, 0.8],
                                     "transformer": [0.98, 0.9, 0.8, 0.7, 0.65]}, path)
  _assert_png(path)


def test_plot_similarity_over_training(tmp_path):
  path = str(tmp_path / "cka.png")
  steps = np.arange(0, 1000, 100)
  plots.plot_similarity_over_training(
      {"cnn->mlp": (steps, np.linspace(0.2, 0.8, 10)), "mlp": (steps, np.linspace(0.2, 0.5, 10))},
      path, ylabel="CKA to teacher")
  _assert_png(path)
  with pytest.raises(ValueError, match="equal length"):
    plots.plot_similarity_over_training({"a": ([1, 2], [1.0])}, path, ylabel="x")


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
