"""Calibration: expected calibration error (ECE) and reliability diagrams.

The paper reports ECE next to accuracy (PAPER.md "Reported results"). The official code calls
`tfp.stats.expected_calibration_error(num_bins, logits=..., labels_true=...)` (REFLECT.md §4):
equal-width bins on the confidence (the probability of the argmax class) over [0, 1] and

    ECE = sum_b (n_b / N) * |acc_b - conf_b|,

where acc_b is the fraction of correct argmax predictions in bin b and conf_b their mean
confidence. We reproduce that convention exactly, including tf.histogram_fixed_width_bins'
treatment of bin edges (see `_bin_indices`). Bin counts used by the official scripts: 20 for SVA
(eval_vp-bert.py, eval_vp-ugpt.py) and 1e6 in the notebooks; our default of 15 is the common
Guo et al. (2017) choice. Pass `num_bins` explicitly when comparing with the paper.

Everything here is a pure function of host arrays (numpy or jax), computed in numpy: the work
is a bincount over N confidences, which needs no accelerator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

# Rows of a probability matrix may be off by float32 softmax rounding, never by more; a larger
# deviation means the caller passed logits or unnormalised scores.
_ROW_SUM_ATOL = 1e-3


def _as_probs(probs: Any, name: str = "probs") -> np.ndarray:
  """Host copy of a [N, C] probability matrix, validated; float32/float64 kept."""
  p = np.asarray(probs)
  if p.ndim != 2:
    raise ValueError(f"{name} must have shape [N, C] (examples x classes); got shape {p.shape}.")
  if p.shape[0] == 0 or p.shape[1] == 0:
    raise ValueError(f"{name} must be non-empty; got shape {p.shape}.")
  if not np.issubdtype(p.dtype, np.floating):
    raise ValueError(f"{name} must be a float array of probabilities; got dtype {p.dtype}.")
  if p.dtype not in (np.float32, np.float64):
    p = p.astype(np.float32)  # float16 / bfloat16: too coarse to bin reliably.
  if not np.all(np.isfinite(p)):
    raise ValueError(f"{name} contains NaN or inf.")
  if np.any(p < 0):
    raise ValueError(f"{name} has negative entries: pass probabilities (e.g. "
                     f"jax.nn.softmax(logits)), not logits.")
  row_sums = p.sum(axis=1, dtype=np.float64)
  if np.any(np.abs(row_sums - 1.0) > _ROW_SUM_ATOL):
    worst = float(row_sums[np.argmax(np.abs(row_sums - 1.0))])
    raise ValueError(f"Each row of {name} must sum to 1 (found a row summing to {worst:.6g}): "
                     f"pass probabilities (e.g. jax.nn.softmax(logits)), not logits.")
  return p


def _as_labels(labels: Any, num_examples: int, num_classes: int | None,
               name: str = "labels") -> np.ndarray:
  """Host copy of [N] integer class ids, validated against N and C."""
  y = np.asarray(labels)
  if y.ndim != 1 or y.shape[0] != num_examples:
    raise ValueError(f"{name} must have shape [{num_examples}] to match the predictions; "
                     f"got shape {y.shape}.")
  if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
    raise ValueError(f"{name} must hold integer class ids; got dtype {y.dtype}.")
  y = y.astype(np.int64)
  if y.size and y.min() < 0:
    raise ValueError(f"{name} must be non-negative class ids; found {int(y.min())}.")
  if y.size and num_classes is not None and y.max() >= num_classes:
    raise ValueError(f"{name} must lie in [0, {num_classes}) for {num_classes} classes; "
                     f"found {int(y.max())}.")
  return y


def _check_num_bins(num_bins: int) -> int:
  if isinstance(num_bins, bool) or int(num_bins) != num_bins or num_bins < 1:
    raise ValueError(f"num_bins must be a positive integer; got {num_bins!r}.")
  return int(num_bins)


def _bin_indices(confidence: np.ndarray, num_bins: int) -> np.ndarray:
  """Equal-width bin of each confidence, exactly as tf.histogram_fixed_width_bins([0, 1]).

  index = clip(floor(num_bins * c), 0, num_bins - 1), evaluated in the confidences' own float
  dtype (as TF does). Bins are therefore left-closed, [k/B, (k+1)/B): a confidence lying exactly
  on an interior edge k/B goes to the upper bin k, and c = 1.0 goes to the last bin B-1.
  """
  scaled = np.floor(confidence * confidence.dtype.type(num_bins))
  return np.clip(scaled, 0, num_bins - 1).astype(np.int64)


def _bin_statistics(probs: Any, labels: Any, num_bins: int):
  p = _as_probs(probs)
  y = _as_labels(labels, p.shape[0], p.shape[1])
  num_bins = _check_num_bins(num_bins)
  # np.argmax takes the first maximum on ties, like tf.argmax in tfp's implementation.
  pred = np.argmax(p, axis=1)
  confidence = p[np.arange(p.shape[0]), pred]
  correct = (pred == y).astype(np.float64)
  bins = _bin_indices(confidence, num_bins)
  counts = np.bincount(bins, minlength=num_bins).astype(np.int64)
  sum_correct = np.bincount(bins, weights=correct, minlength=num_bins)
  sum_conf = np.bincount(bins, weights=confidence.astype(np.float64), minlength=num_bins)
  safe = np.maximum(counts, 1)
  accuracy = np.where(counts > 0, sum_correct / safe, 0.0)
  mean_conf = np.where(counts > 0, sum_conf / safe, 0.0)
  return counts, accuracy, mean_conf, num_bins


def _ece_from_bins(counts: np.ndarray, accuracy: np.ndarray, mean_conf: np.ndarray) -> float:
  # Empty bins have count 0, so their (zeroed) statistics contribute nothing.
  return float(np.sum(counts / counts.sum() * np.abs(accuracy - mean_conf)))


def expected_calibration_error(probs: Any, labels: Any, num_bins: int = 15) -> float:
  """Expected calibration error with equal-width confidence bins (tfp.stats convention).

  ECE = sum_b (n_b / N) |acc_b - conf_b| over `num_bins` equal-width bins of [0, 1], binning
  each example by its confidence max_c probs[i, c]; the prediction is the argmax (first index on
  ties). Bin edges: bin index = clip(floor(num_bins * confidence), 0, num_bins - 1) computed in
  the input's float dtype, exactly as tf.histogram_fixed_width_bins inside
  tfp.stats.expected_calibration_error; so a confidence exactly on an interior edge k/num_bins
  is counted in the upper bin ([k/B, (k+1)/B) bins) and a confidence of 1.0 in the last bin.
  tfp takes logits and applies softmax itself; here pass softmax probabilities.

  Args:
    probs: [N, C] probabilities (numpy or jax), rows summing to 1.
    labels: [N] integer true classes in [0, C).
    num_bins: number of bins (official scripts: 20 for SVA, 1e6 in the notebooks).

  Returns:
    ECE as a Python float in [0, 1].
  """
  counts, accuracy, mean_conf, _ = _bin_statistics(probs, labels, num_bins)
  return _ece_from_bins(counts, accuracy, mean_conf)


def reliability_diagram(probs: Any, labels: Any, num_bins: int = 15) -> dict[str, Any]:
  """Per-bin statistics behind a reliability diagram (same binning as the ECE).

  Returns a dict of numpy arrays / floats:
    'bin_edges': [B + 1] float64, np.linspace(0, 1, B + 1).
    'counts': [B] int64, examples per bin.
    'accuracy': [B] float64, fraction of correct argmax predictions per bin (0 where empty).
    'confidence': [B] float64, mean confidence per bin (0 where empty).
    'ece': float, the expected calibration error of these bins.
    'accuracy_overall': float, overall argmax accuracy.
    'num_examples': int.
  Empty bins hold 0 rather than NaN so the dict serialises to strict JSON; use `counts` to mask.
  """
  counts, accuracy, mean_conf, num_bins = _bin_statistics(probs, labels, num_bins)
  total = int(counts.sum())
  return {
      "bin_edges": np.linspace(0.0, 1.0, num_bins + 1),
      "counts": counts,
      "accuracy": accuracy,
      "confidence": mean_conf,
      "ece": _ece_from_bins(counts, accuracy, mean_conf),
      "accuracy_overall": float(np.sum(accuracy * counts) / total),
      "num_examples": total,
  }


def binary_choice_probs(logit_correct: Any, logit_wrong: Any) -> np.ndarray:
  """[N, 2] probabilities of the LM agreement test's two-way choice; label 0 = correct verb.

  The LM agreement test (REFLECT.md §2.3, lm_sv_agreement_eval.py) reads the logits at the verb
  position and counts a hit iff logit(correct form) > logit(other-number form). Restricting the
  softmax to those two candidates gives p(correct) = sigmoid(l_c - l_w), so the ECE of the
  choice is `expected_calibration_error(binary_choice_probs(lc, lw), np.zeros(N, int))`.
  On an exact tie the argmax picks column 0 (counted correct), whereas the official strict '>'
  counts it wrong; with float logits ties essentially never happen.

  Args:
    logit_correct: [N] logits (or log-probabilities) of the correct verb form.
    logit_wrong: [N] logits of the verb form with the other number.

  Returns:
    [N, 2] float64 array, column 0 = p(correct), column 1 = p(wrong).
  """
  lc = np.asarray(logit_correct, dtype=np.float64)
  lw = np.asarray(logit_wrong, dtype=np.float64)
  if lc.ndim != 1 or lc.shape != lw.shape:
    raise ValueError(f"logit_correct and logit_wrong must both have shape [N]; got {lc.shape} "
                     f"and {lw.shape}.")
  if not (np.all(np.isfinite(lc)) and np.all(np.isfinite(lw))):
    raise ValueError("logit_correct / logit_wrong contain NaN or inf.")
  # expit is the stable two-way softmax; expit(-d) keeps the small side's relative precision.
  diff = lc - lw
  return np.stack([special.expit(diff), special.expit(-diff)], axis=1)
