"""The one training loop: TrainState, train_step, eval_step, train_and_evaluate.

Every scenario and setup (no distillation, self-distillation, distillation from another
architecture) runs through `train_and_evaluate`; they differ only by config. The step is one
`jax.jit` over a data-parallel mesh (batch sharded, state replicated, state donated); the host only
gathers the next batch's rows and never waits for the device except at log, eval and checkpoint
boundaries.
"""
from __future__ import annotations

import collections
import contextlib
import json
import logging
import math
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
from inductive_kd import config as config_lib
from inductive_kd import evaluate, fileio, losses, models, optim, parallel, runtime, tasks
from inductive_kd import progress as progress_lib
from inductive_kd import results as results_lib
from inductive_kd import teacher as teacher_lib
from inductive_kd import workdir as workdir_lib


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


# The training scalars (TensorBoard train/<name>, averaged over the steps since the last log):
# total_loss = data_loss + penalty is what the optimiser minimises; data_loss is the distillation
# objective (plain cross-entropy without a teacher); penalty is the L1/L2 weight penalty.
METRICS = ("total_loss", "data_loss", "penalty", "accuracy", "count")


def zero_metrics() -> dict:
  return {k: jnp.zeros((), jnp.float32) for k in METRICS}


def make_train_step(model, tx, task: tasks.Task, config, teacher_logits=None,
                    packed_rows: int = 0):
  """Builds train_step(state, batch, teacher_input, metrics) -> (state, metrics).

  `teacher_logits(teacher_input, inputs, rng, rows)` gives the soft targets
  (teacher.Teacher.logits_fn); None for a run without a teacher, whose teacher_input is an empty
  dict.

  `packed_rows` > 0 (language models; `packed_target_rows` picks it): the output layer, the loss
  and the accuracy run on the batch's target positions only. Up to ~60 % of an LM batch's
  positions are padding, whose [V]-wide logits, softmax and gradients the unpacked step computes
  and then multiplies by 0. The positions where the task's mask is true are gathered
  (jnp.nonzero with the static size `packed_rows`; rows past the batch's targets are masked out),
  the model's output layer alone (`output_logits`) maps their representations to logits, and the
  teacher's soft targets are taken at the same positions. No batch of the run holds more targets
  than `packed_rows` (counted on the host in advance), so the objective, its gradients and the
  metrics are the unpacked step's up to float summation order (tests/test_train.py), at ~1.7x
  the speed at size=cpu (benchmarks/README.md).
  """
  d, o = config.distill, config.optim

  def train_step(state: TrainState, batch, teacher_input, metrics):
    inputs, labels, mask = task.prepare(batch)
    step_key = jax.random.fold_in(state.rng, state.step)
    rows = None
    if packed_rows:
      rows = jnp.nonzero(mask.reshape(-1), size=packed_rows, fill_value=0)[0]
      labels, mask = labels.reshape(-1)[rows], jnp.arange(packed_rows) < mask.sum()
    targets = None
    if teacher_logits is not None:
      targets = teacher_logits(teacher_input, inputs, jax.random.fold_in(step_key, 1), rows)

    def loss_fn(params):
      variables = {"params": params, "batch_stats": state.batch_stats}
      (logits, rep), updates = model.apply(variables, inputs, train=True,
                                           rngs={"dropout": step_key}, mutable=["batch_stats"])
      if packed_rows:  # The full-width logits above are then unused, and XLA drops them.
        logits = models.logits_at(model, variables, rep, rows)
      objective = losses.distillation_loss(
          logits, targets, labels, temperature=d.temperature, gold_rate=d.gold_rate,
          distill_rate=d.distill_rate, scale=d.scale, mask=mask)
      penalty = losses.l1_l2_penalty(params, l1=o.l1, l2=o.l2, leaf_names=tuple(o.reg_leaves))
      return objective + penalty, (logits, updates.get("batch_stats", {}), objective, penalty)

    (loss, (logits, batch_stats, objective, penalty)), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(state.params)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    bad = (state.first_nonfinite < 0) & ~jnp.isfinite(loss)
    state = state.replace(step=state.step + 1, params=params, batch_stats=batch_stats,
                          opt_state=opt_state,
                          first_nonfinite=jnp.where(bad, state.step, state.first_nonfinite))
    correct = (jnp.argmax(logits, -1) == labels).astype(jnp.float32)
    metrics = {
        "total_loss": metrics["total_loss"] + loss,
        "data_loss": metrics["data_loss"] + objective,
        "penalty": metrics["penalty"] + penalty,
        "accuracy": metrics["accuracy"] + losses.masked_mean(correct, mask),
        "count": metrics["count"] + 1.0,
    }
    return state, metrics

  return train_step


def packed_target_rows(task: tasks.Task, seeds, batch_size: int, total_steps: int,
                       steps_per_epoch: int) -> int:
  """make_train_step's `packed_rows` for a run: the most target positions any one seed's batch
  holds over the whole run, rounded up to a multiple of 64; 0 (no packing) for a task without
  per-position targets, or when packing would skip under a tenth of the positions.

  Exact, not a guess: a run's data order is a function of (seed, epoch) only (epoch_permutation),
  so every batch it will see is known before it starts. The offline corpus at batch 64 x 51
  positions: a 20-epoch run of one seed packs to 1,600 rows; over 4 seeds x 60 epochs (74,400
  batches) a batch holds 1,004-1,624 targets, 1,664 rows.
  """
  if task.target_mask is None:
    return 0
  mask = task.target_mask(task.train)
  counts = mask.sum(1)
  most = 0
  for seed in seeds:
    for epoch in range(-(-total_steps // steps_per_epoch)):
      steps = min(steps_per_epoch, total_steps - epoch * steps_per_epoch)
      perm = epoch_permutation(len(counts), seed, epoch)[:steps * batch_size]
      most = max(most, int(counts[perm].reshape(steps, batch_size).sum(1).max()))
  return rows_for(most, batch_size * mask.shape[1])


def rows_for(most: int, positions: int) -> int:
  """Packed rows for batches of `positions` positions holding at most `most` targets: `most`
  rounded up to a multiple of 64, or 0 (no packing) when that would skip under a tenth."""
  rows = min(-(-most // 64) * 64, positions)
  return rows if rows <= 0.9 * positions else 0


def create_seed_states(model, tx, sample_inputs, seeds) -> TrainState:
  """The TrainStates of several seeds stacked on a leading axis; entry k equals
  create_train_state(..., seeds[k]) (jax.random is elementwise under vmap)."""
  return jax.vmap(lambda s: create_train_state(model, tx, sample_inputs, s))(jnp.asarray(seeds))


def vmap_seeds(train_step, num_seeds: int, batch_size: int, teacher_per_example: bool = False):
  """One step for `num_seeds` stacked states (create_seed_states), each on its own batch.

  The global batch holds the seeds' batches interleaved: row i*K + k is seed k's i-th example.
  Splitting it to [B, K] keeps every device's rows on that device (the batch is sharded on its
  first axis), and vmap runs the K steps as one program; metrics come back per seed. The teacher's
  input is shared by the seeds (its variables), or split like the batch when it has one row per
  example (`teacher_per_example`: the cached logits).
  """
  per_seed = jax.vmap(train_step, in_axes=(0, 1, 1 if teacher_per_example else None, 0))
  split = lambda tree: jax.tree.map(
      lambda x: x.reshape((batch_size, num_seeds) + x.shape[1:]), tree)

  def step(state, batch, teacher_input, metrics):
    if teacher_per_example:
      teacher_input = split(teacher_input)
    return per_seed(state, split(batch), teacher_input, metrics)

  return step


def make_eval_step(model, task: tasks.Task, packed_rows: int = 0):
  """(variables, batch) -> per-example outputs. A language model's (task.eval_outputs_at) logits
  are computed from its representation at the target positions only when `packed_rows` > 0
  (evaluate.packed_eval_rows), as the packed train step does."""
  def eval_step(variables, batch):
    inputs, _, _ = task.prepare(batch)
    logits, rep = model.apply(variables, inputs, train=False)
    if task.eval_outputs_at is None:
      return task.eval_outputs(logits, rep, batch)
    # The model's own full-width logits are then unused, and XLA drops them.
    head = lambda x: model.apply(variables, x, method="output_logits")
    return task.eval_outputs_at(head, rep, batch, packed_rows)
  return eval_step


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
  """The data order of an epoch: a function of (seed, epoch) only, so a resumed run sees exactly
  the batches the uninterrupted run would have seen."""
  return np.random.default_rng([seed, epoch]).permutation(n)


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


def _compile(config, model, tx, task, teacher, mesh, sample_inputs, seeds, packed_rows: int,
             eval_rows: int = 0):
  """(jitted state init, jitted train step, jitted eval step) for one seed or K vmapped seeds."""
  repl, jit_kwargs = parallel.replicated(mesh), runtime.step_jit_kwargs()
  step_fn = make_train_step(model, tx, task, config, teacher and teacher.logits_fn(),
                            packed_rows)
  init_fn = lambda: create_train_state(model, tx, sample_inputs, config.seed)
  if len(seeds) > 1:
    step_fn = vmap_seeds(step_fn, len(seeds), config.train.batch_size,
                         teacher and teacher.per_example)
    init_fn = lambda: create_seed_states(model, tx, sample_inputs, seeds)
  train_step = jax.jit(step_fn, donate_argnums=0, out_shardings=repl, **jit_kwargs)
  eval_step = jax.jit(make_eval_step(model, task, eval_rows),
                      out_shardings=parallel.batch_sharded(mesh), **jit_kwargs)
  return jax.jit(init_fn, out_shardings=repl), train_step, eval_step


def _params_finite(state) -> jax.Array:
  return evaluate.all_finite((state.params, state.batch_stats))


def _seed_variables(state, k: int, num_seeds: int, take_seed):
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  return variables if num_seeds == 1 else take_seed(variables, k)


def _diverged(what: str, first_bad: int, ckpt) -> TrainingError:
  """The error that stops a run whose state of step `first_bad` is not finite (the loss of step
  s is computed from the state after s steps, the one a checkpoint of step s holds): names the
  newest checkpoint of an earlier, good state."""
  last = checkpoint.latest_saved_step(ckpt, before=first_bad)
  if last is not None:
    kept = f"the last good checkpoint (step {last}) is kept in {ckpt.directory}"
  elif checkpoint.latest_saved_step(ckpt) is None:
    kept = "no checkpoint was written"
  else:
    kept = (f"no checkpoint was written before step {first_bad} (those in {ckpt.directory} "
            "hold the diverged state)")
  return TrainingError(f"{what}; training stopped and {kept}. Lower config.optim.learning_rate "
                       "or set config.optim.clip_global_norm.")


def _check_finite(state, step: int, ckpt, seeds, params_finite) -> None:
  """Stops with a TrainingError naming the first non-finite step (and seed)."""
  bad = np.atleast_1d(np.asarray(state.first_nonfinite))
  if (bad >= 0).any() or not bool(params_finite(state)):
    where, first_bad = f"the steps before {step}", step
    if (bad >= 0).any():
      k = int(np.argmax(bad >= 0))
      where = f"step {int(bad[k])}" + (f" (seed {seeds[k]})" if len(seeds) > 1 else "")
      first_bad = int(bad[bad >= 0].min())
    raise _diverged(f"Non-finite loss at {where}", first_bad, ckpt)


@contextlib.contextmanager
def _finite_outputs(step: int, ckpt, seed=None):
  """Evaluations of the state of `step`: outputs with NaN or inf (parameters that are huge but
  still finite, which the loss of the next step would reveal) stop the run in one line naming the
  step, before any metric is computed from them."""
  try:
    yield
  except evaluate.NonFiniteOutputs as e:
    seed = f" (seed {seed})" if seed is not None else ""
    raise _diverged(f"Non-finite model outputs at step {step}{seed} ({e})", step, ckpt) from None


def _write_train_scalars(writers, step: int, metrics, schedule) -> None:
  host = jax.tree.map(lambda v: np.atleast_1d(np.asarray(v)), metrics)
  lr = float(schedule(step - 1))
  for k, writer in enumerate(writers):
    count = max(float(host["count"][k]), 1.0)
    scalars = {k2: float(v[k]) / count for k2, v in host.items() if k2 != "count"}
    scalars["learning_rate"] = lr
    writer.write_scalars(step, {f"train/{n}": v for n, v in scalars.items()})


def _fresh_metrics(num_seeds: int, repl):
  metrics = zero_metrics()
  if num_seeds > 1:
    metrics = jax.tree.map(lambda v: jnp.zeros((num_seeds,), v.dtype), metrics)
  return jax.device_put(metrics, repl)


def _evaluate_and_log(eval_step, variables_of, task, mesh, config, writers, seeds, ckpt,
                      step: int):
  """[(results, outputs)] per seed, written to TensorBoard; one log line for all seeds."""
  per_seed = []
  for k, writer in enumerate(writers):
    with _finite_outputs(step, ckpt, seeds[k] if len(seeds) > 1 else None):
      results, outputs = evaluate.evaluate_all(eval_step, variables_of(k), task, mesh, config)
    writer.write_scalars(step, evaluate.flatten_results(results))
    per_seed.append((results, outputs))
  logging.info("step %d eval: %s", step, eval_summary([r for r, _ in per_seed]))
  return per_seed


def eval_summary(per_seed: list[dict]) -> str:
  """'mnist acc 0.9812 loss 0.0601  scale acc ...': one seed's numbers, or with several seeds the
  mean and, for accuracy, the [min-max] range over seeds."""
  parts = []
  for name in per_seed[0]:
    acc = np.array([r[name]["accuracy"] for r in per_seed], np.float64)
    loss = np.mean([r[name]["loss"] for r in per_seed])
    spread = f" [{acc.min():.4f}-{acc.max():.4f}]" if len(acc) > 1 else ""
    parts.append(f"{name} acc {acc.mean():.4f}{spread} loss {loss:.4f}")
    if "perplexity" in per_seed[0][name]:  # Language models: accuracy is next-word accuracy.
      parts[-1] += (f" ppl {np.mean([r[name]['perplexity'] for r in per_seed]):.1f} agreement "
                    f"{np.mean([r[name]['mu_accuracy'] for r in per_seed]):.4f}")
  return "  ".join(parts) + (f"  ({len(per_seed)} seeds)" if len(per_seed) > 1 else "")


def _open_writers(config, seed_dirs, start_step: int, main: bool):
  """One TensorBoard writer per seed folder; hyperparameters once, at the start of a run."""
  writers = [metric_writers.create_default_writer(str(d), just_logging=not main)
             for d in seed_dirs]
  if start_step == 0:
    for writer in writers:
      writer.write_hparams({k: str(v) for k, v in config_lib.flatten(config).items()})
  return writers


def _write_config(workdir: Path, config) -> None:
  """<workdir>/config.json: the resolved config of this start (the console does not print it; it
  is also in TensorBoard's HParams tab). Rewritten on resume, where the run length may change."""
  flat = workdir_lib.flat_config(config)
  fileio.atomic_write_text(workdir / "config.json",
                           json.dumps(flat, indent=2, sort_keys=True) + "\n")


def _close(workdir, writer, payload: dict, outputs: dict, task, main: bool, seed) -> None:
  """Writes one seed's results (main process only) and closes its writer."""
  if main:
    results_lib.write(workdir, payload, outputs, task.eval_sets)
  writer.flush()
  writer.close()
  if main:
    try:
      results_lib.write_history(workdir)
    except Exception as e:  # pylint: disable=broad-except
      # The learning curves are a convenience; results.json is written and the run is finished.
      logging.warning("Could not write %s from the TensorBoard files: %s",
                      workdir / results_lib.HISTORY, e)
  logging.info("Done%s, %s: %s", f" (seed {seed})" if seed is not None else "",
               workdir / results_lib.FILE, eval_summary([payload["test"]]))


@contextlib.contextmanager
def _closed_on_error(writers):
  """The TensorBoard writers, closed if the block fails (on success, `_close` closes them): their
  background threads must not outlive the error. Closing flushes, which may fail too (a full
  disk); the block's error is the one reported."""
  try:
    yield writers
  except BaseException:
    for writer in writers:
      try:
        writer.close()
      except Exception as e:  # pylint: disable=broad-except
        logging.debug("Closing a metric writer failed too: %s", e)
    raise


def _stopped(signum: int, step: int, ckpt, writers) -> workdir_lib.Stopped:
  """What ends a run stopped by a signal, once the checkpoint of `step` and the scalars are out."""
  ckpt.wait_until_finished()
  for writer in writers:
    writer.flush()
  return workdir_lib.Stopped(signum, step, ckpt.directory)


def _next_phase(student_config, task, mesh) -> progress_lib.NextPhase:
  """The student phase that follows a teacher trained for it, timed before the teacher trains so
  that the teacher's progress line can give the whole command's ETA: the student's compiled step
  without its teacher, a few steps after the compiling one. A student step that runs the teacher
  (not cached) adds its forward pass, counted as a third of a teacher step (forward + backward)."""
  c = student_config
  total, _ = num_train_steps(c, task.num_train)
  model = models.create(**c.model, **task.model_kwargs)
  tx = optim.make_optimizer(c.optim, total)
  seeds = [c.seed + k for k in range(c.num_seeds)]
  idx = np.arange(c.train.batch_size * len(seeds)) % task.num_train
  batch = parallel.global_batch(mesh, evaluate.local_batch(task.train, idx[parallel.process_slice(
      len(idx))]))
  sample_inputs = task.prepare(evaluate.local_batch(task.train, np.arange(2)))[0]
  packed_rows = packed_target_rows(task, seeds, c.train.batch_size, total,
                                   num_train_steps(c, task.num_train)[1])
  init_fn, step, _ = _compile(c, model, tx, task, None, mesh, sample_inputs, seeds, packed_rows)
  state, metrics = jax.jit(init_fn)(), _fresh_metrics(len(seeds), parallel.replicated(mesh))
  state, metrics = step(state, batch, {}, metrics)  # Compiles.
  jax.block_until_ready(metrics)
  start, n = time.perf_counter(), 5
  for _ in range(n):
    state, metrics = step(state, batch, {}, metrics)
  jax.block_until_ready(metrics)
  cached = teacher_lib.use_cache(c, task, total)
  return progress_lib.NextPhase("student", total, (time.perf_counter() - start) / n,
                                share_of_this_step=0.0 if cached else 1.0 / 3.0)


def train_and_evaluate(config, workdir: str, *, _then=None) -> dict | list[dict]:
  """Trains (or resumes, or just reports a finished run in) `workdir`; returns results.json.

  With config.num_seeds = K > 1, K models with seeds config.seed .. config.seed+K-1 train together
  in one compiled step (`jax.vmap` over their states): each has its own init, dropout keys and data
  order, exactly those of a single run with that seed, and they share the teacher. Returns the K
  results.json payloads, one per `seed_workdirs` folder. A student whose teacher has not been
  trained trains it first, in the teacher's own workdir. The workdir is held for the whole call
  (workdir.claim: this process's lock, and a check that it holds this experiment); SIGTERM or
  SIGINT during training saves a checkpoint and raises workdir.Stopped.
  """
  workdir = Path(workdir).absolute()
  parallel.maybe_initialize_distributed(config.distributed)
  config_lib.validate(config, num_devices=jax.device_count())
  try:
    # `resources` (the checkpoint manager, the metric writers) are closed however the run ends,
    # before the error is reported: no background thread is left to fail at interpreter exit.
    with workdir_lib.claim(config, workdir, seed_workdirs(config, workdir)), \
        contextlib.ExitStack() as resources:
      return _train(config, workdir, resources, then=_then)
  except Exception as e:  # pylint: disable=broad-except
    no_space = workdir_lib.no_space_error(e, workdir)
    if no_space is None:
      raise
    logging.debug("The write that failed for lack of space: %r", e)
    raise no_space from None


def _train(config, workdir: Path, resources: contextlib.ExitStack, then=None) -> dict | list[dict]:
  """train_and_evaluate's work, in a workdir this process holds for this experiment; what needs
  closing goes on `resources`. `then` is the config of the student this run is the teacher of,
  when the same command trains it next."""
  num_seeds, seed_dirs = config.num_seeds, seed_workdirs(config, workdir)
  seeds = [config.seed + k for k in range(num_seeds)]
  if all(results_lib.is_finished(d) for d in seed_dirs):
    logging.info("%s is finished (results.json exists); nothing to do.", workdir)
    done = [results_lib.read(d) for d in seed_dirs]
    return done[0] if num_seeds == 1 else done
  teacher = teacher_lib.Teacher.of(config, workdir)
  phase = ""
  if teacher is not None and not teacher.is_trained():
    logging.info("No finished teacher in %s: training it with %s first.", teacher.workdir,
                 config.teacher.config)
    train_and_evaluate(teacher.config, teacher.workdir, _then=config)
    phase = "student, phase 2 of 2"
  for d in seed_dirs:
    d.mkdir(parents=True, exist_ok=True)
  main = parallel.is_main_process()

  task = tasks.create(config)
  model = models.create(**config.model, **task.model_kwargs)
  total_steps, steps_per_epoch = num_train_steps(config, task.num_train)
  tx = optim.make_optimizer(config.optim, total_steps)
  schedule = optim.make_schedule(config.optim, total_steps)
  mesh = parallel.make_mesh()
  repl = parallel.replicated(mesh)
  batch_size = config.train.batch_size
  sample_inputs = task.prepare(evaluate.local_batch(task.train, np.arange(2)))[0]
  if teacher is not None:
    teacher.load(sample_inputs, task, mesh, total_steps)

  packed_rows = packed_target_rows(task, seeds, batch_size, total_steps, steps_per_epoch)
  probes = evaluate.probe_arrays(task, config)
  eval_rows = evaluate.packed_eval_rows(
      task, list(task.eval_sets.values()) + ([probes] if probes else []),
      config.eval.batch_size, rows_for)
  if packed_rows or eval_rows:
    width = task.target_mask(task.train).shape[1]
    logging.info("Output layer packed to the target positions: %d rows per training batch "
                 "instead of %d, %d per evaluation batch instead of %d (0: not packed).",
                 packed_rows, batch_size * width, eval_rows, config.eval.batch_size * width)
  init_fn, train_step, eval_step = _compile(config, model, tx, task, teacher, mesh,
                                            sample_inputs, seeds, packed_rows, eval_rows)
  state = init_fn()
  ckpt = resources.enter_context(checkpoint.managed(workdir, config.train.max_checkpoints))
  restored, start_step = checkpoint.restore_latest(ckpt, checkpoint.abstract(state, repl))
  if restored is not None:
    state = restored
    logging.info("Resumed from the checkpoint at step %d in %s.", start_step, workdir)
  take_seed = jax.jit(lambda tree, k: jax.tree.map(lambda x: x[k], tree), out_shardings=repl)
  params_finite = jax.jit(_params_finite)
  variables_of = lambda k: _seed_variables(state, k, num_seeds, take_seed)
  evaluate_and_log = lambda step: _evaluate_and_log(eval_step, variables_of, task, mesh, config,
                                                    writers, seeds, ckpt, step)

  writers = resources.enter_context(_closed_on_error(_open_writers(config, seed_dirs, start_step,
                                                                   main)))
  if main:
    _write_config(workdir, config)
  logging.info("Training %s on %d examples: %d steps (%d per epoch), global batch %d = %d per "
               "device x %d devices (%d processes)%s.", config.model.name, task.num_train,
               total_steps, steps_per_epoch, batch_size, batch_size // jax.device_count(),
               jax.device_count(), jax.process_count(),
               f", {num_seeds} seeds {seeds} vmapped in one step" if num_seeds > 1 else "")
  eval_every = config.eval.every_steps or steps_per_epoch
  ckpt_every = config.train.checkpoint_every_steps or steps_per_epoch
  probe_every = config.analysis.probe_every
  next_phase = None
  if then is not None and start_step < total_steps:
    phase = "teacher, phase 1 of 2"
    next_phase = _next_phase(then, task, mesh)
  progress = progress_lib.ReportProgress(
      num_train_steps=total_steps, writer=writers[0], every_secs=config.train.progress_every_secs,
      every={"eval": eval_every, "checkpoint": ckpt_every, "probe": probe_every},
      phase=phase, next_phase=next_phase)

  def save_probes(step: int):
    for k, d in enumerate(seed_dirs):
      with _finite_outputs(step, ckpt, seeds[k] if num_seeds > 1 else None):
        evaluate.save_probes(eval_step, variables_of(k), probes, mesh, config.eval.batch_size, d,
                             step, write=main)

  if probe_every and start_step == 0:
    save_probes(0)
  # Each process feeds its devices' rows of the global batch (num_seeds interleaved batches).
  rows = parallel.process_slice(batch_size * num_seeds)
  # The host may run at most two steps ahead of the device: it never stalls the device, and the
  # progress line's steps/s and ETA measure the device, not how fast Python can enqueue work.
  in_flight = collections.deque()
  metrics = _fresh_metrics(num_seeds, repl)
  train_start, timed_steps = time.time(), 0
  perm_epoch, perms, per_seed, step = -1, None, None, start_step
  with workdir_lib.StopSignals() as signals:
    while step < total_steps:
      epoch, i = divmod(step, steps_per_epoch)
      if epoch != perm_epoch:
        perms = [epoch_permutation(task.num_train, s, epoch) for s in seeds]
        perm_epoch = epoch
      idx = np.stack([p[i * batch_size:(i + 1) * batch_size] for p in perms], axis=1).reshape(-1)
      batch = parallel.global_batch(mesh, evaluate.local_batch(task.train, idx[rows]))
      teacher_input = teacher.step_input(mesh, idx[rows]) if teacher else {}
      state, metrics = train_step(state, batch, teacher_input, metrics)
      in_flight.append(metrics["count"])
      if len(in_flight) > 2:
        in_flight.popleft().block_until_ready()
      step += 1
      timed_steps += 1
      progress(step)
      do_log = step % config.train.log_every_steps == 0 or step == total_steps
      stop = signals.requested(sync_point=do_log) if step < total_steps else None
      do_eval, do_probe, do_ckpt = (progress_lib.is_due(step, total_steps, every)
                                    for every in (eval_every, probe_every, ckpt_every))
      do_ckpt = do_ckpt or stop is not None
      if do_log or do_eval or do_probe or do_ckpt:
        # Nothing non-finite is logged, evaluated or saved. Waiting for the state also finishes
        # the queued train steps, so that the pauses below time only their own work.
        _check_finite(state, step, ckpt, seeds, params_finite)
      if do_log:
        _write_train_scalars(writers, step, metrics, schedule)
        metrics = _fresh_metrics(num_seeds, repl)
      if do_eval:
        with progress.pause("eval"):
          per_seed = evaluate_and_log(step)
      if do_probe:
        with progress.pause("probe"):
          save_probes(step)
      if do_ckpt:
        with progress.pause("checkpoint"):
          checkpoint.save(ckpt, step, state)
      if stop is not None:
        raise _stopped(stop, step, ckpt, writers)
  ckpt.wait_until_finished()
  wall = time.time() - train_start
  if per_seed is None:  # Resumed at the end: evaluate the restored state.
    per_seed = evaluate_and_log(step)

  payloads = []
  for k, (d, writer, (results, outputs)) in enumerate(zip(seed_dirs, writers, per_seed)):
    checkpoint.save_variables(d, variables_of(k))
    payloads.append(results_lib.payload(
        config, seed=seeds[k], step=step, steps_per_epoch=steps_per_epoch,
        devices=jax.device_count(), teacher=teacher, wall_s=wall, timed_steps=timed_steps,
        results=results))
    _close(d, writer, payloads[-1], outputs, task, main, seeds[k] if num_seeds > 1 else None)
  return payloads[0] if num_seeds == 1 else payloads
