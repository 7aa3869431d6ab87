"""MNIST-C (Mu & Gilmer 2019): the 15 benchmark corruptions, a cache, and a command that builds them.

Each corruption re-implements the function of the same name in google-research/mnist-c
`corruptions.py` (Apache-2.0; algorithms and parameters re-stated here, no code copied) at that
function's default severity, which is what the released dataset used. The paper's headline shifted
sets are `translate` and `scale` (PAPER.md, Scenario 1).

Conventions (the reference works image by image on a PIL 'L' image and returns floats):
  * In and out: uint8 [N, 28, 28]. Internally each image is scaled to [0, 1] exactly as the
    reference does (`x / 255.`), corrupted in float64 (float32 where the reference computes in
    float32: spatter), multiplied back by 255 and cast to float32, the reference's return dtype.
  * Quantisation: `np.rint` (round half to even), then clip to [0, 255], then uint8. This is the
    reference notebook's `round_and_astype` (`np.round(x).astype(np.uint8)`); how the released
    Zenodo files were quantised is not recorded (DATA.md B). Ties are real for `brightness`
    (x + 127.5): even x -> x + 128, odd x -> x + 127.
  * Randomness: the reference draws from NumPy's unseeded global state, so the released images
    cannot be regenerated bit for bit. Here image `i` of corruption `name` draws its random choices
    from its own stream `SeedSequence(seed, spawn_key=(crc32(name), i))` (PCG64). So the output is
    the same on every machine for the same seed and NumPy version, and image i is corrupted the
    same way whatever else is in the batch (`corrupt(x[:8])` == `corrupt(x)[:8]`). Pass `indices`
    to keep the streams of a subset taken from a larger set. Each corruption draws the same
    distributions as the reference (e.g. its `np.random.choice([True, False])` becomes a uniform
    compared with 0.5).
  * Vectorised over the batch wherever the algorithm allows: the affine warps gather with per-image
    inverse maps, the blurs filter along image axes only, glass_blur's sequential pixel swaps run
    one step at a time for all images at once.

Reproduced quirks of the library versions that generated the data (2019: scikit-image 0.14/0.15):
  * glass_blur: `gaussian(..., multichannel=True)` on a 2-D image treats the columns as channels,
    so both blurs run along axis 0 (down the rows) only, sigma 0.7, mode 'nearest'.
  * shear: the old `AffineTransform(shear=c)` matrix [[1, -sin c], [0, cos c]] (newer scikit-image
    defines shear differently), written out explicitly.
  * canny_edges: scikit-image 0.15's `feature.canny` (sigma 1, thresholds 0.1/0.2 of the [0, 1]
    range, mask-normalised 'constant' Gaussian, interpolated non-maximum suppression in four
    direction classes where later classes overwrite earlier ones, 8-connected hysteresis),
    re-implemented batched.
  * motion_blur: the reference calls ImageMagick's MotionBlurImage through Wand (radius 10,
    sigma 3, angle ~ U(-45, 45) degrees) on the PNG-encoded 8-bit image. That kernel is
    implemented directly: width 2*ceil(radius)+1 = 21 taps, weights exp(-i^2 / (2 sigma^2)) for
    i = 0..20 normalised to sum 1 (one-sided), tap i reading the pixel at integer offset
    (ceil(i cos a - 0.5), ceil(i sin a - 0.5)) (column, row), edge pixels repeated outside the
    image (ImageMagick's default virtual-pixel method). The arithmetic is that of an ImageMagick 6
    Q16 (non-HDRI) build, the usual Linux package: pixels as 16-bit quanta (x 257), the sum
    rounded to a quantum, the 8-bit PNG keeping floor(quantum / 257) -- so the result is about
    0.5 grey level darker than rounding the exact sum. Measured bit-exact against ImageMagick
    6.9.11-60 Q16 (Debian 12) via Wand with the same angles; an HDRI or Q8 build, or another
    version, may differ by 1 grey level.
  * Library calls whose behaviour changed since (np.int, np.float_, multichannel=, old shear) are
    not used at all.

Checked against the reference: its corruptions.py, run under current libraries with shims that
restore the behaviours above (and scikit-image 0.15's canny and random_noise sources), fed the same
random choices as ours (ImageMagick 6.9.11-60 Q16 via Wand for motion_blur), gives bit-identical
uint8 output for all 15 corruptions on the 10,000 MNIST test images (max |difference| 0, also
before quantisation).

Dependencies: numpy (arrays, per-image Generators), scipy.ndimage (the separable Gaussian and Sobel
filters and connected-component labelling; the same routines scikit-image 0.15 called, so blurs are
bit-identical to it). scikit-image is not needed at run time: its warp, random_noise, gaussian and
canny are re-stated here so the old-version behaviour does not depend on the installed version;
the tests compare against the installed scikit-image where the algorithms agree. matplotlib (Agg)
draws the gallery and is imported only by the command. tensorflow_datasets is imported only by
`load_tfds`.

Command (builds each corrupted MNIST test set once, with a checksum manifest and a gallery):
  python -m inductive_kd.data.mnist_c --out data/mnist_c [--corruptions all|a,b] [--seed 0] \
      [--gallery docs/mnist_c_gallery.png]
"""
from __future__ import annotations

import argparse
import datetime
import functools
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy import ndimage as ndi

# The benchmark's 15 corruptions, in the order of `CORRUPTIONS` in google-research/mnist-c (which
# also lists 'identity', the clean set).
CORRUPTIONS: tuple[str, ...] = (
    "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
    "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges",
)
# Corruptions whose output does not depend on the seed.
DETERMINISTIC: frozenset[str] = frozenset({"scale", "brightness", "stripe", "canny_edges"})
# Bump when any corruption's output changes; cached and built files record it and are rebuilt.
ALGORITHM_VERSION = 1

SIZE = 28
CENTRE = 13.5  # The reference's warps keep (13.5, 13.5), the centre of a 28x28 image, fixed.

Rngs = Sequence[np.random.Generator]


class MnistCError(ValueError):
  """A corruption set or cache file is missing, stale or malformed; the message says what to do."""


# --------------------------------------------------------------------------------------------
# Input checking, random streams, quantisation.


def resolve_names(spec: str | Sequence[str] | None) -> list[str]:
  """'all', 'a,b' or ['a', 'b'] -> validated corruption names in the given order ('' -> [])."""
  if spec is None:
    return []
  if isinstance(spec, str):
    if spec.strip().lower() == "all":
      return list(CORRUPTIONS)
    items = [s.strip() for s in spec.split(",")]
  elif isinstance(spec, (list, tuple)):
    items = []
    for s in spec:
      if not isinstance(s, str):
        raise ValueError(f"MNIST-C names must be strings, got {s!r} in {spec!r}.")
      if s.strip().lower() == "all":
        return list(CORRUPTIONS)
      items.append(s.strip())
  else:
    raise ValueError(f"MNIST-C names: expected 'all', a comma-separated string or a list of "
                     f"names, got {type(spec).__name__} {spec!r}.")
  names = [s for s in items if s]
  unknown = [s for s in names if s not in CORRUPTIONS]
  if unknown:
    raise ValueError(f"Unknown MNIST-C corruption(s) {unknown}; valid names: "
                     f"{', '.join(CORRUPTIONS)} (or 'all').")
  return list(dict.fromkeys(names))  # Drops repeats, keeps the order.


def _check_name(name: str) -> None:
  if name not in CORRUPTIONS:
    raise ValueError(f"Unknown MNIST-C corruption {name!r}; valid names: {', '.join(CORRUPTIONS)}.")


def _check_images(images) -> np.ndarray:
  if not isinstance(images, np.ndarray):
    raise ValueError(f"MNIST-C expects a numpy uint8 array [N, 28, 28], got "
                     f"{type(images).__name__}.")
  if images.dtype != np.uint8:
    raise ValueError(f"MNIST-C expects dtype uint8 images [N, 28, 28] (raw MNIST pixels 0..255), "
                     f"got dtype {images.dtype}; convert with e.g. np.asarray(x, np.uint8) or load "
                     "with inductive_kd.data.mnist.load_idx.")
  if images.ndim != 3 or images.shape[1:] != (SIZE, SIZE):
    raise ValueError(f"MNIST-C expects uint8 images of shape [N, 28, 28], got shape "
                     f"{images.shape}; add a batch axis (x[None]) or drop a channel axis "
                     "(x[..., 0]).")
  return images


def _check_seed(seed) -> int:
  if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f"MNIST-C seed must be a non-negative integer, got {seed!r}.")
  return int(seed)


def _name_key(name: str) -> int:
  # A fixed function of the name (not its position in CORRUPTIONS), so streams survive reordering.
  return zlib.crc32(name.encode("ascii"))


def image_rngs(name: str, seed: int, indices: Iterable[int]) -> list[np.random.Generator]:
  """One independent PCG64 stream per image: SeedSequence(seed, spawn_key=(crc32(name), index))."""
  key = _name_key(name)
  return [np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, int(i))))
          for i in indices]


def quantise(values: np.ndarray) -> np.ndarray:
  """Float image values on the 0..255 scale -> uint8: round half to even, clip to [0, 255]."""
  return np.clip(np.rint(values), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Shared pieces: bilinear inverse-map warp, line profiles.


def _warp_bilinear(x: np.ndarray, inverse: np.ndarray) -> np.ndarray:
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


def _warp_output(x01: np.ndarray, inverse: np.ndarray) -> np.ndarray:
  return (np.clip(_warp_bilinear(x01, inverse), 0, 1) * 255).astype(np.float32)


def _line_profile(c0: float, r0: float, c1: float, r1: float) -> np.ndarray:
  """The reference's `line_from_points`: an anti-aliased line on the 28x28 grid, values in [0, 1].

  Each pixel gets clip(log(1 - d / 2.3) + 1, 0, 1), d = |row - line(col)| (vertical distance,
  clipped just below 2.3), and columns left of floor(c0) and from ceil(c1) on are zeroed.
  """
  if c1 == c0:
    return np.zeros((SIZE, SIZE))
  cc = np.arange(SIZE, dtype=np.float64)[None, :]
  rr = np.arange(SIZE, dtype=np.float64)[:, None]
  slope = (r1 - r0) / (c1 - c0)
  dist = np.clip(np.abs(rr - (slope * (cc - c0) + r0)), 0, 2.3 - 1e-10)
  profile = np.clip(np.log(1 - dist / 2.3) + 1, 0, 1)
  profile[:, :int(math.floor(c0))] = 0
  profile[:, int(math.ceil(c1)):] = 0
  return profile


# --------------------------------------------------------------------------------------------
# The 15 corruptions. Each takes uint8 [N, 28, 28] and one Generator per image (none for the
# deterministic ones) and returns float32 values on the 0..255 scale, before quantisation.


def _shot_noise(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Poisson noise: clip(poisson(x * c) / c, 0, 1), c = 3 (severity 5 of [60, 25, 12, 5, 3])."""
  c = 3
  lam = images / 255. * c
  counts = np.stack([rng.poisson(l) for rng, l in zip(rngs, lam)])
  return (np.clip(counts / float(c), 0, 1) * 255).astype(np.float32)


def _impulse_noise(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Salt and pepper as skimage.util.random_noise(mode='s&p', amount=0.17) (severity 4).

  A pixel is flipped with probability 0.17; a flipped pixel becomes 1 (salt) with probability 0.5
  (salt_vs_pepper) and 0 otherwise.
  """
  amount, salt_vs_pepper = 0.17, 0.5
  u = np.stack([rng.random((2, SIZE, SIZE)) for rng in rngs])
  flipped, salted = u[:, 0] < amount, u[:, 1] < salt_vs_pepper
  out = images / 255.
  out[flipped & salted] = 1.0
  out[flipped & ~salted] = 0.0
  return (np.clip(out, 0, 1) * 255).astype(np.float32)


def _glass_blur_steps(rngs: Rngs, max_delta: int = 1, iterations: int = 2):
  """Random choices of glass_blur's swap loop: per image, the pixel each step swaps with.

  Steps run over iterations, then rows h = 27..2, then columns w = 27..2 (the reference's
  range(28 - max_delta, max_delta, -1)); at each, with probability 1/2, pixel (h, w) swaps with
  (h + dy, w + dx), dx, dy ~ randint(-max_delta, max_delta) (upper bound excluded: {-1, 0}).
  Returns (source flat index [S], destination flat index [S, N]).
  """
  hs = np.arange(SIZE - max_delta, max_delta, -1)
  k = len(hs)
  src = (hs[:, None] * SIZE + hs[None, :]).ravel()  # Row-major over (h, w), both descending.
  src = np.tile(src, iterations)
  dst = np.empty((iterations * k * k, len(rngs)), np.intp)
  for n, rng in enumerate(rngs):
    swap = rng.random((iterations, k, k)) < 0.5
    d = rng.integers(-max_delta, max_delta, size=(iterations, k, k, 2))  # (dx, dy)
    dx, dy = (d[..., 0] * swap).ravel(), (d[..., 1] * swap).ravel()
    dst[:, n] = src + dy * SIZE + dx
  return src, dst


def _glass_blur(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Blur, round down to uint8, locally shuffle pixels, blur again (severity 1: (0.7, 1, 2)).

  Both blurs are the old-skimage `multichannel=True` Gaussian on a 2-D image: sigma 0.7 along
  axis 0 only, mode 'nearest', truncate 4.
  """
  sigma = 0.7
  blur = lambda v: ndi.gaussian_filter1d(v, sigma, axis=1, mode="nearest", truncate=4.0)
  flat = (blur(images / 255.) * 255).astype(np.uint8).reshape(len(images), -1)  # np.uint8: floor.
  src, dst = _glass_blur_steps(rngs)
  batch = np.arange(len(images))
  for s, j in zip(src, dst):  # Sequential by definition; all images at once.
    a = flat[:, s].copy()
    flat[:, s] = flat[batch, j]
    flat[batch, j] = a
  x = flat.reshape(images.shape) / 255.
  return (np.clip(blur(x), 0, 1) * 255).astype(np.float32)


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


def _motion_blur_apply(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
  """ImageMagick 6 Q16 MotionBlurImage on 8-bit images, then its 8-bit PNG encoding.

  The 8-bit pixels are read as 16-bit quanta (x 257), the weighted sum is rounded to a quantum
  (ClampToQuantum: floor(v + 0.5), clamped to 0..65535) and the 8-bit PNG stores floor(q / 257).
  Bit-exact against ImageMagick 6.9.11-60 Q16 through Wand (see the module docstring).
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


def _motion_blur(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """ImageMagick MotionBlurImage(radius=10, sigma=3, angle ~ U(-45, 45) deg) (severity 1)."""
  angles = np.array([rng.uniform(-45, 45) for rng in rngs])
  return _motion_blur_apply(images, angles)


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


def _random_signs(rngs: Rngs, k: int) -> np.ndarray:
  # np.random.choice([-1, 1], k): each sign independently -1 or +1 with probability 1/2.
  return np.stack([rng.integers(0, 2, size=k) * 2 - 1 for rng in rngs])


def _shear(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Shear by c = +-0.4 (severity 2 of [.2, .4, .6, .8, 1.]), random sign, about the centre."""
  c = 0.4 * _random_signs(rngs, 1)[:, 0]
  return _warp_output(images / 255., shear_inverse_map(c))


def _scale(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Inverse map scale (1/0.7, 1/0.7) about the centre (severity 3): the digit shrinks to 70%."""
  del rngs
  return _warp_output(images / 255., scale_inverse_map(1 / .7))


def _rotate(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Rotate by +-0.4 rad (severity 2), random sign, about the centre."""
  c = 0.4 * _random_signs(rngs, 1)[:, 0]
  return _warp_output(images / 255., rotate_inverse_map(c))


def _brightness(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """HSV value + 0.5 (severity 5). For a grey image that is exactly clip(x/255 + 0.5, 0, 1).

  The reference goes grey -> RGB -> HSV (s = 0, v = x) -> v + c -> RGB -> grey (weights summing to
  1); computed exactly here so the x + 127.5 ties do not depend on float noise.
  """
  del rngs
  return np.minimum(images.astype(np.float32) + np.float32(127.5), np.float32(255))


def _translate(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Shift by (+-3, +-3) px with independent random signs (severity 3 of [1..5]).

  The reference's inverse map is translation (dx, dy), so the digit moves by (-dx, -dy).
  """
  signs = _random_signs(rngs, 2)
  return _warp_output(images / 255., translate_inverse_map(3 * signs[:, 0], 3 * signs[:, 1]))


def _stripe(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Invert (255 - x) columns 0-6 and 21-27."""
  del rngs
  x = images.astype(np.float32)
  x[:, :, :7] = 255. - x[:, :, :7]
  x[:, :, 21:] = 255. - x[:, :, 21:]
  return x


PLASMA_SIZE = 256
PLASMA_DRAWS = PLASMA_SIZE * PLASMA_SIZE - 1  # Every map entry but [0, 0] gets one uniform.


def plasma_fractal(u: np.ndarray, wibbledecay: float = 1.4) -> np.ndarray:
  """Diamond-square height maps [B, 256, 256] in [0, 1] (the reference's `plasma_fractal`).

  u: [B, 65535] uniforms in [-1, 1). Per level (step 256 -> 2, wibble 100 divided by wibbledecay
  after each), square centres then the two diamond sets get the mean of their four neighbours
  (with wrap-around) plus wibble * U(-wibble, wibble); the map is then min-max normalised over all
  256x256 entries. The uniforms are consumed in that order.
  """
  b = u.shape[0]
  m = np.empty((b, PLASMA_SIZE, PLASMA_SIZE))
  m[:, 0, 0] = 0.0
  step, wibble, pos = PLASMA_SIZE, 100.0, 0

  def wibbled_mean(total):
    nonlocal pos
    k = total.shape[1] * total.shape[2]
    noise = wibble * (wibble * u[:, pos:pos + k].reshape(total.shape))
    pos += k
    return total / 4 + noise

  while step >= 2:
    half = step // 2
    corner = m[:, 0::step, 0::step]
    square = corner + np.roll(corner, -1, axis=1)
    square += np.roll(square, -1, axis=2)
    m[:, half::step, half::step] = wibbled_mean(square)
    centre = m[:, half::step, half::step]
    corner = m[:, 0::step, 0::step]
    left = (centre + np.roll(centre, 1, axis=1)) + (corner + np.roll(corner, -1, axis=2))
    m[:, 0::step, half::step] = wibbled_mean(left)
    top = (centre + np.roll(centre, 1, axis=2)) + (corner + np.roll(corner, -1, axis=1))
    m[:, half::step, 0::step] = wibbled_mean(top)
    step //= 2
    wibble /= wibbledecay
  assert pos == PLASMA_DRAWS
  m -= m.min(axis=(1, 2), keepdims=True)
  return m / m.max(axis=(1, 2), keepdims=True)


def _fog_apply(images: np.ndarray, u: np.ndarray) -> np.ndarray:
  c = (3.0, 1.4)
  x = images / 255.
  max_val = x.max(axis=(1, 2), keepdims=True)
  x = x + c[0] * plasma_fractal(u, wibbledecay=c[1])[:, :SIZE, :SIZE]
  return (np.clip(x * max_val / (max_val + c[0]), 0, 1) * 255).astype(np.float32)


def _fog(images: np.ndarray, rngs: Rngs, chunk: int = 8) -> np.ndarray:
  """Add 3 x a plasma fractal (wibbledecay 1.4), rescale by max/(max + 3) (severity 5)."""
  out = np.empty(images.shape, np.float32)
  for start in range(0, len(images), chunk):
    part = rngs[start:start + chunk]
    u = np.empty((len(part), PLASMA_DRAWS))
    for j, rng in enumerate(part):
      u[j] = rng.uniform(-1.0, 1.0, PLASMA_DRAWS)
    out[start:start + chunk] = _fog_apply(images[start:start + chunk], u)
  return out


def spatter_mask(liquid: np.ndarray) -> np.ndarray:
  """Spatter mask m (float32) in {0} U [0.8, 1] from the liquid layer [N, 28, 28] (severity 4).

  Blur the layer (sigma 1), zero it below 0.65, binarise at > 0.65, blur that (sigma 1.5), zero
  values below 0.8. Blurs: skimage `gaussian` defaults (mode 'nearest', truncate 4), per image.
  """
  blur = lambda v, s: ndi.gaussian_filter(v, (0, s, s), mode="nearest", truncate=4.0)
  layer = blur(liquid, 1.0)
  layer[layer < 0.65] = 0
  m = blur((layer > 0.65).astype(np.float32), 1.5)  # float32 in, float32 out, as the reference.
  m[m < 0.8] = 0
  return m


def _spatter(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Mud spatter: x (1 - m) + (63/255) m, liquid layer ~ N(0.65, 0.3) (severity 4).

  The severity tuple's 6th entry (mode 1) is unused by the reference. As there, the image and the
  mask blur are float32 (skimage's img_as_float keeps float32), the liquid layer float64.
  """
  liquid = np.stack([rng.normal(0.65, 0.3, size=(SIZE, SIZE)) for rng in rngs])
  m = spatter_mask(liquid)
  x = images.astype(np.float32) / np.float32(255.)
  x *= 1 - m
  color = np.float32(63 / 255.) * m
  return np.clip(x + color, 0, 1) * np.float32(255)


# Columns that survive dotted_line's dashing: blocks [0, 2), [4, 6), ..., [24, 26) are zeroed,
# and line_from_points(0, ., 27, .) itself zeroes column 27 (ceil(c1) = 27).
_DOTTED_KEEP = np.zeros(SIZE, bool)
for _start in range(2, SIZE, 4):
  _DOTTED_KEEP[_start:_start + 2] = True
_DOTTED_KEEP[SIZE - 1] = False


def dotted_line_pattern(r0: np.ndarray, r1: np.ndarray) -> np.ndarray:
  """Dashed line from (col 0, row r0) to (col 27, row r1): [N, 28, 28] in [0, 1]."""
  r0 = np.asarray(r0, np.float64)[:, None, None]
  r1 = np.asarray(r1, np.float64)[:, None, None]
  cc = np.arange(SIZE, dtype=np.float64)[None, None, :]
  rr = np.arange(SIZE, dtype=np.float64)[None, :, None]
  dist = np.clip(np.abs(rr - ((r1 - r0) / 27 * (cc - 0) + r0)), 0, 2.3 - 1e-10)
  profile = np.clip(np.log(1 - dist / 2.3) + 1, 0, 1)
  return profile * _DOTTED_KEEP


def _dotted_line(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Add a dashed anti-aliased line, rows r0, r1 ~ randint(0, 27) at columns 0 and 27, clip."""
  r = np.stack([rng.integers(0, 27, size=2) for rng in rngs])
  x = images / 255.
  return (np.clip(x + dotted_line_pattern(r[:, 0], r[:, 1]), 0, 1) * 255).astype(np.float32)


@functools.lru_cache(maxsize=None)
def zigzag_segments(r0: int, dr: int) -> tuple[np.ndarray, ...]:
  """The line profiles [28, 28] of the zigzag from column 2, row r0 to column 25, row r0 + dr.

  As the reference: a = b = 2 (tooth length and height); the straight line has angle
  theta = arctan(dr / 23) and length d = 23 / cos(theta); vertices (0, 0), ((2i+1) a, (-1)^i b)
  for i < int((d - a) // 2a) + 1, and, when d is not a multiple of 2a, (d, r_last / (2 (d - m)))
  with m = 2a * (d // 2a); vertices rotated by theta and shifted to (2, r0). Read-only arrays.
  """
  a = b = 2.
  c0, c1 = 2, 25
  theta = np.arctan(dr / (c1 - c0))
  d = (c1 - c0) / np.cos(theta)
  vertices = [(0.0, 0.0)]
  r_i = 0.0
  for i in range(int((d - a) // (2 * a)) + 1):
    r_i = (-1) ** i * b
    vertices.append(((2 * i + 1) * a, r_i))
  max_c = (2 * a) * (d // (2 * a))
  if d != max_c:
    vertices.append((d, r_i / (2 * (d - max_c))))
  rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
  cs, rs = rot.dot(np.array(vertices).T)
  cs, rs = cs + c0, rs + r0
  segments = []
  for i in range(1, len(cs)):
    seg = _line_profile(cs[i - 1], rs[i - 1], cs[i], rs[i])
    seg.setflags(write=False)
    segments.append(seg)
  return tuple(segments)


def _zigzag(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Add a zigzag (r0 ~ randint(0, 27), r1 = r0 + randint(-5, 5)), clipping after each segment."""
  draws = np.array([(rng.integers(0, 27), rng.integers(-5, 5)) for rng in rngs]).reshape(-1, 2)
  x = images / 255.
  per_image = [zigzag_segments(int(r0), int(dr)) for r0, dr in draws]
  for k in range(max((len(s) for s in per_image), default=0)):
    seg = np.stack([s[k] if k < len(s) else np.zeros((SIZE, SIZE)) for s in per_image])
    x = np.clip(x + seg, 0, 1)
  return (x * 255).astype(np.float32)


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


def _canny_edges(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """Binary Canny edge map x 255 (skimage.feature.canny defaults, sigma 1)."""
  del rngs
  return canny(images / 255.).astype(np.float32) * 255


_FUNCTIONS: dict[str, Callable[[np.ndarray, Rngs], np.ndarray]] = {
    "shot_noise": _shot_noise, "impulse_noise": _impulse_noise, "glass_blur": _glass_blur,
    "motion_blur": _motion_blur, "shear": _shear, "scale": _scale, "rotate": _rotate,
    "brightness": _brightness, "translate": _translate, "stripe": _stripe, "fog": _fog,
    "spatter": _spatter, "dotted_line": _dotted_line, "zigzag": _zigzag,
    "canny_edges": _canny_edges,
}
assert tuple(_FUNCTIONS) == CORRUPTIONS


def corrupt(images: np.ndarray, name: str, seed: int = 0, *,
            indices: Sequence[int] | np.ndarray | None = None,
            chunk: int = 2000) -> np.ndarray:
  """Applies MNIST-C corruption `name` to uint8 images [N, 28, 28]; returns uint8 [N, 28, 28].

  Deterministic: image k uses the random stream of index indices[k] (default k) under `seed`, so
  the same images, indices and seed give the same output on any machine (same NumPy version).
  Values are rounded half to even and clipped to [0, 255]. `chunk` bounds memory only.
  """
  _check_name(name)
  images = _check_images(images)
  seed = _check_seed(seed)
  n = len(images)
  if indices is None:
    indices = np.arange(n)
  else:
    indices = np.asarray(indices)
    if indices.shape != (n,) or not np.issubdtype(indices.dtype, np.integer) or (
        n and indices.min() < 0):
      raise ValueError(f"indices must be {n} non-negative integers (one per image), got shape "
                       f"{indices.shape} dtype {indices.dtype}.")
  fn = _FUNCTIONS[name]
  out = np.empty(images.shape, np.uint8)
  for start in range(0, n, chunk):
    part = slice(start, start + chunk)
    rngs = image_rngs(name, seed, indices[part]) if name not in DETERMINISTIC else []
    out[part] = quantise(fn(images[part], rngs))
  return out


# --------------------------------------------------------------------------------------------
# Cache for training runs, TFDS switch.


def images_digest(images: np.ndarray) -> str:
  """SHA-256 (first 16 hex digits) of the images' shape and bytes."""
  h = hashlib.sha256(repr(images.shape).encode())
  h.update(np.ascontiguousarray(images).tobytes())
  return h.hexdigest()[:16]


def _atomic_write(path: Path, write: Callable) -> None:
  """Calls write(file) on a temporary file beside `path`, then renames it into place (0644)."""
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
  try:
    with os.fdopen(fd, "wb") as f:
      write(f)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are shared data files.
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def _atomic_savez(path: Path, **arrays) -> None:
  _atomic_write(path, lambda f: np.savez(f, **arrays))


def _read_npz(path: Path) -> dict | None:
  """The arrays of an .npz, or None when it is unreadable (truncated, not a zip, ...)."""
  try:
    with np.load(path, allow_pickle=False) as z:
      return {k: z[k] for k in z.files}
  except Exception:  # pylint: disable=broad-except
    return None


def cache_path(name: str, images: np.ndarray, *, seed: int = 0, cache_dir) -> Path:
  return Path(cache_dir) / f"{name}_seed{seed}_{images_digest(images)}.npz"


def load_or_build(name: str, images: np.ndarray, *, seed: int = 0, cache_dir) -> np.ndarray:
  """corrupt(images, name, seed), read from `<cache_dir>/<name>_seed<seed>_<digest>.npz` if it is
  there and valid, else computed and written there atomically (temp file + os.replace)."""
  _check_name(name)
  images = _check_images(images)
  seed = _check_seed(seed)
  path = cache_path(name, images, seed=seed, cache_dir=cache_dir)
  if path.exists():
    z = _read_npz(path)
    if (z is not None and "images" in z and z["images"].dtype == np.uint8
        and z["images"].shape == images.shape
        and int(z.get("algorithm_version", -1)) == ALGORITHM_VERSION):
      return z["images"]
  out = corrupt(images, name, seed)
  _atomic_savez(path, images=out, seed=np.int64(seed),
                algorithm_version=np.int64(ALGORITHM_VERSION))
  return out


def load_tfds(name: str, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
  """The released MNIST-C test set from a locally prepared TFDS `mnist_corrupted/<name>`.

  Returns (images uint8 [10000, 28, 28], labels int32 [10000]). TFDS cannot download here, so an
  unprepared dataset raises MnistCError saying how to prepare it or to use our implementation.
  """
  _check_name(name)
  try:
    import tensorflow_datasets as tfds  # Lazily: it pulls in TensorFlow.
  except ImportError as e:
    raise MnistCError(f"TFDS MNIST-C requested but tensorflow_datasets cannot be imported ({e}). "
                      "Use config.eval.shifted_source='project'.") from None
  fix = (f"Prepare it where the download works (`tfds build mnist_corrupted/{name}"
         f"{' --data_dir ' + str(data_dir) if data_dir else ''}`) and copy the data dir here, or "
         "use config.eval.shifted_source='project' (our implementation).")
  try:
    builder = tfds.builder(f"mnist_corrupted/{name}", data_dir=data_dir)
    prepared = builder.is_prepared()
  except Exception as e:  # pylint: disable=broad-except
    raise MnistCError(f"TFDS mnist_corrupted/{name} is not available ({type(e).__name__}: "
                      f"{e}). {fix}") from None
  if not prepared:
    raise MnistCError(f"TFDS mnist_corrupted/{name} is not prepared in "
                      f"{builder.data_dir if data_dir else 'the default TFDS data dir'}. {fix}")
  ds = tfds.as_numpy(builder.as_dataset(split="test", batch_size=-1))
  images = np.asarray(ds["image"])
  if images.ndim == 4:
    images = images[..., 0]
  return images.astype(np.uint8), np.asarray(ds["label"]).astype(np.int32)


# --------------------------------------------------------------------------------------------
# Command: build every corrupted test set once, with a manifest and a gallery.

MANIFEST = "MANIFEST.json"


def set_path(out_dir, name: str) -> Path:
  return Path(out_dir) / f"{name}.npz"


def _sha256_file(path: Path) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      h.update(block)
  return h.hexdigest()


def _valid_set(path: Path, labels: np.ndarray, seed: int, source: str) -> bool:
  z = _read_npz(path)
  return bool(z is not None and {"images", "labels", "seed", "algorithm_version"} <= set(z)
              and z["images"].dtype == np.uint8 and z["images"].shape == (len(labels), SIZE, SIZE)
              and np.array_equal(z["labels"], labels) and int(z["seed"]) == seed
              and int(z["algorithm_version"]) == ALGORITHM_VERSION
              and str(z.get("source", "")) == source)


def load_set(out_dir, name: str) -> tuple[np.ndarray, np.ndarray]:
  """(images, labels) of a set written by the command, checked against DIR/MANIFEST.json."""
  _check_name(name)
  path = set_path(out_dir, name)
  fix = f"Build it with `python -m inductive_kd.data.mnist_c --out {out_dir} --corruptions {name}`."
  try:
    manifest = json.loads((Path(out_dir) / MANIFEST).read_text())
    expected = manifest["files"][path.name]["sha256"]
  except (OSError, ValueError, KeyError):
    raise MnistCError(f"{Path(out_dir) / MANIFEST} does not list {path.name}. {fix}") from None
  if not path.exists() or _sha256_file(path) != expected:
    raise MnistCError(f"{path} is missing or does not match its SHA-256 in the manifest. {fix}")
  z = _read_npz(path)
  return z["images"], z["labels"]


def write_sets(out_dir, images: np.ndarray, labels: np.ndarray, names: Sequence[str], seed: int,
               *, source: str = "", log: Callable[[str], None] = print) -> dict:
  """Writes DIR/<name>.npz (images, labels, seed) for each name unless a valid one is there, then
  DIR/MANIFEST.json (sha256 per file, seed, build time). Returns the manifest."""
  out_dir = Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  names = resolve_names(names)
  images = _check_images(images)
  seed = _check_seed(seed)
  manifest_path = out_dir / MANIFEST
  try:
    manifest = json.loads(manifest_path.read_text())
    files = dict(manifest.get("files", {}))
  except (OSError, ValueError):
    files = {}
  now = lambda: datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
  total = 0.0
  for k, name in enumerate(names, 1):
    path = set_path(out_dir, name)
    t0 = time.perf_counter()
    entry = files.get(path.name, {})
    if _valid_set(path, labels, seed, source):
      status = "present, kept"
    else:
      out = corrupt(images, name, seed)
      _atomic_savez(path, images=out, labels=labels, seed=np.int64(seed),
                    algorithm_version=np.int64(ALGORITHM_VERSION), source=np.str_(source))
      status = "built"
    dt = time.perf_counter() - t0
    files[path.name] = {"sha256": _sha256_file(path), "seed": seed, "n": int(len(images)),
                        "algorithm_version": ALGORITHM_VERSION,
                        "built": now() if status == "built" else entry.get("built"),
                        "build_seconds": round(dt, 2) if status == "built" else entry.get(
                            "build_seconds")}
    total += dt
    log(f"[{k:2d}/{len(names)}] {name:<14s} {status:<14s} {dt:6.2f} s   (total {total:6.1f} s)")
  manifest = {
      "dataset": "MNIST-C (Mu & Gilmer 2019) test sets, inductive_kd.data.mnist_c",
      "seed": seed, "algorithm_version": ALGORITHM_VERSION, "source": source, "updated": now(),
      "quantisation": "np.rint (half to even), clip [0, 255], uint8",
      "numpy": np.__version__,  # Generator streams are pinned per NumPy version, not across.
      "files": dict(sorted(files.items())),
  }
  _atomic_write(manifest_path, lambda f: f.write((json.dumps(manifest, indent=2) + "\n").encode()))
  return manifest


def save_gallery(path, images: np.ndarray, labels: np.ndarray, names: Sequence[str] = CORRUPTIONS,
                 seed: int = 0, columns: int = 8) -> Path:
  """PNG grid: a clean row, then one row per corruption, of the first `columns` images.

  Thanks to per-index streams these are exactly the first images of the full corrupted sets.
  """
  import matplotlib  # Only the command draws.
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  names = resolve_names(names)
  x, y = images[:columns], labels[:columns]
  rows = [("clean", x)] + [(name, corrupt(x, name, seed)) for name in names]
  fig, axes = plt.subplots(len(rows), len(x), figsize=(0.9 * len(x) + 1.6, 0.9 * len(rows) + 0.4),
                           squeeze=False)
  for i, (title, row) in enumerate(rows):
    for j in range(len(x)):
      ax = axes[i, j]
      ax.imshow(row[j], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
      ax.set_xticks([])
      ax.set_yticks([])
      if i == 0:
        ax.set_title(f"label {int(y[j])}", fontsize=8)
    axes[i, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
  fig.suptitle(f"MNIST-C (ours, seed {seed}): first {len(x)} test images", fontsize=10)
  fig.tight_layout()
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def main(argv: Sequence[str] | None = None) -> int:
  parser = argparse.ArgumentParser(
      prog="python -m inductive_kd.data.mnist_c",
      description="Build the MNIST-C corrupted MNIST test sets (npz + MANIFEST.json).")
  parser.add_argument("--out", required=True, help="Output folder for <name>.npz and MANIFEST.json.")
  parser.add_argument("--corruptions", default="all", help="'all' or comma-separated names.")
  parser.add_argument("--seed", type=int, default=0, help="Seed of the per-image random streams.")
  parser.add_argument("--gallery", default=None, help="Also write a PNG gallery here.")
  parser.add_argument("--mnist-dir", default=None, help="Folder with the MNIST IDX files "
                      "(default: the repository's data/mnist).")
  args = parser.parse_args(argv)
  try:
    names = resolve_names(args.corruptions)
    _check_seed(args.seed)
  except ValueError as e:
    parser.error(str(e))
  from inductive_kd.data import mnist  # The loader of the clean test set.
  images, labels = mnist.load_idx("test", args.mnist_dir)
  source = f"mnist test, t10k-images sha256 {mnist.SHA256['t10k-images-idx3-ubyte.gz'][:16]}"
  print(f"MNIST-C: {len(names)} corruption(s) of {len(images)} test images, seed {args.seed} "
        f"-> {args.out}", flush=True)
  write_sets(args.out, images, labels, names, args.seed, source=source,
             log=lambda s: print(s, flush=True))
  print(f"wrote {Path(args.out) / MANIFEST}")
  if args.gallery:
    print(f"wrote {save_gallery(args.gallery, images, labels, names, args.seed)}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
