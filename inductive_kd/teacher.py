"""The frozen teacher: found in (or first trained into) its own workdir, then applied in a mode.

Teacher modes (config.distill.teacher_mode):
- 'train': what the official code did (REFLECT.md §3): the teacher is called with training=True, so
  dropout is on and BatchNorm normalises with the current batch's statistics while producing soft
  targets. Its moving statistics are not updated here (they are never used in this mode).
- 'eval': textbook knowledge distillation: dropout off, BatchNorm with its moving statistics.
Either way the teacher's variables are constants of the student's step: no gradient reaches them.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import jax

from inductive_kd import checkpoint
from inductive_kd import config as config_lib
from inductive_kd import models


def resolve_workdir(config, student_workdir: Path) -> Path:
  """Relative teacher workdirs live beside the student's (e.g. runs/mnist_cnn for runs/cnn_to_mlp),
  so one trained teacher serves every student and the plain baseline run *is* the teacher."""
  path = Path(config.teacher.workdir)
  return path if path.is_absolute() else Path(student_workdir).absolute().parent / path


def load_config(config):
  try:
    return config_lib.load_config_file(config.teacher.config)
  except config_lib.ConfigError as e:
    raise config_lib.ConfigError(f"config.teacher.config: {e}") from None


def is_finished(workdir: Path) -> bool:
  return (Path(workdir) / "results.json").exists()


def prepare(config, student_workdir: Path, sample_inputs, train_fn, model_kwargs=None):
  """Returns (teacher model, teacher variables, teacher workdir), training the teacher first if its
  workdir holds no finished run (a half-finished one resumes from its checkpoint)."""
  teacher_config = load_config(config)
  # Soft targets must come from the same inputs (and vocabulary): the teacher sees the student's
  # data config, including command-line overrides.
  with teacher_config.unlocked():
    teacher_config.data = config.data.copy_and_resolve_references()
  workdir = resolve_workdir(config, student_workdir)
  if not is_finished(workdir):
    logging.info("No finished teacher in %s: training it with %s first.", workdir,
                 config.teacher.config)
    train_fn(teacher_config, workdir)
  else:
    logging.info("Reusing the teacher in %s (%s).", workdir,
                 json.loads((workdir / "results.json").read_text()).get("test", {}).get("mnist"))
  model = models.create(**teacher_config.model, **(model_kwargs or {}))
  abstract = jax.eval_shape(lambda: model.init(
      {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(0)}, sample_inputs,
      train=False))
  abstract = {"params": abstract["params"], "batch_stats": abstract.get("batch_stats", {})}
  variables = checkpoint.load_variables(workdir, abstract)
  return model, variables, workdir


def make_apply(model, mode: str):
  """(variables, inputs, dropout_rng) -> teacher logits, in the given teacher mode."""
  if mode not in ("train", "eval"):
    raise ValueError(f"distill.teacher_mode must be 'train' or 'eval', got {mode!r}.")

  def apply(variables, inputs, rng):
    variables = jax.lax.stop_gradient(variables)
    if mode == "eval":
      logits, _ = model.apply(variables, inputs, train=False)
    else:
      (logits, _), _ = model.apply(variables, inputs, train=True, rngs={"dropout": rng},
                                   mutable=["batch_stats"])
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
