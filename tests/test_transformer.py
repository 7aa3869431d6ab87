"""Tests for inductive_kd.models.transformer (Reflect lm_gpt2*, cl_gpt2*, cl_bert)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from inductive_kd import losses
from inductive_kd.models import transformer as T

V = 50
TINY = dict(d_model=16, depth=2, n_head=2, n_positions=32)
LENGTHS = (12, 7, 4)


def _tokens(seed=0, length=12):
  rng = np.random.RandomState(seed)
  x = rng.randint(3, V, size=(len(LENGTHS), length)).astype(np.int32)
  for b, n in enumerate(LENGTHS):
    x[b, n:] = 0
  return jnp.asarray(x)


def _init(model, x):
  return model.init({'params': jax.random.key(0), 'dropout': jax.random.key(1)}, x,
                    train=False)


def _n_params(model, x=jnp.zeros((1, 5), jnp.int32)):
  shapes = jax.eval_shape(lambda: _init(model, x))
  return sum(math.prod(s.shape) for s in jax.tree_util.tree_leaves(shapes))


def _changed(x, t):
  return x.at[:, t].set((x[:, t] + 5) % (V - 3) + 3)


@pytest.fixture(scope='module', params=[False, True], ids=['gpt2', 'shared'])
def lm(request):
  model = T.TransformerLM(vocab_size=V, shared=request.param, **TINY)
  x = _tokens()
  return model, _init(model, x), x


CLASSIFIERS = {
    'causal': dict(),
    'shared': dict(shared=True, step_embedding=True),
    'bidir': dict(bidirectional=True),
    'bidir_quirk': dict(bidirectional=True, reflect_pad_quirk=True),
}


@pytest.fixture(scope='module', params=list(CLASSIFIERS))
def clf(request):
  model = T.TransformerClassifier(vocab_size=V, **CLASSIFIERS[request.param], **TINY)
  x = _tokens()
  return model, _init(model, x), x


def test_lm_shapes_and_dtypes(lm):
  model, variables, x = lm
  logits, rep = model.apply(variables, x, train=False)
  assert logits.shape == (3, 12, V) and rep.shape == (3, 12, 16)
  assert logits.dtype == rep.dtype == jnp.float32


def test_classifier_shapes_and_dtypes(clf):
  model, variables, x = clf
  logits, rep = model.apply(variables, x, train=False)
  assert logits.shape == (3, 2) and rep.shape == (3, 16)
  assert logits.dtype == rep.dtype == jnp.float32


def test_lm_is_causal(lm):
  model, variables, x = lm
  logits, rep = model.apply(variables, x, train=False)
  for t in (0, 5, 10):
    logits2, rep2 = model.apply(variables, _changed(x, t + 1), train=False)
    np.testing.assert_allclose(logits2[:, :t + 1], logits[:, :t + 1], atol=1e-6)
    np.testing.assert_allclose(rep2[:, :t + 1], rep[:, :t + 1], atol=1e-6)
    assert not np.allclose(logits2[0, t + 1:], logits[0, t + 1:])


def test_lm_weight_tying(lm):
  model, variables, x = lm
  params = variables['params']
  wte = params['transformer']['wte']['embedding']
  vocab_leaves = [l for l in jax.tree_util.tree_leaves(params) if V in l.shape]
  assert len(vocab_leaves) == 1 and vocab_leaves[0] is wte
  logits, rep = model.apply(variables, x, train=False)
  np.testing.assert_allclose(logits, rep @ wte.T, rtol=1e-5, atol=1e-5)


def _check_dropout_only_in_train(model, variables, x):
  a = model.apply(variables, x, train=True, rngs={'dropout': jax.random.key(1)})
  b = model.apply(variables, x, train=True, rngs={'dropout': jax.random.key(2)})
  assert not np.allclose(a[0], b[0])
  c = model.apply(variables, x, train=False, rngs={'dropout': jax.random.key(1)})
  d = model.apply(variables, x, train=False, rngs={'dropout': jax.random.key(2)})
  np.testing.assert_array_equal(c[0], d[0])
  np.testing.assert_array_equal(c[1], d[1])


def test_lm_dropout_only_in_train(lm):
  _check_dropout_only_in_train(*lm)


def test_classifier_dropout_only_in_train(clf):
  _check_dropout_only_in_train(*clf)


def test_appended_padding(clf):
  """Correct key masking: extra right padding changes nothing; Reflect's quirk: it does."""
  model, variables, x = clf
  logits, rep = model.apply(variables, x, train=False)
  logits2, rep2 = model.apply(variables, jnp.pad(x, ((0, 0), (0, 6))), train=False)
  if model.reflect_pad_quirk:
    # Row 0 has no padding at first, so it now sees 6 pad keys; rows 1, 2 see more of them.
    assert not np.allclose(logits2, logits, atol=1e-4)
  else:
    np.testing.assert_allclose(logits2, logits, atol=1e-5)
    np.testing.assert_allclose(rep2, rep, atol=1e-5)


def test_classifier_context(clf):
  """Causal classifiers read the last real token, so only tokens up to it matter; the
  bidirectional one reads CLS, which sees every later token."""
  model, variables, x = clf
  _, rep = model.apply(variables, x, train=False)
  _, rep_changed_last = model.apply(variables, _changed(x, 3), train=False)
  assert not np.allclose(rep_changed_last[2], rep[2])   # row 2 ends at index 3
  if not model.bidirectional:
    for b, n in enumerate(LENGTHS):
      _, rep_b = model.apply(variables, x[b:b + 1, :n], train=False)
      np.testing.assert_allclose(rep_b[0], rep[b], atol=1e-5)
  else:
    _, rep_changed_end = model.apply(variables, _changed(x, 11), train=False)
    assert not np.allclose(rep_changed_end[0], rep[0])   # CLS sees the final token


def test_universal_transformer_shares_weights():
  base = dict(vocab_size=V, d_model=16, n_head=2, n_positions=32)
  one = _n_params(T.TransformerLM(depth=1, **base))
  assert _n_params(T.TransformerLM(depth=6, shared=True, **base)) == one
  assert _n_params(T.TransformerLM(depth=6, shared=True, step_embedding=True, **base)) == \
      one + 6 * 16
  assert _n_params(T.TransformerLM(depth=6, **base)) > one
  clf_one = _n_params(T.TransformerClassifier(depth=1, **base))
  assert _n_params(T.TransformerClassifier(depth=6, shared=True, **base)) == clf_one
  # Depth really applies the shared block 6 times: outputs differ from depth 1.
  x = _tokens()
  m1 = T.TransformerLM(depth=1, shared=True, **base)
  m6 = T.TransformerLM(depth=6, shared=True, **base)
  variables = _init(m1, x)
  assert not np.allclose(m1.apply(variables, x, train=False)[0],
                         m6.apply(variables, x, train=False)[0])


def _gpt2_block_params(d):
  return (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d) + 4 * d


def test_param_count_paper_sizes():
  vocab = 10036
  d = 128
  expected = vocab * d + 1024 * d + 6 * _gpt2_block_params(d) + 2 * d + (d * 2 + 2)
  assert _gpt2_block_params(d) == 12 * d * d + 13 * d
  assert _n_params(T.build('cl_gpt2', 'small_gpt_v9', vocab_size=vocab)) == expected
  assert _n_params(T.build('cl_bert', 'small_gpt_v9', vocab_size=vocab)) == expected
  d = 256
  expected = vocab * d + 1024 * d + _gpt2_block_params(d) + 2 * d + (d * 2 + 2)
  assert _n_params(T.build('cl_gpt2_shared', 'small_ugpt_v9', vocab_size=vocab)) == expected
  d = 512  # LM: tied output, no head
  expected = vocab * d + 1024 * d + 6 * _gpt2_block_params(d) + 2 * d
  assert _n_params(T.build('lm_gpt2', 'very_big_gpt_v10', vocab_size=vocab)) == expected


def _np_layer_norm(x, p, eps=1e-5):
  mu = x.mean(-1, keepdims=True)
  var = ((x - mu) ** 2).mean(-1, keepdims=True)
  return (x - mu) / np.sqrt(var + eps) * p['scale'] + p['bias']


def _np_gpt2_lm(params, x, n_head):
  """Hand-written GPT-2 forward (Reflect's equations), eval mode, float64."""
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params['transformer'])
  dense = lambda h, q: h @ q['kernel'] + q['bias']
  length = x.shape[1]
  h = p['wte']['embedding'][x] + p['wpe']['embedding'][:length]
  b = np.tril(np.ones((length, length)))
  i = 0
  while f'h_{i}' in p:
    blk = p[f'h_{i}']
    a = dense(_np_layer_norm(h, blk['ln_1']), blk['attn']['c_attn'])
    q, k, v = np.split(a, 3, axis=-1)
    split = lambda t: t.reshape(t.shape[0], length, n_head, -1).transpose(0, 2, 1, 3)
    q, k, v = split(q), split(k), split(v)
    w = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    w = w * b - 1e4 * (1 - b)
    w = np.exp(w - w.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    o = (w @ v).transpose(0, 2, 1, 3).reshape(h.shape)
    h = h + dense(o, blk['attn']['c_proj'])
    m = dense(_np_layer_norm(h, blk['ln_2']), blk['mlp']['c_fc'])
    m = 0.5 * m * (1 + np.tanh(np.sqrt(2 / np.pi) * (m + 0.044715 * m ** 3)))
    h = h + dense(m, blk['mlp']['c_proj'])
    i += 1
  h = _np_layer_norm(h, p['ln_f'])
  return h @ p['wte']['embedding'].T


@pytest.mark.parametrize('quirk', [False, True])
def test_matches_numpy_reference(quirk):
  """Reflect's equations. Its pad mask is a no-op, so the reference has none: with
  reflect_pad_quirk every position matches; with correct masking the real positions do."""
  model = T.TransformerLM(vocab_size=V, reflect_pad_quirk=quirk, **TINY)
  x = _tokens()
  variables = _init(model, x)
  # Non-zero biases and LN params, so the reference checks every term.
  rng = np.random.RandomState(0)
  params = jax.tree_util.tree_map(
      lambda a: a + 0.1 * rng.randn(*a.shape).astype(np.float32), variables['params'])
  logits, _ = model.apply({'params': params}, x, train=False)
  ref = _np_gpt2_lm(params, np.asarray(x), n_head=2)
  real = np.asarray(x) != 0
  np.testing.assert_allclose(logits[real], ref[real], rtol=1e-4, atol=1e-4)
  if quirk:
    np.testing.assert_allclose(logits, ref, rtol=1e-4, atol=1e-4)
  else:
    assert not np.allclose(logits[~real], ref[~real], atol=1e-3)


def test_l2_leaves():
  # The penalty covers the embeddings and every Dense kernel (blocks and head), never a bias or a
  # LayerNorm: T.L2_LEAVES says why this differs from Reflect's mask (block biases, head).


  model = T.TransformerClassifier(vocab_size=V, **TINY)
  params = _init(model, _tokens())['params']
  flat = traverse_util.flatten_dict(params)
  covered = {k for k in flat if k[-1] in ('embedding', 'kernel')}
  assert ('transformer', 'wte', 'embedding') in covered
  assert ('transformer', 'wpe', 'embedding') in covered and ('e2c', 'kernel') in covered
  assert not any('ln_1' in k or 'ln_2' in k or 'ln_f' in k for k in covered)
  expected = sum(float(np.square(np.asarray(flat[k])).sum()) for k in covered)
  penalty = float(losses.l1_l2_penalty(params, l2=1.0, leaf_names=T.L2_LEAVES))
  np.testing.assert_allclose(penalty, expected, rtol=1e-5)


def test_build_and_presets():
  m = T.build('cl_gpt2_shared', 'small_ugpt_v9', vocab_size=V)
  assert (m.d_model, m.depth, m.shared, m.bidirectional) == (256, 6, True, False)
  m = T.build('cl_bert', 'small_gpt_v9', vocab_size=V)
  assert (m.d_model, m.bidirectional, m.cls_token_id, m.attn_pdrop) == (128, True, 2, 0.6)
  m = T.build('lm_gpt2', 'very_big_gpt_v10', vocab_size=V)
  assert (m.d_model, m.resid_pdrop, m.embd_pdrop, m.initializer_range) == (512, 0.4, 0.2, 0.05)
  with pytest.raises(ValueError, match='small_gpt_v9'):
    T.build('cl_gpt2', 'nope', vocab_size=V)
  with pytest.raises(ValueError, match='cl_bert'):
    T.build('nope', 'small_gpt_v9', vocab_size=V)


@pytest.mark.parametrize('kwargs, x, match', [
    (dict(d_model=16, n_head=3), jnp.ones((1, 4), jnp.int32), 'divisible'),
    (dict(d_model=16, n_head=2, step_embedding=True), jnp.ones((1, 4), jnp.int32), 'shared'),
    (dict(d_model=16, n_head=2, n_positions=4), jnp.ones((1, 5), jnp.int32), 'n_positions'),
    (dict(d_model=16, n_head=2), jnp.ones((1, 4), jnp.float32), 'integer'),
])
def test_bad_config_raises(kwargs, x, match):
  with pytest.raises(ValueError, match=match):
    _init(T.TransformerLM(vocab_size=V, depth=1, **kwargs), x)
