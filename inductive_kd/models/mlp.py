"""The paper's MNIST MLP: Reflect `cl_vff` (tf2_models/ff.py VanillaFF), config `ff_mnist4`.

Flatten(784) -> Dropout(input) -> 3 x [Dense -> ReLU -> BatchNorm -> Dropout(0.1)] -> Dense(10),
hidden sizes [512, 128, 32]. Note the official order: ReLU *before* BatchNorm. 473,386 trainable
parameters (REFLECT.md §1.3). The official L1 = L2 = 1e-5 on every Dense kernel is applied by the
trainer (config.optim.l1 / l2), not here.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn

glorot_uniform = nn.initializers.glorot_uniform()


class VanillaFF(nn.Module):
  """Returns (logits [B, 10], representation [B, 32] = the last hidden layer)."""
  hidden_dims: Sequence[int] = (512, 128, 32)
  hidden_dropout_rate: float = 0.1
  input_dropout_rate: float = 0.0
  num_classes: int = 10
  bn_momentum: float = 0.99
  bn_epsilon: float = 1e-3
  dtype: str = "float32"

  @nn.compact
  def __call__(self, x, *, train: bool):
    x = x.reshape(x.shape[0], -1).astype(self.dtype)
    x = nn.Dropout(self.input_dropout_rate, deterministic=not train)(x)
    for width in self.hidden_dims:
      x = nn.Dense(width, kernel_init=glorot_uniform, dtype=self.dtype)(x)
      x = nn.relu(x)
      x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       epsilon=self.bn_epsilon, dtype=self.dtype)(x)
      rep = x
      x = nn.Dropout(self.hidden_dropout_rate, deterministic=not train)(x)
    logits = nn.Dense(self.num_classes, kernel_init=glorot_uniform, dtype=self.dtype)(x)
    return logits.astype("float32"), rep.astype("float32")
