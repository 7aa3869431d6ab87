"""inductive_kd.models.dropout: the fused Threefry gives jax.random's masks bit for bit."""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd.models import dropout


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 6, 6, 8)])
def test_bernoulli_is_bit_identical_to_jax_random(shape):
  for key in (jax.random.PRNGKey(0), jax.random.fold_in(jax.random.PRNGKey(3), 9),
              jax.random.key(5)):
    for p in (0.7, 0.5, 0.999):
      np.testing.assert_array_equal(
          jax.jit(dropout.bernoulli, static_argnums=(1, 2))(key, p, shape),
          jax.random.bernoulli(key, p, shape))


def test_bernoulli_under_vmap_matches_per_key_masks():
  """Vmapped seeds (train.py, config.num_seeds) draw each seed's own mask."""
  keys = jax.random.split(jax.random.PRNGKey(2), 3)
  stacked = jax.vmap(lambda k: dropout.bernoulli(k, 0.6, (4, 5)))(keys)
  for k in range(3):
    np.testing.assert_array_equal(stacked[k], jax.random.bernoulli(keys[k], 0.6, (4, 5)))


def test_threefry2x32_known_answer():
  # Random123's published known-answer vector for Threefry-2x32 with 20 rounds.
  k = np.uint32([0x13198a2e, 0x03707344])
  x = np.uint32([0x243f6a88, 0x85a308d3])
  out = dropout.threefry2x32(jnp.uint32(k[0]), jnp.uint32(k[1]), jnp.uint32(x[0]),
                             jnp.uint32(x[1]))
  assert [int(o) for o in out] == [0xc4923a9c, 0x483df7a0]


@pytest.mark.parametrize("rate,broadcast_dims", [(0.3, ()), (0.8, (1,)), (0.0, ()), (1.0, ())])
def test_dropout_module_equals_flax_dropout(rate, broadcast_dims):
  x = jax.random.normal(jax.random.PRNGKey(0), (3, 7, 5))
  rngs = {"dropout": jax.random.PRNGKey(11)}
  ours = dropout.Dropout(rate, broadcast_dims=broadcast_dims, deterministic=False)
  ref = nn.Dropout(rate, broadcast_dims=broadcast_dims, deterministic=False)
  np.testing.assert_array_equal(ours.apply({}, x, rngs=rngs), ref.apply({}, x, rngs=rngs))
  np.testing.assert_array_equal(dropout.Dropout(rate).apply({}, x, deterministic=True), x)


def test_unknown_impl_is_a_clear_error():
  with pytest.raises(ValueError, match="dropout_impl='fast'"):
    dropout.Dropout(0.5, impl="fast").apply({}, jnp.ones(3), deterministic=False,
                                            rngs={"dropout": jax.random.PRNGKey(0)})
