"""inductive_kd.losses: the distillation objective against hand-computed values and its gradient."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd import losses


def _softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


S = np.array([[2.0, 1.0, 0.1], [0.5, -1.0, 3.0]], np.float32)
T = np.array([[1.0, 3.0, 0.0], [0.2, 0.1, 2.5]], np.float32)
Y = np.array([0, 2])


def test_equals_cross_entropy_when_distill_rate_is_zero():
  ce = -np.log(_softmax(S)[np.arange(2), Y]).mean()
  got = losses.distillation_loss(S, T, Y, temperature=5.0, gold_rate=1.0, distill_rate=0.0)
  np.testing.assert_allclose(got, ce, rtol=1e-6)
  np.testing.assert_allclose(losses.cross_entropy(S, Y), ce, rtol=1e-6)


@pytest.mark.parametrize("scale,factor", [("inverse_t2", 1 / 4.0), ("t2", 4.0), ("none", 1.0)])
def test_hand_computed_value_for_each_scale(scale, factor):
  temp = 2.0
  # Hand-written soft cross-entropy: -sum softmax(t/T) log softmax(s/T), mean over the batch.
  soft = -(_softmax(T / temp) * np.log(_softmax(S / temp))).sum(-1).mean()
  ce = -np.log(_softmax(S)[np.arange(2), Y]).mean()
  got = losses.distillation_loss(S, T, Y, temperature=temp, gold_rate=0.3, distill_rate=0.7,
                                 scale=scale)
  np.testing.assert_allclose(got, 0.3 * ce + 0.7 * factor * soft, rtol=1e-6)


@pytest.mark.parametrize("scale,factor", [("inverse_t2", 1 / 25.0), ("t2", 25.0), ("none", 1.0)])
def test_gradient_wrt_student_logits(scale, factor):
  temp = 5.0
  grad = jax.grad(lambda s: losses.distillation_loss(
      s, jnp.asarray(T), Y, temperature=temp, gold_rate=0.0, distill_rate=1.0, scale=scale))(
          jnp.asarray(S))
  expected = (_softmax(S / temp) - _softmax(T / temp)) / temp * factor / S.shape[0]
  np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)


def test_teacher_gets_no_gradient():
  g = jax.grad(lambda t: losses.distillation_loss(jnp.asarray(S), t, Y, temperature=2.0))(
      jnp.asarray(T))
  assert np.all(np.asarray(g) == 0)


def test_mask_ignores_padded_positions_in_sequences():
  rng = np.random.default_rng(0)
  s = rng.normal(size=(2, 4, 5)).astype(np.float32)
  t = rng.normal(size=(2, 4, 5)).astype(np.float32)
  y = rng.integers(0, 5, size=(2, 4))
  mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
  kwargs = dict(temperature=2.0, gold_rate=0.5, distill_rate=0.5)
  base = losses.distillation_loss(s, t, y, mask=mask, **kwargs)
  # Garbage in padded positions changes nothing.
  s2, t2 = s.copy(), t.copy()
  s2[~mask] = 1e3
  t2[~mask] = -1e3
  np.testing.assert_allclose(losses.distillation_loss(s2, t2, y, mask=mask, **kwargs), base,
                             rtol=1e-6)
  # And the value is the mean over the 5 real positions.
  flat = losses.distillation_loss(s[mask], t[mask], y[mask], **kwargs)
  np.testing.assert_allclose(base, flat, rtol=1e-6)


def test_bad_scale_and_shape_mismatch_are_clear_errors():
  with pytest.raises(ValueError, match="distill.scale"):
    losses.distillation_loss(S, T, Y, scale="hinton")
  with pytest.raises(ValueError, match="shape"):
    losses.distillation_loss(S, T[:, :2], Y)


def test_l1_l2_penalty_only_on_kernels():
  params = {"Dense_0": {"kernel": jnp.array([[1.0, -2.0]]), "bias": jnp.array([5.0, 5.0])},
            "BatchNorm_0": {"scale": jnp.array([3.0])}}
  got = losses.l1_l2_penalty(params, l1=0.1, l2=0.01)
  np.testing.assert_allclose(got, 0.1 * 3.0 + 0.01 * 5.0, rtol=1e-6)
  assert float(losses.l1_l2_penalty(params)) == 0.0
