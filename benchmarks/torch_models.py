"""PyTorch twins of the project's models, for speed comparisons only (never a runtime dependency).

Each twin has the same layers, widths, dropout sites, BatchNorm settings (Keras momentum 0.99 ->
torch momentum 0.01, eps 1e-3) and parameter count as the Flax model it is compared with, so a
train step does the same arithmetic in both frameworks. Tensors are channels-last where that is
PyTorch's (oneDNN's) fast path; that is a layout choice, not a change of maths.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


def num_params(module: nn.Module) -> int:
  return sum(p.numel() for p in module.parameters() if p.requires_grad)


class VanillaCNN(nn.Module):
  """inductive_kd.models.cnn.VanillaCNN (vcnn_mnist7): conv -> max-out -> BN -> ReLU -> pool -> drop."""

  def __init__(self, filters=(128, 64, 64), maxout=(128, 64, 16), pools=(1, 2, 2), dropout=0.3,
               num_classes=10):
    super().__init__()
    self.convs, self.bns = nn.ModuleList(), nn.ModuleList()
    cin = 1
    for f, m in zip(filters, maxout):
      self.convs.append(nn.Conv2d(cin, f, 3))
      self.bns.append(nn.BatchNorm2d(m, eps=1e-3, momentum=0.01))
      cin = m
    self.maxout, self.pools, self.dropout = maxout, pools, dropout
    self.projector = nn.Linear(cin, num_classes)

  def forward(self, x):  # x [B, 1, 28, 28] float
    for conv, bn, units, pool in zip(self.convs, self.bns, self.maxout, self.pools):
      x = conv(x)
      if units != x.shape[1]:  # Contiguous channel groups, as cnn.max_out.
        b, c, h, w = x.shape
        x = x.view(b, units, c // units, h, w).amax(2)
      x = F.relu(bn(x))
      if pool > 1:
        x = F.max_pool2d(x, pool)
      x = F.dropout(x, self.dropout, self.training)
    rep = x.mean((2, 3))
    return self.projector(rep), rep

  def kernels(self):
    return [c.weight for c in self.convs] + [self.projector.weight]


class VanillaFF(nn.Module):
  """inductive_kd.models.mlp.VanillaFF (ff_mnist4): Dense -> ReLU -> BN -> Dropout, x3; Dense."""

  def __init__(self, hidden=(512, 128, 32), dropout=0.1, num_classes=10):
    super().__init__()
    dims = (784,) + tuple(hidden)
    self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
    self.bns = nn.ModuleList(nn.BatchNorm1d(h, eps=1e-3, momentum=0.01) for h in hidden)
    self.dropout = dropout
    self.out = nn.Linear(dims[-1], num_classes)

  def forward(self, x):
    x = x.flatten(1)
    for dense, bn in zip(self.dense, self.bns):
      x = bn(F.relu(dense(x)))
      rep = x
      x = F.dropout(x, self.dropout, self.training)
    return self.out(x), rep

  def kernels(self):
    return [d.weight for d in self.dense] + [self.out.weight]


class KerasLSTMLayer(nn.Module):
  """inductive_kd.models.lstm.KerasLSTM: per-sequence input and recurrent dropout masks, Keras
  masking (masked steps carry the state over). Input projection hoisted out of the time loop,
  as in the Flax model; the loop itself is eager Python, what a PyTorch user must write to get
  recurrent dropout."""

  def __init__(self, din, h, dropout):
    super().__init__()
    self.kernel = nn.Parameter(torch.empty(din, 4 * h))
    self.recurrent = nn.Parameter(torch.empty(h, 4 * h))
    self.bias = nn.Parameter(torch.zeros(4 * h))
    nn.init.xavier_uniform_(self.kernel)
    nn.init.orthogonal_(self.recurrent)
    self.h, self.dropout = h, dropout

  def forward(self, x, mask):  # x [B, L, D], mask [B, L] bool
    b, length, d = x.shape
    if self.training and self.dropout:
      x = x * torch.bernoulli(x.new_full((b, 1, d), 1 - self.dropout)) / (1 - self.dropout)
      rec = torch.bernoulli(x.new_full((b, self.h), 1 - self.dropout)) / (1 - self.dropout)
    else:
      rec = None
    zx = torch.addmm(self.bias, x.reshape(b * length, d), self.kernel).view(b, length, -1)
    h = c = x.new_zeros(b, self.h)
    outs = []
    m = mask.unsqueeze(-1)
    for t in range(length):
      hin = h if rec is None else h * rec
      z = zx[:, t] + hin @ self.recurrent
      i, f, g, o = z.chunk(4, -1)
      c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
      h_new = torch.sigmoid(o) * torch.tanh(c_new)
      h = torch.where(m[:, t], h_new, h)
      c = torch.where(m[:, t], c_new, c)
      outs.append(h)
    return torch.stack(outs, 1)


class LSTMStack(nn.Module):
  """`depth` LSTM layers: Keras-faithful KerasLSTMLayer (masking, recurrent dropout), or with
  `fused=True` torch.nn.LSTM (oneDNN's fused kernel; no recurrent dropout, no masking)."""

  def __init__(self, emb, hidden, depth, hidden_drop, fused=False):
    super().__init__()
    self.fused = fused
    if fused:
      self.lstm = nn.LSTM(emb, hidden, depth, batch_first=True)
    else:
      self.layers = nn.ModuleList(KerasLSTMLayer(emb if i == 0 else hidden, hidden, hidden_drop)
                                  for i in range(depth))

  def forward(self, h, mask):
    if self.fused:
      return self.lstm(h)[0]
    for layer in self.layers:
      h = layer(h, mask)
    return h


class LSTMClassifier(nn.Module):
  """inductive_kd.models.lstm.LSTMClassifier (cl_lstm, small_lstm_v4).

  `fused=True` swaps the Keras-faithful layers for torch.nn.LSTM (oneDNN's fused kernel), which
  has no recurrent dropout and no masking: a *lower bound* on PyTorch's time, not the same maths.
  """

  def __init__(self, vocab, emb=256, hidden=256, depth=2, hidden_drop=0.8, input_drop=0.2,
               num_classes=2, fused=False):
    super().__init__()
    self.embed = nn.Embedding(vocab, emb)
    self.stack = LSTMStack(emb, hidden, depth, hidden_drop, fused)
    self.hidden_drop, self.input_drop = hidden_drop, input_drop
    self.head = nn.Linear(hidden, num_classes)

  def forward(self, tokens):
    mask = tokens != 0
    h = self.stack(F.dropout(self.embed(tokens), self.input_drop, self.training), mask)
    h = F.dropout(h, self.hidden_drop, self.training)
    idx = (mask.sum(-1) - 1).clamp(min=0)
    rep = h[torch.arange(h.shape[0]), idx]
    return self.head(rep), rep


class LSTMLM(nn.Module):
  """inductive_kd.models.lstm.LSTMLM (lm_lstm_shared_emb, lstm_drop31_v2): tied embeddings."""

  def __init__(self, vocab, emb=512, hidden=512, depth=2, hidden_drop=0.3, input_drop=0.2,
               fused=False):
    super().__init__()
    self.embed = nn.Embedding(vocab, emb)
    self.stack = LSTMStack(emb, hidden, depth, hidden_drop, fused)
    self.proj = nn.Linear(hidden, emb)
    self.hidden_drop, self.input_drop = hidden_drop, input_drop

  def forward(self, tokens):
    mask = tokens != 0
    h = self.stack(F.dropout(self.embed(tokens), self.input_drop, self.training), mask)
    rep = F.dropout(self.proj(h), self.hidden_drop, self.training)
    return rep @ self.embed.weight.t(), rep


class GPT2Block(nn.Module):
  """inductive_kd.models.transformer.Block: pre-LN, fused qkv, gelu(tanh), dropout sites."""

  def __init__(self, d, n_head, resid, attn, eps=1e-5):
    super().__init__()
    self.ln_1, self.ln_2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
    self.c_attn, self.attn_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
    self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
    self.n_head, self.resid, self.attn = n_head, resid, attn

  def forward(self, x, allowed):
    b, length, d = x.shape
    q, k, v = self.c_attn(self.ln_1(x)).view(b, length, 3 * self.n_head, -1).split(self.n_head, 2)
    w = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(d // self.n_head)
    w = w.masked_fill(~allowed, -1e4)
    p = F.dropout(w.softmax(-1), self.attn, self.training)
    a = torch.einsum("bhqk,bkhd->bqhd", p, v).reshape(b, length, d)
    x = x + F.dropout(self.attn_proj(a), self.resid, self.training)
    h = self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
    return x + F.dropout(h, self.resid, self.training)


class GPT2(nn.Module):
  """inductive_kd.models.transformer.GPT2 + the classifier / LM heads.

  `lm=True`: TransformerLM (logits tied to wte). Otherwise TransformerClassifier: causal (head
  e2c on the last non-pad position) or, with `cls_token_id` set, the bidirectional cl_bert (no
  causal mask, the CLS id prepended, head on position 0). Pad keys are masked (-1e4), as the Flax
  model's default (`reflect_pad_quirk=False`).
  """

  def __init__(self, vocab, d_model=128, depth=6, n_head=8, resid_pdrop=0.4, embd_pdrop=0.2,
               attn_pdrop=0.6, shared=False, causal=True, lm=False, num_classes=2,
               n_positions=1024, cls_token_id=None, layer_norm_epsilon=1e-5):
    super().__init__()
    self.wte, self.wpe = nn.Embedding(vocab, d_model), nn.Embedding(n_positions, d_model)
    n_blocks = 1 if shared else depth
    self.h = nn.ModuleList(GPT2Block(d_model, n_head, resid_pdrop, attn_pdrop,
                                     layer_norm_epsilon) for _ in range(n_blocks))
    self.ln_f = nn.LayerNorm(d_model, eps=layer_norm_epsilon)
    self.depth, self.shared, self.lm = depth, shared, lm
    self.causal = causal and cls_token_id is None
    self.cls_token_id = cls_token_id
    self.embd_pdrop = embd_pdrop
    if not lm:
      self.e2c = nn.Linear(d_model, num_classes)

  def forward(self, tokens):
    b = tokens.shape[0]
    x = tokens
    if self.cls_token_id is not None:
      x = torch.cat([tokens.new_full((b, 1), self.cls_token_id), tokens], 1)
    length = x.shape[1]
    h = self.wte(x) + self.wpe(torch.arange(length))[None]
    h = F.dropout(h, self.embd_pdrop, self.training)
    allowed = (x != 0)[:, None, None, :]
    if self.causal:
      allowed = allowed & torch.ones(length, length, dtype=torch.bool).tril()
    for i in range(self.depth):
      h = self.h[0 if self.shared else i](h, allowed)
    h = self.ln_f(h)
    if self.lm:
      return h @ self.wte.weight.t(), h
    if self.cls_token_id is not None:
      rep = h[:, 0]
    else:
      idx = ((tokens != 0).sum(-1) - 1).clamp(min=0)
      rep = h[torch.arange(b), idx]
    return self.e2c(rep), rep


# --- Built from the Flax model itself, so a twin always has the trainer's sizes ---------------


def twin(flax_model, fused: bool = False) -> nn.Module:
  """The PyTorch twin of a Flax SVA model (an inductive_kd.models instance: its fields are read,
  nothing of Flax is imported). `fused`: LSTMs as torch.nn.LSTM (NOT the same maths)."""
  m, kind = flax_model, type(flax_model).__name__
  if kind == "LSTMClassifier":
    return LSTMClassifier(m.vocab_size, emb=m.embedding_dim, hidden=m.hidden_dim, depth=m.depth,
                          hidden_drop=m.hidden_dropout_rate, input_drop=m.input_dropout_rate,
                          num_classes=m.num_classes, fused=fused)
  if kind == "LSTMLM":
    return LSTMLM(m.vocab_size, emb=m.embedding_dim, hidden=m.hidden_dim, depth=m.depth,
                  hidden_drop=m.hidden_dropout_rate, input_drop=m.input_dropout_rate, fused=fused)
  if kind in ("TransformerLM", "TransformerClassifier"):
    if m.step_embedding or m.reflect_pad_quirk:
      raise NotImplementedError("No twin for step_embedding / reflect_pad_quirk.")
    lm = kind == "TransformerLM"
    bidirectional = not lm and m.bidirectional
    return GPT2(m.vocab_size, d_model=m.d_model, depth=m.depth, n_head=m.n_head,
                resid_pdrop=m.resid_pdrop, embd_pdrop=m.embd_pdrop, attn_pdrop=m.attn_pdrop,
                shared=m.shared, lm=lm, num_classes=2 if lm else m.num_classes,
                n_positions=m.n_positions, layer_norm_epsilon=m.layer_norm_epsilon,
                cls_token_id=m.cls_token_id if bidirectional else None)
  raise NotImplementedError(f"No PyTorch twin for {kind}.")


def flax_leaf_names(module: nn.Module) -> list[tuple[str, nn.Parameter]]:
  """(name of the matching Flax leaf, parameter) for every parameter: what
  losses.l1_l2_penalty(leaf_names=...) selects by. Embedding -> 'embedding', Linear -> 'kernel' /
  'bias', LayerNorm -> 'scale' / 'bias', KerasLSTMLayer -> 'kernel' / 'recurrent_kernel' /
  'bias'; torch.nn.LSTM (fused, not a twin) maps weight_ih/weight_hh/biases the same way."""
  out = []
  for mod in module.modules():
    for pname, p in mod.named_parameters(recurse=False):
      if isinstance(mod, nn.Embedding):
        leaf = "embedding"
      elif isinstance(mod, nn.LayerNorm):
        leaf = {"weight": "scale", "bias": "bias"}[pname]
      elif isinstance(mod, nn.Linear):
        leaf = {"weight": "kernel", "bias": "bias"}[pname]
      elif isinstance(mod, KerasLSTMLayer):
        leaf = {"kernel": "kernel", "recurrent": "recurrent_kernel", "bias": "bias"}[pname]
      elif isinstance(mod, nn.LSTM):
        leaf = ("kernel" if pname.startswith("weight_ih") else
                "recurrent_kernel" if pname.startswith("weight_hh") else "bias")
      else:
        raise NotImplementedError(f"No Flax leaf name for {type(mod).__name__}.{pname}.")
      out.append((leaf, p))
  return out
