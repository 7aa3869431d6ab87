"""Subject-verb agreement metrics (pure numpy), as in Reflect's evaluation code (REFLECT.md §4).

Reflect (``notebook_utils.compute_and_print_acc_stats``, ``lm_sv_agreement_eval.py``):

* an item is dropped when ``n_intervening > 4`` or ``distance > 16``;
* distance bins: every kept item, binned by ``distance`` 1..16; "D-accuracy" is the mean of a
  fixed array of 16 bin accuracies (an empty bin counts as 0);
* attractor bins: kept items with ``n_intervening == n_diff_intervening`` (every intervening noun
  is an attractor: homogeneous intervention), binned by that count k = 0..4; "A-accuracy" is the
  mean of a fixed array of 5 bin accuracies (an empty bin counts as 0);
* "μ-accuracy" is hits / items over the distance bins, i.e. over all kept items.

Unknown metadata is written -1 by the loaders (real-text sets without parses): such items are kept
(-1 is neither > 4 nor > 16) and count in μ-accuracy, but fall in no distance bin (distance -1)
and no attractor bin (n_intervening -1 unless known). On Linzen-format data every distance is >= 1,
so μ-accuracy equals Reflect's micro accuracy exactly.
"""
from __future__ import annotations

import numpy as np

MAX_ATTRACTORS = 4
MAX_DISTANCE = 16


def lm_verb_correct(logits_at_verb: np.ndarray, correct_id: np.ndarray,
                    wrong_id: np.ndarray) -> np.ndarray:
  """LM agreement decision: logit(correct form) > logit(wrong-number form), strictly (Reflect
  compares logits, not probabilities; the softmax is monotone so this is the same decision).

  Args:
    logits_at_verb: [N, V] logits (or log-probabilities) at the position predicting the verb.
    correct_id, wrong_id: [N] vocabulary ids.
  Returns:
    bool [N].
  """
  logits = np.asarray(logits_at_verb)
  c = np.asarray(correct_id)
  w = np.asarray(wrong_id)
  if logits.ndim != 2 or c.shape != (logits.shape[0],) or w.shape != c.shape:
    raise ValueError(f"expected logits [N, V] and ids [N]; got logits {logits.shape}, "
                     f"correct_id {c.shape}, wrong_id {w.shape}")
  rows = np.arange(logits.shape[0])
  return logits[rows, c] > logits[rows, w]


def agreement_metrics(correct: np.ndarray, n_intervening: np.ndarray,
                      n_diff_intervening: np.ndarray, distance: np.ndarray,
                      *, mask: np.ndarray | None = None) -> dict[str, float]:
  """μ-, attractor-macro and distance-macro accuracy, per REFLECT.md §4.

  Args:
    correct: bool [N], whether each item was answered correctly.
    n_intervening, n_diff_intervening, distance: int [N] (Linzen columns; -1 = unknown).
    mask: optional bool [N]; False items are ignored altogether (e.g. items whose verb pair is
      out of vocabulary, which Reflect's VP evaluation also skips).
  Returns:
    dict with 'mu_accuracy', 'n_kept', 'n_dropped', 'macro_attractors', 'micro_attractors',
    'acc_attractors_k' and 'count_attractors_k' for k in 0..4, 'macro_distance',
    'acc_distance_d' and 'count_distance_d' for d in 1..16, 'empty_attractor_bins',
    'empty_distance_bins'. Accuracies of empty bins are 0.0 (as in the macro means); an empty
    selection gives 'mu_accuracy' NaN.
  """
  correct = np.asarray(correct).astype(bool)
  n_int = np.asarray(n_intervening)
  n_diff = np.asarray(n_diff_intervening)
  dist = np.asarray(distance)
  n = correct.shape[0]
  for name, a in (("n_intervening", n_int), ("n_diff_intervening", n_diff), ("distance", dist)):
    if a.shape != (n,):
      raise ValueError(f"{name} has shape {a.shape}; expected ({n},) like `correct`")
  valid = np.ones(n, bool) if mask is None else np.asarray(mask).astype(bool)
  if valid.shape != (n,):
    raise ValueError(f"mask has shape {valid.shape}; expected ({n},)")

  kept = valid & (n_int <= MAX_ATTRACTORS) & (dist <= MAX_DISTANCE)
  out: dict[str, float] = {
      "n_kept": int(kept.sum()),
      "n_dropped": int((valid & ~kept).sum()),
      "mu_accuracy": float(correct[kept].mean()) if kept.any() else float("nan"),
  }

  homogeneous = kept & (n_int == n_diff)
  att_acc = np.zeros(MAX_ATTRACTORS + 1)
  hits = total = 0
  for k in range(MAX_ATTRACTORS + 1):
    sel = homogeneous & (n_diff == k)
    c = int(sel.sum())
    h = int(correct[sel].sum())
    att_acc[k] = h / c if c else 0.0
    out[f"acc_attractors_{k}"] = float(att_acc[k])
    out[f"count_attractors_{k}"] = c
    hits, total = hits + h, total + c
  out["macro_attractors"] = float(att_acc.mean())
  out["micro_attractors"] = hits / total if total else float("nan")
  out["empty_attractor_bins"] = int(sum(out[f"count_attractors_{k}"] == 0
                                        for k in range(MAX_ATTRACTORS + 1)))

  dist_acc = np.zeros(MAX_DISTANCE)
  for d in range(1, MAX_DISTANCE + 1):
    sel = kept & (dist == d)
    c = int(sel.sum())
    dist_acc[d - 1] = correct[sel].sum() / c if c else 0.0
    out[f"acc_distance_{d}"] = float(dist_acc[d - 1])
    out[f"count_distance_{d}"] = c
  out["macro_distance"] = float(dist_acc.mean())
  out["empty_distance_bins"] = int(sum(out[f"count_distance_{d}"] == 0
                                       for d in range(1, MAX_DISTANCE + 1)))
  return out
