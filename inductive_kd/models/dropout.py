"""Dropout with jax.random's exact masks, minus XLA:CPU's rolled-loop Threefry.

Every model uses `Dropout` (a drop-in nn.Dropout: same rng stream, bit-identical masks) and the
LSTM's per-sequence masks use `bernoulli`; only the speed differs (benchmarks/README.md).
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

DROPOUT_IMPLS = ("unrolled", "flax")
_THREEFRY_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


def _rotate_left(x: jnp.ndarray, d: int) -> jnp.ndarray:
  return (x << np.uint32(d)) | jax.lax.shift_right_logical(x, np.uint32(32 - d))


def threefry2x32(k1, k2, x1, x2):
  """The Threefry-2x32 block cipher (Salmon et al. 2011; 20 rounds), as jax.random's.

  The same arithmetic as jax's `threefry2x32_p`, written out in jnp so that XLA fuses all 20
  rounds into one elementwise loop. (jax lowers the primitive on CPU as a 5-trip while loop over
  the whole array, ~14x slower on the CNN's 11M-element dropout masks.)
  """
  ks = (k1, k2, k1 ^ k2 ^ np.uint32(0x1BD11BDA))
  x1, x2 = x1 + ks[0], x2 + ks[1]
  for i in range(5):
    for r in _THREEFRY_ROTATIONS[i % 2]:
      x1 = x1 + x2
      x2 = x1 ^ _rotate_left(x2, r)
    x1 = x1 + ks[(i + 1) % 3]
    x2 = x2 + ks[(i + 2) % 3] + np.uint32(i + 1)
  return x1, x2


def _unrolled_bernoulli_supported(rng) -> bool:
  """True where jax.random.bernoulli(rng, ...) is the partitionable Threefry path copied below."""
  # Older/newer jax without these options: take jax.random's own path.
  if not getattr(jax.config, "jax_threefry_partitionable", False):
    return False
  if jnp.issubdtype(rng.dtype, jax.dtypes.prng_key):
    return str(jax.random.key_impl(rng)) == "threefry2x32"
  return (rng.shape == (2,) and rng.dtype == jnp.uint32
          and getattr(jax.config, "jax_default_prng_impl", None) == "threefry2x32")


def bernoulli(rng, p: float, shape: Sequence[int]) -> jnp.ndarray:
  """jax.random.bernoulli(rng, p, shape), bit for bit, via `threefry2x32` (see there).

  Follows jax.random: 32 random bits per element = the two Threefry outputs XOR-ed, with the
  element's flat index as the 64-bit counter (high word 0 below 2^32 elements); uniform floats
  in [0, 1) from the top 23 bits; keep where u < p. Where jax would take another path (other PRNG
  implementations, `jax_threefry_partitionable=False`) it simply calls jax.random.bernoulli.
  """
  size = int(np.prod(shape))
  if not _unrolled_bernoulli_supported(rng) or size >= 2 ** 32:
    return jax.random.bernoulli(rng, p, shape)
  if jnp.issubdtype(rng.dtype, jax.dtypes.prng_key):
    rng = jax.random.key_data(rng)
  counts = jax.lax.iota(np.uint32, size).reshape(shape)
  bits1, bits2 = threefry2x32(rng[0], rng[1], jnp.zeros_like(counts), counts)
  bits = bits1 ^ bits2
  floats = jax.lax.bitcast_convert_type(
      jax.lax.shift_right_logical(bits, np.uint32(32 - 23)) | np.uint32(0x3F800000),
      jnp.float32) - np.float32(1.0)
  return floats < p


class Dropout(nn.Dropout):
  """nn.Dropout with the same masks (and name, hence the same rng stream) computed by the fused
  `bernoulli` above. Maths unchanged: tests/test_models.py compares it with nn.Dropout."""
  impl: str = "unrolled"

  @nn.compact
  def __call__(self, inputs, deterministic: bool | None = None, rng=None):
    if self.impl == "flax":
      return super().__call__(inputs, deterministic, rng)
    if self.impl != "unrolled":
      raise ValueError(f"dropout_impl={self.impl!r}; choose one of {DROPOUT_IMPLS}.")
    deterministic = nn.merge_param("deterministic", self.deterministic, deterministic)
    if self.rate == 0.0 or deterministic:
      return inputs
    if self.rate == 1.0:
      return jnp.zeros_like(inputs)
    keep_prob = 1.0 - self.rate
    if rng is None:
      rng = self.make_rng(self.rng_collection)
    shape = list(inputs.shape)
    for dim in self.broadcast_dims:
      shape[dim] = 1
    mask = jnp.broadcast_to(bernoulli(rng, keep_prob, shape), inputs.shape)
    return jax.lax.select(mask, inputs / keep_prob, jnp.zeros_like(inputs))
