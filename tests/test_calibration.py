"""Tests for inductive_kd.analysis.calibration."""

import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd.analysis import calibration

# Six hand-made examples, 3 classes, 4 bins with exactly representable edges 0, .25, .5, .75, 1.
#   ex  probs                 label  pred  conf   correct  bin
#   0   [.5, .25, .25]        0      0     .5     yes      2  (on the edge .5: upper bin)
#   1   [.25, .375, .375]     2      1     .375   no       1  (tie: first argmax, as tf.argmax)
#   2   [.9, .05, .05]        1      0     .9     no       3
#   3   [.1, .8, .1]          1      1     .8     yes      3
#   4   [.2, .2, .6]          2      2     .6     yes      2
#   5   [.7, .2, .1]          1      0     .7     no       2
# bin 1: acc 0,   conf .375 -> 1/6 * .375          = .0625
# bin 2: acc 2/3, conf .6   -> 3/6 * (2/3 - .6)    = .0333...
# bin 3: acc 1/2, conf .85  -> 2/6 * .35           = .1166...
# ECE = .2125. (Edge .5 in the lower bin would give .1875; a last-index argmax would differ too.)
HAND_PROBS = np.array([[.5, .25, .25], [.25, .375, .375], [.9, .05, .05], [.1, .8, .1],
                       [.2, .2, .6], [.7, .2, .1]])
HAND_LABELS = np.array([0, 2, 1, 1, 2, 1])
HAND_ECE = 0.2125


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ece_hand_computed(dtype):
  ece = calibration.expected_calibration_error(HAND_PROBS.astype(dtype), HAND_LABELS, 4)
  assert ece == pytest.approx(HAND_ECE, abs=1e-6)


def test_ece_accepts_jax_arrays():
  ece = calibration.expected_calibration_error(jnp.asarray(HAND_PROBS, jnp.float32),
                                               jnp.asarray(HAND_LABELS), num_bins=4)
  assert ece == pytest.approx(HAND_ECE, abs=1e-6)


def test_reliability_diagram_hand_computed():
  diag = calibration.reliability_diagram(HAND_PROBS, HAND_LABELS, num_bins=4)
  np.testing.assert_array_equal(diag["counts"], [0, 1, 3, 2])
  np.testing.assert_allclose(diag["accuracy"], [0, 0, 2 / 3, 0.5])
  np.testing.assert_allclose(diag["confidence"], [0, .375, .6, .85])
  np.testing.assert_allclose(diag["bin_edges"], [0, .25, .5, .75, 1])
  assert diag["ece"] == pytest.approx(HAND_ECE)
  assert diag["accuracy_overall"] == pytest.approx(0.5)
  assert diag["num_examples"] == 6


def _calibrated_predictor(confidences, group_size=20, num_classes=10):
  """Per group: every example has confidence c, and exactly c * group_size are correct."""
  probs, labels = [], []
  for k, c in enumerate(confidences):
    n_correct = round(c * group_size)
    assert abs(n_correct - c * group_size) < 1e-9
    pred = k % num_classes
    row = np.full(num_classes, (1 - c) / (num_classes - 1))
    row[pred] = c
    for i in range(group_size):
      probs.append(row)
      labels.append(pred if i < n_correct else (pred + 1) % num_classes)
  return np.array(probs), np.array(labels)


@pytest.mark.parametrize("num_bins", [1, 4, 15, 20, 1_000_000])
def test_ece_zero_for_perfectly_calibrated(num_bins):
  probs, labels = _calibrated_predictor([0.3, 0.55, 0.75, 0.95, 0.6])
  assert calibration.expected_calibration_error(probs, labels, num_bins) == pytest.approx(
      0.0, abs=1e-12)
  # float32 probabilities: zero up to float32 rounding of the confidences.
  assert calibration.expected_calibration_error(probs.astype(np.float32), labels,
                                                num_bins) < 1e-6


def test_ece_overconfident_is_positive():
  probs, labels = _calibrated_predictor([0.3, 0.55, 0.75, 0.95])
  probs = np.where(probs > 0.2, 0.99, 0.01 / 9)  # same decisions, all with confidence .99
  ece = calibration.expected_calibration_error(probs, labels, 15)
  accuracy = np.mean(np.argmax(probs, 1) == labels)
  assert ece == pytest.approx(0.99 - accuracy)


def test_bin_edges_follow_tf_histogram_fixed_width_bins():
  conf = np.array([0.0, 0.25, 0.5, 0.74, 0.75, 1.0])
  np.testing.assert_array_equal(calibration._bin_indices(conf, 4), [0, 1, 2, 2, 3, 3])


def test_binary_choice_probs():
  lc = np.array([2.0, -1.0, 0.5, 300.0])
  lw = np.array([1.0, 1.0, 0.5, -300.0])
  p = calibration.binary_choice_probs(lc, lw)
  assert p.shape == (4, 2)
  ref = np.exp(np.stack([lc, lw], 1) - np.logaddexp(lc, lw)[:, None])
  np.testing.assert_allclose(p, ref, rtol=1e-12)
  np.testing.assert_allclose(p.sum(1), 1.0)
  # The hits are exactly the examples with logit_correct > logit_wrong (tie aside).
  labels = np.zeros(4, dtype=int)
  diag = calibration.reliability_diagram(p, labels, num_bins=10)
  assert diag["accuracy_overall"] == pytest.approx(3 / 4)  # tie at index 2 counts as correct
  # A hand check: confidences .7311 (hit), .8808 (miss), .5 (hit), 1.0 (hit) in 2 bins.
  ece = calibration.expected_calibration_error(p, labels, num_bins=2)
  sig = 1 / (1 + np.exp(-1.0))
  sig2 = 1 / (1 + np.exp(-2.0))
  expected = abs(3 / 4 - (0.5 + sig + sig2 + 1.0) / 4)  # all 4 land in the upper bin
  assert ece == pytest.approx(expected)


@pytest.mark.parametrize("probs,labels,match", [
    (np.ones((3,)), np.zeros(3, int), "shape"),
    (np.array([[2.0, -1.0]]), np.zeros(1, int), "negative"),
    (np.array([[2.0, 1.0]]), np.zeros(1, int), "sum to 1"),
    (np.array([[.5, .5]]), np.zeros(2, int), "shape"),
    (np.array([[.5, .5]]), np.array([2]), r"\[0, 2\)"),
    (np.array([[.5, .5]]), np.array([0.0]), "integer"),
])
def test_bad_input_raises_value_error(probs, labels, match):
  with pytest.raises(ValueError, match=match):
    calibration.expected_calibration_error(probs, labels)


def test_bad_num_bins():
  with pytest.raises(ValueError, match="num_bins"):
    calibration.expected_calibration_error(HAND_PROBS, HAND_LABELS, num_bins=0)
