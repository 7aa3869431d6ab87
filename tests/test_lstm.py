"""Tests for inductive_kd.models.lstm (Reflect cl_lstm / lm_lstm_shared_emb)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd import losses
from inductive_kd.models import lstm

V = 50
TINY = dict(embedding_dim=12, hidden_dim=16, depth=2)


def _tokens(seed=0, batch=3, length=12, lengths=(12, 7, 4)):
  """Right-padded int32 ids in [3, V) (no pad inside), rows of the given lengths."""
  rng = np.random.RandomState(seed)
  x = rng.randint(3, V, size=(batch, length)).astype(np.int32)
  for b, n in enumerate(lengths):
    x[b, n:] = 0
  return jnp.asarray(x)


def _init(model, x):
  return model.init({'params': jax.random.key(0), 'dropout': jax.random.key(1)}, x,
                    train=False)


def _n_params(model, x):
  shapes = jax.eval_shape(lambda: _init(model, x))
  return sum(math.prod(s.shape) for s in jax.tree_util.tree_leaves(shapes))


@pytest.fixture(scope='module')
def clf():
  model = lstm.LSTMClassifier(vocab_size=V, **TINY)
  x = _tokens()
  return model, _init(model, x), x


@pytest.fixture(scope='module')
def lm():
  model = lstm.LSTMLM(vocab_size=V, embedding_dim=16, hidden_dim=16, depth=2)
  x = _tokens()
  return model, _init(model, x), x


def test_shapes_and_dtypes(clf, lm):
  model, variables, x = clf
  logits, rep = model.apply(variables, x, train=False)
  assert logits.shape == (3, 2) and rep.shape == (3, 16)
  assert logits.dtype == rep.dtype == jnp.float32
  model, variables, x = lm
  logits, rep = model.apply(variables, x, train=False)
  assert logits.shape == (3, 12, V) and rep.shape == (3, 12, 16)
  assert logits.dtype == rep.dtype == jnp.float32


def test_lm_is_causal(lm):
  model, variables, x = lm
  logits, rep = model.apply(variables, x, train=False)
  for t in (0, 3, 10):
    x2 = x.at[:, t + 1].set((x[:, t + 1] + 5) % (V - 3) + 3)
    logits2, rep2 = model.apply(variables, x2, train=False)
    np.testing.assert_array_equal(logits2[:, :t + 1], logits[:, :t + 1])
    np.testing.assert_array_equal(rep2[:, :t + 1], rep[:, :t + 1])
    assert not np.allclose(logits2[0, t + 1], logits[0, t + 1])


def test_classifier_ignores_appended_padding(clf):
  model, variables, x = clf
  logits, rep = model.apply(variables, x, train=False)
  x_long = jnp.pad(x, ((0, 0), (0, 9)))
  logits2, rep2 = model.apply(variables, x_long, train=False)
  np.testing.assert_allclose(logits2, logits, atol=1e-6)
  np.testing.assert_allclose(rep2, rep, atol=1e-6)


def test_classifier_reads_last_real_token(clf):
  model, variables, x = clf
  _, rep = model.apply(variables, x, train=False)
  # Truncating every row to its own length must give the same representation.
  for b, n in enumerate((12, 7, 4)):
    _, rep_b = model.apply(variables, x[b:b + 1, :n], train=False)
    np.testing.assert_allclose(rep_b[0], rep[b], atol=1e-6)
  # ... and the token just before the last one matters.
  x2 = x.at[1, 5].set(x[1, 5] % (V - 4) + 3 + 1)
  _, rep2 = model.apply(variables, x2, train=False)
  assert not np.allclose(rep2[1], rep[1])


@pytest.mark.parametrize('which', ['clf', 'lm'])
def test_dropout_only_in_train(which, request):
  model, variables, x = request.getfixturevalue(which)
  a = model.apply(variables, x, train=True, rngs={'dropout': jax.random.key(1)})
  b = model.apply(variables, x, train=True, rngs={'dropout': jax.random.key(2)})
  assert not np.allclose(a[0], b[0])
  c = model.apply(variables, x, train=False, rngs={'dropout': jax.random.key(1)})
  d = model.apply(variables, x, train=False, rngs={'dropout': jax.random.key(2)})
  np.testing.assert_array_equal(c[0], d[0])
  np.testing.assert_array_equal(c[1], d[1])


def test_lm_weight_tying(lm):
  model, variables, x = lm
  params = variables['params']
  emb = params['embed']['embedding']
  vocab_leaves = [l for l in jax.tree_util.tree_leaves(params) if V in l.shape]
  assert len(vocab_leaves) == 1 and vocab_leaves[0] is emb
  logits, rep = model.apply(variables, x, train=False)
  np.testing.assert_allclose(logits, rep @ emb.T, rtol=1e-5, atol=1e-6)


def test_param_count_paper_sizes():
  x = jnp.zeros((1, 5), jnp.int32)
  vocab, e, h = 10036, 256, 256
  clf = lstm.build('cl_lstm', 'small_lstm_v4', vocab_size=vocab)
  expected = vocab * e + 4 * h * (e + h + 1) + 4 * h * (h + h + 1) + h * 2 + 2
  assert _n_params(clf, x) == expected
  e = h = 512
  lm_model = lstm.build('lm_lstm_shared_emb', 'lstm_drop31_v2', vocab_size=vocab)
  expected = vocab * e + 2 * 4 * h * (e + h + 1) + (h * e + e)  # no output kernel: tied
  assert _n_params(lm_model, x) == expected


def test_presets_and_init():
  model = lstm.build('cl_lstm', 'small_lstm_v4', vocab_size=V)
  assert (model.embedding_dim, model.hidden_dim, model.depth) == (256, 256, 2)
  assert (model.hidden_dropout_rate, model.input_dropout_rate) == (0.8, 0.2)
  model = lstm.build('lm_lstm_shared_emb', 'lstm_drop31_v2', vocab_size=V)
  assert (model.embedding_dim, model.hidden_dim, model.hidden_dropout_rate) == (512, 512, 0.3)
  with pytest.raises(ValueError, match='small_lstm_v4'):
    lstm.build('cl_lstm', 'nope', vocab_size=V)
  with pytest.raises(ValueError, match='cl_lstm'):
    lstm.build('nope', 'small_lstm_v4', vocab_size=V)
  # Keras unit_forget_bias: forget block (2nd of i, f, c, o) is 1, the rest 0.
  variables = _init(lstm.LSTMClassifier(vocab_size=V, **TINY), _tokens())
  bias = np.asarray(variables['params']['lstm_0']['bias'])
  np.testing.assert_array_equal(bias, np.r_[np.zeros(16), np.ones(16), np.zeros(32)])


def test_l2_leaves_cover_every_classifier_parameter():
  # Reflect's l2 1e-5 on cl_lstm covers every weight; the penalty's leaf names must too.

  params = _init(lstm.LSTMClassifier(vocab_size=V, **TINY), _tokens())['params']
  total = sum(float(np.square(np.asarray(x)).sum()) for x in jax.tree_util.tree_leaves(params))
  penalty = float(losses.l1_l2_penalty(params, l2=1.0, leaf_names=lstm.L2_LEAVES))
  np.testing.assert_allclose(penalty, total, rtol=1e-5)


def _numpy_lstm(x, mask, kernel, recurrent, bias):
  """Keras LSTM (gate order i, f, c, o), masked steps carry state and repeat the output."""
  sig = lambda z: 1.0 / (1.0 + np.exp(-z))
  batch, length, _ = x.shape
  hd = recurrent.shape[0]
  h = np.zeros((batch, hd))
  c = np.zeros((batch, hd))
  out = np.zeros((batch, length, hd))
  for t in range(length):
    z = x[:, t] @ kernel + h @ recurrent + bias
    i, f, g, o = (z[:, k * hd:(k + 1) * hd] for k in range(4))
    c_new = sig(f) * c + sig(i) * np.tanh(g)
    h_new = sig(o) * np.tanh(c_new)
    m = mask[:, t:t + 1]
    h = np.where(m, h_new, h)
    c = np.where(m, c_new, c)
    out[:, t] = h
  return out


def test_lstm_cell_matches_numpy():
  rng = np.random.RandomState(0)
  layer = lstm.KerasLSTM(hidden_dim=3)
  x = rng.randn(2, 5, 4).astype(np.float32)
  mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 1, 0]], bool)  # a gap and a tail
  params = {'kernel': rng.randn(4, 12).astype(np.float32),
            'recurrent_kernel': rng.randn(3, 12).astype(np.float32),
            'bias': rng.randn(12).astype(np.float32)}
  out = layer.apply({'params': params}, jnp.asarray(x), jnp.asarray(mask), train=False)
  ref = _numpy_lstm(x.astype(np.float64), mask, *(params[k].astype(np.float64) for k in
                                                  ('kernel', 'recurrent_kernel', 'bias')))
  np.testing.assert_allclose(out, ref, atol=1e-5)


def test_lstm_input_dropout_mask_is_constant_over_time():
  """Keras RNN dropout: one mask per sequence. With U = 0 and forget gate ~0, h_t depends on
  x_t * mask only, so a constant input gives a constant output iff the mask is constant."""
  h = 8
  layer = lstm.KerasLSTM(hidden_dim=h, dropout=0.5)
  rng = np.random.RandomState(1)
  params = {'kernel': jnp.asarray(rng.randn(6, 4 * h), jnp.float32),
            'recurrent_kernel': jnp.zeros((h, 4 * h)),
            'bias': jnp.zeros(4 * h).at[h:2 * h].set(-100.0)}
  x = jnp.tile(jnp.asarray(rng.randn(4, 1, 6), jnp.float32), (1, 7, 1))
  mask = jnp.ones((4, 7), bool)
  out = layer.apply({'params': params}, x, mask, train=True,
                    rngs={'dropout': jax.random.key(3)})
  ref = layer.apply({'params': params}, x, mask, train=False)
  np.testing.assert_allclose(out, jnp.broadcast_to(out[:, :1], out.shape), atol=1e-6)
  assert not np.allclose(out, ref)  # the mask did drop something


def test_bad_inputs_raise():
  model = lstm.LSTMClassifier(vocab_size=V, **TINY)
  with pytest.raises(ValueError, match='integer'):
    _init(model, jnp.zeros((2, 5), jnp.float32))
  with pytest.raises(ValueError, match='shape'):
    _init(model, jnp.zeros((5,), jnp.int32))
