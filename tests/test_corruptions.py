"""Tests for inductive_kd.data.corruptions: the 15 MNIST-C corruptions and name handling.

Each corruption gets: determinism for a seed (and a different result for another seed when it is
random), uint8 [N, 28, 28] out, and a property or hand-computed case that pins its algorithm to the
google-research/mnist-c reference at its default severity.
"""
import math
import time

import numpy as np
import pytest

from inductive_kd.data import corruptions, mnist
from inductive_kd.data.corruptions import CORRUPTIONS, corrupt

N = 64


@pytest.fixture(scope="module")
def test_set():
  images, labels = mnist.load_idx("test")
  return images, labels


@pytest.fixture(scope="module")
def digits(test_set):
  return test_set[0][:N]


def _blank(n=4, value=0):
  return np.full((n, 28, 28), value, np.uint8)


def _bbox(img):
  rows, cols = np.nonzero(img)
  return rows.min(), rows.max(), cols.min(), cols.max()


def _centre_of_mass(img):
  w = img.astype(np.float64)
  r, c = np.mgrid[:28, :28]
  return np.array([(w * r).sum(), (w * c).sum()]) / w.sum()


# ---------------------------------------------------------------------------------------------
# Every corruption.


def test_names_in_benchmark_order():
  assert CORRUPTIONS == (
      "shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
      "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag",
      "canny_edges")


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_deterministic_dtype_shape_and_streams(name, digits):
  out = corrupt(digits, name, seed=0)
  assert out.dtype == np.uint8 and out.shape == digits.shape
  assert not np.array_equal(out, digits)
  np.testing.assert_array_equal(out, corrupt(digits, name, seed=0))
  other = corrupt(digits, name, seed=1)
  if name in corruptions.DETERMINISTIC:
    np.testing.assert_array_equal(out, other)
  else:
    assert not np.array_equal(out, other)
  # Per-image streams: a prefix, or a subset with its indices, is corrupted as in the full set.
  np.testing.assert_array_equal(corrupt(digits[:5], name, seed=0), out[:5])
  np.testing.assert_array_equal(
      corrupt(digits[20:30], name, seed=0, indices=np.arange(20, 30)), out[20:30])


# ---------------------------------------------------------------------------------------------
# Affine warps: translate and scale (the paper's headline sets), rotate, shear.


def _away_from_border(images, margin=3):
  keep = []
  for i, img in enumerate(images):
    r0, r1, c0, c1 = _bbox(img)
    if min(r0, c0) >= margin and max(r1, c1) <= 27 - margin:
      keep.append(i)
  return images[keep]


def test_translate_moves_digit_by_exactly_plus_minus_3(digits):
  x = _away_from_border(digits)
  assert len(x) >= 10
  out = corrupt(x, "translate")
  shifts = set()
  for a, b in zip(x, out):
    dr, dc = _centre_of_mass(b) - _centre_of_mass(a)
    assert abs(dr) == pytest.approx(3, abs=1e-9) and abs(dc) == pytest.approx(3, abs=1e-9)
    s = (int(round(dr)), int(round(dc)))
    np.testing.assert_array_equal(b, np.roll(a, s, axis=(0, 1)))  # Pixel-exact integer shift.
    shifts.add(s)
  assert shifts == {(3, 3), (3, -3), (-3, 3), (-3, -3)}  # Independent random signs.


def test_scale_hand_computed_pixel():
  img = _blank(1)
  img[0, 13, 13] = 255
  out = corrupt(img, "scale")
  # Output (13, 13) samples input (13 - 13.5) / 0.7 + 13.5 = 12.7857 in both axes, between
  # pixels 12 and 13 with fraction d = 0.7857; input pixel (13, 13) gets weight d^2 = 0.617347:
  # 255 * 0.617347 = 157.42 -> 157. Every other output pixel samples only zeros.
  assert out[0, 13, 13] == 157
  assert np.count_nonzero(out) == 1


def test_scale_shrinks_bounding_box_to_70_percent_about_centre(digits):
  img = _blank(1)
  img[0, 4:24, 4:24] = 255  # 20 x 20 square centred on (13.5, 13.5).
  out = corrupt(img, "scale")[0]
  assert _bbox(out) == (7, 20, 7, 20)  # 14 = 0.7 * 20 pixels, still centred on 13.5.
  assert (out[7:21, 7:21] == 255).all()  # Rows 7 and 20 sample input rows 4.21 and 22.79.
  for a, b in zip(digits, corrupt(digits, "scale")):
    ra0, ra1, ca0, ca1 = _bbox(a)
    rb0, rb1, cb0, cb1 = _bbox(b)
    for lo_a, hi_a, lo_b, hi_b in ((ra0, ra1, rb0, rb1), (ca0, ca1, cb0, cb1)):
      # Edges move towards 13.5 by the factor 0.7 (within the 1-pixel bilinear footprint).
      assert abs((lo_b - 13.5) - 0.7 * (lo_a - 13.5)) <= 1.5
      assert abs((hi_b - 13.5) - 0.7 * (hi_a - 13.5)) <= 1.5


def _disc(radius, value=200):
  r, c = np.mgrid[:28, :28]
  return np.where((r - 13.5) ** 2 + (c - 13.5) ** 2 <= radius ** 2, value, 0).astype(np.uint8)


@pytest.mark.parametrize("name", ["rotate", "shear"])
def test_rotate_shear_preserve_centre_region(name):
  x = np.stack([_disc(8)] * 8)
  out = corrupt(x, name)
  r, c = np.mgrid[:28, :28]
  centre = (r - 13.5) ** 2 + (c - 13.5) ** 2 <= 4 ** 2
  assert (out[:, centre] == 200).all()
  assert not np.array_equal(out, x)


def _orientation(img):
  """Angle (radians, row axis down) of the principal axis of the pixel mass."""
  w = img.astype(np.float64)
  r, c = np.mgrid[:28, :28]
  mr, mc = (w * r).sum() / w.sum(), (w * c).sum() / w.sum()
  crr = (w * (r - mr) ** 2).sum()
  ccc = (w * (c - mc) ** 2).sum()
  crc = (w * (r - mr) * (c - mc)).sum()
  return 0.5 * math.atan2(2 * crc, ccc - crr)


def test_rotate_turns_by_plus_minus_0_4_rad():
  bar = _blank(16)
  bar[:, 13:15, 4:24] = 255  # Horizontal bar through the centre.
  angles = [abs(_orientation(o)) for o in corrupt(bar, "rotate")]
  np.testing.assert_allclose(angles, 0.4, atol=0.03)
  signs = {np.sign(_orientation(o)) for o in corrupt(bar, "rotate")}
  assert signs == {-1.0, 1.0}


def test_shear_tilts_vertical_lines_by_sin_0_4():
  bar = _blank(16)
  bar[:, 4:24, 13:15] = 255  # Vertical bar through the centre.
  slopes = set()
  for o in corrupt(bar, "shear"):
    rows = [r for r in range(8, 20) if o[r].sum() > 0]
    centroids = [(o[r] * np.arange(28)).sum() / o[r].sum() for r in rows]
    slope = np.polyfit(rows, centroids, 1)[0]  # Column moves sin(c) per row (old skimage).
    assert abs(slope) == pytest.approx(math.sin(0.4), abs=0.02)
    slopes.add(np.sign(slope))
  assert slopes == {-1.0, 1.0}


# ---------------------------------------------------------------------------------------------
# Pixel-wise corruptions.


def test_brightness_is_clip_x_plus_half(digits):
  out = corrupt(digits, "brightness")
  expected = np.rint(np.minimum(digits.astype(np.float64) + 0.5 * 255, 255))  # Half to even.
  np.testing.assert_array_equal(out, expected)
  assert out.mean() > digits.mean() + 100
  ramp = np.arange(256, dtype=np.uint8).reshape(1, 16, 16).repeat(2, 1).repeat(2, 2)[:, :28, :28]
  got = corrupt(np.ascontiguousarray(ramp), "brightness")
  assert got[0, 0, 0] == 128 and got[0, 0, 2] == 128 and got[0, 0, 4] == 130  # 0, 1, 2 -> ...


def test_stripe_inverts_exactly_columns_0_6_and_21_27(digits):
  out = corrupt(digits, "stripe")
  np.testing.assert_array_equal(out[:, :, :7], 255 - digits[:, :, :7])
  np.testing.assert_array_equal(out[:, :, 21:], 255 - digits[:, :, 21:])
  np.testing.assert_array_equal(out[:, :, 7:21], digits[:, :, 7:21])


def test_canny_edges_binary_and_on_the_boundary(digits):
  out = corrupt(digits, "canny_edges")
  assert set(np.unique(out)) <= {0, 255}
  assert (corrupt(_blank(2), "canny_edges") == 0).all()
  sq = _blank(1)
  sq[0, 8:20, 8:20] = 255
  edges = corrupt(sq, "canny_edges")[0] > 0
  r, c = np.nonzero(edges)
  dist_to_boundary = np.minimum(np.minimum(np.abs(r - 7.5), np.abs(r - 19.5)),
                                np.minimum(np.abs(c - 7.5), np.abs(c - 19.5)))
  assert len(r) > 30 and (dist_to_boundary <= 1.5).all()


def test_shot_noise_levels_and_mean():
  x = _blank(64, 77)  # 0.302 * 255: Poisson(0.906) / 3, clipped at 1.
  out = corrupt(x, "shot_noise")
  assert set(np.unique(out)) <= {0, 85, 170, 255}
  lam = 77 / 255 * 3
  p = [math.exp(-lam) * lam ** k / math.factorial(k) for k in range(3)]
  expected = 255 / 3 * (p[1] + 2 * p[2] + 3 * (1 - sum(p)))  # E[min(K, 3)] * 85.
  assert out.mean() == pytest.approx(expected, rel=0.02)
  assert out.mean() == pytest.approx(77, rel=0.05)  # Mean approximately preserved.


def test_impulse_noise_flips_17_percent_to_salt_or_pepper(digits):
  grey = corrupt(_blank(64, 128), "impulse_noise")
  changed = grey != 128
  assert changed.mean() == pytest.approx(0.17, abs=0.01)
  assert set(np.unique(grey[changed])) == {0, 255}
  assert (grey[changed] == 255).mean() == pytest.approx(0.5, abs=0.03)
  out = corrupt(digits, "impulse_noise")
  assert set(np.unique(out[out != digits])) <= {0, 255}


def test_glass_blur_quirk_blurs_along_rows_only(monkeypatch):
  # Without pixel swaps, glass_blur is the old-skimage multichannel blur twice: axis 0 only.
  monkeypatch.setattr(corruptions, "_glass_blur_steps",
                      lambda rngs: (np.array([0]), np.zeros((1, len(rngs)), np.intp)))
  img = _blank(1)
  img[0, 14, 14] = 255
  out = corrupt(img, "glass_blur")[0]
  assert np.count_nonzero(out[:, 14]) > 1
  assert np.count_nonzero(out) == np.count_nonzero(out[:, 14])  # Nothing leaves column 14.
  assert out[:, 14].argmax() == 14


def test_glass_blur_without_swaps_floors_between_blurs(monkeypatch, digits):
  from scipy import ndimage
  monkeypatch.setattr(corruptions, "_glass_blur_steps",
                      lambda rngs: (np.array([0]), np.zeros((1, len(rngs)), np.intp)))
  blur = lambda v: ndimage.gaussian_filter1d(v, 0.7, axis=1, mode="nearest", truncate=4.0)
  first = np.floor(blur(digits / 255.) * 255)  # The reference's np.uint8(...) truncates.
  expected = np.rint((np.clip(blur(first / 255.), 0, 1) * 255).astype(np.float32))
  np.testing.assert_array_equal(corrupt(digits, "glass_blur"), expected)


def _glass_swaps_loop(x, rngs):
  """The reference's swap loop written out plainly for one image at a time."""
  out = []
  for img, rng in zip(x, rngs):
    img = img.copy()
    swap = rng.random((2, 26, 26)) < 0.5
    d = rng.integers(-1, 1, size=(2, 26, 26, 2))
    for it in range(2):
      for h in range(27, 1, -1):
        for w in range(27, 1, -1):
          if swap[it, 27 - h, 27 - w]:
            dx, dy = d[it, 27 - h, 27 - w]
            img[h, w], img[h + dy, w + dx] = img[h + dy, w + dx], img[h, w]
    out.append(img)
  return np.stack(out)


def test_glass_blur_swaps_match_plain_loop(digits):
  x = digits[:3]
  src, dst = corruptions._glass_blur_steps(corruptions.image_rngs("glass_blur", 0, range(3)))
  flat = x.reshape(3, -1).copy()
  for s, j in zip(src, dst):
    a = flat[:, s].copy()
    flat[:, s] = flat[np.arange(3), j]
    flat[np.arange(3), j] = a
  expected = _glass_swaps_loop(x, corruptions.image_rngs("glass_blur", 0, range(3)))
  np.testing.assert_array_equal(flat.reshape(x.shape), expected)
  moved = (dst != src[:, None]).mean()
  assert moved == pytest.approx(0.5 * 3 / 4, abs=0.03)  # p(swap) * p(offset != (0, 0)).


def test_glass_blur_roughly_preserves_mass(digits):
  out = corrupt(digits, "glass_blur").astype(np.float64)
  assert out.sum() == pytest.approx(digits.astype(np.float64).sum(), rel=0.03)


def test_motion_blur_preserves_mass_away_from_borders():
  blob = _blank(16)
  blob[:, 11:17, 11:17] = 220
  out = corrupt(blob, "motion_blur").astype(np.float64)
  # The kernel sums to 1; only ImageMagick's floor to 8 bits loses < 1 grey level per pixel.
  mass = blob.astype(np.float64).sum(axis=(1, 2))
  loss = mass - out.sum(axis=(1, 2))
  assert (loss > -1).all() and (loss <= np.count_nonzero(out, axis=(1, 2)) + 1e-3 * mass).all()
  assert (loss / mass < 0.02).all()


def test_fog_leaves_black_image_black_and_adds_a_smooth_field(digits):
  assert (corrupt(_blank(2), "fog") == 0).all()  # max(x) = 0 -> x * 0 / (0 + 3).
  out = corrupt(digits, "fog").astype(np.float64)
  full = digits.max(axis=(1, 2)) == 255
  # With max 1: out = (x + 3 f) / 4, so the fractal f = (4 out - x) / 3 must lie in [0, 1].
  f = (4 * out[full] - digits[full]) / (3 * 255)
  assert f.min() >= -0.01 and f.max() <= 1.01
  u = np.random.default_rng(0).uniform(-1, 1, (2, corruptions.PLASMA_DRAWS))
  m = corruptions.plasma_fractal(u)
  x = digits[:2].astype(np.float64) / 255.
  top = x.max(axis=(1, 2), keepdims=True)
  expected = np.clip((x + 3.0 * m[:, :28, :28]) * top / (top + 3.0), 0, 1) * 255  # Severity 5.
  np.testing.assert_allclose(corruptions._fog_apply(digits[:2], u), expected, rtol=1e-6)
  assert m.shape == (2, 256, 256) and (m.min(axis=(1, 2)) == 0).all() and (
      m.max(axis=(1, 2)) == 1).all()
  step = np.abs(np.diff(m, axis=2)).mean()
  shuffled = np.abs(m - np.random.default_rng(1).permutation(m.ravel()).reshape(m.shape)).mean()
  assert step < 0.2 * shuffled  # Spatially smooth, unlike noise.


def test_spatter_changes_only_masked_pixels(digits):
  mask_view = corrupt(np.zeros_like(digits), "spatter")  # Same per-image streams -> same mask.
  assert mask_view.any()
  hit = mask_view > 0
  assert (mask_view[hit] >= np.floor(63 * 0.8)).all() and (mask_view[hit] <= 63).all()
  out = corrupt(digits, "spatter")
  np.testing.assert_array_equal(out[~hit], digits[~hit])
  assert (out[hit] <= np.rint(0.2 * 255 + 63)).all()


def test_dotted_line_pattern_hand_case():
  p = corruptions.dotted_line_pattern(np.array([5]), np.array([5]))[0]  # Horizontal, row 5.
  side = math.log(1 - 1 / 2.3) + 1  # 0.4295 at vertical distance 1; < 0 (-> 0) at 2.
  np.testing.assert_allclose(p[3:8, 2], [0, side, 1, side, 0], atol=1e-12)
  kept = [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26]
  assert sorted(np.nonzero(p.any(axis=0))[0]) == kept


def test_dotted_line_adds_only_on_the_line(digits):
  line = corrupt(np.zeros_like(digits), "dotted_line")
  out = corrupt(digits, "dotted_line")
  absent = line == 0
  np.testing.assert_array_equal(out[absent], digits[absent])
  assert (out >= digits).all() and (out[~absent] >= line[~absent]).all()
  assert not line[:, :, [0, 1, 4, 5, 27]].any()


def test_zigzag_hand_case_and_only_adds(digits):
  segs = corruptions.zigzag_segments(10, 0)  # Flat zigzag at row 10 from column 2 to 25.
  assert len(segs) == 7
  total = np.minimum(sum(segs), 1)
  for r, c in [(10, 2), (12, 4), (8, 8), (12, 12), (8, 16), (12, 20), (8, 24)]:  # Vertices.
    assert total[r, c] == 1.0
  assert not total[:, :2].any() and not total[:, 26:].any()
  line = corrupt(np.zeros_like(digits), "zigzag")
  out = corrupt(digits, "zigzag")
  absent = line == 0
  np.testing.assert_array_equal(out[absent], digits[absent])
  assert (out >= digits).all()


def test_all_fifteen_on_1000_images(test_set):
  x = test_set[0][:1000]
  times = {}
  for name in CORRUPTIONS:
    t = time.perf_counter()
    out = corrupt(x, name)
    times[name] = time.perf_counter() - t
    assert out.shape == x.shape and out.dtype == np.uint8
  print("seconds per 1000 images:", {k: round(v, 2) for k, v in times.items()})


# ---------------------------------------------------------------------------------------------
# Errors and names.


def test_resolve_names():
  assert corruptions.resolve_names("all") == list(CORRUPTIONS)
  assert corruptions.resolve_names(" translate, scale ") == ["translate", "scale"]
  assert corruptions.resolve_names(("scale", "translate", "scale")) == ["scale", "translate"]
  assert corruptions.resolve_names("") == [] and corruptions.resolve_names(None) == []
  with pytest.raises(ValueError, match="valid names: shot_noise, impulse_noise"):
    corruptions.resolve_names("translate,scaled")
  with pytest.raises(ValueError, match="valid names"):
    corruptions.resolve_names(["blur"])
  with pytest.raises(ValueError, match="expected 'all'"):
    corruptions.resolve_names(3)


def test_bad_inputs_raise_clear_errors(digits):
  with pytest.raises(ValueError, match="valid names: shot_noise"):
    corrupt(digits, "gaussian_noise")
  with pytest.raises(ValueError, match="dtype uint8"):
    corrupt(digits.astype(np.float32), "scale")
  with pytest.raises(ValueError, match=r"shape \[N, 28, 28\].*\(28, 28\)"):
    corrupt(digits[0], "scale")
  with pytest.raises(ValueError, match=r"\(4, 28, 28, 1\)"):
    corrupt(digits[:4, :, :, None], "scale")
  with pytest.raises(ValueError, match="numpy uint8 array"):
    corrupt(digits.tolist(), "scale")
  with pytest.raises(ValueError, match="seed"):
    corrupt(digits, "scale", seed=-1)
  with pytest.raises(ValueError, match="indices"):
    corrupt(digits[:4], "fog", indices=[0, 1])
