"""Function-space view: distances between models' outputs, MDS, saved probe outputs.

The paper embeds models (and their training checkpoints) in 2-D from pairwise distances on a
probe set, drawing training trajectories as paths: distilled students should end in the
teacher's region (PAPER.md "Analyses"). The official notebooks (mnist_repsim.ipynb,
`project2d`) use the distance 1 - `second_order_rep_sim` of the logits, divide the matrix by its
maximum and run sklearn's SMACOF `MDS(n_components=2, dissimilarity="precomputed",
random_state=12345)` (REFLECT.md §4). Here:

* `pairwise_distances` offers that official distance (`metric='reflect'`) and, as default, a
  distance between output *distributions* (mean Jensen-Shannon distance), which is a true metric
  and compares what the models predict rather than the geometry of their logits.
* `classical_mds` is deterministic Torgerson MDS in numpy (no extra dependency);
  `sklearn_mds` reproduces the official SMACOF call when scikit-learn happens to be installed.

Probe-output format (written by training, read by the report), one file per evaluated step:

    <workdir>/probes/step_{step:08d}.npz
        'probs': [n, C] float32  output probabilities on the fixed probe examples (same n
                                 examples, same order, at every step and in every run)
        'step':  int64 scalar    the training step
        'reps':  [n, d] float32  optional, the representation used by the similarity analyses
"""

from __future__ import annotations

import functools
import glob
import os
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from inductive_kd import fileio
from inductive_kd.analysis import similarity

PROBE_DIRNAME = "probes"
_PROBE_FILE = "step_{step:08d}.npz"
_PROBE_RE = re.compile(r"^step_(\d+)\.npz$")
_DISTANCES = ("js", "hellinger", "reflect")
_ROW_SUM_ATOL = 1e-3


# ---------------------------------------------------------------------------------------------
# Distances between model outputs.


def _js_distance(p: jax.Array, q: jax.Array) -> jax.Array:
  """Per-example Jensen-Shannon distance sqrt(JSD_2(p, q)) in [0, 1] over the last axis.

  JSD = 1/2 sum_c [p log(p/m) + q log(q/m)], m = (p + q)/2, in bits. Written with
  log(p/m) = -log1p((q - p) / (2p)) so that nearby distributions (consecutive checkpoints) keep
  their relative precision in float32, where log(p) - log(m) would drown a 1e-8 JSD in
  rounding noise.
  """
  d = q - p
  tp = jnp.where(p > 0, -p * jnp.log1p(d / jnp.where(p > 0, 2.0 * p, 1.0)), 0.0)
  tq = jnp.where(q > 0, -q * jnp.log1p(-d / jnp.where(q > 0, 2.0 * q, 1.0)), 0.0)
  jsd = 0.5 * jnp.sum(tp + tq, axis=-1) / jnp.log(2.0)
  return jnp.sqrt(jnp.clip(jsd, 0.0, 1.0))


def _hellinger(p: jax.Array, q: jax.Array) -> jax.Array:
  """Per-example Hellinger distance sqrt(1/2 sum (sqrt p - sqrt q)^2) in [0, 1]."""
  # The sum-of-squares form, not sqrt(1 - sum sqrt(pq)), which cancels catastrophically.
  return jnp.sqrt(0.5 * jnp.sum((jnp.sqrt(p) - jnp.sqrt(q)) ** 2, axis=-1))


_PAIR_CHUNK = 32  # pairs per jitted call: bounds memory at ~2 * 32 * n * C floats


@functools.partial(jax.jit, static_argnames=("metric",))
def _pair_distances(outputs: jax.Array, aux: jax.Array, ii: jax.Array, jj: jax.Array,
                    metric: str) -> jax.Array:
  """Distances for the point pairs (ii[k], jj[k]); `aux` holds ||S[i]||^2 for 'reflect'."""
  if metric == "reflect":
    cos = similarity._reflect_cosines  # pylint: disable=protected-access
    one = lambda i, j: 1.0 - jnp.mean(cos(outputs[i], aux[i], outputs[j], aux[j]))
  else:
    per_example = _js_distance if metric == "js" else _hellinger
    one = lambda i, j: jnp.mean(per_example(outputs[i], outputs[j]))
  return jax.vmap(one)(ii, jj)


@jax.jit
def _reflect_prepare(outputs: jax.Array) -> tuple[jax.Array, jax.Array]:
  # Row normalisation and ||S[i]|| depend on one point only: compute them once per point, not
  # once per pair.
  r = similarity._normalise_rows(outputs)  # pylint: disable=protected-access
  return r, jax.vmap(similarity._reflect_sq_norms)(r)  # pylint: disable=protected-access


def pairwise_distances(outputs: Any, metric: str = "js") -> np.ndarray:
  """[M, M] distances between M (model, step) points from their outputs on the same probes.

  Args:
    outputs: [M, n, C]; outputs[m] are point m's outputs on the n probe examples.
    metric:
      'js' (default): mean over probe examples of the Jensen-Shannon distance
        sqrt(JSD(p_a(x), p_b(x))) with base-2 logs, each term in [0, 1]. A mean of metrics is a
        metric, so the matrix is symmetric, zero on the diagonal, positive between points
        whose outputs differ, and obeys the triangle inequality (a sound input to MDS).
        `outputs` must be probabilities (rows summing to 1).
      'hellinger': mean Hellinger distance, also a bounded metric; probabilities required.
      'reflect': the official notebooks' distance, 1 - rsa_reflect(outputs[a], outputs[b])
        over all n probes at once; apply it to logits (their repindex=1) or representations.
        Not a metric in general.

  Returns:
    [M, M] float64 numpy array: each pair computed once (upper triangle) and mirrored, so it is
    exactly symmetric with an exact zero diagonal.
  """
  if metric not in _DISTANCES:
    raise ValueError(f"metric must be one of {_DISTANCES}; got {metric!r}.")
  o = np.asarray(outputs)
  if o.ndim != 3 or 0 in o.shape:
    raise ValueError(f"outputs must have shape [M, n, C] (points x probe examples x classes); "
                     f"got {o.shape}. Stack the per-point [n, C] arrays with np.stack.")
  if not np.all(np.isfinite(o)):
    raise ValueError("outputs contain NaN or inf.")
  if metric != "reflect":
    if np.any(o < 0) or np.any(np.abs(o.sum(axis=-1, dtype=np.float64) - 1.0) > _ROW_SUM_ATOL):
      raise ValueError(f"metric={metric!r} compares output distributions: pass probabilities "
                       f"(rows summing to 1), or use metric='reflect' for logits.")
  o = jnp.asarray(o, dtype=jnp.float32)
  if metric == "reflect":
    o, aux = _reflect_prepare(o)
  else:
    aux = jnp.zeros(o.shape[:2], jnp.float32)
  # Only the strict upper triangle is computed, in fixed-size chunks of pairs (the last one
  # padded with the pair (0, 0)): one compilation, memory independent of M.
  m = o.shape[0]
  ii, jj = np.triu_indices(m, k=1)
  num_pairs = ii.size
  pad = (-num_pairs) % _PAIR_CHUNK
  ii = np.concatenate([ii, np.zeros(pad, ii.dtype)]).astype(np.int32)
  jj = np.concatenate([jj, np.zeros(pad, jj.dtype)]).astype(np.int32)
  values = [np.asarray(_pair_distances(o, aux, ii[k:k + _PAIR_CHUNK], jj[k:k + _PAIR_CHUNK],
                                       metric))
            for k in range(0, ii.size, _PAIR_CHUNK)]
  dist = np.zeros((m, m), np.float64)
  if num_pairs:
    upper = np.concatenate(values)[:num_pairs].astype(np.float64)
    dist[ii[:num_pairs], jj[:num_pairs]] = upper
    dist[jj[:num_pairs], ii[:num_pairs]] = upper
  return dist


# ---------------------------------------------------------------------------------------------
# Multidimensional scaling.


def _check_dist(dist: Any) -> np.ndarray:
  d = np.asarray(dist, dtype=np.float64)
  if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] == 0:
    raise ValueError(f"dist must be a square [M, M] distance matrix; got shape {d.shape}.")
  if not np.all(np.isfinite(d)):
    raise ValueError("dist contains NaN or inf.")
  if not np.allclose(d, d.T, rtol=1e-6, atol=1e-9):
    raise ValueError("dist must be symmetric; symmetrise it first, e.g. (d + d.T) / 2.")
  if np.any(d < 0):
    raise ValueError("dist must be non-negative.")
  return d


def classical_mds(dist: Any, dim: int = 2) -> np.ndarray:
  """Torgerson classical MDS: [M, M] distances -> [M, dim] coordinates.

  B = -1/2 J D^2 J with J = I - 11^T/M (double centring); coordinates are the top-`dim`
  eigenvectors of B scaled by sqrt(eigenvalue), negative eigenvalues (non-Euclidean parts of
  D) clipped to 0. Exact, up to rotation/reflection/translation, when D is Euclidean in `dim`
  dimensions. Deterministic: each axis' sign is fixed so that its largest-magnitude coordinate
  is positive (ties: the first such point). Output is centred at the origin.
  """
  d = _check_dist(dist)
  m = d.shape[0]
  if isinstance(dim, bool) or int(dim) != dim or not 1 <= dim <= m:
    raise ValueError(f"dim must be an integer in [1, {m}] for {m} points; got {dim!r}.")
  dim = int(dim)
  j = np.eye(m) - np.full((m, m), 1.0 / m)
  b = -0.5 * j @ (d**2) @ j
  b = 0.5 * (b + b.T)
  evals, evecs = np.linalg.eigh(b)  # ascending
  order = np.argsort(evals)[::-1][:dim]
  evals, evecs = np.clip(evals[order], 0.0, None), evecs[:, order]
  coords = evecs * np.sqrt(evals)[None, :]
  # Sign convention (as sklearn's svd_flip): largest |coordinate| of each axis is positive.
  pivot = np.argmax(np.abs(coords), axis=0)
  signs = np.sign(coords[pivot, np.arange(dim)])
  signs[signs == 0] = 1.0
  return coords * signs[None, :]


def sklearn_mds(dist: Any, dim: int = 2, random_state: int = 12345,
                normalize_by_max: bool = True) -> np.ndarray:
  """The official notebooks' embedding: sklearn SMACOF metric MDS on precomputed distances.

  Mirrors `project2d` in mnist_repsim.ipynb: divide by the maximum distance, then
  `manifold.MDS(n_components=dim, dissimilarity="precomputed", random_state=12345)`.
  scikit-learn is not a dependency of this project; this raises ImportError without it. Prefer
  `classical_mds`, which is deterministic and needs nothing extra.
  """
  try:
    from sklearn import manifold  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError("sklearn_mds needs scikit-learn (`pip install scikit-learn`), which is "
                      "not a dependency; use classical_mds instead.") from e
  d = _check_dist(dist)
  if normalize_by_max and d.max() > 0:
    d = d / d.max()
  mds = manifold.MDS(n_components=dim, dissimilarity="precomputed", random_state=random_state)
  return np.asarray(mds.fit_transform(d))


# ---------------------------------------------------------------------------------------------
# Probe outputs on disk.


def probe_dir(workdir: str) -> str:
  """The probes folder of a run's workdir: <workdir>/probes."""
  return os.path.join(workdir, PROBE_DIRNAME)


def save_probe_outputs(path: str, step: int, probs: Any, reps: Any | None = None) -> str:
  """Writes <path>/step_{step:08d}.npz (see the module docstring for the format).

  Args:
    path: the probes folder, normally `probe_dir(workdir)`; created if missing.
    step: training step (non-negative int).
    probs: [n, C] output probabilities on the probe set; stored as float32.
    reps: optional [n, d] representations on the same probes; stored as float32.

  Returns:
    The file written. The write goes to a temporary file renamed into place, so a run killed
    mid-write never leaves a truncated step file behind (runs are resumable).
  """
  if isinstance(step, bool) or int(step) != step or step < 0:
    raise ValueError(f"step must be a non-negative integer; got {step!r}.")
  p = np.asarray(probs, dtype=np.float32)
  if p.ndim != 2:
    raise ValueError(f"probs must have shape [n, C]; got {p.shape}.")
  arrays = {"probs": p, "step": np.asarray(int(step), dtype=np.int64)}
  if reps is not None:
    r = np.asarray(reps, dtype=np.float32)
    if r.ndim != 2 or r.shape[0] != p.shape[0]:
      raise ValueError(f"reps must have shape [n, d] with n = {p.shape[0]} (as probs); got "
                       f"{r.shape}.")
    arrays["reps"] = r
  os.makedirs(path, exist_ok=True)
  final = os.path.join(path, _PROBE_FILE.format(step=int(step)))
  fileio.atomic_savez(final, **arrays)
  return final


def load_probe_outputs(path: str) -> dict[str, Any]:
  """Reads every step_*.npz in a probes folder, sorted by step.

  Returns:
    {'steps': [S] int64, 'probs': [S, n, C] float32,
     'reps': [S, n, d] float32, or None when no file has reps}.
  Raises ValueError if the folder has no probe files, if shapes differ between steps (the probe
  set must be fixed), or if only some files carry reps.
  """
  if not os.path.isdir(path):
    raise ValueError(f"No probes folder at {path!r}; pass <workdir>/{PROBE_DIRNAME}.")
  files = []
  for f in glob.glob(os.path.join(path, "step_*.npz")):
    match = _PROBE_RE.match(os.path.basename(f))
    if match:
      files.append((int(match.group(1)), f))
  if not files:
    raise ValueError(f"No step_XXXXXXXX.npz probe files in {path!r}.")
  files.sort()
  steps, probs, reps = [], [], []
  for step, f in files:
    with np.load(f) as z:
      steps.append(step)
      probs.append(z["probs"])
      reps.append(z["reps"] if "reps" in z.files else None)
  shapes = {p.shape for p in probs}
  if len(shapes) != 1:
    raise ValueError(f"Probe outputs in {path!r} have different shapes {sorted(shapes)}; the "
                     f"probe set must be the same at every step.")
  has_reps = [r is not None for r in reps]
  if any(has_reps) and not all(has_reps):
    missing = [s for s, h in zip(steps, has_reps) if not h]
    raise ValueError(f"Only some probe files in {path!r} have 'reps' (missing at steps "
                     f"{missing[:5]}...); save reps at every step or at none.")
  if all(has_reps) and len({r.shape for r in reps}) != 1:
    raise ValueError(f"Probe reps in {path!r} have different shapes across steps.")
  return {
      "steps": np.asarray(steps, dtype=np.int64),
      "probs": np.stack(probs).astype(np.float32),
      "reps": np.stack(reps).astype(np.float32) if all(has_reps) else None,
  }
