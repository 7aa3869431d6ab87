"""Optimisers and learning-rate schedules of the official code (REFLECT.md §1.4, §3).

The two Keras schedules are written out because optax has no exact equivalent: Keras'
CosineDecayRestarts (geometric period growth t_mul, amplitude decay m_mul, floor alpha) and
Reflect's ExponentialDecayWithWarmpUp (linear warm-up, hold, then lr0·rate^((s-w-h)/decay_steps),
not staircase).
"""
from __future__ import annotations

import jax.numpy as jnp
import optax


OPTIMIZERS = ("adam", "radam")  # config.optim.name
SCHEDULES = ("constant", "exponential", "cosine_restarts", "cosine")  # config.optim.schedule

def cosine_decay_restarts(learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                          m_mul: float = 1.0, alpha: float = 0.0):
  """tf.keras.experimental.CosineDecayRestarts, step for step."""

  def schedule(step):
    fraction = jnp.asarray(step, jnp.float32) / first_decay_steps
    if t_mul == 1.0:
      restarts = jnp.floor(fraction)
      fraction = fraction - restarts
    else:
      restarts = jnp.floor(jnp.log1p(-fraction * (1.0 - t_mul)) / jnp.log(t_mul))
      done = (1.0 - t_mul ** restarts) / (1.0 - t_mul)
      fraction = (fraction - done) / t_mul ** restarts
    cosine = 0.5 * m_mul ** restarts * (1.0 + jnp.cos(jnp.pi * fraction))
    return learning_rate * ((1.0 - alpha) * cosine + alpha)

  return schedule


def exponential_decay_with_warmup(learning_rate: float, decay_steps: int, decay_rate: float,
                                  warmup_steps: int = 0, hold_steps: int = 0):
  """Reflect's ExponentialDecayWithWarmpUp: linear warm-up from 0, hold, then smooth decay."""

  def schedule(step):
    step = jnp.asarray(step, jnp.float32)
    decayed = learning_rate * decay_rate ** (
        jnp.maximum(step - warmup_steps - hold_steps, 0.0) / decay_steps)
    if warmup_steps:
      decayed = jnp.where(step < warmup_steps, learning_rate * step / warmup_steps, decayed)
    return decayed

  return schedule


def make_schedule(c, total_steps: int | None = None):
  """config.optim -> step -> learning rate. 'cosine' decays over the whole run: `total_steps`."""
  if c.schedule == "constant":
    return optax.constant_schedule(c.learning_rate)
  if c.schedule == "exponential":
    return exponential_decay_with_warmup(c.learning_rate, c.decay_steps, c.decay_rate,
                                         c.warmup_steps, c.hold_steps)
  if c.schedule == "cosine_restarts":
    return cosine_decay_restarts(c.learning_rate, c.decay_steps, c.t_mul, c.decay_rate, c.alpha)
  if c.schedule == "cosine":
    # Not the paper's: one cosine from the peak to alpha x peak over the run (after a linear
    # warm-up from 0, if any), the usual recipe for a short budget (config arg `short`).
    if not total_steps:
      raise ValueError("optim.schedule='cosine' decays over the run's length: pass total_steps.")
    if c.warmup_steps:
      return optax.warmup_cosine_decay_schedule(0.0, c.learning_rate, c.warmup_steps, total_steps,
                                                end_value=c.alpha * c.learning_rate)
    return optax.cosine_decay_schedule(c.learning_rate, total_steps, alpha=c.alpha)
  raise ValueError(f"Unknown optim.schedule {c.schedule!r}; valid: {SCHEDULES}.")


def make_optimizer(c, total_steps: int | None = None) -> optax.GradientTransformation:
  """config.optim -> optax chain (optional global-norm clipping, then Adam or RAdam)."""
  schedule = make_schedule(c, total_steps)
  if c.name == "adam":
    opt = optax.adam(schedule, b1=c.b1, b2=c.b2, eps=c.eps)
  elif c.name == "radam":
    # Reflect's RAdam: β 0.9/0.999, SMA threshold 5, no weight decay.
    opt = optax.radam(schedule, b1=c.b1, b2=c.b2, eps=c.eps, threshold=5.0)
  else:
    raise ValueError(f"Unknown optim.name {c.name!r}; valid: {OPTIMIZERS}.")
  if c.clip_global_norm:
    opt = optax.chain(optax.clip_by_global_norm(c.clip_global_norm), opt)
  return opt
