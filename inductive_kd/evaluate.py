"""Evaluators: per-example outputs computed on device, summarised to metrics on the host.

`classification_outputs` runs inside the jitted eval step and keeps only small per-example arrays
(loss, prediction, probabilities, representation), so a whole test set comes back to the host in one
transfer; `summarize_classification` turns them into the numbers written to TensorBoard and
results.json.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inductive_kd.analysis import calibration


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
