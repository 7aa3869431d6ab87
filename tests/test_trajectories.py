"""Tests for inductive_kd.analysis.trajectories."""

import os

import numpy as np
import pytest
from scipy.spatial import distance

from inductive_kd.analysis import similarity
from inductive_kd.analysis import trajectories


def _softmax(z):
  z = z - z.max(-1, keepdims=True)
  e = np.exp(z)
  return e / e.sum(-1, keepdims=True)


def _outputs(m=5, n=40, c=4, seed=0):
  return _softmax(np.random.default_rng(seed).normal(size=(m, n, c)) * 2.0)


# ------------------------------------------------------------------------------ distances


@pytest.mark.parametrize("metric", ["js", "hellinger", "reflect"])
def test_pairwise_distances_properties(metric):
  out = _outputs()
  out[3] = out[1]  # two points with identical outputs
  d = trajectories.pairwise_distances(out, metric=metric)
  assert d.shape == (5, 5) and d.dtype == np.float64
  np.testing.assert_array_equal(d, d.T)
  np.testing.assert_array_equal(np.diag(d), 0.0)
  assert d[1, 3] == pytest.approx(0.0, abs=1e-6)
  off = d[~np.eye(5, dtype=bool)]
  assert np.all(off[off != d[1, 3]] > 1e-3)


def test_js_matches_scipy_and_is_a_metric():
  out = _outputs(m=6, seed=1)
  d = trajectories.pairwise_distances(out, metric="js")
  ref = np.array([[np.mean([distance.jensenshannon(p, q, base=2) for p, q in zip(a, b)])
                   for b in out] for a in out])
  np.testing.assert_allclose(d, ref, atol=1e-6)
  assert np.all(d <= 1.0)
  # Triangle inequality (the JS distance is a metric, so is its mean).
  for i in range(6):
    assert np.all(d[i][:, None] <= d[i][None, :] + d + 1e-9)


def test_js_precise_for_nearby_outputs():
  # Consecutive checkpoints differ slightly; float32 must still resolve the distance.
  p = _outputs(m=1, n=200, c=10, seed=2)[0]
  q = _softmax(np.log(p) + 1e-4 * np.random.default_rng(3).normal(size=p.shape))
  d = trajectories.pairwise_distances(np.stack([p, q]).astype(np.float32), metric="js")
  ref = np.mean([distance.jensenshannon(a, b, base=2) for a, b in zip(p, q)])
  assert ref < 1e-3
  assert d[0, 1] == pytest.approx(ref, rel=1e-2)


def test_hellinger_hand_computed():
  out = np.array([[[1.0, 0.0]], [[0.0, 1.0]], [[0.5, 0.5]]])
  d = trajectories.pairwise_distances(out, metric="hellinger")
  h = np.sqrt(0.5 * ((1 - np.sqrt(0.5))**2 + 0.5))
  np.testing.assert_allclose(d, [[0, 1, h], [1, 0, h], [h, h, 0]], atol=1e-6)


def test_reflect_distance_is_one_minus_rsa_reflect():
  rng = np.random.default_rng(4)
  logits = rng.normal(size=(3, 50, 10))
  d = trajectories.pairwise_distances(logits, metric="reflect")
  assert d[0, 2] == pytest.approx(1.0 - similarity.rsa_reflect(logits[0], logits[2]), abs=1e-5)


def test_pairwise_distances_bad_input():
  with pytest.raises(ValueError, match=r"\[M, n, C\]"):
    trajectories.pairwise_distances(np.ones((3, 4)))
  with pytest.raises(ValueError, match="probabilities"):
    trajectories.pairwise_distances(np.random.default_rng(0).normal(size=(2, 3, 4)))
  with pytest.raises(ValueError, match="metric"):
    trajectories.pairwise_distances(_outputs(), metric="kl")


# ------------------------------------------------------------------------------ MDS


def _align(a, b):
  """Best rotation/reflection + translation of a onto b (orthogonal Procrustes, no scaling)."""
  a0, b0 = a - a.mean(0), b - b.mean(0)
  u, _, vt = np.linalg.svd(a0.T @ b0)
  return a0 @ (u @ vt) + b.mean(0)


def test_classical_mds_recovers_configuration():
  pts = np.random.default_rng(5).normal(size=(15, 2)) * [3.0, 1.0] + [10.0, -4.0]
  dist = distance.squareform(distance.pdist(pts))
  coords = trajectories.classical_mds(dist, dim=2)
  assert coords.shape == (15, 2)
  np.testing.assert_allclose(_align(coords, pts), pts, atol=1e-9)
  np.testing.assert_allclose(coords.mean(0), 0.0, atol=1e-9)
  # Distances are reproduced exactly, and a third axis carries nothing.
  np.testing.assert_allclose(distance.squareform(distance.pdist(coords)), dist, atol=1e-9)
  coords3 = trajectories.classical_mds(dist, dim=3)
  np.testing.assert_allclose(coords3[:, 2], 0.0, atol=1e-6)
  np.testing.assert_allclose(coords3[:, :2], coords, atol=1e-9)


def test_classical_mds_sign_convention_is_deterministic():
  pts = np.random.default_rng(6).normal(size=(8, 2))
  dist = distance.squareform(distance.pdist(pts))
  a = trajectories.classical_mds(dist)
  # Same distances from a reflected, shifted copy: identical output.
  b = trajectories.classical_mds(distance.squareform(distance.pdist(-pts + 3.0)))
  np.testing.assert_allclose(a, b, atol=1e-9)
  pivot = np.argmax(np.abs(a), axis=0)
  assert np.all(a[pivot, [0, 1]] > 0)


def test_classical_mds_bad_input():
  with pytest.raises(ValueError, match="square"):
    trajectories.classical_mds(np.ones((3, 4)))
  with pytest.raises(ValueError, match="symmetric"):
    trajectories.classical_mds(np.array([[0.0, 1.0], [2.0, 0.0]]))
  with pytest.raises(ValueError, match="dim"):
    trajectories.classical_mds(np.zeros((2, 2)), dim=3)


def test_sklearn_mds_optional():
  dist = distance.squareform(distance.pdist(np.random.default_rng(7).normal(size=(6, 2))))
  try:
    import sklearn  # noqa: F401  pylint: disable=unused-import,g-import-not-at-top
  except ImportError:
    with pytest.raises(ImportError, match="classical_mds"):
      trajectories.sklearn_mds(dist)
  else:
    assert trajectories.sklearn_mds(dist).shape == (6, 2)


# ------------------------------------------------------------------------------ probe files


def test_probe_outputs_roundtrip(tmp_path):
  folder = trajectories.probe_dir(str(tmp_path))
  out = _outputs(m=3, n=7, c=4).astype(np.float32)
  reps = np.random.default_rng(8).normal(size=(3, 7, 5)).astype(np.float32)
  for step, i in [(200, 1), (0, 0), (1000, 2)]:  # written out of order
    path = trajectories.save_probe_outputs(folder, step, out[i], reps=reps[i])
    assert os.path.basename(path) == f"step_{step:08d}.npz"
  assert sorted(os.listdir(folder)) == ["step_00000000.npz", "step_00000200.npz",
                                        "step_00001000.npz"]  # no temporary files left
  loaded = trajectories.load_probe_outputs(folder)
  np.testing.assert_array_equal(loaded["steps"], [0, 200, 1000])
  np.testing.assert_array_equal(loaded["probs"], out)
  np.testing.assert_array_equal(loaded["reps"], reps)
  with np.load(os.path.join(folder, "step_00000200.npz")) as z:
    assert int(z["step"]) == 200 and z["probs"].dtype == np.float32


def test_probe_outputs_without_reps_and_errors(tmp_path):
  folder = str(tmp_path / "probes")
  trajectories.save_probe_outputs(folder, 5, np.full((4, 2), 0.5))
  assert trajectories.load_probe_outputs(folder)["reps"] is None
  trajectories.save_probe_outputs(folder, 6, np.full((4, 2), 0.5), reps=np.ones((4, 3)))
  with pytest.raises(ValueError, match="Only some"):
    trajectories.load_probe_outputs(folder)
  trajectories.save_probe_outputs(str(tmp_path / "b"), 1, np.full((4, 2), 0.5))
  trajectories.save_probe_outputs(str(tmp_path / "b"), 2, np.full((5, 2), 0.5))
  with pytest.raises(ValueError, match="same at every step"):
    trajectories.load_probe_outputs(str(tmp_path / "b"))
  with pytest.raises(ValueError, match="No probes folder"):
    trajectories.load_probe_outputs(str(tmp_path / "missing"))
  with pytest.raises(ValueError, match="reps"):
    trajectories.save_probe_outputs(folder, 7, np.full((4, 2), 0.5), reps=np.ones((3, 3)))
