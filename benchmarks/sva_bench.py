"""The subject-verb agreement train-step benchmark shared by bench_sva_lstm.py and
bench_sva_transformer.py.

JAX side: the project's own step, `train.make_train_step(model, tx, task, config, teacher_apply)`,
jitted with state donation as train.py does, built from the experiment's config file
(`configs/sva_cl.py` / `configs/sva_lm.py` with `student=...[,teacher=lstm][,size=cpu]`): the
model, the optimiser with its schedule (Adam, Reflect's exponential decay with warm-up), the L2
penalty on the config's `reg_leaves`, the distillation loss (T = 1, pure soft targets for the KD
students), and the teacher in the config's `distill.teacher_mode` ('train': dropout on, every step)
through `teacher.make_apply`. The task is the SVA task's own (`tasks.sva_cl_task` /
`tasks.sva_lm_task`, so its own `prepare`), built with the data loading stubbed out: no data is
read. Batches are made by hand with the trainer's shapes: [batch, max_len + 1 = 51] int32 token ids
in [4, vocab), right-padded with 0; classifier rows end in <eos> (id 3) with labels in {0, 1}; LM
rows start with <bos> (id 2), targets = the inputs shifted by one, ending in <eos>. Row lengths are
drawn around the offline corpus's means (classifier prefixes 12 tokens, LM sentences 20); the
step's cost does not depend on them (fixed shapes, masks). The vocabulary defaults to the offline
corpus's (9,768 ids = 9,764 words + 4 specials; Linzen's file gives 10,004).

PyTorch side: benchmarks/torch_models twins built from the Flax model's own fields
(`torch_models.twin`, parameter counts checked equal), eager, with the same maths per step:
Adam (same b1, b2, eps), the same L2 penalty on the same leaves (`torch_models.flax_leaf_names`),
the same loss (cross-entropy, masked to the non-pad targets for LMs; KD: soft-target
cross-entropy of a frozen teacher twin in train mode under no_grad) and the same accuracy metric.
One difference, negligible in cost: PyTorch uses a constant learning rate (config's peak), the
trainer its schedule (a few scalar ops per step).
"""
from __future__ import annotations

import contextlib
from typing import Callable

import common

# Vocabulary of the offline corpus (tasks.sva_*_task: len(vocab) = 9,764 words + 4 specials);
# Linzen's agr_50_mostcommon_10K.tsv gives 10,004.
OFFLINE_VOCAB = 9768
# Mean row length of the offline corpus's training split (classifier prefix + <eos>; LM sentence
# + <eos>): the hand-made rows are drawn uniformly around these.
MEAN_LENGTH = {"cl": 12, "lm": 20}
# Training examples of the offline corpus (both tasks use the same split) and steps per epoch.
OFFLINE_TRAIN = 19872

# name -> (task, student, teacher or None): the cells of configs/sva_cl.py and configs/sva_lm.py.
SETUPS = {
    "cl_lstm": ("cl", "lstm", None),
    "cl_transformer_seq": ("cl", "transformer_seq", None),
    "cl_ut_seq": ("cl", "ut_seq", None),
    "cl_transformer": ("cl", "transformer", None),
    "cl_lstm_to_transformer_seq": ("cl", "transformer_seq", "lstm"),
    "lm_lstm": ("lm", "lstm", None),
    "lm_transformer": ("lm", "transformer", None),
    "lm_lstm_to_transformer": ("lm", "transformer", "lstm"),
}
SIZES = ("cpu", "paper")


def config_spec(setup: str, size: str) -> str:
  task, student, teacher = SETUPS[setup]
  arg = f"student={student}" + (f",teacher={teacher}" if teacher else "") + (
      ",size=cpu" if size == "cpu" else "")
  return f"configs/sva_{task}.py:{arg}"


def add_flags(p, default_setups: str) -> None:
  """The SVA flags, on top of common.base_parser's."""
  p.add_argument("--setups", default=default_setups,
                 help=f"Comma-separated, from {', '.join(SETUPS)}.")
  p.add_argument("--size", choices=SIZES, default="cpu",
                 help="'cpu': the configs' size=cpu models (what runs on this machine); 'paper': "
                      "the paper's sizes (no size arg).")
  p.add_argument("--length", type=int, default=0,
                 help="Padded width; 0 = the config's data.max_len + 1 (51), the trainer's.")
  p.add_argument("--vocab", type=int, default=OFFLINE_VOCAB,
                 help="Vocabulary size (default: the offline corpus's; Linzen's file: 10004).")
  p.add_argument("--unroll", type=int, default=1,
                 help="LSTM lax.scan unroll (speed only; the configs leave it at 1).")
  p.add_argument("--warmup_rounds", type=int, default=1,
                 help="Untimed interleaved rounds before the timed ones (the shared heap grows "
                      "to its steady size; see page_faults_per_round in the JSON).")
  p.add_argument("--packed", choices=("trainer", "off"), default="trainer",
                 help="LM setups. 'trainer': the output layer on the target positions only, as the "
                      "trainer runs it (train.make_train_step's packed_rows = the most targets of "
                      "100 benchmark batches, rounded up to 64, as train.packed_target_rows does "
                      "over a run); 'off': on every position (the trainer before 2026-12-05).")
  p.add_argument("--fused_lstm", action="store_true",
                 help="Also time the LSTM setups against torch.nn.LSTM (no recurrent dropout, "
                      "no masking: NOT the same maths, a lower bound for PyTorch).")


def parse_setups(args) -> list[str]:
  names = [s for s in args.setups.split(",") if s]
  bad = sorted(set(names) - set(SETUPS))
  if bad:
    raise SystemExit(f"--setups: unknown {bad}; choose from {', '.join(SETUPS)}.")
  return names


def load_config(setup: str, size: str):
  from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top
  return config_lib.load_config_file(str(common.REPO / config_spec(setup, size)))


def width(args, config) -> int:
  return args.length or config.data.max_len + 1


def make_batch(task: str, batch_size: int, length: int, vocab: int, seed: int = 0) -> dict:
  """A batch with the trainer's keys, shapes and dtypes (numpy int32)."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  mean = min(MEAN_LENGTH[task], length - 1)
  lengths = rng.integers(2, 2 * mean - 1, batch_size).clip(2, length - 1)
  words = rng.integers(4, vocab, (batch_size, length)).astype(np.int32)
  pos = np.arange(length)[None, :]
  if task == "cl":  # Prefix (lengths - 1 words), then <eos>; pad 0.
    inputs = np.where(pos < lengths[:, None] - 1, words, 0).astype(np.int32)
    inputs[np.arange(batch_size), lengths - 1] = 3
    return {"inputs": inputs, "labels": rng.integers(0, 2, batch_size).astype(np.int32)}
  # LM: inputs <bos> w_1..w_n, targets w_1..w_n <eos> (n + 1 = lengths positions).
  targets = np.where(pos < lengths[:, None] - 1, words, 0).astype(np.int32)
  targets[np.arange(batch_size), lengths - 1] = 3
  inputs = np.zeros_like(targets)
  inputs[:, 0] = 2
  inputs[:, 1:] = np.where(pos[:, 1:] < lengths[:, None], targets[:, :-1], 0)
  return {"inputs": inputs, "targets": targets}


@contextlib.contextmanager
def _no_data(vocab: int):
  """tasks._sva_splits stubbed: the SVA task is built without reading a corpus (an empty training
  split, no test sets, a vocabulary of `vocab` ids: the task reads only its length)."""
  from inductive_kd import tasks  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  real = tasks._sva_splits  # pylint: disable=protected-access
  train = {"inputs": np.zeros((0, 2), np.int32), "label": np.zeros((0,), np.int32),
           "targets": np.zeros((0, 2), np.int32)}

  def stub(config, name):  # pylint: disable=unused-argument
    return dict(train), {}, range(vocab)

  tasks._sva_splits = stub  # pylint: disable=protected-access
  try:
    yield
  finally:
    tasks._sva_splits = real  # pylint: disable=protected-access


def step_task(config, vocab: int):
  """The SVA task as the train step sees it: tasks.sva_cl_task / sva_lm_task themselves (their
  `prepare`, `num_classes`, `model_kwargs`), with no data loaded."""
  from inductive_kd import tasks  # pylint: disable=g-import-not-at-top
  with _no_data(vocab):
    return tasks.create(config)


def build_models(config, task, unroll: int = 1):
  """(student, teacher or None) Flax models, as train.py / teacher.py create them."""
  from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top
  from inductive_kd import models  # pylint: disable=g-import-not-at-top

  def create(c):
    kwargs = {**c.model, **task.model_kwargs}
    if "lstm" in kwargs["name"]:
      kwargs["unroll"] = unroll
    return models.create(**kwargs)

  teacher = None
  if config.distill.distill_rate > 0:
    teacher = create(config_lib.load_config_file(str(common.REPO / config.teacher.config)))
  return create(config), teacher


def count(tree) -> int:
  import jax  # pylint: disable=g-import-not-at-top
  return int(sum(x.size for x in jax.tree.leaves(tree)))


def penalised_count(params, leaf_names) -> int:
  """Number of parameter values losses.l1_l2_penalty covers."""
  import jax  # pylint: disable=g-import-not-at-top
  return int(sum(leaf.size for path, leaf in jax.tree_util.tree_leaves_with_path(params)
                 if getattr(path[-1], "key", None) in leaf_names))


def jax_runner(args, setup: str, steps: int, info: dict) -> Callable:
  """run() does `steps` trainer steps of `setup` and blocks on the result; fills `info`."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from inductive_kd import optim, train  # pylint: disable=g-import-not-at-top
  from inductive_kd import teacher as teacher_lib  # pylint: disable=g-import-not-at-top

  config = load_config(setup, args.size)
  task = step_task(config, args.vocab)
  model, t_model = build_models(config, task, args.unroll)
  batch = jax.tree.map(jnp.asarray, make_batch(SETUPS[setup][0], args.batch_size,
                                               width(args, config), args.vocab))
  sample = task.prepare(batch)[0][:2]
  tx = optim.make_optimizer(config.optim)
  teacher_apply, teacher_vars = None, {}
  if t_model is not None:
    t_state = train.create_train_state(t_model, tx, sample, 1)
    teacher_vars = {"params": t_state.params, "batch_stats": t_state.batch_stats}
    teacher_apply = teacher_lib.make_apply(t_model, config.distill.teacher_mode)
  packed_rows = 0
  if config.data.name == "sva_lm" and args.packed == "trainer":
    most = max(int((make_batch("lm", args.batch_size, width(args, config), args.vocab, seed=s)
                    ["targets"] != 0).sum()) for s in range(100))
    packed_rows = min(-(-most // 64) * 64, args.batch_size * width(args, config))
  step = jax.jit(train.make_train_step(model, tx, task, config, teacher_apply, packed_rows),
                 donate_argnums=(0, 3), **common.jit_kwargs(args))
  state = train.create_train_state(model, tx, sample, config.seed)
  info.update(config=config_spec(setup, args.size), model=dict(config.model),
              params=count(state.params),
              teacher_params=count(teacher_vars.get("params", {})),
              l2=config.optim.l2, l1=config.optim.l1, reg_leaves=list(config.optim.reg_leaves),
              penalised=penalised_count(state.params, tuple(config.optim.reg_leaves))
              if (config.optim.l1 or config.optim.l2) else 0,
              schedule=config.optim.schedule, teacher_mode=config.distill.teacher_mode
              if t_model is not None else None, width=width(args, config),
              packed_rows=packed_rows)

  return common.trainer_runner(step, state, batch, teacher_vars, steps)


def torch_runner(args, setup: str, steps: int, info: dict, fused: bool = False) -> Callable:
  """The PyTorch twin of jax_runner's step (module docstring); checks the parameter counts."""
  torch = common.setup_torch(args.threads)
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  import torch_models  # pylint: disable=g-import-not-at-top

  config = load_config(setup, args.size)
  task = step_task(config, args.vocab)
  model, t_model = build_models(config, task)
  lm = config.data.name == "sva_lm"
  batch = {k: torch.from_numpy(v).long() for k, v in make_batch(
      SETUPS[setup][0], args.batch_size, width(args, config), args.vocab).items()}
  labels = batch["targets"] if lm else batch["labels"]
  mask = (batch["targets"] != 0).float() if lm else None
  net = torch_models.twin(model, fused=fused).train()
  if not fused and torch_models.num_params(net) != info["params"]:
    raise AssertionError(f"{setup}: PyTorch twin has {torch_models.num_params(net)} parameters, "
                         f"the Flax model {info['params']}.")
  teacher = None
  if t_model is not None:
    teacher = torch_models.twin(t_model).train(config.distill.teacher_mode == "train")
    for q in teacher.parameters():
      q.requires_grad_(False)
    if sum(q.numel() for q in teacher.parameters()) != info["teacher_params"]:
      raise AssertionError(f"{setup}: the teacher twin's parameter count differs from the Flax "
                           "teacher's.")
  o, d = config.optim, config.distill
  leaves = set(o.reg_leaves)
  penalised = [p for leaf, p in torch_models.flax_leaf_names(net) if leaf in leaves]
  if (o.l1 or o.l2) and not fused and sum(p.numel() for p in penalised) != info["penalised"]:
    raise AssertionError(f"{setup}: the L2 penalty covers {sum(p.numel() for p in penalised)} "
                         f"values in PyTorch, {info['penalised']} in the trainer.")
  opt = torch.optim.Adam(net.parameters(), lr=o.learning_rate, betas=(o.b1, o.b2), eps=o.eps)
  temp = d.temperature
  scale = {"inverse_t2": 1.0 / temp ** 2, "t2": temp ** 2, "none": 1.0}[d.scale]

  def masked_mean(x):
    return x.mean() if mask is None else (x * mask).sum() / mask.sum().clamp(min=1.0)

  def step():
    logits, _ = net(batch["inputs"])
    per = torch.zeros(logits.shape[:-1])
    if d.gold_rate:
      per = per + d.gold_rate * F.cross_entropy(logits.flatten(0, -2), labels.flatten(),
                                                reduction="none").view(labels.shape)
    if teacher is not None and d.distill_rate:
      with torch.no_grad():
        t_logits, _ = teacher(batch["inputs"])
        soft = F.softmax(t_logits / temp, -1)
      per = per + d.distill_rate * scale * -(soft * F.log_softmax(logits / temp, -1)).sum(-1)
    loss = masked_mean(per)
    if o.l1:
      loss = loss + o.l1 * sum(p.abs().sum() for p in penalised)
    if o.l2:
      loss = loss + o.l2 * sum((p * p).sum() for p in penalised)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
      return masked_mean((logits.argmax(-1) == labels).float())

  def run():
    for _ in range(steps):
      step()

  run()
  return run


def label(setup: str) -> str:
  task, student, teacher = SETUPS[setup]
  return f"{task} " + (f"kd({teacher}->{student})" if teacher else student)


def run_benchmark(name: str, args, steps: dict[str, int]) -> dict:
  """Times every setup of --setups in both frameworks, interleaved; prints ratios, steps/s and
  the time of one epoch of the offline corpus."""
  setups = parse_setups(args)
  runners, infos, same, of = {}, {}, {}, {}
  for s in setups:
    infos[s], lab = {}, label(s)
    runners[f"jax {lab}"] = jax_runner(args, s, steps[s], infos[s])
    same[lab], of[f"jax {lab}"] = True, s
    if not args.no_torch:
      runners[f"torch {lab}"] = torch_runner(args, s, steps[s], infos[s])
      of[f"torch {lab}"] = s
      if args.fused_lstm and SETUPS[s][1] == "lstm":
        runners[f"torch {lab} vs nn.LSTM"] = torch_runner(args, s, steps[s], infos[s], fused=True)
        same[f"{lab} vs nn.LSTM"], of[f"torch {lab} vs nn.LSTM"] = False, s
  # Untimed interleaved rounds first: the two frameworks share the process's heap, and until it
  # has grown to hold both steps' buffers, a step that follows the other framework's page-faults
  # memory in (paper-size Transformer LM: ~250k faults, +3 s on the JAX step's first call after a
  # PyTorch step). Each round's faults are in the JSON (page_faults_per_round).
  common.time_interleaved(runners, args.warmup_rounds)
  cpu, faults = {}, {}
  times = common.time_interleaved(runners, args.rounds, cpu, faults)
  results, epoch_steps = {}, OFFLINE_TRAIN // args.batch_size
  for key, ts in times.items():
    s = of[key]
    r = common.summarize(ts, steps[s], args.batch_size)
    r["steps_per_s"] = 1e3 / r["step_ms"]
    r["epoch_s"] = epoch_steps * r["step_ms"] / 1e3
    # Process CPU time per step (all threads): the work, whatever share of the cores the process
    # had; with --threads=1 it is the wall time the step takes on an idle core.
    r["cpu_ms"] = common.median(cpu[key]) / steps[s] * 1e3
    r["cpu_epoch_s"] = epoch_steps * r["cpu_ms"] / 1e3
    r["steps_per_round"] = steps[s]
    r["page_faults_per_round"] = faults[key]
    results[key] = r
  for lab in [l for l in same if l.endswith(" vs nn.LSTM")]:  # The same JAX step.
    results[f"jax {lab}"] = results[f"jax {lab[:-len(' vs nn.LSTM')]}"]
  ratios = {lab: results[f"jax {lab}"]["examples_per_s"] / results[f"torch {lab}"]["examples_per_s"]
            for lab in same if f"torch {lab}" in results}
  cpu_ratios = {lab: results[f"torch {lab}"]["cpu_ms"] / results[f"jax {lab}"]["cpu_ms"]
                for lab in ratios}
  common.report(name, results, args, {
      "ratios_jax_over_torch": ratios, "cpu_time_ratios_jax_over_torch": cpu_ratios,
      "size": args.size, "vocab": args.vocab,
      "same_maths": same, "setups": {label(s): infos[s] for s in setups},
      "torch_learning_rate": "constant (the config's peak); the trainer uses its schedule"})
  for s in setups:
    i = infos[s]
    print(f"  {label(s):26s} {i['config']}: {i['params']:,} params"
          + (f", teacher {i['teacher_params']:,} ({i['teacher_mode']} mode)" if i["teacher_mode"]
             else "")
          + (f", l2 {i['l2']:g} on {i['penalised']:,} values" if i["l2"] else ", no l2"))
  for key, r in results.items():
    print(f"  {key:34s} {r['steps_per_s']:7.2f} steps/s, {r['cpu_ms']:8.1f} CPU ms/step; one "
          f"offline-corpus epoch ({epoch_steps} steps) {r['epoch_s']:7.1f} s "
          f"({r['cpu_epoch_s']:.1f} CPU s)")
  for lab, v in ratios.items():
    note = "" if same[lab] else "  (PyTorch twin is NOT the same maths: lower bound)"
    print(f"  JAX / PyTorch, {lab:34s} {v:5.2f}x wall, {cpu_ratios[lab]:5.2f}x CPU time{note}")
  return results
