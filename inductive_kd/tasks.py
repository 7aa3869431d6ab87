"""A scenario = its data, how a batch becomes model inputs, and its evaluator.

The training loop in train.py is the same for every scenario; it asks the task for the training
arrays, the test sets, `prepare` (on device, inside the jitted step) and the evaluator. Adding a
scenario means adding a task here, never a second loop.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Callable

import jax.numpy as jnp
import numpy as np

from inductive_kd import config as config_lib
from inductive_kd import evaluate
from inductive_kd.data import mnist


@dataclasses.dataclass
class Task:
  """train / eval_sets: name -> dict of numpy arrays with a common first axis (examples)."""
  name: str
  num_classes: int
  train: dict
  eval_sets: dict
  # Jit-side: batch dict -> (model inputs, labels, mask or None).
  prepare: Callable
  # Jit-side: (logits, rep, batch) -> dict of per-example arrays.
  eval_outputs: Callable
  # Host-side: (outputs, eval arrays) -> metrics dict.
  summarize: Callable
  # Host-side: {set name: metrics} -> extra aggregate metrics (e.g. mean over corruptions).
  aggregate: Callable = lambda results: {}


def _prepare_mnist(batch):
  return mnist.to_float(batch["inputs"]), batch["labels"], None


def _limit(arrays: dict, n: int) -> dict:
  return {k: v[:n] for k, v in arrays.items()} if n else arrays


def _mean_over_shifted(results: dict) -> dict:
  shifted = [v for k, v in results.items() if k != "mnist"]
  if len(shifted) < 2:
    return {}
  return {"shifted_mean": {m: float(np.mean([r[m] for r in shifted]))
                           for m in ("accuracy", "loss", "ece")}}


def mnist_task(config) -> Task:
  d = config.data
  kwargs = dict(source=d.source, path=d.path or None, tfds_data_dir=d.tfds_data_dir or None)
  train_x, train_y = mnist.load("train", **kwargs)
  test_x, test_y = mnist.load("test", **kwargs)
  train = _limit({"inputs": train_x, "labels": train_y}, d.train_limit)
  eval_sets = {"mnist": {"inputs": test_x, "labels": test_y}}
  cache_dir = Path(d.cache_dir or config_lib.REPO_ROOT / "cache" / "mnist_c")
  names = []
  if config.eval.shifted:
    from inductive_kd.data import mnist_c  # pylint: disable=g-import-not-at-top
    names = mnist_c.resolve_names(config.eval.shifted)
  for name in names:
    start = time.time()
    if config.eval.shifted_source == "tfds":
      images, labels = mnist_c.load_tfds(name, d.tfds_data_dir or None)
    else:
      images = mnist_c.load_or_build(name, test_x, seed=config.eval.corruption_seed,
                                     cache_dir=cache_dir)
      labels = test_y
    eval_sets[name] = {"inputs": images, "labels": labels}
    logging.info("Shifted test set %s ready in %.1fs.", name, time.time() - start)
  eval_sets = {k: _limit(v, config.eval.limit) for k, v in eval_sets.items()}
  return Task(
      name="mnist", num_classes=mnist.NUM_CLASSES, train=train, eval_sets=eval_sets,
      prepare=_prepare_mnist,
      eval_outputs=lambda logits, rep, batch: evaluate.classification_outputs(
          logits, rep, batch["labels"]),
      summarize=lambda outputs, arrays: evaluate.summarize_classification(
          outputs, arrays["labels"], ece_bins=config.eval.ece_bins),
      aggregate=_mean_over_shifted,
  )


TASKS = {"mnist": mnist_task}


def create(config) -> Task:
  if config.data.name not in TASKS:
    raise config_lib.ConfigError(f"Unknown config.data.name {config.data.name!r}; valid: "
                                 f"{', '.join(TASKS)}.")
  return TASKS[config.data.name](config)
