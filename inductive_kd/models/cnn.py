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
import jax
import jax.numpy as jnp

from inductive_kd.models.dropout import DROPOUT_IMPLS, Dropout

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


CONV_IMPLS = ("auto", "xla", "im2col", "im2col_rows", "im2col_cols")
# 'auto' below this many patch elements (kh*kw*Cin) uses one im2col matmul, else XLA's conv.
_AUTO_IM2COL_MAX_PATCH = 32


def conv2d_valid(x: jnp.ndarray, kernel: jnp.ndarray, impl: str = "auto") -> jnp.ndarray:
  """Stride-1 'valid' cross-correlation of x [B, H, W, Cin] with kernel [kh, kw, Cin, Cout].

  Every impl computes the same sums (in a different order, so results agree to float rounding);
  they differ in how XLA:CPU runs them (benchmarks/bench_conv.py times each):
  - 'xla': lax.conv_general_dilated (XLA:CPU hands it to YNNPACK or Eigen).
  - 'im2col': the kh*kw shifted views side by side, then ONE matmul with K = kh*kw*Cin.
  - 'im2col_rows' / 'im2col_cols': the kh row (kw column) shifts side by side, one matmul to
    kw*Cout (kh*Cout) outputs, then a sum of kw (kh) shifted slices: 3x less patch memory.
  - 'auto': 'im2col' where the patch is tiny (the 1-channel input layer: K = 9, where a conv
    kernel has too little work per pixel), 'xla' elsewhere. Fastest measured on CPU.
  """
  kh, kw, cin, cout = kernel.shape
  b, h, w, _ = x.shape
  ho, wo = h - kh + 1, w - kw + 1
  if impl == "auto":
    impl = "im2col" if kh * kw * cin <= _AUTO_IM2COL_MAX_PATCH else "xla"
  if impl == "xla":
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
  if impl == "im2col":
    patches = jnp.concatenate([x[:, i:i + ho, j:j + wo] for i in range(kh) for j in range(kw)],
                              axis=-1)  # [B, ho, wo, kh*kw*Cin], (i, j, c) order = kernel's.
    y = patches.reshape(-1, kh * kw * cin) @ kernel.reshape(-1, cout)
    return y.reshape(b, ho, wo, cout)
  if impl == "im2col_rows":
    patches = jnp.concatenate([x[:, i:i + ho] for i in range(kh)], axis=-1)  # [B, ho, W, kh*Cin]
    k = kernel.transpose(0, 2, 1, 3).reshape(kh * cin, kw * cout)
    y = (patches.reshape(-1, kh * cin) @ k).reshape(b, ho, w, kw, cout)
    return sum(y[:, :, j:j + wo, j] for j in range(kw))
  if impl == "im2col_cols":
    patches = jnp.concatenate([x[:, :, j:j + wo] for j in range(kw)], axis=-1)  # [B, H, wo, kw*Cin]
    k = kernel.reshape(kh, kw * cin, cout).transpose(1, 0, 2).reshape(kw * cin, kh * cout)
    y = (patches.reshape(-1, kw * cin) @ k).reshape(b, h, wo, kh, cout)
    return sum(y[:, i:i + ho, :, i] for i in range(kh))
  raise ValueError(f"VanillaCNN.conv_impl={impl!r}; choose one of {CONV_IMPLS}.")


class Conv(nn.Module):
  """nn.Conv(padding='VALID') with the same parameters (kernel [kh, kw, Cin, Cout], bias [Cout]),
  initialisers and dtype promotion, computed by `conv2d_valid(impl)`."""
  features: int
  kernel_size: Sequence[int]
  impl: str = "auto"
  kernel_init: nn.initializers.Initializer = glorot_uniform
  dtype: str = "float32"

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", self.kernel_init,
                        (*self.kernel_size, x.shape[-1], self.features), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    return conv2d_valid(x, kernel, self.impl) + bias


class VanillaCNN(nn.Module):
  """Returns (logits [B, 10], representation [B, 16] = the global-average-pooled features).

  `conv_impl` and `dropout_impl` choose how the convolutions and dropout masks are computed, not
  what: every choice gives the same outputs and gradients up to float rounding (the dropout masks
  are bit-identical), and the same parameter tree (Conv_i/kernel [3, 3, Cin, Cout], Conv_i/bias).
  The defaults are the fastest on CPU (benchmarks/README.md).
  """
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
  conv_impl: str = "auto"
  dropout_impl: str = "unrolled"

  @nn.compact
  def __call__(self, x, *, train: bool):
    if not len(self.filters) == len(self.maxout_size) == len(self.pool_size):
      raise ValueError("filters, maxout_size and pool_size must have one entry per block.")
    if self.conv_impl not in CONV_IMPLS:
      raise ValueError(f"VanillaCNN.conv_impl={self.conv_impl!r}; choose one of {CONV_IMPLS}.")
    if self.dropout_impl not in DROPOUT_IMPLS:
      raise ValueError(f"VanillaCNN.dropout_impl={self.dropout_impl!r}; choose one of "
                       f"{DROPOUT_IMPLS}.")
    if x.ndim == 3:
      x = x[..., None]
    x = x.astype(self.dtype)
    x = Dropout(self.input_dropout_rate, deterministic=not train, impl=self.dropout_impl)(x)
    for i, (filters, units, pool) in enumerate(
        zip(self.filters, self.maxout_size, self.pool_size)):
      x = Conv(filters, tuple(self.kernel_size), impl=self.conv_impl, dtype=self.dtype,
               name=f"Conv_{i}")(x)
      x = max_out(x, units)
      x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       epsilon=self.bn_epsilon, dtype=self.dtype)(x)
      x = nn.relu(x)
      x = max_pool(x, pool)
      x = Dropout(self.hidden_dropout_rate, deterministic=not train, impl=self.dropout_impl)(x)
    rep = x.mean(axis=(1, 2))
    logits = nn.Dense(self.num_classes, kernel_init=glorot_uniform, dtype=self.dtype,
                      name="projector")(rep)
    return logits.astype("float32"), rep.astype("float32")
