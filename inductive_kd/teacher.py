"""The frozen teacher of a distillation run: where it lives, its mode, and its soft targets.

`Teacher` owns everything about the teacher: finding its workdir (or saying it must be trained
first), loading its variables, the teacher mode, the logit cache, and the function the student's
step calls for soft targets. train.py only asks it for those.

Teacher modes (config.distill.teacher_mode):
- 'train': what the official code did (REFLECT.md §3): the teacher is called with training=True, so
  dropout is on and BatchNorm normalises with the current batch's statistics while producing soft
  targets. Its moving statistics are not updated here (they are never used in this mode).
- 'eval': textbook knowledge distillation: dropout off, BatchNorm with its moving statistics.
Either way the teacher's variables are constants of the student's step: no gradient reaches them.

Each step the student's step receives the teacher's *step input* (`Teacher.step_input`): the
teacher's variables (the same device arrays every step), or, with the logit cache, the cached
logits of the batch's rows; `Teacher.logits_fn` turns it into soft targets inside the jitted step.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import jax
import numpy as np

from inductive_kd import checkpoint
from inductive_kd import config as config_lib
from inductive_kd import evaluate, models, parallel, runtime
from inductive_kd import results as results_lib
from inductive_kd import workdir as workdir_lib

MODES = ("train", "eval")               # config.distill.teacher_mode
CACHE_MODES = ("auto", "on", "off")     # config.distill.cache_teacher


def resolve_workdir(config, student_workdir: Path) -> Path:
  """Relative teacher workdirs live beside the student's (e.g. runs/mnist_cnn for runs/cnn_to_mlp),
  so one trained teacher serves every student and the plain baseline run *is* the teacher."""
  path = Path(config.teacher.workdir)
  return path if path.is_absolute() else Path(student_workdir).absolute().parent / path


def load_config(config):
  """The teacher's config, on the student's data.

  Soft targets must come from the same inputs (and vocabulary): the teacher sees the student's
  whole data config, command-line overrides included, so a teacher trained here for this student
  matches it. A teacher config of another scenario is refused.
  """
  try:
    teacher_config = config_lib.load_config_file(config.teacher.config)
  except config_lib.ConfigError as e:
    raise config_lib.ConfigError(f"config.teacher.config: {e}") from None
  if teacher_config.data.name != config.data.name:
    raise config_lib.ConfigError(
        f"config.teacher.config={config.teacher.config!r} is a {teacher_config.data.name!r} "
        f"experiment; the student is {config.data.name!r}.")
  with teacher_config.unlocked():
    teacher_config.data = config.data.copy_and_resolve_references()
  return teacher_config


def make_apply(model, mode: str):
  """(variables, inputs, dropout_rng, rows=None) -> teacher logits, in the given teacher mode.

  `rows` (indices into the flattened positions of a language model's [B, L] inputs): the logits
  at those positions only, [len(rows), V], from the model's output layer alone (`output_logits`)
  applied to its representation there, as the student's packed step needs them.
  """
  if mode not in MODES:
    raise ValueError(f"distill.teacher_mode must be one of {MODES}, got {mode!r}.")

  def apply(variables, inputs, rng, rows=None):
    variables = jax.lax.stop_gradient(variables)
    if mode == "eval":
      logits, rep = model.apply(variables, inputs, train=False)
    else:
      (logits, rep), _ = model.apply(variables, inputs, train=True, rngs={"dropout": rng},
                                     mutable=["batch_stats"])
    if rows is not None:
      logits = models.logits_at(model, variables, rep, rows)
    return jax.lax.stop_gradient(logits)

  return apply


def use_cache(config, task, total_steps: int | None = None) -> bool:
  """Whether to precompute the teacher's logits for the whole training set once.

  Valid only when soft targets are a fixed function of each training example: the teacher in
  'eval' mode (no dropout, moving BatchNorm statistics) and no random input augmentation (none in
  this project). 'auto' caches whenever that holds and the logits fit in memory (MNIST: 60k x 10
  floats; not a language model's [N, L, vocab]) and the run sees at least one epoch (shorter
  runs would spend more on the cache than they save); 'on' insists, with an error when invalid.
  """
  mode = config.distill.cache_teacher
  if mode == "off":
    return False
  reasons = []
  if config.distill.teacher_mode != "eval":
    reasons.append(f"distill.teacher_mode={config.distill.teacher_mode!r} (dropout and batch "
                   "statistics make every step's soft targets different; use 'eval')")
  if task.num_classes * task.num_train > 50_000_000 or task.name == "sva_lm":
    reasons.append("the logits of every training position would not fit in memory")
  if reasons and mode == "on":
    raise config_lib.ConfigError("config.distill.cache_teacher='on' is invalid: " +
                                 "; ".join(reasons) + ". Set it to 'auto' or 'off'.")
  if reasons:
    return False
  short = total_steps is not None and total_steps * config.train.batch_size < task.num_train
  return mode == "on" or not short


def architecture(config) -> dict:
  """The config keys that decide the model's parameters (arch, model.*)."""
  return {k: v for k, v in workdir_lib.flat_config(config).items()
          if (k == "arch" or k.startswith("model.")) and k != "model.dtype"
          and k not in workdir_lib.MUTABLE}


def shares_init_warning(student_config, teacher_results: dict) -> str | None:
  """A warning when a student has its teacher's model and (one of its) seed(s): train.py derives
  the initialisation and the batch order from the seed, so that student starts where its teacher
  started and sees the same batches; part of its similarity to the teacher is then not
  distillation's. None otherwise."""
  seeds = range(student_config.seed, student_config.seed + student_config.num_seeds)
  if teacher_results.get("seed") not in seeds or (
      architecture(teacher_results.get("config", {})) != architecture(student_config)):
    return None
  return (f"the student of seed {teacher_results['seed']} has its teacher's model and seed: it "
          "starts from the teacher's initialisation and sees the same batches, so its similarity "
          "to the teacher is not distillation's alone. Give it another --config.seed for an "
          "independent student.")


class Teacher:
  """The teacher of one student run (config.teacher, config.distill.teacher_mode)."""

  def __init__(self, config, student_workdir):
    self.config = load_config(config)
    self.workdir = resolve_workdir(config, student_workdir)
    self.mode = config.distill.teacher_mode
    self._student_config = config
    self._model = None
    self._variables = None
    self._cached_logits = None  # [num_train, ...] on the host when the logits are cached.

  @classmethod
  def of(cls, config, student_workdir) -> "Teacher | None":
    """The run's teacher, or None when the objective has no soft-target term."""
    return cls(config, student_workdir) if config.distill.distill_rate > 0 else None

  @property
  def arch(self) -> str | None:
    return self.config.arch or None

  def is_trained(self) -> bool:
    if self.workdir.exists() and not self.workdir.is_dir():
      raise workdir_lib.WorkdirError(f"Teacher workdir {self.workdir} is a file, not a folder: "
                                     "point config.teacher.workdir at the teacher's run.")
    return results_lib.is_finished(self.workdir)

  def _read_results(self) -> dict:
    """The teacher's results.json, checked to come from a run of this teacher's architecture
    (any seed or schedule is a teacher; another model is not)."""
    try:
      results = results_lib.read(self.workdir)
    except ValueError as e:
      raise workdir_lib.WorkdirError(f"Teacher workdir {self.workdir}: {e}") from None
    recorded, wanted = architecture(results.get("config", {})), architecture(self.config)
    if "arch" not in recorded:  # A run from before config.arch: its model fields decide.
      wanted.pop("arch", None)
    diffs = workdir_lib.differences(recorded, wanted)
    if diffs:
      raise workdir_lib.WorkdirError(
          f"Teacher workdir {self.workdir} holds another architecture than "
          f"config.teacher.config={self._student_config.teacher.config!r}: {', '.join(diffs)}. "
          "Point config.teacher.workdir at a run of that config.")
    return results

  def load(self, sample_inputs, task, mesh, total_steps: int) -> None:
    """Loads the finished teacher and, where `use_cache` says so, caches its training logits."""
    results = self._read_results()
    logging.info("Reusing the teacher in %s (%s).", self.workdir,
                 next(iter(results.get("test", {}).values()), None))
    shared = shares_init_warning(self._student_config, results)
    if shared:
      logging.warning("Self-distillation: %s", shared)
    self._model = models.create(**self.config.model, **task.model_kwargs)
    abstract = jax.eval_shape(lambda: self._model.init(
        {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(0)}, sample_inputs,
        train=False))
    abstract = {"params": abstract["params"], "batch_stats": abstract.get("batch_stats", {})}
    try:
      with checkpoint.quiet_failures():
        variables = checkpoint.load_variables(self.workdir, abstract)
    except Exception as e:  # pylint: disable=broad-except
      raise workdir_lib.WorkdirError(
          f"Teacher workdir {self.workdir}: its final variables do not restore "
          f"({checkpoint.describe(e)}); delete final/ and results.json there and rerun the "
          "teacher's run: it writes them again from its last checkpoint.") from None
    if not evaluate.all_finite(variables):
      raise workdir_lib.WorkdirError(
          f"Teacher workdir {self.workdir}: its final variables hold NaN or inf (the teacher "
          "diverged); retrain it (e.g. with a lower config.optim.learning_rate) or point "
          "config.teacher.workdir at another run.")
    self._variables = jax.device_put(variables, parallel.replicated(mesh))
    if use_cache(self._student_config, task, total_steps):
      self._cache_logits(task, mesh)

  def _cache_logits(self, task, mesh) -> None:
    start = time.time()
    apply = make_apply(self._model, self.mode)
    logits_step = jax.jit(lambda v, b: {"logits": apply(v, task.prepare(b)[0], None)},
                          out_shardings=parallel.batch_sharded(mesh),
                          **runtime.step_jit_kwargs())
    try:
      self._cached_logits = evaluate.run_eval(
          logits_step, self._variables, task.train, mesh,
          self._student_config.eval.batch_size)["logits"]
    except evaluate.NonFiniteOutputs:
      raise workdir_lib.WorkdirError(
          f"Teacher workdir {self.workdir}: its logits on the training set hold NaN or inf (its "
          "weights are finite but too large); retrain the teacher with a lower "
          "config.optim.learning_rate.") from None
    self._variables = None
    logging.info("Cached the teacher's logits for %d training examples in %.1fs; the "
                 "distillation step now costs what a plain step costs.", task.num_train,
                 time.time() - start)

  @property
  def per_example(self) -> bool:
    """True when the step input has one row per batch example (the cached logits)."""
    return self._cached_logits is not None

  def step_input(self, mesh, rows: np.ndarray):
    """What the student's step gets this step; `rows` are this process's training-set rows."""
    if self._cached_logits is None:
      return self._variables
    return parallel.global_batch(mesh, {"logits": self._cached_logits[rows]})

  def logits_fn(self):
    """(step input, student inputs, dropout rng, rows=None) -> soft-target logits, inside the
    jitted step (make_apply)."""
    if self._cached_logits is not None:
      return cached_logits
    return make_apply(self._model, self.mode)


def cached_logits(step_input, inputs, rng, rows=None):  # pylint: disable=unused-argument
  """The soft targets of a cached teacher: its logits for the batch's rows, precomputed (at the
  flattened positions `rows` when given, as make_apply)."""
  logits = step_input["logits"]
  return logits if rows is None else logits.reshape(-1, logits.shape[-1])[rows]
