"""Tests for inductive_kd.analysis.similarity."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from inductive_kd.analysis import similarity


def _rng(seed=0):
  return np.random.default_rng(seed)


def _orthogonal(d, seed):
  q, r = np.linalg.qr(_rng(seed).normal(size=(d, d)))
  return q * np.sign(np.diag(r))


def _cka_reference(x, y):
  """Kornblith et al.'s n x n HSIC form, float64: tr(K H L H) / sqrt(tr(KHKH) tr(LHLH))."""
  n = x.shape[0]
  h = np.eye(n) - 1.0 / n
  k, l = h @ x @ x.T @ h, h @ y @ y.T @ h
  return np.sum(k * l) / np.sqrt(np.sum(k * k) * np.sum(l * l))


def _reflect_reference(x, y):
  """The official second_order_rep_sim, literally, in float64 with n x n matrices."""
  r1 = x / np.linalg.norm(x, axis=1, keepdims=True)
  r2 = y / np.linalg.norm(y, axis=1, keepdims=True)
  s1, s2 = r1 @ r1.T, r2 @ r2.T
  s1 = s1 / np.linalg.norm(s1, axis=1, keepdims=True)
  s2 = s2 / np.linalg.norm(s2, axis=1, keepdims=True)
  return np.mean(np.sum(s1 * s2, axis=1))


# ------------------------------------------------------------------------------ linear CKA


def test_cka_self_is_one():
  x = _rng().normal(size=(300, 16))
  assert similarity.linear_cka(x, x) == pytest.approx(1.0, abs=1e-5)


def test_cka_matches_hsic_reference():
  rng = _rng(1)
  x = rng.normal(size=(120, 8))
  y = x @ rng.normal(size=(8, 5)) + 0.5 * rng.normal(size=(120, 5)) + 3.0
  assert similarity.linear_cka(x, y) == pytest.approx(_cka_reference(x, y), abs=1e-5)


def test_cka_invariances():
  rng = _rng(2)
  x = rng.normal(size=(400, 12))
  y = np.tanh(x @ rng.normal(size=(12, 20))) + 0.3 * rng.normal(size=(400, 20))
  base = similarity.linear_cka(x, y)
  assert 0.2 < base < 0.95
  # Orthogonal transform and isotropic scaling of either input, and translation.
  assert similarity.linear_cka(x @ _orthogonal(12, 3), y) == pytest.approx(base, abs=1e-5)
  assert similarity.linear_cka(x, y @ _orthogonal(20, 4)) == pytest.approx(base, abs=1e-5)
  assert similarity.linear_cka(7.5 * x, y) == pytest.approx(base, abs=1e-5)
  assert similarity.linear_cka(x, 0.01 * y) == pytest.approx(base, abs=1e-5)
  assert similarity.linear_cka(x + 100.0, y - 50.0) == pytest.approx(base, abs=1e-4)
  # Symmetry.
  assert similarity.linear_cka(y, x) == pytest.approx(base, abs=1e-6)


def test_cka_not_invariant_to_general_linear_map():
  rng = _rng(5)
  x = rng.normal(size=(500, 10))
  a = np.diag(np.logspace(0, 2, 10)) @ _orthogonal(10, 6)  # invertible, far from orthogonal
  assert np.linalg.cond(a) == pytest.approx(100.0)
  cka = similarity.linear_cka(x, x @ a)
  assert cka < 0.8  # an orthogonal map would give 1.0
  assert similarity.linear_cka(x, x @ _orthogonal(10, 6)) == pytest.approx(1.0, abs=1e-5)


def test_cka_independent_is_small():
  rng = _rng(7)
  x, y = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
  assert similarity.linear_cka(x, y) < 0.03


def test_cka_large_offset_float32():
  # Features with a large common offset: centring before the products keeps precision.
  rng = _rng(8)
  x = rng.normal(size=(5000, 8)).astype(np.float32)
  assert similarity.linear_cka(x + 1e3, x) == pytest.approx(1.0, abs=1e-4)


def test_cka_accepts_jax_and_raises_on_bad_input():
  x = jnp.asarray(_rng().normal(size=(50, 4)))
  assert similarity.linear_cka(x, x) == pytest.approx(1.0, abs=1e-5)
  with pytest.raises(ValueError, match="same number of rows"):
    similarity.linear_cka(np.ones((5, 2)), np.ones((6, 2)))
  with pytest.raises(ValueError, match=r"\[n, d\]"):
    similarity.linear_cka(np.ones((5, 2, 2)), np.ones((5, 2)))
  with pytest.raises(ValueError, match="constant"):
    similarity.linear_cka(np.ones((5, 2)), _rng().normal(size=(5, 2)))
  with pytest.raises(ValueError, match="NaN"):
    similarity.linear_cka(np.full((5, 2), np.nan), np.ones((5, 2)))


# ------------------------------------------------------------------------------ Reflect RSA


def test_rsa_reflect_matches_official_formula():
  rng = _rng(10)
  x = rng.normal(size=(90, 6))
  y = np.abs(x @ rng.normal(size=(6, 11))) + rng.normal(size=(90, 11))
  ours = similarity.rsa_reflect(x, y)
  assert ours == pytest.approx(_reflect_reference(x, y), abs=1e-5)
  assert ours < 0.99  # a non-trivial case
  # Official protocol: per-batch S, averaged over batches; a partial last batch is dropped.
  per_batch = [_reflect_reference(x[i:i + 20], y[i:i + 20]) for i in range(0, 80, 20)]
  assert similarity.rsa_reflect(x, y, batch_size=20) == pytest.approx(np.mean(per_batch),
                                                                      abs=1e-5)


def test_rsa_reflect_self_is_one_and_invariances():
  rng = _rng(11)
  x = rng.normal(size=(500, 16))
  y = np.maximum(x @ rng.normal(size=(16, 32)), 0.0) + 0.1
  assert similarity.rsa_reflect(x, x) == pytest.approx(1.0, abs=1e-5)
  base = similarity.rsa_reflect(x, y)
  scale = rng.uniform(0.1, 10.0, size=(500, 1))
  assert similarity.rsa_reflect(x * scale, y) == pytest.approx(base, abs=1e-5)
  assert similarity.rsa_reflect(x, y / scale) == pytest.approx(base, abs=1e-5)
  assert similarity.rsa_reflect(x @ _orthogonal(16, 12), y) == pytest.approx(base, abs=1e-5)
  assert similarity.rsa_reflect(y, x) == pytest.approx(base, abs=1e-6)
  # Unlike CKA it is not translation invariant (rows are not centred, as in the official code).
  assert abs(similarity.rsa_reflect(x + 3.0, y) - base) > 1e-2


def test_rsa_reflect_large_n_is_fast_and_bounded():
  rng = _rng(13)
  x = rng.normal(size=(10_000, 32)).astype(np.float32)
  y = rng.normal(size=(10_000, 10)).astype(np.float32)
  value = similarity.rsa_reflect(x, y)
  assert 0.0 <= value < 0.2  # independent reps: S rows nearly orthogonal off the diagonal


def test_rsa_reflect_zero_row_does_not_nan():
  x = _rng(14).normal(size=(30, 5))
  x[3] = 0.0
  assert np.isfinite(similarity.rsa_reflect(x, np.abs(x) + 1.0))


def test_rsa_reflect_bad_batch_size():
  x = np.ones((10, 3)) + np.arange(10)[:, None]
  with pytest.raises(ValueError, match="batch_size"):
    similarity.rsa_reflect(x, x, batch_size=11)
  with pytest.raises(ValueError, match="batch_size"):
    similarity.rsa_reflect(x, x, batch_size=1)


# ------------------------------------------------------------------------------ classical RSA


@pytest.mark.parametrize("metric", ["cosine", "correlation", "euclidean"])
def test_rsa_matches_scipy(metric):
  rng = _rng(20)
  x = rng.normal(size=(60, 7))
  y = np.tanh(x @ rng.normal(size=(7, 9))) + 0.5 * rng.normal(size=(60, 9))
  dx, dy = distance.pdist(x, metric), distance.pdist(y, metric)
  assert similarity.rsa(x, y, metric=metric) == pytest.approx(stats.pearsonr(dx, dy)[0],
                                                              abs=1e-5)
  assert similarity.rsa(x, y, metric=metric, method="spearman") == pytest.approx(
      stats.spearmanr(dx, dy)[0], abs=1e-4)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_rsa_self_is_one(method):
  x = _rng(21).normal(size=(200, 10))
  assert similarity.rsa(x, x, method=method) == pytest.approx(1.0, abs=1e-5)
  # Cosine RDMs ignore per-row scale.
  assert similarity.rsa(x, x * _rng(22).uniform(0.5, 2.0, (200, 1)),
                        method=method) == pytest.approx(1.0, abs=1e-5)


def test_rsa_subsampling():
  rng = _rng(23)
  x = rng.normal(size=(300, 5))
  y = x + 0.5 * rng.normal(size=(300, 5))
  full = similarity.rsa(x, y, max_examples=None)
  sub = similarity.rsa(x, y, max_examples=100, seed=1)
  assert sub == similarity.rsa(x, y, max_examples=100, seed=1)  # deterministic
  idx = np.sort(np.random.default_rng(1).choice(300, 100, replace=False))
  ref = stats.pearsonr(distance.pdist(x[idx], "cosine"), distance.pdist(y[idx], "cosine"))[0]
  assert sub == pytest.approx(ref, abs=1e-5)
  assert sub != pytest.approx(full, abs=1e-6)
  assert abs(sub - full) < 0.1


def test_rsa_bad_input():
  x = _rng().normal(size=(10, 3))
  with pytest.raises(ValueError, match="metric"):
    similarity.rsa(x, x, metric="l1")
  with pytest.raises(ValueError, match="method"):
    similarity.rsa(x, x, method="kendall")
  with pytest.raises(ValueError, match="equal"):
    similarity.rsa(np.ones((10, 3)), x)
