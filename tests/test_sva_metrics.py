"""Tests for inductive_kd.sva_metrics (REFLECT.md §4)."""

import numpy as np
import pytest

from inductive_kd.sva_metrics import agreement_metrics, lm_verb_correct

# (correct, n_intervening, n_diff_intervening, distance)
ITEMS = np.array([
    (1, 0, 0, 1),
    (0, 0, 0, 1),
    (1, 1, 1, 3),
    (1, 2, 1, 3),    # mixed intervention: in distance bins, not in attractor bins
    (0, 2, 2, 5),
    (1, 5, 5, 6),    # dropped: n_intervening > 4
    (0, 1, 1, 17),   # dropped: distance > 16
    (1, 4, 4, 16),
])


def _metrics(items=ITEMS, **kw):
  c, ni, nd, d = items.T
  return agreement_metrics(c.astype(bool), ni, nd, d, **kw)


def test_hand_computed_values():
  m = _metrics()
  # Kept: rows 0-4 and 7 -> hits 1,0,1,1,0,1.
  assert m["n_kept"] == 6 and m["n_dropped"] == 2
  assert m["mu_accuracy"] == pytest.approx(4 / 6)
  # Attractor bins: k0 {0,1} 0.5, k1 {2} 1, k2 {4} 0, k3 empty 0, k4 {7} 1.
  assert [m[f"acc_attractors_{k}"] for k in range(5)] == [0.5, 1.0, 0.0, 0.0, 1.0]
  assert [m[f"count_attractors_{k}"] for k in range(5)] == [2, 1, 1, 0, 1]
  assert m["macro_attractors"] == pytest.approx(2.5 / 5)
  assert m["micro_attractors"] == pytest.approx(3 / 5)
  assert m["empty_attractor_bins"] == 1
  # Distance bins: d1 0.5, d3 1.0 (rows 2, 3), d5 0, d16 1; 12 empty bins count 0.
  assert m["acc_distance_1"] == 0.5 and m["acc_distance_3"] == 1.0
  assert m["count_distance_3"] == 2 and m["count_distance_16"] == 1
  assert m["macro_distance"] == pytest.approx(2.5 / 16)
  assert m["empty_distance_bins"] == 12


def test_mask_removes_items_entirely():
  mask = np.ones(len(ITEMS), bool)
  mask[1] = False   # the wrong k=0 item
  m = _metrics(mask=mask)
  assert m["n_kept"] == 5
  assert m["mu_accuracy"] == pytest.approx(4 / 5)
  assert m["acc_attractors_0"] == 1.0


def test_unknown_metadata_counts_in_micro_only():
  # Real-text items without parses carry -1: in mu, in no bin.
  items = np.array([(1, -1, -1, -1), (0, -1, -1, -1), (1, 2, 2, -1)])
  m = _metrics(items)
  assert m["n_kept"] == 3
  assert m["mu_accuracy"] == pytest.approx(2 / 3)
  assert m["acc_attractors_2"] == 1.0 and m["count_attractors_2"] == 1
  assert m["empty_distance_bins"] == 16 and m["macro_distance"] == 0.0


def test_empty_selection_and_shape_errors():
  m = _metrics(np.array([(1, 9, 9, 1)]))
  assert np.isnan(m["mu_accuracy"]) and m["macro_attractors"] == 0.0
  with pytest.raises(ValueError, match="distance"):
    agreement_metrics(np.ones(3, bool), np.zeros(3), np.zeros(3), np.zeros(2))


def test_lm_verb_correct():
  logits = np.array([[0.0, 2.0, 1.0],
                     [0.0, 1.0, 1.0],    # tie -> not correct (strict >)
                     [5.0, -1.0, 0.0]])
  got = lm_verb_correct(logits, np.array([1, 1, 2]), np.array([2, 2, 1]))
  np.testing.assert_array_equal(got, [True, False, True])
  with pytest.raises(ValueError, match="logits"):
    lm_verb_correct(logits[0], np.array([1]), np.array([2]))
