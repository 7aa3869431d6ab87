"""The subject-verb-agreement train-step benchmark shared by bench_sva_lstm.py and
bench_sva_transformer.py.

The JAX step is written here, not taken from train.make_train_step (which the MNIST benchmarks
time), so that it matches the PyTorch twin op for op (no L2 penalty, constant learning rate): one jitted function (state donated) doing the model's training forward,
`losses.distillation_loss(gold_rate=1, distill_rate=0, mask=...)` (cross-entropy; for language
models masked to the non-pad targets), the gradient, and an Adam update (optax, eps 1e-8).
Optional KD: a frozen teacher of the same family in training mode, soft targets at T=1
(`distill_rate=1, gold_rate=0`, the VP distillation configs of REFLECT.md).

Batches: random token ids in [4, vocab) with random lengths in [length/4, length], right-padded
with 0; classifier labels in {0, 1}; LM targets = inputs shifted by one.
PyTorch: benchmarks/torch_models twins with the same optimiser and loss, eager.
"""
from __future__ import annotations

from typing import Callable

import common

VOCAB = 10004  # 10000 words + <pad>, <unk>, <bos>, <eos> (inductive_kd.data.sva).


def make_batch(args, seed=0):
  import numpy as np  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  b, length = args.batch_size, args.length
  lengths = rng.integers(max(2, length // 4), length + 1, b)
  tokens = rng.integers(4, VOCAB, (b, length + 1)).astype(np.int32)
  tokens[np.arange(length + 1)[None, :] >= lengths[:, None] + 1] = 0
  return {"inputs": tokens[:, :-1], "targets": tokens[:, 1:],
          "labels": rng.integers(0, 2, b).astype(np.int32)}


def jax_runner(args, model, lm: bool, teacher=None) -> Callable:
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  from inductive_kd import losses  # pylint: disable=g-import-not-at-top

  batch = jax.tree.map(jnp.asarray, make_batch(args))
  tx = optax.adam(1e-3, eps=1e-8)
  params = model.init({"params": jax.random.PRNGKey(0)}, batch["inputs"], train=False)["params"]
  t_params = None
  if teacher is not None:
    t_params = teacher.init({"params": jax.random.PRNGKey(1)}, batch["inputs"],
                            train=False)["params"]
  state = {"params": params, "opt": tx.init(params), "step": jnp.zeros((), jnp.int32),
           "rng": jax.random.PRNGKey(2)}

  def train_step(state, batch, t_params):
    key = jax.random.fold_in(state["rng"], state["step"])
    labels = batch["targets"] if lm else batch["labels"]
    mask = batch["targets"] != 0 if lm else None
    t_logits = None
    if teacher is not None:
      t_logits, _ = teacher.apply({"params": jax.lax.stop_gradient(t_params)}, batch["inputs"],
                                  train=True, rngs={"dropout": jax.random.fold_in(key, 1)})

    def loss_fn(params):
      logits, _ = model.apply({"params": params}, batch["inputs"], train=True,
                              rngs={"dropout": key})
      kd = teacher is not None
      return losses.distillation_loss(logits, t_logits, labels, temperature=1.0,
                                      gold_rate=0.0 if kd else 1.0,
                                      distill_rate=1.0 if kd else 0.0, scale="none", mask=mask)

    loss, grads = jax.value_and_grad(loss_fn)(state["params"])
    updates, opt = tx.update(grads, state["opt"], state["params"])
    return {"params": optax.apply_updates(state["params"], updates), "opt": opt,
            "step": state["step"] + 1, "rng": state["rng"]}, loss

  step = jax.jit(train_step, donate_argnums=(0,), **common.jit_kwargs(args))
  box = {"state": state}

  def run():
    s = box["state"]
    for _ in range(args.steps):
      s, loss = step(s, batch, t_params)
    jax.block_until_ready((s, loss))
    box["state"] = s

  run()
  return run


def torch_runner(args, net, lm: bool, teacher=None) -> Callable:
  torch = common.setup_torch(args.threads)
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  batch = {k: torch.from_numpy(v).long() for k, v in make_batch(args).items()}
  opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-8)
  net.train()
  if teacher is not None:
    teacher.train()
    for q in teacher.parameters():
      q.requires_grad_(False)

  def step():
    logits, _ = net(batch["inputs"])
    if teacher is not None:
      with torch.no_grad():
        t_logits, _ = teacher(batch["inputs"])
      per = -(F.softmax(t_logits, -1) * F.log_softmax(logits, -1)).sum(-1)
    elif lm:
      per = F.cross_entropy(logits.flatten(0, 1), batch["targets"].flatten(),
                            reduction="none").view(batch["targets"].shape)
    else:
      per = F.cross_entropy(logits, batch["labels"], reduction="none")
    if lm:
      mask = (batch["targets"] != 0).float()
      loss = (per * mask).sum() / mask.sum().clamp(min=1)
    else:
      loss = per.mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()

  def run():
    for _ in range(args.steps):
      step()

  run()
  return run


def run_benchmark(name: str, args, entries: dict[str, tuple[Callable, Callable | None, bool]]):
  """entries: label -> (build jax runner, build torch runner or None, is the torch twin the same
  maths). Times all interleaved; ratios JAX / PyTorch per label."""
  runners = {}
  for lab, (make_jax, make_torch, _) in entries.items():
    runners[f"jax {lab}"] = make_jax()
    if make_torch is not None and not args.no_torch:
      runners[f"torch {lab}"] = make_torch()
  times = common.time_interleaved(runners, args.rounds)
  results = {k: common.summarize(v, args.steps, args.batch_size) for k, v in times.items()}
  ratios = {lab: results[f"jax {lab}"]["examples_per_s"] / results[f"torch {lab}"]["examples_per_s"]
            for lab in entries if f"torch {lab}" in results}
  common.report(name, results, args, {"ratios_jax_over_torch": ratios, "length": args.length,
                                      "same_maths": {k: v[2] for k, v in entries.items()}})
  for lab, v in ratios.items():
    note = "" if entries[lab][2] else "  (PyTorch twin is NOT the same maths: lower bound)"
    print(f"  JAX / PyTorch, {lab:34s} {v:5.2f}x{note}")
  return results
