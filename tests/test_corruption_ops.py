"""Tests for inductive_kd.data.corruption_ops: the re-stated library routines (warp, inverse maps,
ImageMagick motion blur, Canny), against the installed scikit-image where the algorithms agree and
against hand-computed cases."""
import math

import numpy as np
import pytest

from inductive_kd.data import corruption_ops as ops
from inductive_kd.data import mnist
from inductive_kd.data.corruptions import corrupt


@pytest.fixture(scope="module")
def digits():
  return mnist.load_idx("test")[0][:64]


def test_translate_inverse_map_hand_case():
  img = np.zeros((1, 28, 28))
  img[0, 10, 10] = 1.0
  # Inverse map translation (dx, dy) = (3, -3): output (r, c) reads input (r - 3, c + 3).
  out = ops.warp_bilinear(img, ops.translate_inverse_map(3.0, -3.0))
  assert out[0, 13, 7] == 1.0 and out.sum() == 1.0


@pytest.mark.parametrize("matrix", [
    ops.scale_inverse_map(1 / .7),
    ops.rotate_inverse_map(np.float64(0.4)),
    ops.rotate_inverse_map(np.float64(-0.4)),
    ops.shear_inverse_map(np.float64(0.4)),
    ops.shear_inverse_map(np.float64(-0.4)),
    ops.translate_inverse_map(3.0, -3.0),
])
def test_warp_matches_skimage_warp(matrix, digits):
  transform = pytest.importorskip("skimage.transform")
  x = digits[:8] / 255.
  ours = ops.warp_bilinear(x, matrix)
  theirs = np.stack([transform.warp(xi, inverse_map=transform.AffineTransform(matrix=matrix),
                                    order=1, mode="constant", cval=0.0) for xi in x])
  np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_inverse_maps_keep_the_centre_fixed():
  for m in (ops.scale_inverse_map(), ops.rotate_inverse_map(np.float64(0.4)),
            ops.shear_inverse_map(np.float64(-0.4))):
    np.testing.assert_allclose(m @ [13.5, 13.5, 1.0], [13.5, 13.5, 1.0], atol=1e-12)
  # The old-skimage shear matrix, as the dataset was generated.
  np.testing.assert_allclose(ops.shear_inverse_map(np.float64(0.4))[:2, :2],
                             [[1, -math.sin(0.4)], [0, math.cos(0.4)]])


def test_canny_matches_skimage(digits):
  # The installed scikit-image (0.26) canny agrees with 0.15's on MNIST, border cases included.
  feature = pytest.importorskip("skimage.feature")
  x = np.concatenate([digits[:16], corrupt(digits[:8], "stripe"), corrupt(digits[:8], "fog")])
  ours = ops.canny(x / 255.)
  theirs = np.stack([feature.canny(xi / 255.) for xi in x])
  np.testing.assert_array_equal(ours, theirs)


def test_motion_blur_kernel_and_offsets():
  k = ops.motion_blur_kernel(10, 3)
  assert len(k) == 21 and k.sum() == pytest.approx(1.0)
  np.testing.assert_allclose(k / k[0], np.exp(-np.arange(21) ** 2 / 18.0))
  dx, dy = ops.motion_blur_offsets(np.array([0.0, 45.0, -45.0]), 21)
  np.testing.assert_array_equal(dx[0], np.arange(21))
  np.testing.assert_array_equal(dy[0], np.zeros(21))
  diag = np.ceil(np.arange(21) * math.sqrt(0.5) - 0.5)
  np.testing.assert_array_equal(dx[1], diag)
  np.testing.assert_array_equal(dy[1], diag)
  np.testing.assert_array_equal(dy[2], -diag)


def test_motion_blur_single_pixel_hand_case():
  img = np.zeros((1, 28, 28), np.uint8)
  img[0, 14, 20] = 200
  out = ops.motion_blur_apply(img, np.array([0.0]))[0]
  k = np.exp(-np.arange(21) ** 2 / 18.0)
  k /= k.sum()
  # Output (r, c) reads input (r, c + i) with weight k_i: the streak runs left of column 20.
  # ImageMagick Q16: quantum = round(200 * 257 * k_i); 8-bit = floor(quantum / 257).
  expected = np.floor(np.floor(200 * 257 * k + 0.5) / 257)
  np.testing.assert_array_equal(out[14, 20::-1], expected)
  assert np.count_nonzero(out) == np.count_nonzero(expected)
