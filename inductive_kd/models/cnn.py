"""The paper's MNIST CNN: Reflect `cl_vcnn` (tf2_models/cnn.py VanillaCNN), config `vcnn_mnist7`.

Per block: Conv 3x3 'valid' (+bias) -> max-out over contiguous channel groups -> BatchNorm (Keras
defaults: momentum 0.99, eps 1e-3) -> ReLU -> MaxPool -> Dropout. Then global average pooling and a
Dense(10) projector. With filters [128, 64, 64] and max-out sizes [128, 64, 16], only block 3 is
maxed out (64 -> 16 channels, groups of 4). Shapes: 28x28x1 -> 26x26x128 -> 24x24x64 -> 12x12x64
-> 10x10x16 -> 5x5x16 -> 16 -> 10; 112,586 trainable parameters (REFLECT.md §1.2).
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

# Keras' defaults, which the official code relied on.
glorot_uniform = nn.initializers.glorot_uniform()


def max_out(x: jnp.ndarray, num_units: int) -> jnp.ndarray:
  """Max over contiguous channel groups: C channels -> num_units (Reflect `max_out`)."""
  channels = x.shape[-1]
  if channels % num_units:
    raise ValueError(f"max_out: {channels} channels are not divisible into {num_units} units.")
  if num_units == channels:
    return x
  return x.reshape(*x.shape[:-1], num_units, channels // num_units).max(axis=-1)


def max_pool(x: jnp.ndarray, window: Sequence[int]) -> jnp.ndarray:
  """Non-overlapping max pooling (stride = window, 'valid'), as Keras MaxPooling2D(pool_size).

  Written as reshape + max instead of lax.reduce_window: identical outputs, and XLA CPU compiles
  it to a faster loop. Gradients are identical except where a window holds tied maxima (reduce_window
  routes the gradient to one of them, jnp.max splits it); after ReLU such ties are zeros whose
  upstream gradient is zero anyway (tests/test_models.py checks both).
  """
  wh, ww = window
  if (wh, ww) == (1, 1):
    return x
  b, h, w, c = x.shape
  h2, w2 = h // wh, w // ww
  x = x[:, :h2 * wh, :w2 * ww, :]  # 'valid': drop the ragged border, as Keras does.
  return x.reshape(b, h2, wh, w2, ww, c).max(axis=(2, 4))


class VanillaCNN(nn.Module):
  """Returns (logits [B, 10], representation [B, 16] = the global-average-pooled features)."""
  filters: Sequence[int] = (128, 64, 64)
  maxout_size: Sequence[int] = (128, 64, 16)
  kernel_size: Sequence[int] = (3, 3)
  pool_size: Sequence[Sequence[int]] = ((1, 1), (2, 2), (2, 2))
  hidden_dropout_rate: float = 0.3
  input_dropout_rate: float = 0.0
  num_classes: int = 10
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3
  dtype: str = "float32"

  @nn.compact
  def __call__(self, x, *, train: bool):
    if not len(self.filters) == len(self.maxout_size) == len(self.pool_size):
      raise ValueError("filters, maxout_size and pool_size must have one entry per block.")
    if x.ndim == 3:
      x = x[..., None]
    x = x.astype(self.dtype)
    x = nn.Dropout(self.input_dropout_rate, deterministic=not train)(x)
    for filters, units, pool in zip(self.filters, self.maxout_size, self.pool_size):
      x = nn.Conv(filters, tuple(self.kernel_size), padding="VALID", kernel_init=glorot_uniform,
                  dtype=self.dtype)(x)
      x = max_out(x, units)
      x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       epsilon=self.bn_epsilon, dtype=self.dtype)(x)
      x = nn.relu(x)
      x = max_pool(x, pool)
      x = nn.Dropout(self.hidden_dropout_rate, deterministic=not train)(x)
    rep = x.mean(axis=(1, 2))
    logits = nn.Dense(self.num_classes, kernel_init=glorot_uniform, dtype=self.dtype,
                      name="projector")(rep)
    return logits.astype("float32"), rep.astype("float32")
