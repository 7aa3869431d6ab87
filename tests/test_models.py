"""inductive_kd.models (MNIST CNN and MLP): shapes, parameter counts, modes, pooling."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd import models
from inductive_kd.models import cnn


def _count(tree):
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("name,rep_dim,params", [("cnn", 16, 112_586), ("mlp", 32, 473_386)])
def test_shapes_and_parameter_counts_match_reflect(name, rep_dim, params):
  model = models.create(name)
  x = jnp.zeros((3, 28, 28, 1))
  variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), x, train=False))
  # BatchNorm scale/bias are trainable in Keras; its moving stats are not (REFLECT.md counts).
  assert _count(variables["params"]) == params
  logits, rep = jax.eval_shape(lambda v: model.apply(v, x, train=False), variables)
  assert logits.shape == (3, 10) and rep.shape == (3, rep_dim)


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_dropout_and_batchnorm_follow_train_flag(name):
  model = models.create(name)
  x = jax.random.uniform(jax.random.PRNGKey(1), (8, 28, 28, 1))
  v = model.init(jax.random.PRNGKey(0), x, train=False)
  a, _ = model.apply(v, x, train=False)
  b, _ = model.apply(v, x, train=False)
  np.testing.assert_array_equal(a, b)
  (c, _), upd = model.apply(v, x, train=True, rngs={"dropout": jax.random.PRNGKey(1)},
                            mutable=["batch_stats"])
  (d, _), _ = model.apply(v, x, train=True, rngs={"dropout": jax.random.PRNGKey(2)},
                          mutable=["batch_stats"])
  assert not np.allclose(c, d)  # Dropout differs between keys in training mode.
  # Training mode updates BatchNorm's moving statistics, with Keras momentum 0.99.
  old = jax.tree.leaves(v["batch_stats"])
  new = jax.tree.leaves(upd["batch_stats"])
  assert any(not np.allclose(o, n) for o, n in zip(old, new))


def test_unknown_model_field_and_name_are_one_line_errors():
  with pytest.raises(ValueError, match="hidden_dim.*did you mean 'hidden_dims'"):
    models.create("mlp", hidden_dim=(10,))
  with pytest.raises(ValueError, match="Unknown model.name 'cnnn'.*'cnn'"):
    models.create("cnnn")


def test_max_out_groups_contiguous_channels():
  x = jnp.arange(8.0).reshape(1, 1, 1, 8)
  np.testing.assert_array_equal(cnn.max_out(x, 2)[0, 0, 0], [3.0, 7.0])
  np.testing.assert_array_equal(cnn.max_out(x, 8), x)


def test_max_pool_equals_reduce_window_values_and_gradients():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 10, 11, 3))  # Odd width: 'valid' drops a col.

  def reference(x):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

  np.testing.assert_array_equal(cnn.max_pool(x, (2, 2)), reference(x))
  w = jax.random.normal(jax.random.PRNGKey(1), (2, 5, 5, 3))
  g1 = jax.grad(lambda x: (cnn.max_pool(x, (2, 2)) * w).sum())(x)
  g2 = jax.grad(lambda x: (reference(x) * w).sum())(x)
  np.testing.assert_allclose(g1, g2, rtol=1e-6)
