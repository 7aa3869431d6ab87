"""MNIST-C (Mu & Gilmer 2019): the 15 benchmark corruptions, as pure functions of uint8 images.

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
canny are re-stated (here and in `corruption_ops`) so the old-version behaviour does not depend
on the installed version; the tests compare against the installed scikit-image where the
algorithms agree.

Owns the corruptions, their names (`CORRUPTIONS`, `resolve_names`), the per-image random streams
(`image_rngs`), quantisation (`quantise`) and `corrupt`; `mnist_c` stores and serves the
corrupted test sets.
"""
from __future__ import annotations

import functools
import math
import zlib
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy import ndimage as ndi

from inductive_kd.data.corruption_ops import (
    SIZE, canny, motion_blur_apply, rotate_inverse_map, scale_inverse_map, shear_inverse_map,
    translate_inverse_map, warp_bilinear)

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

Rngs = Sequence[np.random.Generator]


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


def check_name(name: str) -> None:
  if name not in CORRUPTIONS:
    raise ValueError(f"Unknown MNIST-C corruption {name!r}; valid names: {', '.join(CORRUPTIONS)}.")


def check_images(images) -> np.ndarray:
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


def check_seed(seed) -> int:
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
# Shared pieces: the reference's warp output, line profiles.


def _warp_output(x01: np.ndarray, inverse: np.ndarray) -> np.ndarray:
  return (np.clip(warp_bilinear(x01, inverse), 0, 1) * 255).astype(np.float32)


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


def _motion_blur(images: np.ndarray, rngs: Rngs) -> np.ndarray:
  """ImageMagick MotionBlurImage(radius=10, sigma=3, angle ~ U(-45, 45) deg) (severity 1)."""
  angles = np.array([rng.uniform(-45, 45) for rng in rngs])
  return motion_blur_apply(images, angles)

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
  check_name(name)
  images = check_images(images)
  seed = check_seed(seed)
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
