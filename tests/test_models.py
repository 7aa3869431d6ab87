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


# --- How the CNN computes (conv_impl, dropout_impl) must not change what it computes. ----------


def _reference_conv(x, kernel):
  return jax.lax.conv_general_dilated(x, kernel, (1, 1), "VALID",
                                      dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.mark.parametrize("impl", cnn.CONV_IMPLS)
@pytest.mark.parametrize("shape", [(2, 9, 11, 1, 5), (3, 8, 7, 6, 4)])  # B, H, W, Cin, Cout.
def test_conv_impls_match_lax_conv_outputs_and_gradients(impl, shape):
  b, h, w, cin, cout = shape
  x = jax.random.normal(jax.random.PRNGKey(0), (b, h, w, cin))
  k = jax.random.normal(jax.random.PRNGKey(1), (3, 3, cin, cout))
  g = jax.random.normal(jax.random.PRNGKey(2), (b, h - 2, w - 2, cout))

  @jax.jit
  def outputs_and_grads(x, k, g):
    out, vjp = jax.vjp(lambda x, k: cnn.conv2d_valid(x, k, impl), x, k)
    ref, ref_vjp = jax.vjp(_reference_conv, x, k)
    return (out, *vjp(g)), (ref, *ref_vjp(g))  # Output, d/dx, d/dkernel.

  got, want = outputs_and_grads(x, k, g)
  assert got[0].shape == want[0].shape == (b, h - 2, w - 2, cout)
  for a, b_ in zip(got, want):
    np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-4)


def test_conv_impl_is_checked():
  x = jnp.zeros((1, 5, 5, 2))
  with pytest.raises(ValueError, match="conv_impl='fft'.*choose one of"):
    cnn.conv2d_valid(x, jnp.zeros((3, 3, 2, 1)), "fft")
  with pytest.raises(ValueError, match="dropout_impl='fast'"):
    cnn.VanillaCNN(dropout_impl="fast").init(jax.random.PRNGKey(0), x[..., 0], train=False)


def test_conv_module_has_nn_conv_parameters():
  from flax import linen as flax_nn  # pylint: disable=g-import-not-at-top
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 3))
  ref = flax_nn.Conv(4, (3, 3), padding="VALID", kernel_init=cnn.glorot_uniform)
  v_ref = ref.init(jax.random.PRNGKey(1), x)
  v = cnn.Conv(4, (3, 3)).init(jax.random.PRNGKey(1), x)
  # Same names, shapes and initial values, so old checkpoints load and seeds reproduce.
  jax.tree.map(np.testing.assert_array_equal, v, v_ref)
  np.testing.assert_allclose(cnn.Conv(4, (3, 3)).apply(v, x), ref.apply(v_ref, x), rtol=1e-5,
                             atol=1e-6)


def _cnn_loss_and_grads(model, variables, x):
  def loss(params):
    (logits, rep), upd = model.apply({"params": params, "batch_stats": variables["batch_stats"]},
                                     x, train=True, rngs={"dropout": jax.random.PRNGKey(7)},
                                     mutable=["batch_stats"])
    return (logits ** 2).sum() + rep.sum(), (logits, upd["batch_stats"])
  return jax.jit(jax.value_and_grad(loss, has_aux=True))(variables["params"])


def test_cnn_conv_impls_give_the_same_model():
  """Whole model, defaults (fast on CPU) against nn.Conv-equivalent lax convs + nn.Dropout.

  dropout_impl='unrolled' draws the same masks as nn.Dropout: bit-identical results. Across
  conv_impls: same parameters, dropout masks, logits, loss and batch statistics up to rounding. Gradients are
  compared exactly (to rounding) per convolution in the tests above; through the whole network
  only those of the layers after the last max-out/max-pool are: upstream, rounding-level
  differences may flip which element of a max-out group or pooling window wins, which moves the
  gradient of the losing element by O(1) (the reference model does that too when its own input
  moves by 1e-6).
  """
  x = jax.random.uniform(jax.random.PRNGKey(1), (4, 28, 28))
  narrow = dict(filters=(8, 8, 8), maxout_size=(8, 8, 2))
  ref_model = cnn.VanillaCNN(conv_impl="xla", dropout_impl="flax", **narrow)
  v = ref_model.init(jax.random.PRNGKey(0), x, train=False)
  ref = _cnn_loss_and_grads(ref_model, v, x)
  exact = cnn.VanillaCNN(conv_impl="xla", dropout_impl="unrolled", **narrow)
  jax.tree.map(np.testing.assert_array_equal, _cnn_loss_and_grads(exact, v, x), ref)
  (ref_loss, (ref_logits, ref_stats)), ref_grads = ref
  for conv_impl in ("auto",):
    model = cnn.VanillaCNN(conv_impl=conv_impl, **narrow)
    jax.tree.map(np.testing.assert_array_equal,
                 model.init(jax.random.PRNGKey(0), x, train=False), v)
    (loss, (logits, stats)), grads = _cnn_loss_and_grads(model, v, x)
    # Different dropout masks would move the logits by O(1), not by rounding.
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5), stats,
                 ref_stats)
    for layer in ("projector", "BatchNorm_2"):
      jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4),
                   grads[layer], ref_grads[layer])
