"""GPT-2 style Transformers of the subject-verb agreement scenario.

Reflect `tf2_models/transformers.py` (GPT2, GPT2SharedWeights, Bert),
`tf2_models/transformer_layers.py` (Block, Attention, TransformerMLP) and
`tf2_models/lm_transformer.py` (LmGPT2, ClassifierGPT2, ClassifierBERT and *SharedWeights).

Every model is a `flax.linen` Module with `__call__(x, *, train) -> (logits, representation)`,
int token ids [B, L], id 0 = padding (right-padded), dropout from the 'dropout' rng collection.

- `TransformerLM`: `lm_gpt2` (`shared=False`) / `lm_gpt2_shared` (`shared=True`, Universal
  Transformer = ONE block applied `depth` times), config `very_big_gpt_v10`. Logits tied to wte.
- `TransformerClassifier`: `cl_gpt2` (config `small_gpt_v9`), `cl_gpt2_shared`
  (`shared=True`, config `small_ugpt_v9`), `cl_bert` (`bidirectional=True`, config
  `small_gpt_v9`).

Block (pre-LN GPT-2): x + Drop(c_proj(Attn(ln_1 x))); x + Drop(c_proj(gelu_tanh(c_fc(ln_2 x)))),
MLP width 4d, attention logits scaled by 1/sqrt(d_head), causal mask as `w*b - 1e4*(1-b)`,
dropout on the attention probabilities. Token + learned position embeddings, then
Dropout(embd_pdrop); final LayerNorm ln_f (eps 1e-5). Weights (wte, wpe, every Conv1D and the
classifier head e2c) TruncatedNormal(stddev=initializer_range), biases zero.

Padding mask. Reflect's `padding_mask` is [B,1,L,1] of 1/0 ADDED to the attention logits: a
constant per query row, which softmax ignores, so pad keys are never masked. Harmless for causal
models with right padding (a real token never sees a later pad), but in `cl_bert` real tokens
attend to pad positions, so its output depends on how much padding a batch has. By default we
mask pad keys correctly (-1e4, the constant Reflect uses for the causal mask);
`reflect_pad_quirk=True` reproduces the official behaviour (no key masking, which is exactly
what adding a per-row constant amounts to).

Universal Transformer step embedding. Reflect's GPT2SharedWeights reuses one block with no
timestep signal and no ACT. `step_embedding=True` (only with `shared=True`) adds a learned
per-step vector [depth, d] to the hidden state before each application of the shared block,
the "timestep" coordinate embedding of Dehghani et al. (2019). Default False = faithful.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from inductive_kd.models.common import check_tokens
from inductive_kd.models.dropout import Dropout

Array = jax.Array

# Reflect's additive mask constant (transformer_layers.Attention._attn).
_MASK_VALUE = -1e4

# Reflect util/model_configs.py; depth 6 and n_head 8 are GPT2Config defaults.
PRESETS: dict[str, dict[str, Any]] = {
    # cl_gpt2 and cl_bert classifiers ("Transformer-seq" and "Transformer").
    'small_gpt_v9': dict(d_model=128, depth=6, n_head=8, resid_pdrop=0.4, embd_pdrop=0.2,
                         attn_pdrop=0.6, initializer_range=0.05),
    # cl_gpt2_shared ("UTransformer-seq"): one 256-d block reused 6 times.
    'small_ugpt_v9': dict(d_model=256, depth=6, n_head=8, resid_pdrop=0.4, embd_pdrop=0.2,
                          attn_pdrop=0.6, initializer_range=0.05),
    # lm_gpt2 / lm_gpt2_shared language models (eval_lm.ipynb): the paper's "Transformer" LM.
    'very_big_gpt_v10': dict(d_model=512, depth=6, n_head=8, resid_pdrop=0.4, embd_pdrop=0.2,
                             attn_pdrop=0.6, initializer_range=0.05),
    # The 256-d LM config that also appears in eval_lm.ipynb; our choice for the paper's
    # "Small Transformer" LM (the paper does not name it).
    'big_gpt_v5': dict(d_model=256, depth=6, n_head=8, resid_pdrop=0.2, embd_pdrop=0.2,
                       attn_pdrop=0.3, initializer_range=0.05),
}


class Attention(nn.Module):
  """Multi-head self-attention with fused c_attn (3d) and output c_proj (d), GPT-2 style."""
  d_model: int
  n_head: int
  attn_pdrop: float
  resid_pdrop: float
  initializer_range: float

  @nn.compact
  def __call__(self, x: Array, allowed: Array, *, train: bool) -> Array:
    """x [B, L, d]; allowed [B or 1, 1, L, L] bool (query, key). Returns [B, L, d]."""
    batch, length, _ = x.shape
    d_head = self.d_model // self.n_head
    dense = lambda n, name: nn.Dense(
        n, kernel_init=nn.initializers.truncated_normal(self.initializer_range), name=name)
    qkv = dense(3 * self.d_model, 'c_attn')(x)
    q, k, v = jnp.split(qkv.reshape(batch, length, 3 * self.n_head, d_head), 3, axis=2)
    w = jnp.einsum('bqhd,bkhd->bhqk', q, k) / jnp.sqrt(jnp.asarray(d_head, x.dtype))
    w = jnp.where(allowed, w, _MASK_VALUE)
    p = jax.nn.softmax(w, axis=-1)
    p = Dropout(self.attn_pdrop, deterministic=not train)(p)
    a = jnp.einsum('bhqk,bkhd->bqhd', p, v).reshape(batch, length, self.d_model)
    a = dense(self.d_model, 'c_proj')(a)
    return Dropout(self.resid_pdrop, deterministic=not train)(a)


class MLP(nn.Module):
  """Reflect TransformerMLP: c_fc (4d) -> gelu (tanh approximation) -> c_proj (d) -> dropout."""
  d_model: int
  resid_pdrop: float
  initializer_range: float

  @nn.compact
  def __call__(self, x: Array, *, train: bool) -> Array:
    init = nn.initializers.truncated_normal(self.initializer_range)
    h = nn.Dense(4 * self.d_model, kernel_init=init, name='c_fc')(x)
    h = jax.nn.gelu(h, approximate=True)
    h = nn.Dense(self.d_model, kernel_init=init, name='c_proj')(h)
    return Dropout(self.resid_pdrop, deterministic=not train)(h)


class Block(nn.Module):
  """Pre-LN GPT-2 block (Reflect transformer_layers.Block)."""
  d_model: int
  n_head: int
  resid_pdrop: float
  attn_pdrop: float
  initializer_range: float
  layer_norm_epsilon: float

  @nn.compact
  def __call__(self, x: Array, allowed: Array, *, train: bool) -> Array:
    ln = lambda name: nn.LayerNorm(epsilon=self.layer_norm_epsilon, name=name)
    x = x + Attention(self.d_model, self.n_head, self.attn_pdrop, self.resid_pdrop,
                      self.initializer_range, name='attn')(ln('ln_1')(x), allowed, train=train)
    x = x + MLP(self.d_model, self.resid_pdrop, self.initializer_range,
                name='mlp')(ln('ln_2')(x), train=train)
    return x


class GPT2(nn.Module):
  """Embeddings + `depth` blocks + ln_f (Reflect GPT2 / GPT2SharedWeights / Bert).

  `causal=False` is Reflect's Bert (Block with casual_masking=False). Parameter names follow
  Reflect: wte, wpe, h_{i} (or h when shared), ln_f.
  """
  vocab_size: int
  d_model: int
  depth: int
  n_head: int
  resid_pdrop: float
  embd_pdrop: float
  attn_pdrop: float
  initializer_range: float
  n_positions: int = 1024
  layer_norm_epsilon: float = 1e-5
  causal: bool = True
  shared: bool = False
  step_embedding: bool = False
  reflect_pad_quirk: bool = False

  def setup(self):
    if self.d_model % self.n_head:
      raise ValueError(f'd_model={self.d_model} must be divisible by n_head={self.n_head}.')
    if self.step_embedding and not self.shared:
      raise ValueError('step_embedding=True is the Universal Transformer step signal; it needs '
                       'shared=True (or set step_embedding=False).')
    init = nn.initializers.truncated_normal(self.initializer_range)
    self.wte = nn.Embed(self.vocab_size, self.d_model, embedding_init=init)
    self.wpe = nn.Embed(self.n_positions, self.d_model, embedding_init=init)
    block = lambda **kw: Block(self.d_model, self.n_head, self.resid_pdrop, self.attn_pdrop,
                               self.initializer_range, self.layer_norm_epsilon, **kw)
    if self.shared:
      self.h = block()
    else:
      self.h = [block() for _ in range(self.depth)]
    if self.step_embedding:
      self.step_emb = self.param('step_emb', init, (self.depth, self.d_model))
    self.ln_f = nn.LayerNorm(epsilon=self.layer_norm_epsilon)
    self.drop = Dropout(self.embd_pdrop)

  def attend(self, h: Array) -> Array:
    """Tied output logits h . wte^T (Reflect SharedEmbeddings mode='linear')."""
    return self.wte.attend(h)

  def __call__(self, tokens: Array, *, train: bool) -> Array:
    """tokens [B, L] int -> final hidden states after ln_f [B, L, d]."""
    length = tokens.shape[1]
    if length > self.n_positions:
      raise ValueError(f'Sequence length {length} exceeds n_positions={self.n_positions}; '
                       'raise n_positions or truncate the batch.')
    h = self.wte(tokens) + self.wpe(jnp.arange(length))[None]
    h = self.drop(h, deterministic=not train)

    allowed = jnp.ones((1, 1, length, length), bool)
    if self.causal:
      allowed = allowed & jnp.tril(allowed)
    if not self.reflect_pad_quirk:
      allowed = allowed & (tokens != 0)[:, None, None, :]

    for i in range(self.depth):
      if self.step_embedding:
        h = h + self.step_emb[i]
      layer = self.h if self.shared else self.h[i]
      h = layer(h, allowed, train=train)
    return self.ln_f(h)


def _gpt2(module: nn.Module, causal: bool) -> GPT2:
  return GPT2(vocab_size=module.vocab_size, d_model=module.d_model, depth=module.depth,
              n_head=module.n_head, resid_pdrop=module.resid_pdrop,
              embd_pdrop=module.embd_pdrop, attn_pdrop=module.attn_pdrop,
              initializer_range=module.initializer_range, n_positions=module.n_positions,
              layer_norm_epsilon=module.layer_norm_epsilon, causal=causal,
              shared=module.shared, step_embedding=module.step_embedding,
              reflect_pad_quirk=module.reflect_pad_quirk, name='transformer')


class TransformerLM(nn.Module):
  """Reflect `lm_gpt2` (LmGPT2) / `lm_gpt2_shared` (LmGPT2SharedWeights), `very_big_gpt_v10`.

  Causal GPT-2; logits = h . wte^T (tied, no output bias). Returns (logits [B, L, V],
  representation [B, L, d] = final hidden states after ln_f).
  `shared=True` is the Universal Transformer (one block applied `depth` times).
  `reflect_pad_quirk` has no effect on non-pad positions of a causal model with right padding.
  Reflect l2 1e-4 on wte, wpe and every block Dense kernel and bias (not LayerNorms); ours:
  `L2_LEAVES`.
  """
  vocab_size: int
  d_model: int = 512
  depth: int = 6
  n_head: int = 8
  resid_pdrop: float = 0.4
  embd_pdrop: float = 0.2
  attn_pdrop: float = 0.6
  initializer_range: float = 0.05
  n_positions: int = 1024
  layer_norm_epsilon: float = 1e-5
  shared: bool = False
  step_embedding: bool = False
  reflect_pad_quirk: bool = False

  @nn.compact
  def __call__(self, x: Array, *, train: bool) -> tuple[Array, Array]:
    check_tokens(x, 'TransformerLM')
    transformer = _gpt2(self, causal=True)
    h = transformer(x, train=train)
    return transformer.attend(h), h

  def output_logits(self, rep: Array) -> Array:
    """The tied output layer alone, rep [..., d] -> logits rep . wte^T (the end of __call__):
    the trainer applies it to the target positions only (train.make_train_step)."""
    return jnp.dot(rep, self.variables['params']['transformer']['wte']['embedding'].T)


class TransformerClassifier(nn.Module):
  """Reflect `cl_gpt2` / `cl_gpt2_shared` (ClassifierGPT2*) and `cl_bert` (ClassifierBERT).

  Causal (default): the head e2c = Dense(num_classes) reads the final hidden state at the last
  non-pad position (the <eos>); no CLS token. Config `small_gpt_v9` (defaults), or
  `small_ugpt_v9` with `shared=True`.
  `bidirectional=True` (cl_bert): no causal mask, a CLS token (`cls_token_id`, Reflect uses the
  id of <bos>) is prepended and the head reads position 0. See the module docstring for
  `reflect_pad_quirk` (it only matters for the bidirectional model).
  Returns (logits [B, num_classes], representation [B, d] = the hidden state e2c reads, after
  ln_f). Reflect l2 1e-4 on wte, wpe and block Dense kernels/biases, not on e2c or LayerNorms.
  """
  vocab_size: int
  num_classes: int = 2
  d_model: int = 128
  depth: int = 6
  n_head: int = 8
  resid_pdrop: float = 0.4
  embd_pdrop: float = 0.2
  attn_pdrop: float = 0.6
  initializer_range: float = 0.05
  n_positions: int = 1024
  layer_norm_epsilon: float = 1e-5
  shared: bool = False
  step_embedding: bool = False
  bidirectional: bool = False
  cls_token_id: int = 2
  reflect_pad_quirk: bool = False

  @nn.compact
  def __call__(self, x: Array, *, train: bool) -> tuple[Array, Array]:
    check_tokens(x, 'TransformerClassifier')
    if self.bidirectional:
      if self.cls_token_id == 0:
        raise ValueError('cls_token_id must not be the pad id 0.')
      cls = jnp.full((x.shape[0], 1), self.cls_token_id, x.dtype)
      h = _gpt2(self, causal=False)(jnp.concatenate([cls, x], axis=1), train=train)
      rep = h[:, 0]
    else:
      h = _gpt2(self, causal=True)(x, train=train)
      idx = jnp.maximum(jnp.sum(x != 0, axis=-1) - 1, 0)
      rep = jnp.take_along_axis(h, idx[:, None, None], axis=1)[:, 0]
    logits = nn.Dense(self.num_classes,
                      kernel_init=nn.initializers.truncated_normal(self.initializer_range),
                      name='e2c')(rep)
    return logits, rep


# Reflect model names (util/models.py MODELS) -> (module class, fixed fields).
MODELS: dict[str, tuple[type[nn.Module], dict[str, Any]]] = {
    'lm_gpt2': (TransformerLM, {}),
    'lm_gpt2_shared': (TransformerLM, {'shared': True}),
    'cl_gpt2': (TransformerClassifier, {}),
    'cl_gpt2_shared': (TransformerClassifier, {'shared': True}),
    'cl_bert': (TransformerClassifier, {'bidirectional': True}),
    'cl_bert_shared': (TransformerClassifier, {'bidirectional': True, 'shared': True}),
}


def build(model_name: str, config_name: str, vocab_size: int, **overrides: Any) -> nn.Module:
  """A model from Reflect's model and config names, e.g. ('cl_gpt2_shared', 'small_ugpt_v9')."""
  if model_name not in MODELS:
    raise ValueError(f'Unknown Transformer model {model_name!r}; choose one of '
                     f'{sorted(MODELS)}.')
  if config_name not in PRESETS:
    raise ValueError(f'Unknown Transformer config {config_name!r}; choose one of '
                     f'{sorted(PRESETS)}.')
  cls, fixed = MODELS[model_name]
  return cls(vocab_size=vocab_size, **{**PRESETS[config_name], **fixed, **overrides})


# The leaves the training penalty (losses.l1_l2_penalty, config.optim.l2 = 1e-4) covers, by name:
# the embeddings (transformer/wte, transformer/wpe) and every Dense kernel, the blocks' and the
# classifier head's (e2c). Reflect's l2 (1e-4) covered wte, wpe and the blocks' Dense kernels *and
# biases*, but not the head; the training runs so far used this rule, so it stays until a measured
# change replaces it (block biases: 4 per block of d or 3d/4d values; head: d x classes).
L2_LEAVES = ("embedding", "kernel")
