"""The one training loop: TrainState, train_step, eval_step, train_and_evaluate.

Every scenario and setup (no distillation, self-distillation, distillation from another
architecture) runs through `train_and_evaluate`; they differ only by config. The step is one
`jax.jit` over a data-parallel mesh (batch sharded, state replicated, state donated); the host only
gathers the next batch's rows and never waits for the device except at log, eval and checkpoint
boundaries.
"""
from __future__ import annotations

import collections
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from clu import metric_writers

from inductive_kd import checkpoint
from inductive_kd.analysis import trajectories
from inductive_kd import config as config_lib
from inductive_kd import losses, models, optim, parallel, runtime, tasks, teacher as teacher_lib
from inductive_kd import progress as progress_lib


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss); the message says what to change."""


@flax.struct.dataclass
class TrainState:
  step: jax.Array
  params: Any
  batch_stats: Any
  opt_state: Any
  rng: jax.Array               # Dropout key of the run; step keys are fold_in(rng, step).
  first_nonfinite: jax.Array   # -1, or the first step whose loss was not finite.


def create_train_state(model, tx, sample_inputs, seed: int) -> TrainState:
  init_key, dropout_key = jax.random.split(jax.random.PRNGKey(seed))
  variables = model.init({"params": init_key, "dropout": init_key}, sample_inputs, train=False)
  params = variables["params"]
  return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                    batch_stats=variables.get("batch_stats", {}), opt_state=tx.init(params),
                    rng=dropout_key, first_nonfinite=-jnp.ones((), jnp.int32))


def zero_metrics() -> dict:
  return {k: jnp.zeros((), jnp.float32) for k in ("loss", "objective", "accuracy", "count")}


def make_train_step(model, tx, task: tasks.Task, config, teacher_apply=None):
  """Builds train_step(state, batch, teacher_variables, metrics) -> (state, metrics)."""
  d, o = config.distill, config.optim

  def train_step(state: TrainState, batch, teacher_variables, metrics):
    inputs, labels, mask = task.prepare(batch)
    step_key = jax.random.fold_in(state.rng, state.step)
    teacher_logits = batch.get("teacher_logits")  # Present when the teacher's logits are cached.
    if teacher_logits is None and teacher_apply is not None:
      teacher_logits = teacher_apply(teacher_variables, inputs, jax.random.fold_in(step_key, 1))

    def loss_fn(params):
      (logits, _), updates = model.apply(
          {"params": params, "batch_stats": state.batch_stats}, inputs, train=True,
          rngs={"dropout": step_key}, mutable=["batch_stats"])
      objective = losses.distillation_loss(
          logits, teacher_logits, labels, temperature=d.temperature, gold_rate=d.gold_rate,
          distill_rate=d.distill_rate, scale=d.scale, mask=mask)
      penalty = losses.l1_l2_penalty(params, l1=o.l1, l2=o.l2, leaf_names=tuple(o.reg_leaves))
      return objective + penalty, (logits, updates.get("batch_stats", {}), objective)

    (loss, (logits, batch_stats, objective)), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    bad = (state.first_nonfinite < 0) & ~jnp.isfinite(loss)
    state = state.replace(step=state.step + 1, params=params, batch_stats=batch_stats,
                          opt_state=opt_state,
                          first_nonfinite=jnp.where(bad, state.step, state.first_nonfinite))
    correct = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
    metrics = {
        "loss": metrics["loss"] + loss,
        "objective": metrics["objective"] + objective,
        "accuracy": metrics["accuracy"] + losses.masked_mean(correct, mask),
        "count": metrics["count"] + 1.0,
    }
    return state, metrics

  return train_step


def create_seed_states(model, tx, sample_inputs, seeds) -> TrainState:
  """The TrainStates of several seeds stacked on a leading axis; entry k equals
  create_train_state(..., seeds[k]) (jax.random is elementwise under vmap)."""
  return jax.vmap(lambda s: create_train_state(model, tx, sample_inputs, s))(jnp.asarray(seeds))


def vmap_seeds(train_step, num_seeds: int, batch_size: int):
  """One step for `num_seeds` stacked states (create_seed_states), each on its own batch.

  The global batch holds the seeds' batches interleaved: row i*K + k is seed k's i-th example.
  Splitting it to [B, K] keeps every device's rows on that device (the batch is sharded on its
  first axis), and vmap runs the K steps as one program; metrics come back per seed.
  """
  per_seed = jax.vmap(train_step, in_axes=(0, 1, None, 0))

  def step(state, batch, teacher_variables, metrics):
    batch = jax.tree.map(lambda x: x.reshape((batch_size, num_seeds) + x.shape[1:]), batch)
    return per_seed(state, batch, teacher_variables, metrics)

  return step


def make_eval_step(model, task: tasks.Task):
  def eval_step(variables, batch):
    inputs, _, _ = task.prepare(batch)
    logits, rep = model.apply(variables, inputs, train=False)
    return task.eval_outputs(logits, rep, batch)
  return eval_step


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
  """The data order of an epoch: a function of (seed, epoch) only, so a resumed run sees exactly
  the batches the uninterrupted run would have seen."""
  return np.random.default_rng([seed, epoch]).permutation(n)


def local_batch(arrays: dict, indices: np.ndarray) -> dict:
  return {k: v[indices] for k, v in arrays.items()}


def run_eval(eval_step, variables, arrays: dict, mesh, batch_size: int) -> dict:
  """Per-example outputs on a whole test set, as numpy; the last batch is padded and trimmed."""
  n = len(next(iter(arrays.values())))
  rows = parallel.process_slice(batch_size)
  outputs = []
  for start in range(0, n, batch_size):
    idx = np.arange(start, start + batch_size) % n  # Pad by wrapping; trimmed below.
    batch = parallel.global_batch(mesh, local_batch(arrays, idx[rows]))
    outputs.append(eval_step(variables, batch))
  outputs = parallel.to_host(outputs)
  return {k: np.concatenate([o[k] for o in outputs])[:n] for k in outputs[0]}


def evaluate_all(eval_step, variables, task, mesh, config) -> tuple[dict, dict]:
  """{set: metrics} (+ aggregates) and {set: per-example outputs}."""
  results, outputs = {}, {}
  for name, arrays in task.eval_sets.items():
    outputs[name] = run_eval(eval_step, variables, arrays, mesh, config.eval.batch_size)
    results[name] = task.summarize(outputs[name], arrays)
  results.update(task.aggregate(results))
  return results, outputs


def _flatten_results(results: dict, prefix: str = "eval") -> dict:
  flat = {}
  for name, metrics in results.items():
    for key, value in metrics.items():
      if isinstance(value, (int, float)) and key != "num_examples":
        flat[f"{prefix}/{name}/{key}"] = value
  return flat


def _write_json(path: Path, payload) -> None:
  tmp = path.with_suffix(".tmp")
  tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
  os.replace(tmp, path)


def num_train_steps(config, num_examples: int) -> tuple[int, int]:
  """(total steps, steps per epoch); an epoch is floor(N / batch) steps as in the official code."""
  steps_per_epoch = num_examples // config.train.batch_size
  if steps_per_epoch == 0:
    raise config_lib.ConfigError(f"config.train.batch_size={config.train.batch_size} exceeds the "
                                 f"{num_examples} training examples.")
  if config.train.num_steps:
    return int(config.train.num_steps), steps_per_epoch
  return int(math.ceil(config.train.num_epochs * steps_per_epoch)), steps_per_epoch


def seed_workdirs(config, workdir) -> list[Path]:
  """Where each seed's results go: the workdir itself for one seed; with config.num_seeds = K > 1,
  K subfolders seed<S> (S = config.seed + k) beside the shared checkpoints/ of the stacked state."""
  workdir = Path(workdir).absolute()
  if config.num_seeds == 1:
    return [workdir]
  return [workdir / f"seed{config.seed + k}" for k in range(config.num_seeds)]


def train_and_evaluate(config, workdir: str) -> dict | list[dict]:
  """Trains (or resumes, or just reports a finished run in) `workdir`; returns results.json.

  With config.num_seeds = K > 1, K models with seeds config.seed .. config.seed+K-1 train together
  in one compiled step (`jax.vmap` over their states): each has its own init, dropout keys and data
  order, exactly those of a single run with that seed, and they share the teacher. Returns the K
  results.json payloads, one per `seed_workdirs` folder.
  """
  workdir = Path(workdir).absolute()
  parallel.maybe_initialize_distributed(config.distributed)
  config_lib.validate(config, num_devices=jax.device_count())
  num_seeds = config.num_seeds
  seeds = [config.seed + k for k in range(num_seeds)]
  seed_dirs = seed_workdirs(config, workdir)
  if all((d / "results.json").exists() for d in seed_dirs):
    logging.info("%s is finished (results.json exists); nothing to do.", workdir)
    done = [json.loads((d / "results.json").read_text()) for d in seed_dirs]
    return done[0] if num_seeds == 1 else done
  for d in seed_dirs:
    d.mkdir(parents=True, exist_ok=True)
  main = parallel.is_main_process()

  task = tasks.create(config)
  model = models.create(**config.model, **task.model_kwargs)
  n_train = task.num_train
  total_steps, steps_per_epoch = num_train_steps(config, n_train)
  tx = optim.make_optimizer(config.optim, total_steps)
  schedule = optim.make_schedule(config.optim, total_steps)
  mesh = parallel.make_mesh()
  repl = parallel.replicated(mesh)
  batch_size = config.train.batch_size
  sample_inputs = task.prepare(local_batch(task.train, np.arange(2)))[0]
  jit_kwargs = runtime.step_jit_kwargs()

  teacher_apply, teacher_variables, teacher_workdir = None, {}, None
  if config.distill.distill_rate > 0:
    t_model, teacher_variables, teacher_workdir = teacher_lib.prepare(
        config, workdir, sample_inputs, train_and_evaluate, task.model_kwargs)
    teacher_apply = teacher_lib.make_apply(t_model, config.distill.teacher_mode)
    teacher_variables = jax.device_put(teacher_variables, repl)
    if teacher_lib.use_cache(config, task, total_steps):
      start = time.time()
      logits_step = jax.jit(lambda v, b: {"logits": teacher_apply(v, task.prepare(b)[0], None)},
                            out_shardings=parallel.batch_sharded(mesh), **jit_kwargs)
      cached = run_eval(logits_step, teacher_variables, task.train, mesh, config.eval.batch_size)
      task.train = {**task.train, "teacher_logits": cached["logits"]}
      teacher_apply, teacher_variables = None, {}
      logging.info("Cached the teacher's logits for %d training examples in %.1fs; the "
                   "distillation step now costs what a plain step costs.", n_train,
                   time.time() - start)

  step_fn = make_train_step(model, tx, task, config, teacher_apply)
  init_fn = lambda: create_train_state(model, tx, sample_inputs, config.seed)
  if num_seeds > 1:
    step_fn = vmap_seeds(step_fn, num_seeds, batch_size)
    init_fn = lambda: create_seed_states(model, tx, sample_inputs, seeds)

  state = jax.jit(init_fn, out_shardings=repl)()
  ckpt = checkpoint.manager(workdir, config.train.max_checkpoints)
  restored, start_step = checkpoint.restore_latest(ckpt, checkpoint.abstract(state, repl))
  if restored is not None:
    state = restored
    logging.info("Resumed from the checkpoint at step %d in %s.", start_step, workdir)

  train_step = jax.jit(step_fn, donate_argnums=0, out_shardings=repl, **jit_kwargs)
  eval_step = jax.jit(make_eval_step(model, task), out_shardings=parallel.batch_sharded(mesh),
                      **jit_kwargs)
  take_seed = jax.jit(lambda tree, k: jax.tree.map(lambda x: x[k], tree), out_shardings=repl)
  params_finite = jax.jit(lambda s: jnp.all(jnp.asarray(
      [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves((s.params, s.batch_stats))])))

  def seed_variables(k: int):
    variables = {"params": state.params, "batch_stats": state.batch_stats}
    return variables if num_seeds == 1 else take_seed(variables, k)

  writers = [metric_writers.create_default_writer(str(d), just_logging=not main)
             for d in seed_dirs]
  if start_step == 0:
    for writer in writers:
      writer.write_hparams({k: str(v) for k, v in config_lib.flatten(config).items()})
  logging.info("Training %s on %d examples: %d steps (%d per epoch), global batch %d = %d per "
               "device x %d devices (%d processes)%s.", config.model.name, n_train, total_steps,
               steps_per_epoch, batch_size, batch_size // jax.device_count(), jax.device_count(),
               jax.process_count(),
               f", {num_seeds} seeds {seeds} vmapped in one step" if num_seeds > 1 else "")
  eval_every = config.eval.every_steps or steps_per_epoch
  ckpt_every = config.train.checkpoint_every_steps or steps_per_epoch
  progress = progress_lib.ReportProgress(
      num_train_steps=total_steps, writer=writers[0], every_secs=config.train.progress_every_secs,
      every={"eval": eval_every, "checkpoint": ckpt_every, "probe": config.analysis.probe_every})

  def check_finite(step: int):
    bad = np.atleast_1d(np.asarray(state.first_nonfinite))
    if (bad >= 0).any() or not bool(params_finite(state)):
      where = f"the steps before {step}"
      if (bad >= 0).any():
        k = int(np.argmax(bad >= 0))
        where = f"step {int(bad[k])}" + (f" (seed {seeds[k]})" if num_seeds > 1 else "")
      last = ckpt.latest_step()
      kept = f"the last good checkpoint (step {last}) is kept in {ckpt.directory}" if last \
          is not None else "no checkpoint was written"
      raise TrainingError(f"Non-finite loss at {where}; training stopped and {kept}. Lower "
                          "config.optim.learning_rate or set config.optim.clip_global_norm.")

  def evaluate_and_log(step: int):
    per_seed = []
    for k, writer in enumerate(writers):
      results, outputs = evaluate_all(eval_step, seed_variables(k), task, mesh, config)
      writer.write_scalars(step, _flatten_results(results))
      logging.info("step %d eval%s: %s", step, f" (seed {seeds[k]})" if num_seeds > 1 else "",
                   "  ".join(f"{n} acc {v['accuracy']:.4f} loss {v['loss']:.4f}"
                             for n, v in results.items()))
      per_seed.append((results, outputs))
    return per_seed

  probe_every = config.analysis.probe_every
  if probe_every:
    if config.analysis.probe_set not in task.eval_sets:
      raise config_lib.ConfigError(
          f"config.analysis.probe_set={config.analysis.probe_set!r} is not a test set of this run "
          f"({', '.join(task.eval_sets)}).")
    probe_arrays = {k: v[:config.analysis.probe_size]
                    for k, v in task.eval_sets[config.analysis.probe_set].items()}

  def save_probes(step: int):
    """Outputs on the fixed probe set, for similarity-over-training and the MDS trajectories."""
    for k, d in enumerate(seed_dirs):
      out = run_eval(eval_step, seed_variables(k), probe_arrays, mesh, config.eval.batch_size)
      if main:
        trajectories.save_probe_outputs(trajectories.probe_dir(str(d)), step, out["probs"],
                                        out.get("rep"))

  def write_train_scalars(step: int, metrics):
    host = jax.tree.map(lambda v: np.atleast_1d(np.asarray(v)), metrics)
    lr = float(schedule(step - 1))
    for k, writer in enumerate(writers):
      count = max(float(host["count"][k]), 1.0)
      scalars = {k2: float(v[k]) / count for k2, v in host.items() if k2 != "count"}
      scalars["learning_rate"] = lr
      writer.write_scalars(step, {f"train/{n}": v for n, v in scalars.items()})

  def fresh_metrics():
    metrics = zero_metrics()
    if num_seeds > 1:
      metrics = jax.tree.map(lambda v: jnp.zeros((num_seeds,), v.dtype), metrics)
    return jax.device_put(metrics, repl)

  if probe_every and start_step == 0:
    save_probes(0)
  # Each process feeds its devices' rows of the global batch (num_seeds interleaved batches).
  rows = parallel.process_slice(batch_size * num_seeds)
  # The host may run at most two steps ahead of the device: it never stalls the device, and the
  # progress line's steps/s and ETA measure the device, not how fast Python can enqueue work.
  in_flight = collections.deque()
  metrics = fresh_metrics()
  train_start, timed_steps = time.time(), 0
  perm_epoch, perms = -1, None
  step = start_step
  per_seed = None
  while step < total_steps:
    epoch, i = divmod(step, steps_per_epoch)
    if epoch != perm_epoch:
      perms = [epoch_permutation(n_train, s, epoch) for s in seeds]
      perm_epoch = epoch
    idx = np.stack([p[i * batch_size:(i + 1) * batch_size] for p in perms], axis=1).reshape(-1)
    batch = parallel.global_batch(mesh, local_batch(task.train, idx[rows]))
    state, metrics = train_step(state, batch, teacher_variables, metrics)
    in_flight.append(metrics["count"])
    if len(in_flight) > 2:
      in_flight.popleft().block_until_ready()
    step += 1
    timed_steps += 1
    progress(step)
    if step % config.train.log_every_steps == 0 or step == total_steps:
      check_finite(step)
      write_train_scalars(step, metrics)
      metrics = fresh_metrics()
    do_eval = progress_lib.is_due(step, total_steps, eval_every)
    do_probe = progress_lib.is_due(step, total_steps, probe_every)
    do_ckpt = progress_lib.is_due(step, total_steps, ckpt_every)
    if do_eval or do_probe or do_ckpt:
      # Finish the queued train steps first, so that the pauses time only their own work.
      jax.block_until_ready(list(in_flight))
    if do_eval:
      with progress.pause("eval"):
        per_seed = evaluate_and_log(step)
    if do_probe:
      with progress.pause("probe"):
        save_probes(step)
    if do_ckpt:
      with progress.pause("checkpoint"):
        check_finite(step)
        checkpoint.save(ckpt, step, state)
  ckpt.wait_until_finished()
  wall = time.time() - train_start
  if per_seed is None:  # Resumed at the end: evaluate the restored state.
    per_seed = evaluate_and_log(step)

  payloads = []
  for k, (d, writer, (results, outputs)) in enumerate(zip(seed_dirs, writers, per_seed)):
    checkpoint.save_variables(d, seed_variables(k))
    payload = {
        "name": config.name, "model": config.model.name, "seed": seeds[k], "steps": step,
        "epochs": step / steps_per_epoch, "steps_per_epoch": steps_per_epoch,
        "batch_size": batch_size, "devices": jax.device_count(),
        "num_seeds_vmapped": num_seeds,
        "teacher_workdir": str(teacher_workdir) if teacher_workdir else None,
        "teacher_config": config.teacher.config or None,
        "teacher_mode": config.distill.teacher_mode if teacher_workdir else None,
        "train_wall_s": wall, "train_steps_per_s": timed_steps / wall if wall else None,
        "test": results, "config": json.loads(config.to_json_best_effort()),
    }
    if num_seeds > 1:
      payload["config"]["seed"] = seeds[k]
    if main:
      pred_dir = d / "predictions"
      pred_dir.mkdir(exist_ok=True)
      for name, out in outputs.items():
        arrays = task.eval_sets[name]
        labels = {"labels": arrays["labels"]} if "labels" in arrays else {}
        np.savez_compressed(pred_dir / f"{name}.npz", **labels, **out)
      _write_json(d / "results.json", payload)
    writer.flush()
    writer.close()
    logging.info("Done%s: %s", f" (seed {seeds[k]})" if num_seeds > 1 else "",
                 json.dumps(results))
    payloads.append(payload)
  return payloads[0] if num_seeds == 1 else payloads
