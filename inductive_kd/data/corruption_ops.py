"""Image operations of the MNIST-C corruptions, as the library versions that made the data did them.

Owns the re-statements of library routines whose behaviour has changed since 2019 or that are not
Python at all, batched over [N, 28, 28]: scikit-image 0.14/0.15's bilinear `warp` and
`AffineTransform` inverse maps (the old shear matrix included), ImageMagick 6 Q16's
MotionBlurImage with its 8-bit PNG encoding, and scikit-image 0.15's `feature.canny`. The
corruptions built from them, their conventions and the quirks reproduced are in `corruptions`.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

SIZE = 28
CENTRE = 13.5  # The reference's warps keep (13.5, 13.5), the centre of a 28x28 image, fixed.


# --------------------------------------------------------------------------------------------
# Affine warps: skimage's bilinear inverse-map warp and the AffineTransform matrices.


def warp_bilinear(x: np.ndarray, inverse: np.ndarray) -> np.ndarray:
  """skimage.transform.warp(x, inverse_map=inverse, order=1, mode='constant', cval=0) per image.

  x: float64 [N, 28, 28]; inverse: [N, 3, 3] (or [3, 3]) affine matrices mapping an output pixel's
  (col, row) to the input position it samples, as skimage's `_warp_fast` does. Bilinear weights
  and the floor/ceil neighbour choice follow skimage's `bilinear_interpolation`; neighbours outside
  the image read 0 (so edges blend towards 0, unlike scipy's map_coordinates mode='constant').
  """
  n = x.shape[0]
  h = np.broadcast_to(np.asarray(inverse, np.float64), (n, 3, 3))
  rows = np.arange(SIZE, dtype=np.float64)[None, :, None]
  cols = np.arange(SIZE, dtype=np.float64)[None, None, :]
  coef = lambda i, j: h[:, i, j][:, None, None]
  xs = coef(0, 0) * cols + coef(0, 1) * rows + coef(0, 2)  # Input column for each output pixel.
  ys = coef(1, 0) * cols + coef(1, 1) * rows + coef(1, 2)  # Input row.
  r0, c0 = np.floor(ys), np.floor(xs)
  r1, c1 = np.ceil(ys), np.ceil(xs)
  dr, dc = ys - r0, xs - c0
  flat = x.reshape(n, -1)
  batch = np.arange(n)[:, None, None]

  def pixel(r, c):
    inside = (r >= 0) & (r < SIZE) & (c >= 0) & (c < SIZE)
    idx = (np.clip(r, 0, SIZE - 1) * SIZE + np.clip(c, 0, SIZE - 1)).astype(np.intp)
    return np.where(inside, flat[batch, idx], 0.0)

  top = (1 - dc) * pixel(r0, c0) + dc * pixel(r0, c1)
  bottom = (1 - dc) * pixel(r1, c0) + dc * pixel(r1, c1)
  return (1 - dr) * top + dr * bottom


def _about_centre(linear: np.ndarray) -> np.ndarray:
  """[..., 2, 2] linear part -> [..., 3, 3] inverse map fixing (13.5, 13.5), the reference's way.

  The reference adds translation (a3, b3) = 13.5 * (1 - a1 - a2, 1 - b1 - b2) to the matrix rows.
  """
  linear = np.asarray(linear, np.float64)
  out = np.zeros(linear.shape[:-2] + (3, 3))
  out[..., :2, :2] = linear
  out[..., 0, 2] = CENTRE * (1 - linear[..., 0, 0] - linear[..., 0, 1])
  out[..., 1, 2] = CENTRE * (1 - linear[..., 1, 0] - linear[..., 1, 1])
  out[..., 2, 2] = 1.0
  return out


def shear_inverse_map(c: np.ndarray) -> np.ndarray:
  """Old skimage AffineTransform(shear=c): [[1, -sin c], [0, cos c]], kept about the centre."""
  c = np.asarray(c, np.float64)
  lin = np.zeros(c.shape + (2, 2))
  lin[..., 0, 0] = 1.0
  lin[..., 0, 1] = -np.sin(c)
  lin[..., 1, 1] = np.cos(c)
  return _about_centre(lin)


def rotate_inverse_map(c: np.ndarray) -> np.ndarray:
  """AffineTransform(rotation=c): [[cos c, -sin c], [sin c, cos c]], kept about the centre."""
  c = np.asarray(c, np.float64)
  lin = np.stack([np.stack([np.cos(c), -np.sin(c)], -1), np.stack([np.sin(c), np.cos(c)], -1)], -2)
  return _about_centre(lin)


def scale_inverse_map(s: float = 1 / .7) -> np.ndarray:
  """AffineTransform(scale=(s, s)) kept about the centre; s = 1/0.7 shrinks the digit to 70%."""
  return _about_centre(np.diag([s, s]))


def translate_inverse_map(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
  """AffineTransform(translation=(dx, dy)): output (r, c) reads input (r + dy, c + dx)."""
  dx, dy = np.broadcast_arrays(np.asarray(dx, np.float64), np.asarray(dy, np.float64))
  out = np.zeros(dx.shape + (3, 3))
  out[..., 0, 0] = out[..., 1, 1] = out[..., 2, 2] = 1.0
  out[..., 0, 2], out[..., 1, 2] = dx, dy
  return out


# --------------------------------------------------------------------------------------------
# ImageMagick 6 Q16 MotionBlurImage.


MAGICK_SQ2PI = 2.50662827463100024161235523934010416269302368164062  # sqrt(2 pi), as ImageMagick.


def motion_blur_kernel(radius: float = 10.0, sigma: float = 3.0) -> np.ndarray:
  """ImageMagick's one-sided motion-blur kernel: 2*ceil(radius)+1 Gaussian taps, normalised."""
  width = int(2.0 * math.ceil(radius) + 1.0)
  i = np.arange(width, dtype=np.float64)
  k = np.exp(-(i * i) / (2.0 * sigma * sigma)) / (MAGICK_SQ2PI * sigma)
  return k / k.sum()


def motion_blur_offsets(angle_deg: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
  """Integer (column, row) offset of each tap, [N, width] each, as ImageMagick computes them."""
  a = np.pi * np.asarray(angle_deg, np.float64)[:, None] / 180.0
  px, py = width * np.sin(a), width * np.cos(a)
  norm = np.hypot(px, py)
  i = np.arange(width, dtype=np.float64)[None, :]
  return (np.ceil(i * py / norm - 0.5).astype(np.intp),
          np.ceil(i * px / norm - 0.5).astype(np.intp))


def motion_blur_apply(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
  """ImageMagick 6 Q16 MotionBlurImage on 8-bit images, then its 8-bit PNG encoding.

  The 8-bit pixels are read as 16-bit quanta (x 257), the weighted sum is rounded to a quantum
  (ClampToQuantum: floor(v + 0.5), clamped to 0..65535) and the 8-bit PNG stores floor(q / 257).
  Bit-exact against ImageMagick 6.9.11-60 Q16 through Wand (see the `corruptions` docstring).
  """
  kernel = motion_blur_kernel()
  dx, dy = motion_blur_offsets(angles, len(kernel))
  n = len(images)
  flat = images.reshape(n, -1).astype(np.float64) * 257  # ScaleCharToQuantum.
  grid = np.arange(SIZE)
  out = np.zeros((n, SIZE, SIZE))
  for t, w in enumerate(kernel):
    rows = np.clip(grid[None, :] + dy[:, t, None], 0, SIZE - 1)  # Edge virtual pixels.
    cols = np.clip(grid[None, :] + dx[:, t, None], 0, SIZE - 1)
    idx = rows[:, :, None] * SIZE + cols[:, None, :]
    out += w * np.take_along_axis(flat, idx.reshape(n, -1), axis=1).reshape(n, SIZE, SIZE)
  quantum = np.clip(np.floor(out + 0.5), 0, 65535)
  return np.floor(quantum / 257).astype(np.float32)


# --------------------------------------------------------------------------------------------
# scikit-image 0.15 Canny.


def _sobel(v: np.ndarray, axis: int) -> np.ndarray:
  """scipy.ndimage.sobel of each image ([N, 28, 28], axis 1 or 2), not mixing images."""
  other = 3 - axis
  out = ndi.correlate1d(v, [-1, 0, 1], axis=axis, mode="reflect")
  return ndi.correlate1d(out, [1, 2, 1], axis=other, mode="reflect")


def canny(x: np.ndarray, sigma: float = 1.0, low: float = 0.1, high: float = 0.2) -> np.ndarray:
  """scikit-image 0.15 `feature.canny(image)` with default arguments, for a batch [N, 28, 28].

  x in [0, 1] (float). Steps: Gaussian smoothing with mode 'constant', divided by the smoothed
  all-ones mask; Sobel gradients (isobel along rows, jsobel along columns); magnitude hypot;
  non-maximum suppression by linear interpolation between the two neighbours on each side of the
  gradient direction, in four direction classes (a later class overwrites an earlier one where
  they overlap), only inside the 1-pixel-eroded border where the magnitude is > 0; hysteresis:
  keep 8-connected components of (local max & magnitude >= low) that contain a pixel >= high.
  """
  blur = lambda v: ndi.gaussian_filter(v, (0, sigma, sigma), mode="constant", cval=0.0,
                                       truncate=4.0)
  bleed = ndi.gaussian_filter(np.ones((SIZE, SIZE)), sigma, mode="constant", cval=0.0,
                              truncate=4.0)
  smoothed = blur(x) / (bleed + np.finfo(float).eps)
  isobel, jsobel = _sobel(smoothed, 1), _sobel(smoothed, 2)
  ai, aj = np.abs(isobel), np.abs(jsobel)
  mag = np.hypot(isobel, jsobel)
  inner = np.zeros((SIZE, SIZE), bool)
  inner[1:-1, 1:-1] = True
  valid = inner & (mag > 0)

  p = np.pad(mag, ((0, 0), (1, 1), (1, 1)))  # Neighbours; only read where `valid` (inner pixels).
  at = lambda dr, dc: p[:, 1 + dr:1 + dr + SIZE, 1 + dc:1 + dc + SIZE]
  with np.errstate(divide="ignore", invalid="ignore"):
    w_ji, w_ij = aj / ai, ai / aj
  same = ((isobel >= 0) & (jsobel >= 0)) | ((isobel <= 0) & (jsobel <= 0))
  opposite = ((isobel <= 0) & (jsobel >= 0)) | ((isobel >= 0) & (jsobel <= 0))
  # (class mask, interpolation weight, (near, far) neighbour on the + side, same on the - side).
  classes = (
      (same & (ai >= aj), w_ji, ((1, 0), (1, 1)), ((-1, 0), (-1, -1))),
      (same & (ai <= aj), w_ij, ((0, 1), (1, 1)), ((0, -1), (-1, -1))),
      (opposite & (ai <= aj), w_ij, ((0, 1), (-1, 1)), ((0, -1), (1, -1))),
      (opposite & (ai >= aj), w_ji, ((-1, 0), (-1, 1)), ((1, 0), (1, -1))),
  )
  local_max = np.zeros(mag.shape, bool)
  for cls, w, (n1, f1), (n2, f2) in classes:
    pts = valid & cls
    with np.errstate(invalid="ignore"):
      plus = at(*f1) * w + at(*n1) * (1 - w) <= mag
      minus = at(*f2) * w + at(*n2) * (1 - w) <= mag
    local_max = np.where(pts, plus & minus, local_max)

  low_mask = local_max & (mag >= low)
  high_mask = local_max & (mag >= high)
  structure = np.zeros((3, 3, 3), bool)
  structure[1] = True  # 8-connected within an image, never across images.
  labels, count = ndi.label(low_mask, structure)
  good = np.zeros(count + 1, bool)
  good[np.unique(labels[high_mask])] = True
  good[0] = False
  return good[labels]
