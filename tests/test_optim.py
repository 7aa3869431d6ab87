"""inductive_kd.optim: the Keras schedules, checked against their closed forms."""
import math

import numpy as np
import pytest

from inductive_kd import config as config_lib
from inductive_kd import optim


def test_cosine_decay_restarts_matches_keras_formula():
  f = optim.cosine_decay_restarts(1e-4, first_decay_steps=100, t_mul=5.0, m_mul=0.2, alpha=0.001)

  def keras(step):  # tf.keras.experimental.CosineDecayRestarts written out by hand.
    frac = step / 100
    i = math.floor(math.log(1 - frac * (1 - 5.0)) / math.log(5.0))
    frac = (frac - (1 - 5.0 ** i) / (1 - 5.0)) / 5.0 ** i
    return 1e-4 * ((1 - 0.001) * 0.5 * 0.2 ** i * (1 + math.cos(math.pi * frac)) + 0.001)

  for step in [0, 1, 50, 99, 100, 101, 300, 599, 600, 601, 2000]:
    np.testing.assert_allclose(float(f(step)), keras(step), rtol=2e-5)
  # A restart at step 100 jumps back up to m_mul of the peak.
  np.testing.assert_allclose(float(f(100)), 1e-4 * ((1 - 0.001) * 0.2 + 0.001), rtol=1e-5)


def test_exponential_decay_with_warmup_and_hold():
  f = optim.exponential_decay_with_warmup(1.0, decay_steps=10, decay_rate=0.5, warmup_steps=4,
                                          hold_steps=2)
  np.testing.assert_allclose([float(f(s)) for s in [0, 2, 4, 6, 16, 26]],
                             [0.0, 0.5, 1.0, 1.0, 0.5, 0.25], rtol=1e-6)


def test_cosine_decays_once_over_the_run():
  c = base_optim(schedule="cosine", learning_rate=2e-3, alpha=0.0)
  f = optim.make_schedule(c, total_steps=1000)
  for step in [0, 1, 250, 500, 999, 1000, 5000]:
    expected = 2e-3 * 0.5 * (1 + math.cos(math.pi * min(step, 1000) / 1000))
    np.testing.assert_allclose(float(f(step)), expected, rtol=1e-5, atol=1e-10)
  # With a warm-up: linear from 0 to the peak, then the cosine down to alpha x peak at the end.
  c = base_optim(schedule="cosine", learning_rate=1.0, alpha=0.1, warmup_steps=100)
  f = optim.make_schedule(c, total_steps=1100)
  np.testing.assert_allclose([float(f(s)) for s in [0, 50, 100, 600, 1100]],
                             [0.0, 0.5, 1.0, 0.1 + 0.9 * 0.5, 0.1], rtol=1e-5, atol=1e-7)


def test_cosine_needs_the_run_length():
  with pytest.raises(ValueError, match="total_steps"):
    optim.make_optimizer(base_optim(schedule="cosine"))


def base_optim(**overrides):
  c = config_lib.base_config().optim
  c.update(overrides)
  return c
