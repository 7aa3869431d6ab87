"""Tests for inductive_kd.analysis.agreement."""

import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd.analysis import agreement

# Ten hand-made examples, 3 classes.
LABELS = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
PRED_A = np.array([0, 1, 1, 0, 2, 2, 1, 1, 0, 0])  # wrong at 2, 4, 6, 8
PRED_B = np.array([0, 1, 1, 2, 2, 2, 0, 0, 2, 0])  # wrong at 2, 3, 4, 7
# Agree at 0, 1, 2, 4, 5, 9 -> 6/10.  Errors: both {2, 4}, only a {6, 8}, only b {3, 7}.


def test_prediction_agreement_hand_computed():
  assert agreement.prediction_agreement(PRED_A, PRED_B) == pytest.approx(0.6)
  assert agreement.prediction_agreement(PRED_A, PRED_A) == 1.0


def test_prediction_agreement_from_scores():
  scores_a = np.eye(3)[PRED_A] * 5.0 - 1.0  # logits whose argmax is PRED_A
  probs_b = jnp.asarray(np.eye(3)[PRED_B] * 0.7 + 0.1)
  assert agreement.prediction_agreement(scores_a, probs_b) == pytest.approx(0.6)


def test_error_overlap_hand_computed():
  out = agreement.error_overlap(PRED_A, PRED_B, LABELS)
  assert out == {
      "errors_a": 4, "errors_b": 4, "only_a": 2, "only_b": 2, "both": 2, "neither": 4,
      "union": 6, "jaccard": pytest.approx(2 / 6), "num_examples": 10,
  }


def test_error_overlap_edge_cases():
  perfect = agreement.error_overlap(LABELS, LABELS, LABELS)
  assert perfect["union"] == 0 and perfect["jaccard"] == 1.0
  same = agreement.error_overlap(PRED_A, PRED_A, LABELS)
  assert same["jaccard"] == 1.0 and same["only_a"] == 0 and same["both"] == 4
  disjoint = agreement.error_overlap(np.array([1, 0]), np.array([0, 1]), np.array([0, 0]))
  assert disjoint["jaccard"] == 0.0 and disjoint["only_a"] == 1 and disjoint["only_b"] == 1


def test_confusion_between_hand_computed():
  conf = agreement.confusion_between(PRED_A, PRED_B, num_classes=3)
  # Pairs (a, b): (0,0) (1,1) (1,1) (0,2) (2,2) (2,2) (1,0) (1,0) (0,2) (0,0)
  expected = np.array([[2, 0, 2],
                       [2, 2, 0],
                       [0, 0, 2]])
  np.testing.assert_array_equal(conf, expected)
  assert np.trace(conf) / conf.sum() == agreement.prediction_agreement(PRED_A, PRED_B)
  with pytest.raises(ValueError, match=r"\[0, 2\)"):
    agreement.confusion_between(PRED_A, PRED_B, num_classes=2)


def test_kl_divergence_hand_computed():
  pa = np.array([[0.5, 0.5], [1.0, 0.0]])
  pb = np.array([[0.25, 0.75], [0.5, 0.5]])
  kl0 = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
  kl1 = np.log(2.0)  # the zero of pa contributes nothing
  assert agreement.kl_divergence(pa, pb) == pytest.approx((kl0 + kl1) / 2, rel=1e-12)
  assert agreement.kl_divergence(pa, pa) == pytest.approx(0.0, abs=1e-15)
  # A zero in pb under mass of pa: large but finite (floored at eps).
  row0 = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5)
  row1 = 0.5 * np.log(0.5 / 1.0) + 0.5 * np.log(0.5 / 1e-12)
  assert agreement.kl_divergence(pb, pa) == pytest.approx((row0 + row1) / 2, rel=1e-12)


def test_bad_inputs():
  with pytest.raises(ValueError, match="same examples"):
    agreement.prediction_agreement(PRED_A, PRED_B[:5])
  with pytest.raises(ValueError, match="shape"):
    agreement.error_overlap(PRED_A, PRED_B, LABELS[:3])
  with pytest.raises(ValueError, match="integer"):
    agreement.prediction_agreement(PRED_A.astype(float), PRED_B)
  with pytest.raises(ValueError, match="sum to 1"):
    agreement.kl_divergence(np.array([[3.0, 1.0]]), np.array([[0.5, 0.5]]))
  with pytest.raises(ValueError, match="same"):
    agreement.kl_divergence(np.full((2, 2), 0.5), np.full((3, 2), 0.5))
