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

  def __init__(self, d, n_head, resid, attn):
    super().__init__()
    self.ln_1, self.ln_2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
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
  """inductive_kd.models.transformer.GPT2 + the classifier / LM heads."""

  def __init__(self, vocab, d_model=128, depth=6, n_head=8, resid_pdrop=0.4, embd_pdrop=0.2,
               attn_pdrop=0.6, shared=False, causal=True, lm=False, num_classes=2,
               n_positions=1024):
    super().__init__()
    self.wte, self.wpe = nn.Embedding(vocab, d_model), nn.Embedding(n_positions, d_model)
    n_blocks = 1 if shared else depth
    self.h = nn.ModuleList(GPT2Block(d_model, n_head, resid_pdrop, attn_pdrop)
                           for _ in range(n_blocks))
    self.ln_f = nn.LayerNorm(d_model, eps=1e-5)
    self.depth, self.shared, self.causal, self.lm = depth, shared, causal, lm
    self.embd_pdrop = embd_pdrop
    if not lm:
      self.e2c = nn.Linear(d_model, num_classes)

  def forward(self, tokens):
    b, length = tokens.shape
    h = self.wte(tokens) + self.wpe(torch.arange(length))[None]
    h = F.dropout(h, self.embd_pdrop, self.training)
    allowed = (tokens != 0)[:, None, None, :]
    if self.causal:
      allowed = allowed & torch.ones(length, length, dtype=torch.bool).tril()
    for i in range(self.depth):
      h = self.h[0 if self.shared else i](h, allowed)
    h = self.ln_f(h)
    if self.lm:
      return h @ self.wte.weight.t(), h
    idx = ((tokens != 0).sum(-1) - 1).clamp(min=0)
    rep = h[torch.arange(b), idx]
    return self.e2c(rep), rep
