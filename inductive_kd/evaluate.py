"""Evaluation: per-example outputs computed on device, summarised to metrics on the host.

`classification_outputs` runs inside the jitted eval step and keeps only small per-example arrays
(loss, prediction, probabilities, representation), so a whole test set comes back to the host in one
transfer; `summarize_classification` turns them into the numbers written to TensorBoard and
results.json. `run_eval` / `evaluate_all` drive an eval step over whole test sets (the trainer, the
teacher's logit cache and the probe outputs all use them); `save_probes` writes the outputs on the
fixed probe set that the similarity-over-training and MDS analyses read.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inductive_kd import parallel
from inductive_kd.analysis import calibration, trajectories


def classification_outputs(logits, rep, labels) -> dict:
  logits = logits.astype(jnp.float32)
  return {
      "loss": optax.softmax_cross_entropy_with_integer_labels(logits, labels),
      "pred": jnp.argmax(logits, -1).astype(jnp.int32),
      "probs": jax.nn.softmax(logits, -1),
      "rep": rep.astype(jnp.float32),
  }


def summarize_classification(outputs: dict, labels: np.ndarray, *, ece_bins: int = 15) -> dict:
  return {
      "accuracy": float(np.mean(outputs["pred"] == labels)),
      "loss": float(np.mean(outputs["loss"])),
      "ece": float(calibration.expected_calibration_error(outputs["probs"], labels,
                                                          num_bins=ece_bins)),
      "num_examples": int(labels.shape[0]),
  }


def local_batch(arrays: dict, indices: np.ndarray) -> dict:
  return {k: v[indices] for k, v in arrays.items()}


class NonFiniteOutputs(ValueError):
  """A model's outputs hold NaN or inf (its parameters diverged)."""


def all_finite(tree) -> jax.Array:
  """Whether every array of `tree` (a model's variables) is free of NaN and inf: a scalar bool,
  jittable (the trainer checks its state on device) and usable on host trees (a loaded teacher)."""
  return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))


def run_eval(eval_step, variables, arrays: dict, mesh, batch_size: int) -> dict:
  """Per-example outputs on a whole test set, as numpy; the last batch is padded and trimmed.
  Raises NonFiniteOutputs if any holds NaN or inf: no metric, calibration or probe is computed
  from a diverged model (the trainer names the step)."""
  n = len(next(iter(arrays.values())))
  rows = parallel.process_slice(batch_size)
  outputs = []
  for start in range(0, n, batch_size):
    idx = np.arange(start, start + batch_size) % n  # Pad by wrapping; trimmed below.
    batch = parallel.global_batch(mesh, local_batch(arrays, idx[rows]))
    outputs.append(eval_step(variables, batch))
  outputs = parallel.to_host(outputs)
  out = {k: np.concatenate([o[k] for o in outputs])[:n] for k in outputs[0]}
  bad = [k for k, v in out.items() if np.issubdtype(v.dtype, np.inexact) and
         not np.isfinite(v).all()]
  if bad:
    raise NonFiniteOutputs(f"{', '.join(bad)} hold NaN or inf")
  return out


def packed_eval_rows(task, sets, batch_size: int, rows_for) -> int:
  """The eval step's packed rows (train.make_eval_step): the most target positions any batch of
  run_eval holds over `sets` (the last batch padded by wrapping, as run_eval does), by
  `rows_for(most, positions)`; 0 for a task without per-position targets."""
  if task.target_mask is None or not sets:
    return 0
  most, positions = 0, None
  for arrays in sets:
    mask = task.target_mask(arrays)
    n = len(mask)
    idx = np.arange(-(-n // batch_size) * batch_size) % n
    most = max(most, int(mask.sum(1)[idx].reshape(-1, batch_size).sum(1).max()))
    width = batch_size * mask.shape[1]
    positions = width if positions is None else min(positions, width)
  return rows_for(most, positions)


def evaluate_all(eval_step, variables, task, mesh, config) -> tuple[dict, dict]:
  """{set: metrics} (+ aggregates) and {set: per-example outputs}."""
  results, outputs = {}, {}
  for name, arrays in task.eval_sets.items():
    outputs[name] = run_eval(eval_step, variables, arrays, mesh, config.eval.batch_size)
    results[name] = task.summarize(outputs[name], arrays)
  results.update(task.aggregate(results))
  return results, outputs


def flatten_results(results: dict, prefix: str = "eval") -> dict:
  """{set: {metric: value}} -> {'eval/<set>/<metric>': value} for TensorBoard."""
  flat = {}
  for name, metrics in results.items():
    for key, value in metrics.items():
      if isinstance(value, (int, float)) and key != "num_examples":
        flat[f"{prefix}/{name}/{key}"] = value
  return flat


def probe_arrays(task, config) -> dict | None:
  """The fixed probe set (the first analysis.probe_size examples of analysis.probe_set), or None
  when probes are off."""
  if not config.analysis.probe_every:
    return None
  if config.analysis.probe_set not in task.eval_sets:
    from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top
    raise config_lib.ConfigError(
        f"config.analysis.probe_set={config.analysis.probe_set!r} is not a test set of this run "
        f"({', '.join(task.eval_sets)}).")
  return {k: v[:config.analysis.probe_size]
          for k, v in task.eval_sets[config.analysis.probe_set].items()}


def save_probes(eval_step, variables, arrays: dict, mesh, batch_size: int, workdir, step: int,
                write: bool) -> None:
  """Outputs on the fixed probe set, for similarity-over-training and the MDS trajectories."""
  out = run_eval(eval_step, variables, arrays, mesh, batch_size)
  if write:
    trajectories.save_probe_outputs(trajectories.probe_dir(str(workdir)), step, out["probs"],
                                    out.get("rep"))
