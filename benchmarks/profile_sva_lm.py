"""Where the SVA language model's train step spends its time: the trainer's step taken apart
into small jitted pieces, each timed alone (interleaved rounds, median), plus XLA's FLOP count.

  python benchmarks/profile_sva_lm.py --threads=1                          # lm_lstm, size=cpu
  python benchmarks/profile_sva_lm.py --threads=1 --setups=lm_transformer --size=paper
  python benchmarks/profile_sva_lm.py --threads=1 --setups=lm_lstm_to_transformer

Pieces (the same model, batch, config and loss as bench_sva_*.py, i.e. train.make_train_step):
  step         the whole trainer step (forward, loss, backward, Adam, metrics)
  value_grad   value_and_grad of the step's loss_fn (no optimiser, no metrics)
  forward      the model's training forward to the logits [B, L, V]
  teacher      (KD) the teacher's forward in its teacher mode
  body         forward + backward of the model up to the representation the output layer reads
               (rep [B, L, d]), with a linear loss on rep: everything but the output layer
  head         the tied output layer alone, forward + backward: logits = rep . E^T, the loss
               (cross-entropy or soft-target CE, masked to non-pad targets), grads to rep and E
  head_fwd     its forward only (matmul + loss value)
  logits_mm    the rep . E^T matmul alone, forward
  loss_grad    losses.distillation_loss on given logits, value and gradient w.r.t. the logits
               (the softmax passes over [B, L, V], without the matmuls)
  accuracy     the step's accuracy metric (argmax over V at every position)
  adam         the optimiser update of every parameter
`step` is the trainer's step over every position (packed_rows = 0). Options:
  --packed=trainer (default; sva_bench's flag, `off` skips it)
                packed_step: the trainer's step as runs use it, the output layer, loss and accuracy
                on the non-pad target rows only (train.make_train_step's packed_rows = --cap),
                timed against `step` and checked against it (same loss, metrics, gradients);
  --fused_head  a benchmark-local prototype: the output layer + loss in row chunks with a
                hand-written backward (chunked_ce_head), against `head+accuracy`: slower, kept
                as a measured negative.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import sva_bench  # pylint: disable=g-import-not-at-top,wrong-import-position


def chunked_ce_head(rep, emb, targets, mask, chunk: int):
  """Prototype: masked-mean cross-entropy of logits = rep . emb^T, the same maths as
  losses.distillation_loss(gold_rate=1) on the full logits, computed `chunk` rows at a time with a
  hand-written backward, so the [N, V] logits never exist whole (each chunk's logits, softmax
  and gradient stay in cache). Returns (loss, argmax [N]) so the step's accuracy metric needs no
  second pass. Forward: per chunk, logits, log-sum-exp, the target's logit, argmax. Backward: per
  chunk, recompute the logits, g = (softmax - onehot) * mask / count, d_rep = g . emb,
  d_emb += g^T . rep. One extra logits matmul (recomputed in the backward) for no stored logits.
  """
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

  n, d = rep.shape
  pad = (-n) % chunk
  rep_c = jnp.pad(rep, ((0, pad), (0, 0))).reshape(-1, chunk, d)
  tgt_c = jnp.pad(targets, (0, pad)).reshape(-1, chunk)
  msk_c = jnp.pad(mask.astype(jnp.float32), (0, pad)).reshape(-1, chunk)
  denom = jnp.maximum(mask.astype(jnp.float32).sum(), 1.0)

  @jax.custom_vjp
  def loss_fn(rep_c, emb):
    return fwd(rep_c, emb)[0]

  def fwd(rep_c, emb):
    def body(total, xs):
      r, t, m = xs
      logits = r @ emb.T
      lse = jax.nn.logsumexp(logits, axis=-1)
      picked = jnp.take_along_axis(logits, t[:, None], axis=-1)[:, 0]
      return total + ((lse - picked) * m).sum(), jnp.argmax(logits, -1)
    total, argmax = jax.lax.scan(body, jnp.zeros((), jnp.float32), (rep_c, tgt_c, msk_c))
    return (total / denom, argmax), (rep_c, emb)

  def bwd(res, cts):
    rep_c, emb = res
    g_loss = cts[0] / denom

    def body(d_emb, xs):
      r, t, m = xs
      logits = r @ emb.T
      p = jax.nn.softmax(logits, axis=-1)
      g = (p - jax.nn.one_hot(t, p.shape[-1], dtype=p.dtype)) * (m * g_loss)[:, None]
      return d_emb + g.T @ r, g @ emb
    d_emb, d_rep = jax.lax.scan(body, jnp.zeros_like(emb), (rep_c, tgt_c, msk_c))
    return d_rep, d_emb

  loss_fn.defvjp(fwd, bwd)
  loss, argmax = loss_fn(rep_c, emb)
  return loss, argmax.reshape(-1)[:n]


def pieces(args, setup: str) -> tuple[dict, dict]:
  """{piece: run()} and facts about the setup."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import optax  # pylint: disable=g-import-not-at-top
  from inductive_kd import losses, optim, train  # pylint: disable=g-import-not-at-top
  from inductive_kd import teacher as teacher_lib  # pylint: disable=g-import-not-at-top

  config = sva_bench.load_config(setup, args.size)
  task = sva_bench.step_task(config, args.vocab)
  model, t_model = sva_bench.build_models(config, task, args.unroll)
  batch = jax.tree.map(jnp.asarray, sva_bench.make_batch(
      "lm", args.batch_size, sva_bench.width(args, config), args.vocab))
  inputs, labels, mask = task.prepare(batch)
  tx = optim.make_optimizer(config.optim)
  state = train.create_train_state(model, tx, inputs[:2], config.seed)
  d, o = config.distill, config.optim
  key = jax.random.PRNGKey(3)
  jit = lambda f, **kw: jax.jit(f, **kw, **common.jit_kwargs(args))

  teacher_apply, t_vars, t_logits = None, {}, None
  if t_model is not None:
    t_state = train.create_train_state(t_model, tx, inputs[:2], 1)
    t_vars = {"params": t_state.params, "batch_stats": t_state.batch_stats}
    teacher_apply = teacher_lib.make_apply(t_model, d.teacher_mode)
    t_logits = jit(teacher_apply)(t_vars, inputs, key)

  def objective(logits, targets):
    return losses.distillation_loss(logits, targets, labels, temperature=d.temperature,
                                    gold_rate=d.gold_rate, distill_rate=d.distill_rate,
                                    scale=d.scale, mask=mask)

  def forward(params):
    return model.apply({"params": params}, inputs, train=True, rngs={"dropout": key})

  def loss_fn(params, targets):  # targets: the teacher's logits, an argument (not a constant).
    logits, _ = forward(params)
    return objective(logits, targets) + losses.l1_l2_penalty(
        params, l1=o.l1, l2=o.l2, leaf_names=tuple(o.reg_leaves))

  params = state.params
  emb_path = ("embed", "embedding") if "lstm" in config.model.name else (
      "transformer", "wte", "embedding")
  emb = params
  for k in emb_path:
    emb = emb[k]
  logits, rep = jit(forward)(params)
  g_rep = jax.random.normal(key, rep.shape, rep.dtype)

  def body_loss(params, g):
    return (forward(params)[1] * g).sum()  # The logits are dead code: XLA drops them.

  def head_loss(r, e, targets):  # r [B*L, d]: the output layer and the step's loss.
    return objective((r @ e.T).reshape(labels.shape + (e.shape[0],)), targets)

  step = jax.jit(train.make_train_step(model, tx, task, config, teacher_apply),
                 donate_argnums=(0, 3), **common.jit_kwargs(args))
  # The step donates its state: it gets a copy, the pieces keep `params`.
  box = {"state": jax.tree.map(jnp.copy, state), "metrics": train.zero_metrics()}

  def run_step():
    box["state"], box["metrics"] = step(box["state"], batch, t_vars, box["metrics"])
    jax.block_until_ready(box["metrics"])

  # XLA's own count of the step's work (before the first call donates the state).
  cost = step.lower(box["state"], batch, t_vars, box["metrics"]).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  facts = {"flops_step": float(cost.get("flops", float("nan"))),
           "bytes_step": float(cost.get("bytes accessed", float("nan"))),
           "logits_shape": list(logits.shape), "rep_dim": int(rep.shape[-1]),
           "params": sva_bench.count(params), "nonpad_fraction": float(mask.mean())}
  n, dm, v = logits.shape[0] * logits.shape[1], rep.shape[-1], logits.shape[-1]
  facts["flops_head_fwd_bwd"] = 3 * 2 * n * dm * v

  fns = {
      "step": (run_step, ()),
      "value_grad": (jit(jax.value_and_grad(loss_fn)), (params, t_logits)),
      "forward": (jit(lambda p: forward(p)[0]), (params,)),
      "body": (jit(jax.value_and_grad(body_loss)), (params, g_rep)),
      "head": (jit(jax.value_and_grad(head_loss, argnums=(0, 1))),
               (rep.reshape(n, dm), emb, t_logits)),
      "head_fwd": (jit(head_loss), (rep.reshape(n, dm), emb, t_logits)),
      "logits_mm": (jit(lambda r, e: r @ e.T), (rep.reshape(n, dm), emb)),
      "loss_grad": (jit(jax.value_and_grad(objective)), (logits, t_logits)),
      "accuracy": (jit(lambda lg: losses.masked_mean(
          (jnp.argmax(lg, -1) == labels).astype(jnp.float32), mask)), (logits,)),
      "adam": (jit(lambda g, s, p: optax.apply_updates(p, tx.update(g, s, p)[0])),
               (params, state.opt_state, params)),
  }
  if t_model is not None:
    fns["teacher"] = (jit(teacher_apply), (t_vars, inputs, key))
  else:
    labels_n, mask_n = labels.reshape(n), mask.reshape(n)

    def head_and_acc(r, e):
      logits = r @ e.T
      loss = objective(logits.reshape(labels.shape + (v,)), None)
      acc = losses.masked_mean((jnp.argmax(logits, -1) == labels_n).astype(jnp.float32), mask_n)
      return loss, acc
    fns["head+accuracy"] = (jit(jax.value_and_grad(head_and_acc, argnums=(0, 1), has_aux=True)),
                            (rep.reshape(n, dm), emb))
    if args.fused_head:
      def fused(r, e):
        loss, argmax = chunked_ce_head(r, e, labels_n, mask_n, args.chunk)
        return loss, losses.masked_mean((argmax == labels_n).astype(jnp.float32), mask_n)
      fused_vg = jit(jax.value_and_grad(fused, argnums=(0, 1), has_aux=True))
      fns[f"fused_head({args.chunk})+accuracy"] = (fused_vg, (rep.reshape(n, dm), emb))
      # Same maths: loss, accuracy and gradients agree with the unfused head.
      (l0, a0), g0 = fns["head+accuracy"][0](rep.reshape(n, dm), emb)
      (l1, a1), g1 = fused_vg(rep.reshape(n, dm), emb)
      facts["fused_vs_head"] = {
          "loss": [float(l0), float(l1)], "accuracy": [float(a0), float(a1)],
          "max_rel_grad_diff": [float(jnp.abs(a - b).max() / jnp.abs(a).max())
                                for a, b in zip(g0, g1)]}

  if args.packed == "trainer":
    cap = args.cap or -(-n // 2 // 64) * 64  # Half the positions, a multiple of 64.
    if int(mask.sum()) > cap:
      raise SystemExit(f"--cap {cap} is below this batch's {int(mask.sum())} targets.")
    packed = jax.jit(train.make_train_step(model, tx, task, config, teacher_apply, cap),
                     donate_argnums=(0, 3), **common.jit_kwargs(args))
    pbox = {"state": jax.tree.map(jnp.copy, state), "metrics": train.zero_metrics()}

    def run_packed():
      pbox["state"], pbox["metrics"] = packed(pbox["state"], batch, t_vars, pbox["metrics"])
      jax.block_until_ready(pbox["metrics"])
    fns[f"packed_step({cap} rows)"] = (run_packed, ())
    # Same maths: one step of each from the same state (same dropout keys).
    s0, m0 = step(jax.tree.map(jnp.copy, state), batch, t_vars, train.zero_metrics())
    s1, m1 = packed(jax.tree.map(jnp.copy, state), batch, t_vars, train.zero_metrics())
    rel = lambda a, b: float(jnp.abs(a - b).max() / jnp.maximum(jnp.abs(a).max(), 1e-30))
    facts["packed_vs_trainer"] = {
        "metrics": {k: [float(m0[k]), float(m1[k])] for k in m0},
        # Adam's first moment after one step is (1 - b1) x the gradient (the warm-up's lr is 0
        # at step 0, so the parameters themselves do not move).
        "max_rel_grad_diff": max(
            rel(a, b) for a, b in zip(jax.tree.leaves(s0.opt_state),
                                      jax.tree.leaves(s1.opt_state)) if a.ndim)}

  if args.pieces:
    keep = set(args.pieces.split(",")) | {"step"}
    fns = {k: v for k, v in fns.items() if k in keep or k.split("(")[0] in keep}
  runs = {}
  for name, (f, xs) in fns.items():
    if not xs:
      runs[name] = f
    else:
      runs[name] = lambda f=f, xs=xs: jax.block_until_ready(f(*xs))
    runs[name]()  # Compile and warm up.
  return runs, facts


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=64, steps=1, rounds=3)
  sva_bench.add_flags(p, "lm_lstm")
  p.add_argument("--fused_head", action="store_true",
                 help="Also time the chunked output-layer prototype (plain LMs only).")
  p.add_argument("--chunk", type=int, default=256, help="Rows per chunk of --fused_head.")
  p.add_argument("--cap", type=int, default=0,
                 help="Rows of --packed's output layer (packed_rows); 0 = half the positions (a "
                      "multiple of 64). A batch with more targets would lose its last ones: "
                      "the trainer sizes the rows by train.packed_target_rows.")
  p.add_argument("--pieces", default="",
                 help="Comma-separated pieces to time (default all); 'step' is always timed.")
  args = p.parse_args()
  common.setup(args)
  for setup in sva_bench.parse_setups(args):
    if sva_bench.SETUPS[setup][0] != "lm":
      raise SystemExit(f"{setup}: this profile is for the language models.")
    runs, facts = pieces(args, setup)
    cpu = {}
    times = common.time_interleaved(runs, args.rounds, cpu)
    ms = {k: common.median(v) * 1e3 for k, v in times.items()}
    cpu_ms = {k: common.median(v) * 1e3 for k, v in cpu.items()}
    print(f"\n== {setup}, size={args.size}: batch {args.batch_size}, logits {facts['logits_shape']}"
          f", {facts['params']:,} params, {args.threads} thread(s), median of {args.rounds} "
          f"rounds; load average {common.load():.2f}")
    print(f"  XLA cost analysis of the step: {facts['flops_step'] / 1e9:.1f} GFLOP, "
          f"{facts['bytes_step'] / 1e9:.2f} GB accessed; the output layer's matmuls (fwd + 2 "
          f"bwd) {facts['flops_head_fwd_bwd'] / 1e9:.1f} GFLOP; non-pad targets "
          f"{100 * facts['nonpad_fraction']:.0f} %")
    print(f"  {'piece':28s} {'wall ms':>9s}  {'CPU ms':>9s}  % of the step (CPU)")
    for k, v in ms.items():
      print(f"  {k:28s} {v:9.1f}  {cpu_ms[k]:9.1f}  {100 * cpu_ms[k] / cpu_ms['step']:5.1f} %"
            f"   (wall rounds {', '.join(f'{1e3 * t:.0f}' for t in times[k])})")
    steps_epoch = sva_bench.OFFLINE_TRAIN // args.batch_size
    for k in ms:
      if k == "step" or k.startswith("packed_step"):
        print(f"  one offline-corpus epoch ({steps_epoch} steps) of {k}: "
              f"{steps_epoch * ms[k] / 1e3:.0f} s wall, {steps_epoch * cpu_ms[k] / 1e3:.0f} CPU s")
    if "packed_vs_trainer" in facts:
      print(f"  packed_vs_trainer: {facts['packed_vs_trainer']}")
    if "fused_vs_head" in facts:
      print(f"  fused vs unfused output layer: {facts['fused_vs_head']}")
    common.report(f"profile_{setup}_{args.size}",
                  {k: {"examples_per_s": args.batch_size / (v / 1e3), "step_ms": v,
                       "cpu_ms": cpu_ms[k]} for k, v in ms.items()},
                  args, {"facts": facts, "size": args.size})


if __name__ == "__main__":
  main()
