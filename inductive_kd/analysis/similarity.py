"""Representational similarity between two models on the same examples.

Three measures, all taking [n, d1] and [n, d2] representations of the same n examples (rows
aligned), e.g. the penultimate layer (CNN 16-d GAP, MLP 32-d last hidden) or the logits:

* `rsa_reflect`: the paper's measure (REFLECT.md §4, distill/repsim_util.py
  `second_order_rep_sim`): L2-normalise rows, S = R R^T (cosine similarities between examples),
  then the mean over examples i of cosine(S1[i], S2[i]). The official `rep_loss` is 1 - this, and
  the notebooks average it over 21 batches of 64 examples (`batch_size=64` reproduces that).
* `linear_cka`: linear centred kernel alignment (Kornblith et al., 2019), the modern standard.
* `rsa`: classical representational similarity analysis: correlation between the upper
  triangles of the two representational dissimilarity matrices (RDMs).

Matrix products use jax.numpy in float32 with Precision.HIGHEST (no TF32/bf16 passes on
accelerators); where a cancellation could hurt (CKA), inputs are centred and rescaled before
any product.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

_HIGHEST = jax.lax.Precision.HIGHEST
_METRICS = ("cosine", "correlation", "euclidean")
_METHODS = ("pearson", "spearman")


def _as_reps(x: Any, name: str) -> jax.Array:
  """Validated float32 jax copy of an [n, d] representation matrix."""
  if isinstance(x, jax.Array):
    shape, dtype = x.shape, x.dtype
  else:
    x = np.asarray(x)
    shape, dtype = x.shape, x.dtype
  if len(shape) != 2:
    raise ValueError(f"{name} must have shape [n, d] (examples x features); got {shape}. "
                     f"Flatten extra axes first, e.g. reps.reshape(n, -1).")
  if shape[0] < 2 or shape[1] < 1:
    raise ValueError(f"{name} needs at least 2 examples and 1 feature; got shape {shape}.")
  if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
    raise ValueError(f"{name} must be a numeric array; got dtype {dtype}.")
  x = jnp.asarray(x, dtype=jnp.float32)
  if not bool(jnp.all(jnp.isfinite(x))):
    raise ValueError(f"{name} contains NaN or inf.")
  return x


def _check_pair(x: Any, y: Any) -> tuple[jax.Array, jax.Array]:
  x, y = _as_reps(x, "x"), _as_reps(y, "y")
  if x.shape[0] != y.shape[0]:
    raise ValueError(f"x and y must hold the same examples (same number of rows); got "
                     f"{x.shape[0]} and {y.shape[0]}.")
  return x, y


# ---------------------------------------------------------------------------------------------
# Linear CKA.


@jax.jit
def _cka_terms(x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  # Centre first: CKA's HSIC uses centred Gram matrices, and subtracting the mean before the
  # products avoids the cancellation of computing (X^T X - n mu mu^T) in float32.
  x = x - jnp.mean(x, axis=0, keepdims=True)
  y = y - jnp.mean(y, axis=0, keepdims=True)
  # CKA is invariant to isotropic scaling; unit Frobenius norm keeps the 4th-power sums in range.
  x = x / jnp.maximum(jnp.linalg.norm(x), 1e-30)
  y = y / jnp.maximum(jnp.linalg.norm(y), 1e-30)
  xty = jnp.matmul(x.T, y, precision=_HIGHEST)
  xtx = jnp.matmul(x.T, x, precision=_HIGHEST)
  yty = jnp.matmul(y.T, y, precision=_HIGHEST)
  return jnp.sum(xty**2), jnp.linalg.norm(xtx), jnp.linalg.norm(yty)


def linear_cka(x: Any, y: Any) -> float:
  """Linear CKA (Kornblith et al., 2019) between [n, d1] and [n, d2] representations.

  CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with linear kernels K = Xc Xc^T, L = Yc Yc^T of
  the feature-centred Xc, Yc. Using tr(Xc Xc^T Yc Yc^T) = ||Yc^T Xc||_F^2 this is computed in
  the d x d form

      ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F),

  O(n d^2) time and O(d^2) extra memory, so n = 10k is instant. Invariant to orthogonal
  transforms, isotropic scaling and translation of either input; not to general linear maps.

  Returns:
    A Python float in [0, 1].
  """
  x, y = _check_pair(x, y)
  num, norm_x, norm_y = _cka_terms(x, y)
  if float(norm_x) == 0.0 or float(norm_y) == 0.0:
    which = "x" if float(norm_x) == 0.0 else "y"
    raise ValueError(f"{which} is constant across examples (zero variance after centring); "
                     f"CKA is undefined.")
  return float(num / (norm_x * norm_y))


# ---------------------------------------------------------------------------------------------
# The official Reflect measure: second-order cosine similarity.


def _normalise_rows(x: jax.Array) -> jax.Array:
  # An all-zero row would give NaN in the official code (it divides by the norm); here it stays
  # a zero vector: its similarities to all examples are 0 and its own row cosine counts as 0.
  norm = jnp.linalg.norm(x, axis=-1, keepdims=True)
  return x / jnp.maximum(norm, jnp.finfo(x.dtype).tiny)


def _reflect_sq_norms(r: jax.Array) -> jax.Array:
  """||S[i]||^2 for S = R R^T of row-normalised R, as r_i^T (R^T R) r_i: O(n d^2)."""
  g = jnp.matmul(r.T, r, precision=_HIGHEST)
  return jnp.maximum(jnp.sum(jnp.matmul(r, g, precision=_HIGHEST) * r, axis=-1), 0.0)


def _reflect_cosines(r1: jax.Array, sq1: jax.Array, r2: jax.Array,
                     sq2: jax.Array) -> jax.Array:
  """Per-row cosine(S1[i], S2[i]) given row-normalised R1, R2 and their `_reflect_sq_norms`."""
  m12 = jnp.matmul(r1.T, r2, precision=_HIGHEST)
  dot = jnp.sum(jnp.matmul(r1, m12, precision=_HIGHEST) * r2, axis=-1)
  den = jnp.sqrt(sq1 * sq2)
  return jnp.where(den > 0, dot / jnp.where(den > 0, den, 1.0), 0.0)


def _reflect_rows(x: jax.Array, y: jax.Array) -> jax.Array:
  """Per-row cosine(S1[i], S2[i]) without forming the n x n matrices S = R R^T.

  <S1[i], S2[i]> = r1_i^T (R1^T R2) r2_i and ||S1[i]||^2 = r1_i^T (R1^T R1) r1_i, so the row
  cosines need only d x d Gram matrices: O(n d^2) time, O(n d + d^2) memory, exact.
  """
  r1, r2 = _normalise_rows(x), _normalise_rows(y)
  return _reflect_cosines(r1, _reflect_sq_norms(r1), r2, _reflect_sq_norms(r2))


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _rsa_reflect(x: jax.Array, y: jax.Array, batch_size: int | None) -> jax.Array:
  if batch_size is None:
    return jnp.mean(_reflect_rows(x, y))
  num_batches = x.shape[0] // batch_size
  xb = x[: num_batches * batch_size].reshape(num_batches, batch_size, -1)
  yb = y[: num_batches * batch_size].reshape(num_batches, batch_size, -1)
  # Equal batch sizes: the mean over all rows equals the mean of per-batch means, which is
  # what the official notebooks average.
  return jnp.mean(jax.vmap(_reflect_rows)(xb, yb))


def rsa_reflect(x: Any, y: Any, batch_size: int | None = None) -> float:
  """The paper's representational similarity (Reflect `second_order_rep_sim`).

  R = rows of x L2-normalised, S1 = R R^T (n x n cosine similarities between examples), S2
  likewise from y; the result is mean_i cosine(S1[i], S2[i]). Rows are not centred (as in the
  official code). Invariant to per-row positive scaling and to orthogonal transforms of either
  input. The official distance between two models is `1 - rsa_reflect` (`rep_loss`).

  Computed exactly through d x d Gram matrices (see `_reflect_rows`), never materialising the
  n x n matrices, so n = 10k needs a few MB. An all-zero row (possible after a ReLU) has no
  direction: the official code returns NaN for the whole batch; here that example's
  similarities are 0 and its row cosine counts as 0 in the mean.

  Args:
    x: [n, d1] representations of model 1.
    y: [n, d2] representations of model 2 on the same n examples.
    batch_size: None compares all n examples at once (S is n x n). An integer reproduces the
      official protocol: consecutive batches of `batch_size` examples (the MNIST notebooks use
      64, 200 in mnist_er.ipynb, and average 21 batches), S computed within each batch, the
      result averaged over batches; a final partial batch is dropped.

  Returns:
    A Python float in [-1, 1] (in [0, 1] for non-negative features such as post-ReLU reps).
  """
  x, y = _check_pair(x, y)
  if batch_size is not None:
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 2:
      raise ValueError(f"batch_size must be None or an integer >= 2; got {batch_size!r}.")
    if batch_size > x.shape[0]:
      raise ValueError(f"batch_size={batch_size} exceeds the number of examples "
                       f"{x.shape[0]}; use a smaller batch_size or None.")
    batch_size = int(batch_size)
  return float(_rsa_reflect(x, y, batch_size))


# ---------------------------------------------------------------------------------------------
# Classical RSA.


@functools.partial(jax.jit, static_argnames=("metric",))
def _rdm_upper(x: jax.Array, metric: str) -> jax.Array:
  """Upper triangle (k=1, row-major, as scipy's pdist) of the dissimilarity matrix."""
  if metric == "correlation":
    x = x - jnp.mean(x, axis=1, keepdims=True)
  if metric in ("cosine", "correlation"):
    r = _normalise_rows(x)
    rdm = 1.0 - jnp.matmul(r, r.T, precision=_HIGHEST)
  else:  # euclidean
    sq = jnp.sum(x * x, axis=1)
    gram = jnp.matmul(x, x.T, precision=_HIGHEST)
    rdm = jnp.sqrt(jnp.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0))
  rows, cols = jnp.triu_indices(x.shape[0], k=1)
  return rdm[rows, cols]


@jax.jit
def _pearson(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
  a = a - jnp.mean(a)
  b = b - jnp.mean(b)
  return jnp.sum(a * b), jnp.linalg.norm(a), jnp.linalg.norm(b)


def rsa(x: Any, y: Any, metric: str = "cosine", method: str = "pearson",
        max_examples: int | None = 2000, seed: int = 0) -> float:
  """Classical RSA: correlation of the upper triangles of the two RDMs.

  RDM[i, j] = dissimilarity of examples i and j under `metric`: 'cosine' (1 - cosine
  similarity, the default), 'correlation' (1 - Pearson correlation across features) or
  'euclidean'. The two RDMs' strict upper triangles are compared with `method`: 'pearson'
  (default) or 'spearman' (Pearson on ranks, ties averaged via scipy.stats.rankdata).

  The RDMs are n x n, so time and memory grow as n^2: n = 2000 is ~16 MB per RDM, n = 10k is
  ~400 MB. `max_examples` caps n: when there are more examples, a uniformly random subset of
  that size (same rows for x and y, drawn with numpy's default_rng(seed), kept in original
  order) is used. Pass None to use every example.

  Returns:
    A Python float in [-1, 1].
  """
  if metric not in _METRICS:
    raise ValueError(f"metric must be one of {_METRICS}; got {metric!r}.")
  if method not in _METHODS:
    raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
  x, y = _check_pair(x, y)
  n = x.shape[0]
  if max_examples is not None:
    if isinstance(max_examples, bool) or int(max_examples) != max_examples or max_examples < 3:
      raise ValueError(f"max_examples must be None or an integer >= 3; got {max_examples!r}.")
    if n > max_examples:
      idx = np.sort(np.random.default_rng(seed).choice(n, size=int(max_examples),
                                                       replace=False))
      x, y = x[idx], y[idx]
  if x.shape[0] < 3:
    raise ValueError(f"RSA needs at least 3 examples (2 dissimilarities); got {x.shape[0]}.")
  dx, dy = _rdm_upper(x, metric), _rdm_upper(y, metric)
  if method == "spearman":
    # Ranks reach n^2/2, past float32's exact integers for n > ~5800: correlate them in float64.
    rx, ry = stats.rankdata(np.asarray(dx)), stats.rankdata(np.asarray(dy))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    num, norm_x, norm_y = np.dot(rx, ry), np.linalg.norm(rx), np.linalg.norm(ry)
  else:
    num, norm_x, norm_y = _pearson(dx, dy)
  if float(norm_x) == 0.0 or float(norm_y) == 0.0:
    which = "x" if float(norm_x) == 0.0 else "y"
    raise ValueError(f"All dissimilarities of {which} are equal, so the correlation is "
                     f"undefined (e.g. all its rows are identical up to scale).")
  return float(num / (norm_x * norm_y))
