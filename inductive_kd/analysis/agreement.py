"""Per-example behaviour: prediction agreement, error overlap, function-space KL.

The paper compares models per example (PAPER.md "Analyses"): how often two models predict the
same class, and how their sets of misclassified examples overlap (the official notebooks
error_overlap.ipynb / mnist_er.ipynb draw Venn diagrams of the misclassified indices on the
validation set, REFLECT.md §4). `error_overlap` returns exactly the numbers such a Venn diagram
shows. Everything is numpy on host arrays (jax arrays are accepted and copied to host).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from inductive_kd.analysis.calibration import _as_labels, _as_probs


def _as_predictions(pred: Any, name: str, num_classes: int | None = None) -> np.ndarray:
  """[N] integer predictions; a float [N, C] array (logits or probabilities) is argmax-ed."""
  p = np.asarray(pred)
  if p.ndim == 2 and np.issubdtype(p.dtype, np.floating):
    return np.argmax(p, axis=1).astype(np.int64)
  if p.ndim != 1:
    raise ValueError(f"{name} must be [N] integer class predictions or [N, C] float scores; "
                     f"got shape {p.shape} and dtype {p.dtype}.")
  return _as_labels(p, p.shape[0], num_classes, name=name)


def _pair(pred_a: Any, pred_b: Any, num_classes: int | None = None):
  a = _as_predictions(pred_a, "pred_a", num_classes)
  b = _as_predictions(pred_b, "pred_b", num_classes)
  if a.shape != b.shape:
    raise ValueError(f"pred_a and pred_b must cover the same examples; got {a.shape[0]} and "
                     f"{b.shape[0]} predictions.")
  if a.shape[0] == 0:
    raise ValueError("pred_a and pred_b are empty.")
  return a, b


def prediction_agreement(pred_a: Any, pred_b: Any) -> float:
  """Fraction of examples on which the two models predict the same class.

  Args:
    pred_a, pred_b: [N] integer predictions, or [N, C] float logits/probabilities (argmax-ed).
  """
  a, b = _pair(pred_a, pred_b)
  return float(np.mean(a == b))


def error_overlap(pred_a: Any, pred_b: Any, labels: Any) -> dict[str, float | int]:
  """How the sets of misclassified examples of two models overlap (the Venn diagram numbers).

  With E_a, E_b the sets of example indices each model gets wrong:
    'errors_a' = |E_a|, 'errors_b' = |E_b|,
    'only_a' = |E_a \\ E_b|, 'only_b' = |E_b \\ E_a|, 'both' = |E_a ∩ E_b|,
    'neither' = examples both get right, 'union' = |E_a ∪ E_b|,
    'jaccard' = |E_a ∩ E_b| / |E_a ∪ E_b| (1.0 when neither model makes an error: the two
    error sets are then identical), 'num_examples' = N.
  Counts are ints, 'jaccard' a float.
  """
  a, b = _pair(pred_a, pred_b)
  y = _as_labels(labels, a.shape[0], None)
  err_a, err_b = a != y, b != y
  both = int(np.sum(err_a & err_b))
  union = int(np.sum(err_a | err_b))
  return {
      "errors_a": int(np.sum(err_a)),
      "errors_b": int(np.sum(err_b)),
      "only_a": int(np.sum(err_a & ~err_b)),
      "only_b": int(np.sum(err_b & ~err_a)),
      "both": both,
      "neither": int(np.sum(~err_a & ~err_b)),
      "union": union,
      "jaccard": float(both / union) if union else 1.0,
      "num_examples": int(a.shape[0]),
  }


def confusion_between(pred_a: Any, pred_b: Any, num_classes: int) -> np.ndarray:
  """[C, C] int64 counts: entry [i, j] = examples model a predicts i and model b predicts j.

  With a = teacher and b = student, the diagonal holds agreements and off-diagonal cells show
  which teacher decisions the student changes. Its trace / N is `prediction_agreement`.
  """
  if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
    raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}.")
  num_classes = int(num_classes)
  a, b = _pair(pred_a, pred_b, num_classes)
  if np.ndim(pred_a) == 2 and np.shape(pred_a)[1] != num_classes:
    raise ValueError(f"pred_a has {np.shape(pred_a)[1]} class scores but num_classes="
                     f"{num_classes}.")
  if np.ndim(pred_b) == 2 and np.shape(pred_b)[1] != num_classes:
    raise ValueError(f"pred_b has {np.shape(pred_b)[1]} class scores but num_classes="
                     f"{num_classes}.")
  flat = np.bincount(a * num_classes + b, minlength=num_classes * num_classes)
  return flat.reshape(num_classes, num_classes).astype(np.int64)


def kl_divergence(probs_a: Any, probs_b: Any, eps: float = 1e-12) -> float:
  """Mean over examples of KL(p_a || p_b) = sum_c p_a log(p_a / p_b), in nats.

  A function-space distance between two models on the same inputs (with a = teacher it is the
  distillation loss at T = 1 up to the teacher's entropy). Terms with p_a = 0 contribute 0;
  p_b is floored at `eps` so a class a model rounds to probability 0 gives a large finite value
  instead of inf. Computed in float64.

  Args:
    probs_a, probs_b: [N, C] probabilities (rows summing to 1) of the same N examples.
    eps: floor applied to probs_b inside the log.
  """
  pa = _as_probs(probs_a, "probs_a").astype(np.float64)
  pb = _as_probs(probs_b, "probs_b").astype(np.float64)
  if pa.shape != pb.shape:
    raise ValueError(f"probs_a and probs_b must have the same [N, C] shape; got {pa.shape} "
                     f"and {pb.shape}.")
  if not eps > 0:
    raise ValueError(f"eps must be positive; got {eps!r}.")
  # xlogy-style: where pa == 0 the term is 0 regardless of pb.
  safe_pa = np.where(pa > 0, pa, 1.0)
  terms = np.where(pa > 0, pa * (np.log(safe_pa) - np.log(np.maximum(pb, eps))), 0.0)
  return float(np.mean(np.sum(terms, axis=1)))
