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

import jax
import jax.numpy as jnp
import numpy as np
import optax

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
  # Jit-side: (logits, rep, batch) -> dict of per-example arrays (None: eval_outputs_at).
  eval_outputs: Callable | None
  # Host-side: (outputs, eval arrays) -> metrics dict.
  summarize: Callable
  # Host-side: {set name: metrics} -> entries to add (e.g. the mean over corruptions) or amend
  # (e.g. a set's facts that are not metrics of its outputs).
  aggregate: Callable = lambda results: {}
  # Model fields that come from the data (e.g. the vocabulary size).
  model_kwargs: dict = dataclasses.field(default_factory=dict)
  # Language models: arrays -> [N, L] bool, the positions that hold a target. The train and eval
  # steps then run the output layer on the targets only (train.packed_target_rows,
  # evaluate.packed_eval_rows).
  target_mask: Callable | None = None
  # Language models, in place of eval_outputs: jit-side (output layer, rep, batch, packed rows)
  # -> dict of per-example arrays; the logits are computed from rep only where needed.
  eval_outputs_at: Callable | None = None
  # Rows of `train` (the first axis of its arrays).
  @property
  def num_train(self) -> int:
    return len(next(iter(self.train.values())))


SHIFTED_SOURCES = ("project", "tfds")  # config.eval.shifted_source
SVA_SOURCES = ("tsv", "numpred")  # config.data.sva_source


def prepare_mnist(batch):
  """An MNIST batch -> (float images in [0, 1], labels, no mask), on device inside the step."""
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
  kwargs = dict(source=d.source, path=d.mnist_dir or None, tfds_data_dir=d.tfds_data_dir or None)
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
      prepare=prepare_mnist,
      eval_outputs=lambda logits, rep, batch: evaluate.classification_outputs(
          logits, rep, batch["labels"]),
      summarize=lambda outputs, arrays: evaluate.summarize_classification(
          outputs, arrays["labels"], ece_bins=config.eval.ece_bins),
      aggregate=_mean_over_shifted,
  )


# --- Subject-verb agreement (PAPER.md "Scenario 2", REFLECT.md §2.3-2.4, §4) -------------------


def _sva_splits(config, task: str):
  from inductive_kd.data import sva, sva_corpus  # pylint: disable=g-import-not-at-top
  d = config.data
  cache = Path(d.cache_dir or config_lib.REPO_ROOT / "cache") / "sva"
  path = Path(d.sva_tsv) if d.sva_tsv else None
  if path is None:  # The offline corpus (the real Linzen file cannot be downloaded here).
    path = cache / f"synthetic_n{d.synthetic_size}_seed{d.synthetic_seed}.tsv.gz"
    if not path.exists():
      logging.info("Generating the offline agreement corpus (%d sentences) in %s.",
                   d.synthetic_size, path)
      sva_corpus.write_tsv(path, d.synthetic_size, d.synthetic_seed)  # atomic
  elif not path.exists():
    raise config_lib.ConfigError(
        f"config.data.sva_tsv={str(path)!r} does not exist. Pass Linzen's "
        "agr_50_mostcommon_10K.tsv(.gz) (python -m inductive_kd.data.sva download), or leave it "
        "empty to use the offline corpus.")
  splits, vocab = sva.load_task(task, path, max_len=d.max_len, vocab_size=d.vocab_size,
                                cache_dir=cache, max_bad_fraction=d.max_bad_fraction)
  limit = config.eval.limit
  eval_sets = {k: _limit(splits[k], limit) for k in ("valid", "test")}
  train = _limit(splits["train"], d.train_limit)
  return train, eval_sets, vocab


def _agreement(outputs, arrays, correct, mask=None, defined_only: bool = False) -> dict:
  from inductive_kd import sva_metrics  # pylint: disable=g-import-not-at-top
  m = sva_metrics.agreement_metrics(correct, arrays["n_intervening"],
                                    arrays["n_diff_intervening"], arrays["distance"], mask=mask)
  keys = ["mu_accuracy", "macro_attractors", "macro_distance"] + [
      f"acc_attractors_{k}" for k in range(5)] + [f"count_attractors_{k}" for k in range(5)]
  if defined_only:
    # Real text without parses: Reflect's fixed arrays would read a bin no item falls in as 0.
    undefined = {"mu_accuracy": m["n_kept"] == 0, "macro_attractors": m["empty_attractor_bins"] > 0,
                 "macro_distance": m["empty_distance_bins"] > 0}
    undefined.update({f"{p}_attractors_{k}": m[f"count_attractors_{k}"] == 0
                      for p in ("acc", "count") for k in range(5)})
    keys = [k for k in keys if not undefined[k]]
  return {k: m[k] for k in keys if k in m}


def _lm_target_mask(arrays) -> np.ndarray:
  return arrays["targets"] != 0


def _sva_lm_outputs(head, rep, batch, packed_rows: int = 0):
  """Per sentence: summed token NLL and token count (perplexity), and the verb-position choice.

  `head` is the model's output layer (rep [N, d] -> logits [N, V]). `packed_rows` > 0: the
  token logits are computed at the batch's first `packed_rows` target positions only, which must
  hold all of them (evaluate.packed_eval_rows counts them in advance); 0: at every position. The
  same sums either way, up to float summation order.
  """
  targets = batch["targets"]
  b, length = targets.shape
  mask = targets != 0
  if packed_rows:
    rows = jnp.nonzero(mask.reshape(-1), size=packed_rows, fill_value=0)[0]
    valid = jnp.arange(packed_rows) < mask.sum()
  else:
    rows, valid = jnp.arange(b * length), mask.reshape(-1)
  logits = head(rep.reshape(b * length, -1)[rows]).astype(jnp.float32)
  nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets.reshape(-1)[rows])
  nll_sum = jax.ops.segment_sum(jnp.where(valid, nll, 0.0), rows // length, num_segments=b)
  sentences = jnp.arange(b)
  verb_rep = rep[sentences, batch["verb_position"]]
  at_verb = head(verb_rep).astype(jnp.float32)
  choice = jnp.stack([at_verb[sentences, batch["correct_verb"]],
                      at_verb[sentences, batch["wrong_verb"]]], -1)
  return {"nll_sum": nll_sum, "ntok": mask.astype(jnp.float32).sum(-1),
          "verb_correct": choice[:, 0] > choice[:, 1],  # Strict, as Reflect's evaluation.
          "probs": jax.nn.softmax(choice, -1),  # [correct form, wrong form]
          "rep": verb_rep.astype(jnp.float32)}


def _sva_lm_summary(outputs, arrays, ece_bins: int) -> dict:
  from inductive_kd.analysis import calibration  # pylint: disable=g-import-not-at-top
  ok = arrays["pair_ok"].astype(bool)
  nll, ntok = outputs["nll_sum"].sum(), outputs["ntok"].sum()
  res = {"loss": float(nll / ntok), "perplexity": float(np.exp(nll / ntok)),
         "ece": float(calibration.expected_calibration_error(
             outputs["probs"][ok], np.zeros(ok.sum(), np.int32), num_bins=ece_bins)),
         "num_examples": int(len(ok))}
  # Real sentences without parses (Gulordava's) have no distances: only the defined metrics.
  res.update(_agreement(outputs, arrays, outputs["verb_correct"], mask=ok,
                        defined_only=bool((arrays["distance"] < 0).all())))
  res["accuracy"] = res.get("mu_accuracy", float("nan"))
  return res


def _gulordava_lm_set(config, vocab) -> dict:
  """Gulordava et al.'s real sentences as an LM test set in the training vocabulary: a verb pair
  outside it is not scored (pair_ok), as in Linzen's own test split."""
  from inductive_kd.data import sva_real  # pylint: disable=g-import-not-at-top
  if not config.data.sva_tsv:
    raise config_lib.ConfigError(
        "config.eval.gulordava needs a language model trained on Linzen's file "
        "(config.data.sva_tsv): the offline corpus's words are made up, so real English would be "
        "all <unk>.")
  arrays = sva_real.load_gulordava(_real_dir(config) / sva_real.GULORDAVA_DIR, vocab,
                                   max_len=config.data.max_len,
                                   max_bad_fraction=config.data.max_bad_fraction)
  return _limit(arrays, config.eval.limit)


def sva_lm_task(config) -> Task:
  train, eval_sets, vocab = _sva_splits(config, "lm")
  if config.eval.gulordava:
    eval_sets["gulordava"] = _gulordava_lm_set(config, vocab)
  return Task(
      name="sva_lm", num_classes=len(vocab), train=train, eval_sets=eval_sets,
      prepare=lambda b: (b["inputs"], b["targets"], b["targets"] != 0),
      eval_outputs=None, eval_outputs_at=_sva_lm_outputs,
      summarize=lambda o, a: _sva_lm_summary(o, a, config.eval.ece_bins),
      model_kwargs={"vocab_size": len(vocab)},
      target_mask=_lm_target_mask)


def _sva_cl_summary(outputs, arrays, ece_bins: int, defined_only: bool = False) -> dict:
  res = evaluate.summarize_classification(outputs, arrays["label"], ece_bins=ece_bins)
  res.update(_agreement(outputs, arrays, outputs["pred"] == arrays["label"],
                        defined_only=defined_only))
  return res


def _real_dir(config) -> Path:
  """The folder of the real agreement pieces: config.data.real_dir, or ../shared/data/sva."""
  path = Path(config.data.real_dir or config_lib.REPO_ROOT.parent / "shared" / "data" / "sva")
  if not path.is_dir():
    raise config_lib.ConfigError(
        f"The real agreement data folder {str(path)!r} does not exist: put the project's shared/ "
        "folder beside the repository, or pass --config.data.real_dir=DIR (holding "
        "linzen_rnn_agr_simple/ and gulordava_linzen_testset/).")
  return path


def _numpred_splits(config):
  """Train, {'valid', numpred_test_1..5, 'gulordava'} and the vocabulary of Linzen's real text
  (sva_real.load_cl_task), and {test set: training items removed as duplicates of its items}."""
  from inductive_kd.data import sva_real  # pylint: disable=g-import-not-at-top
  d = config.data
  splits, vocab, overlap = sva_real.load_cl_task(_real_dir(config), max_len=d.max_len,
                                                 vocab_size=d.vocab_size,
                                                 max_bad_fraction=d.max_bad_fraction)
  train = _limit(splits.pop("train"), d.train_limit)
  eval_sets = {k: _limit(v, config.eval.limit) for k, v in splits.items()}
  return train, eval_sets, vocab, {k: sum(v.values()) for k, v in overlap.items()}


def sva_cl_task(config) -> Task:
  summarize = lambda o, a: _sva_cl_summary(o, a, config.eval.ece_bins)
  aggregate = lambda results: {}
  if config.data.sva_source == "numpred":
    train, eval_sets, vocab, overlap = _numpred_splits(config)
    # Real text: only the metrics its metadata defines, and the overlap removed for each test set.
    summarize = lambda o, a: _sva_cl_summary(o, a, config.eval.ece_bins, defined_only=True)
    aggregate = lambda results: {k: {**results[k], "overlap_removed": n}
                                 for k, n in overlap.items() if k in results}
  else:
    train, eval_sets, vocab = _sva_splits(config, "cl")
  rename = lambda a: {**a, "labels": a["label"]}  # The generic step reads batch["labels"].
  return Task(
      name="sva_cl", num_classes=2, train=rename(train),
      eval_sets={k: rename(v) for k, v in eval_sets.items()},
      prepare=lambda b: (b["inputs"], b["labels"], None),
      eval_outputs=lambda logits, rep, b: evaluate.classification_outputs(logits, rep,
                                                                          b["labels"]),
      summarize=summarize, aggregate=aggregate,
      model_kwargs={"vocab_size": len(vocab)})


TASKS = {"mnist": mnist_task, "sva_lm": sva_lm_task, "sva_cl": sva_cl_task}


def create(config) -> Task:
  if config.data.name not in TASKS:
    raise config_lib.ConfigError(f"Unknown config.data.name {config.data.name!r}; valid: "
                                 f"{', '.join(TASKS)}.")
  return TASKS[config.data.name](config)
