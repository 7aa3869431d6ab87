"""LSTM models of the subject-verb agreement scenario (Reflect `tf2_models/lm_lstm.py`).

Two models, both `flax.linen` Modules following the project convention
`__call__(x, *, train) -> (logits, representation)`, with int32 inputs [B, L], token id 0 =
padding (right-padded), and dropout drawn from the 'dropout' rng collection:

- `LSTMClassifier` = Reflect `cl_lstm` (ClassifierLSTM), config `small_lstm_v4`: verb-number
  prediction from the prefix up to the verb (which ends in <eos>).
- `LSTMLM` = Reflect `lm_lstm_shared_emb` (LmLSTMSharedEmbV2), config `lstm_drop31_v2`: a
  next-token language model with tied input/output embeddings.

The recurrent layer `KerasLSTM` reproduces `tf.keras.layers.LSTM` of TF 2.1 (implementation=2):
- fused kernel [in, 4H], recurrent kernel [H, 4H], bias [4H], gate order (i, f, c, o),
  sigmoid gates, tanh cell/output activations, `unit_forget_bias=True` (forget bias init 1);
- `dropout` / `recurrent_dropout`: ONE mask per sequence for the inputs and ONE for the
  recurrent state h_{t-1}, constant over time (implementation=2 uses mask[0] for all four gates);
- Keras masking (`mask_zero=True` / an explicit mask): at a masked step the states are carried
  over unchanged and the output repeats the previous output (`zero_output_for_mask=False`).

Speed: the input projection x @ W for all time steps is one matmul outside the time loop;
only h @ U runs inside `jax.lax.scan`.
"""
from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from inductive_kd.models.common import check_tokens
from inductive_kd.models.dropout import Dropout, bernoulli

Array = jax.Array
Initializer = Callable[..., Array]

# Reflect util/model_configs.py. `initializer_range` of small_lstm_v4 (0.1) is unused by
# ClassifierLSTM, which keeps the Keras default initialisers; lstm_drop31_v* leave it None, so
# LmLSTMSharedEmbV2 uses TruncatedNormal(stddev = dim ** -0.5).
PRESETS: dict[str, dict[str, Any]] = {
    # cl_lstm in eval_vp.ipynb: the LSTM classifier (teacher and student).
    'small_lstm_v4': dict(embedding_dim=256, hidden_dim=256, depth=2,
                          hidden_dropout_rate=0.8, input_dropout_rate=0.2),
    # lm_lstm_shared_emb in eval_lm.ipynb / eval_lm.py: the LSTM language model.
    'lstm_drop31_v2': dict(embedding_dim=512, hidden_dim=512, depth=2,
                           hidden_dropout_rate=0.3, input_dropout_rate=0.2),
    # The README example's LM config (more dropout).
    'lstm_drop31_v3': dict(embedding_dim=512, hidden_dim=512, depth=2,
                           hidden_dropout_rate=0.6, input_dropout_rate=0.2),
}

def _uniform_symmetric(scale: float) -> Initializer:
  """Keras RandomUniform(-scale, scale)."""
  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -scale, scale)
  return init


# Keras defaults used by ClassifierLSTM (TF 2.1): Embedding 'uniform' = U(-0.05, 0.05),
# LSTM kernel glorot_uniform, recurrent kernel orthogonal, Dense glorot_uniform, zero biases.
_keras_embedding_init = _uniform_symmetric(0.05)


def _lstm_bias_init(key, shape, dtype=jnp.float32):
  """Keras `unit_forget_bias=True`: zeros except 1 on the forget-gate block (order i,f,c,o)."""
  del key
  (four_h,) = shape
  h = four_h // 4
  return jnp.zeros(shape, dtype).at[h:2 * h].set(1.0)


def _sequence_dropout_mask(rng: Array, rate: float, shape: tuple[int, ...]) -> Array:
  """Inverted-dropout multiplier (0 or 1/keep), one draw per sequence, as Keras RNN dropout."""
  keep = 1.0 - rate
  return bernoulli(rng, keep, shape).astype(jnp.float32) / keep


def last_index_gather(h: Array, tokens: Array) -> Array:
  """h[b, n_b - 1] where n_b = number of non-pad tokens of row b (Reflect's gather_nd).

  With right padding that is the final real token (<eos> in the verb-prediction task).
  An all-pad row reads position 0 instead of Reflect's invalid index -1.
  """
  lengths = jnp.sum(tokens != 0, axis=-1)
  idx = jnp.maximum(lengths - 1, 0)
  return jnp.take_along_axis(h, idx[:, None, None], axis=1)[:, 0]


class KerasLSTM(nn.Module):
  """One `tf.keras.layers.LSTM(return_sequences=True)` layer over [B, L, in] (module docstring).

  Attributes:
    hidden_dim: H, number of units.
    dropout: Keras `dropout`, per-sequence mask on the layer's inputs.
    recurrent_dropout: Keras `recurrent_dropout`, per-sequence mask on h_{t-1}.
    kernel_init / recurrent_init: initialisers of the [in, 4H] and [H, 4H] kernels.
    unroll: `lax.scan` unroll factor (speed only).
  """
  hidden_dim: int
  dropout: float = 0.0
  recurrent_dropout: float = 0.0
  kernel_init: Initializer = nn.initializers.glorot_uniform()
  recurrent_init: Initializer = nn.initializers.orthogonal()
  unroll: int = 1

  @nn.compact
  def __call__(self, x: Array, mask: Array, *, train: bool) -> Array:
    """x: [B, L, in] float, mask: [B, L] bool (True = real token). Returns outputs [B, L, H]."""
    batch, _, in_dim = x.shape
    h_dim = self.hidden_dim
    kernel = self.param('kernel', self.kernel_init, (in_dim, 4 * h_dim))
    recurrent_kernel = self.param('recurrent_kernel', self.recurrent_init, (h_dim, 4 * h_dim))
    bias = self.param('bias', _lstm_bias_init, (4 * h_dim,))

    if train and self.dropout > 0.0:
      x = x * _sequence_dropout_mask(self.make_rng('dropout'), self.dropout,
                                     (batch, 1, in_dim))
    if train and self.recurrent_dropout > 0.0:
      rec_mask = _sequence_dropout_mask(self.make_rng('dropout'), self.recurrent_dropout,
                                        (batch, h_dim))
    else:
      rec_mask = None

    # All input projections at once; time-major for the scan.
    zx = jnp.einsum('bld,dg->lbg', x, kernel) + bias
    mask_t = jnp.swapaxes(mask, 0, 1)[..., None]

    def step(carry, inputs):
      h, c = carry
      z_x, m = inputs
      h_in = h if rec_mask is None else h * rec_mask
      z = z_x + h_in @ recurrent_kernel
      zi, zf, zc, zo = jnp.split(z, 4, axis=-1)
      c_new = jax.nn.sigmoid(zf) * c + jax.nn.sigmoid(zi) * jnp.tanh(zc)
      h_new = jax.nn.sigmoid(zo) * jnp.tanh(c_new)
      # Keras masking: masked steps keep the states and repeat the previous output.
      h = jnp.where(m, h_new, h)
      c = jnp.where(m, c_new, c)
      return (h, c), h

    zeros = jnp.zeros((batch, h_dim), zx.dtype)
    _, outputs = jax.lax.scan(step, (zeros, zeros), (zx, mask_t), unroll=self.unroll)
    return jnp.swapaxes(outputs, 0, 1)


class LSTMClassifier(nn.Module):
  """Reflect `cl_lstm` (ClassifierLSTM), config `small_lstm_v4`.

  Embedding(V, 256, mask_zero) -> Dropout(0.2) -> 2 x LSTM(256, dropout=recurrent_dropout=0.8)
  -> Dropout(0.8) -> output at the last non-pad index (the <eos>) -> Dense(2).
  Keras default initialisers (`initializer_range` is unused in Reflect).

  Returns (logits [B, num_classes], representation [B, H] = the dropped-out LSTM output the head
  reads, Reflect `detailed_call` index 1).

  Regularisation in Reflect: l2 1e-5 on EVERY parameter (embedding, each LSTM kernel, recurrent
  kernel and bias, head kernel and bias): `L2_LEAVES` covers exactly these.
  Param tree: embed/embedding, lstm_{i}/{kernel,recurrent_kernel,bias}, head/{kernel,bias}.
  """
  vocab_size: int
  num_classes: int = 2
  embedding_dim: int = 256
  hidden_dim: int = 256
  depth: int = 2
  hidden_dropout_rate: float = 0.8
  input_dropout_rate: float = 0.2
  unroll: int = 1

  @nn.compact
  def __call__(self, x: Array, *, train: bool) -> tuple[Array, Array]:
    check_tokens(x, 'LSTMClassifier')
    mask = x != 0
    h = nn.Embed(self.vocab_size, self.embedding_dim, embedding_init=_keras_embedding_init,
                 name='embed')(x)
    h = Dropout(self.input_dropout_rate, deterministic=not train)(h)
    for i in range(self.depth):
      h = KerasLSTM(self.hidden_dim, dropout=self.hidden_dropout_rate,
                    recurrent_dropout=self.hidden_dropout_rate, unroll=self.unroll,
                    name=f'lstm_{i}')(h, mask, train=train)
    h = Dropout(self.hidden_dropout_rate, deterministic=not train)(h)
    rep = last_index_gather(h, x)
    logits = nn.Dense(self.num_classes, kernel_init=nn.initializers.glorot_uniform(),
                      name='head')(rep)
    return logits, rep


class LSTMLM(nn.Module):
  """Reflect `lm_lstm_shared_emb` (LmLSTMSharedEmbV2), config `lstm_drop31_v2`.

  E[x] -> Dropout(0.2) -> 2 x LSTM(512, dropout=recurrent_dropout=0.3) -> Dense(512, linear)
  -> Dropout(0.3) -> logits = h . E^T (tied, no output bias).
  Inits: E, the LSTM kernels and recurrent kernels, and the Dense kernel are
  TruncatedNormal(stddev = dim ** -0.5) (Reflect's `initializer_range=None` rule; the LSTM
  uses hidden_dim, E and Dense use embedding_dim); biases zero (LSTM forget bias 1).
  Zero initial states (V2 has no learned initial state). No l2 (Reflect's regulariser is 0).

  Returns (logits [B, L, V], representation [B, L, embedding_dim]) where the representation is
  the vector multiplied by E^T (after Dense(512) and dropout): Reflect `detailed_call`'s
  `rnn_outputs`.
  Param tree: embed/embedding, lstm_{i}/{kernel,recurrent_kernel,bias},
  output_projection/{kernel,bias}.
  """
  vocab_size: int
  embedding_dim: int = 512
  hidden_dim: int = 512
  depth: int = 2
  hidden_dropout_rate: float = 0.3
  input_dropout_rate: float = 0.2
  unroll: int = 1

  @nn.compact
  def __call__(self, x: Array, *, train: bool) -> tuple[Array, Array]:
    check_tokens(x, 'LSTMLM')
    mask = x != 0
    emb_init = nn.initializers.truncated_normal(self.embedding_dim ** -0.5)
    lstm_init = nn.initializers.truncated_normal(self.hidden_dim ** -0.5)
    embed = nn.Embed(self.vocab_size, self.embedding_dim, embedding_init=emb_init,
                     name='embed')
    h = Dropout(self.input_dropout_rate, deterministic=not train)(embed(x))
    for i in range(self.depth):
      h = KerasLSTM(self.hidden_dim, dropout=self.hidden_dropout_rate,
                    recurrent_dropout=self.hidden_dropout_rate, kernel_init=lstm_init,
                    recurrent_init=lstm_init, unroll=self.unroll,
                    name=f'lstm_{i}')(h, mask, train=train)
    h = nn.Dense(self.embedding_dim, kernel_init=emb_init, name='output_projection')(h)
    rep = Dropout(self.hidden_dropout_rate, deterministic=not train)(h)
    logits = embed.attend(rep)
    return logits, rep

  def output_logits(self, rep: Array) -> Array:
    """The tied output layer alone, rep [..., embedding_dim] -> logits rep . E^T (the end of
    __call__): the trainer applies it to the target positions only (train.make_train_step)."""
    return jnp.dot(rep, self.variables['params']['embed']['embedding'].T)


# Reflect model names (util/models.py MODELS) -> module class.
MODELS: dict[str, type[nn.Module]] = {
    'cl_lstm': LSTMClassifier,
    'lm_lstm_shared_emb': LSTMLM,
}


def build(model_name: str, config_name: str, vocab_size: int, **overrides: Any) -> nn.Module:
  """A model from Reflect's model name and config name, e.g. ('cl_lstm', 'small_lstm_v4')."""
  if model_name not in MODELS:
    raise ValueError(f'Unknown LSTM model {model_name!r}; choose one of {sorted(MODELS)}.')
  if config_name not in PRESETS:
    raise ValueError(f'Unknown LSTM config {config_name!r}; choose one of {sorted(PRESETS)}.')
  return MODELS[model_name](vocab_size=vocab_size, **{**PRESETS[config_name], **overrides})


# The leaves the training penalty (losses.l1_l2_penalty) covers, by name: every parameter of the
# LSTM classifier, as Reflect's l2 1e-5 on cl_lstm (the LM's l2 is 0, so its leaves do not matter).
L2_LEAVES = ("embedding", "kernel", "recurrent_kernel", "bias")
