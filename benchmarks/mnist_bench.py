"""The MNIST train-step benchmark shared by bench_mnist_cnn.py and bench_mnist_mlp.py.

JAX side: the project's own step, `train.make_train_step(model, tx, task, config, teacher_logits)`,
jitted with state donation as train.py does, from the experiment's config file (model,
optimiser, L1/L2, distillation loss, teacher mode). Batches are fixed random uint8 images (the
step's cost does not depend on pixel values); the task is built by hand so no data is loaded.

PyTorch side: benchmarks/torch_models twins, the same optimiser (Adam/RAdam, same lr and eps),
the same L1/L2 on the kernels, the same loss (CE, or soft-target CE at temperature T scaled by
1/T^2) and a teacher forward in the config's teacher mode, eager.
"""
from __future__ import annotations

from typing import Callable

import common

CONFIGS = {  # (student, teacher or None) -> config file.
    ("cnn", None): "configs/mnist_cnn.py", ("mlp", None): "configs/mnist_mlp.py",
    ("cnn", "cnn"): "configs/mnist_cnn_to_cnn.py", ("mlp", "cnn"): "configs/mnist_cnn_to_mlp.py",
    ("mlp", "mlp"): "configs/mnist_mlp_to_mlp.py", ("cnn", "mlp"): "configs/mnist_mlp_to_cnn.py",
    # The teacher-logit cache (eval-mode teacher, logits computed once): the step gets them.
    ("mlp", "cached"): "configs/mnist_cnn_to_mlp.py",
}


def label(student: str, teacher: str | None) -> str:
  if teacher == "cached":
    return f"kd(cnn->{student}, cached)"
  return "plain" if teacher is None else f"kd({teacher}->{student})"


def step_task():
  """The MNIST task as the train step sees it (input preparation only; no data is loaded)."""
  from inductive_kd import tasks  # pylint: disable=g-import-not-at-top
  return tasks.Task(name="mnist", num_classes=10, train={}, eval_sets={},
                    prepare=tasks.prepare_mnist,
                    eval_outputs=None, summarize=None)


def jax_runners(args, setups, steps: dict, model_overrides: dict | None = None
                ) -> dict[str, Callable]:
  """{'jax <setup>': run} where run() does steps[setup] train steps and blocks on the result."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top
  from inductive_kd import models, optim, train  # pylint: disable=g-import-not-at-top
  from inductive_kd import teacher as teacher_lib  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  batch = {"inputs": jnp.asarray(rng.integers(0, 256, (args.batch_size, 28, 28), np.uint8)),
           "labels": jnp.asarray(rng.integers(0, 10, args.batch_size).astype(np.int32))}
  task = step_task()
  sample = task.prepare(batch)[0][:2]
  cached_logits = {"logits": jnp.asarray(
      rng.normal(size=(args.batch_size, 10)).astype(np.float32))}

  def build(config, seed):
    kwargs = dict(config.model)
    kwargs.update((model_overrides or {}).get(kwargs["name"], {}))
    return models.create(**kwargs)

  runners = {}
  for student, teacher in setups:
    config = config_lib.load_config_file(str(common.REPO / CONFIGS[(student, teacher)]))
    model = build(config, config.seed)
    tx = optim.make_optimizer(config.optim)
    teacher_apply, teacher_vars = None, {}
    if teacher == "cached":  # The teacher's step input is then its logits for the batch's rows.
      teacher_apply, teacher_vars = teacher_lib.cached_logits, cached_logits
    elif teacher is not None:
      t_config = config_lib.load_config_file(str(common.REPO / config.teacher.config))
      t_model = build(t_config, 1)
      t_state = train.create_train_state(t_model, optim.make_optimizer(t_config.optim), sample, 1)
      teacher_vars = {"params": t_state.params, "batch_stats": t_state.batch_stats}
      teacher_apply = teacher_lib.make_apply(t_model, config.distill.teacher_mode)
    step = jax.jit(train.make_train_step(model, tx, task, config, teacher_apply),
                   donate_argnums=(0, 3), **common.jit_kwargs(args))
    runners[f"jax {label(student, teacher)}"] = common.trainer_runner(
        step, train.create_train_state(model, tx, sample, config.seed), batch, teacher_vars,
        steps[(student, teacher)])
  return runners


def torch_runners(args, setups, steps: dict) -> dict[str, Callable]:
  import numpy as np  # pylint: disable=g-import-not-at-top
  torch = common.setup_torch(args.threads)
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  import torch_models  # pylint: disable=g-import-not-at-top
  from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(0)
  x_u8 = torch.from_numpy(rng.integers(0, 256, (args.batch_size, 28, 28), np.uint8))
  y = torch.from_numpy(rng.integers(0, 10, args.batch_size)).long()
  cached_logits = torch.from_numpy(rng.normal(size=(args.batch_size, 10)).astype(np.float32))

  def make(name):
    if name == "cnn":
      return torch_models.VanillaCNN().to(memory_format=torch.channels_last).train()
    return torch_models.VanillaFF().train()

  def inputs(name):
    x = x_u8.float() / 255.0
    if name == "cnn":
      return x.unsqueeze(1).contiguous(memory_format=torch.channels_last)
    return x

  runners = {}
  for student, teacher in setups:
    c = config_lib.load_config_file(str(common.REPO / CONFIGS[(student, teacher)]))
    net = make(student)
    opt_cls = {"adam": torch.optim.Adam, "radam": torch.optim.RAdam}[c.optim.name]
    opt = opt_cls(net.parameters(), lr=c.optim.learning_rate, betas=(c.optim.b1, c.optim.b2),
                  eps=c.optim.eps)
    t_net = None
    if teacher is not None and teacher != "cached":
      t_net = make(teacher).train(c.distill.teacher_mode == "train")
      for q in t_net.parameters():
        q.requires_grad_(False)
    temp, scale = c.distill.temperature, 1.0 / c.distill.temperature ** 2

    def step(net=net, opt=opt, t_net=t_net, student=student, teacher=teacher, c=c, temp=temp,
             scale=scale):
      logits, _ = net(inputs(student))
      loss = 0.0
      if c.distill.gold_rate:
        loss = loss + c.distill.gold_rate * F.cross_entropy(logits, y)
      if teacher is not None:
        if t_net is None:  # Cached: the logits come with the batch.
          t_logits = cached_logits
        else:
          with torch.no_grad():
            t_logits, _ = t_net(inputs(teacher))
        soft = F.softmax(t_logits / temp, -1)
        loss = loss + c.distill.distill_rate * scale * -(
            soft * F.log_softmax(logits / temp, -1)).sum(-1).mean()
      kernels = net.kernels()
      if c.optim.l1:
        loss = loss + c.optim.l1 * sum(k.abs().sum() for k in kernels)
      if c.optim.l2:
        loss = loss + c.optim.l2 * sum((k * k).sum() for k in kernels)
      opt.zero_grad(set_to_none=True)
      loss.backward()
      opt.step()
      return (logits.argmax(-1) == y).float().mean()

    def run(step=step, n=steps[(student, teacher)]):
      for _ in range(n):
        step()

    run()
    runners[f"torch {label(student, teacher)}"] = run
  return runners


def run_benchmark(name: str, args, setups, flops_per_example: Callable | None = None,
                  model_overrides: dict | None = None, steps: dict | None = None) -> dict:
  """Times every (student, teacher) setup in both frameworks; steps: per-setup steps per round
  (default args.steps)."""
  steps = {s: (steps or {}).get(s, args.steps) for s in setups}
  runners = jax_runners(args, setups, steps, model_overrides)
  torch = None
  if not args.no_torch:
    runners.update(torch_runners(args, setups, steps))
    import torch  # pylint: disable=g-import-not-at-top
  times = common.time_interleaved(runners, args.rounds)
  roof = common.matmul_roofline(torch=torch) if flops_per_example else {}
  results = {}
  for key, ts in times.items():
    setup = next(s for s in setups if key.endswith(label(*s)))
    r = common.summarize(ts, steps[setup], args.batch_size)
    r["steps_per_round"] = steps[setup]
    if flops_per_example:
      r["gflops"] = r["examples_per_s"] * flops_per_example(*setup) / 1e9
      r["fraction_of_matmul"] = r["gflops"] / roof["jax"]
    results[key] = r
  ratios = {}
  for student, teacher in setups:
    lab = label(student, teacher)
    if f"torch {lab}" in results:
      ratios[lab] = (results[f"jax {lab}"]["examples_per_s"]
                     / results[f"torch {lab}"]["examples_per_s"])
  plain = [label(s, t) for s, t in setups if t is None]
  kd_vs_plain = {}
  for student, teacher in setups:
    if teacher is not None and plain:
      lab = label(student, teacher)
      for fw in ("jax", "torch"):
        if f"{fw} {lab}" in results:
          kd_vs_plain[f"{fw} {lab}"] = (results[f"{fw} {lab}"]["step_ms"]
                                        / results[f"{fw} {plain[0]}"]["step_ms"])
  common.report(name, results, args, {"ratios_jax_over_torch": ratios, "matmul_gflops": roof,
                                      "kd_step_time_over_plain": kd_vs_plain})
  for lab, v in ratios.items():
    print(f"  JAX / PyTorch, {lab:24s} {v:5.2f}x")
  for lab, v in kd_vs_plain.items():
    print(f"  KD step / plain step, {lab:28s} {v:5.2f}x the time")
  if flops_per_example:
    print(f"  2048^2 matmul: JAX {roof['jax']:.1f} GFLOP/s"
          + (f", PyTorch {roof['torch']:.1f} GFLOP/s" if "torch" in roof else ""))
    for key, r in results.items():
      print(f"  {key:34s} {r['gflops']:6.1f} GFLOP/s = {100 * r['fraction_of_matmul']:5.1f}% of "
            "the JAX matmul")
  return results
