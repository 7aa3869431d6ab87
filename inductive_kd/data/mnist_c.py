"""MNIST-C test sets: a cache for training runs, the TFDS release, and a command that builds them.

Owns how corrupted MNIST test sets are stored and served; the corruptions themselves, their
conventions and the reproduced quirks are in `corruptions`.
  * Cache: `load_or_build` keeps corrupt(images, name, seed) in
    `<cache_dir>/<name>_seed<seed>_<digest of the images>.npz`, rebuilt when unreadable, of
    another shape or written under another `ALGORITHM_VERSION`.
  * `load_tfds` reads the released sets from a locally prepared TFDS `mnist_corrupted`
    (tensorflow_datasets is imported only there).
  * The command writes `<name>.npz` per corruption with a SHA-256 manifest (`write_sets`,
    `load_set`) and a gallery (`save_gallery`; matplotlib (Agg) is imported only there).

Command (builds each corrupted MNIST test set once, with a checksum manifest and a gallery):
  python -m inductive_kd.data.mnist_c --out data/mnist_c [--corruptions all|a,b] [--seed 0] \
      [--gallery docs/mnist_c_gallery.png]
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from inductive_kd import fileio
from inductive_kd.data.corruptions import (
    ALGORITHM_VERSION, CORRUPTIONS, SIZE, check_images, check_name, check_seed, corrupt,
    resolve_names)


class MnistCError(ValueError):
  """A corruption set or cache file is missing, stale or malformed; the message says what to do."""


# --------------------------------------------------------------------------------------------
# Cache for training runs, TFDS switch.


def images_digest(images: np.ndarray) -> str:
  """SHA-256 (first 16 hex digits) of the images' shape and bytes."""
  h = hashlib.sha256(repr(images.shape).encode())
  h.update(np.ascontiguousarray(images).tobytes())
  return h.hexdigest()[:16]


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
  check_name(name)
  images = check_images(images)
  seed = check_seed(seed)
  path = cache_path(name, images, seed=seed, cache_dir=cache_dir)
  if path.exists():
    z = _read_npz(path)
    if (z is not None and "images" in z and z["images"].dtype == np.uint8
        and z["images"].shape == images.shape
        and int(z.get("algorithm_version", -1)) == ALGORITHM_VERSION):
      return z["images"]
  out = corrupt(images, name, seed)
  fileio.atomic_savez(path, images=out, seed=np.int64(seed),
                      algorithm_version=np.int64(ALGORITHM_VERSION))
  return out


def load_tfds(name: str, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
  """The released MNIST-C test set from a locally prepared TFDS `mnist_corrupted/<name>`.

  Returns (images uint8 [10000, 28, 28], labels int32 [10000]). TFDS cannot download here, so an
  unprepared dataset raises MnistCError saying how to prepare it or to use our implementation.
  """
  check_name(name)
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
  check_name(name)
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
  images = check_images(images)
  seed = check_seed(seed)
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
      fileio.atomic_savez(path, images=out, labels=labels, seed=np.int64(seed),
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
  fileio.atomic_write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
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
    check_seed(args.seed)
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
