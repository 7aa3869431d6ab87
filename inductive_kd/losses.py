"""The training objective: knowledge distillation (+ hard labels) and the official regularisers.

Pure functions of arrays. The distillation term follows the official code (REFLECT.md §3):
soft cross-entropy between softmax(teacher/T) and the student's logits / T, averaged over the batch,
scaled by 1/T² ('inverse_t2'; Hinton et al. multiply by T², 't2').
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

SCALES = ("inverse_t2", "t2", "none")


def temperature_scale(temperature: float, scale: str) -> float:
  if scale == "inverse_t2":
    return 1.0 / (temperature * temperature)
  if scale == "t2":
    return temperature * temperature
  if scale == "none":
    return 1.0
  raise ValueError(f"distill.scale must be one of {SCALES}, got {scale!r}.")


def masked_mean(values: jnp.ndarray, mask: jnp.ndarray | None) -> jnp.ndarray:
  """Mean over all entries, or over the entries where mask is true (0 if none are)."""
  if mask is None:
    return values.mean()
  mask = mask.astype(values.dtype)
  return (values * mask).sum() / jnp.maximum(mask.sum(), 1.0)


def distillation_loss(student_logits, teacher_logits, labels, *, temperature: float = 1.0,
                      gold_rate: float = 0.0, distill_rate: float = 1.0,
                      scale: str = "inverse_t2", mask=None) -> jnp.ndarray:
  """Mean over examples (and unmasked positions) of

      gold_rate · CE(labels, s) + distill_rate · scale · CE(softmax(t / T), s / T).

  Logits are [B, C] or [B, L, C]; labels and mask have the logits' shape without C. The teacher
  gets no gradient. With distill_rate = 0 (or teacher_logits None) this is plain cross-entropy
  times gold_rate.
  """
  student_logits = student_logits.astype(jnp.float32)
  per_example = jnp.zeros(student_logits.shape[:-1], jnp.float32)
  if gold_rate:
    per_example += gold_rate * optax.softmax_cross_entropy_with_integer_labels(
        student_logits, labels)
  if distill_rate and teacher_logits is not None:
    if teacher_logits.shape != student_logits.shape:
      raise ValueError(f"Teacher logits {teacher_logits.shape} and student logits "
                       f"{student_logits.shape} differ in shape.")
    soft_targets = jax.nn.softmax(
        jax.lax.stop_gradient(teacher_logits.astype(jnp.float32)) / temperature, axis=-1)
    per_example += (distill_rate * temperature_scale(temperature, scale)
                    * optax.softmax_cross_entropy(student_logits / temperature, soft_targets))
  return masked_mean(per_example, mask)


def cross_entropy(logits, labels, mask=None) -> jnp.ndarray:
  return masked_mean(optax.softmax_cross_entropy_with_integer_labels(
      logits.astype(jnp.float32), labels), mask)


def l1_l2_penalty(params, *, l1: float = 0.0, l2: float = 0.0,
                  leaf_names=("kernel",)) -> jnp.ndarray:
  """Keras `l1_l2` regulariser summed over the leaves whose name is in `leaf_names`.

  Keras adds l1·Σ|w| + l2·Σw² (no ½) per regularised weight to the loss; the official MNIST code
  regularises Dense/Conv kernels only (not biases, not BatchNorm).
  """
  if not l1 and not l2:
    return jnp.zeros((), jnp.float32)
  total = jnp.zeros((), jnp.float32)
  for path, leaf in jax.tree_util.tree_leaves_with_path(params):
    name = getattr(path[-1], "key", getattr(path[-1], "name", None))
    if name in leaf_names:
      leaf = leaf.astype(jnp.float32)
      total += l1 * jnp.abs(leaf).sum() + l2 * jnp.square(leaf).sum()
  return total
