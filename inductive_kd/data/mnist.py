"""MNIST from the standard IDX gzip files (shipped in `data/mnist/`) or from a prepared TFDS copy.

The official code (REFLECT.md §1.1) reads TFDS `mnist`, casts to float32 and divides by 255; there
is no validation split (the test split doubles as validation) and no augmentation. We return raw
uint8 images so that the MNIST-C corruptions (which work on uint8 images) and the clean set share
one representation; `to_float` does the /255 at the very end, on device.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

# <repo>/data/mnist, next to the package (the files ship with the repository).
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "mnist"

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SIZES = {"train": 60_000, "test": 10_000}
NUM_CLASSES = 10
SOURCES = ("auto", "idx", "tfds")  # config.data.source

# Expected SHA-256 of the four standard files; the copy of SHA256SUMS in the data folder must agree.
SHA256 = {
    "t10k-images-idx3-ubyte.gz": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "t10k-labels-idx1-ubyte.gz": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
    "train-images-idx3-ubyte.gz": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "train-labels-idx1-ubyte.gz": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(ValueError):
  """A data file is missing, corrupt or malformed; the message says which file and what to do."""


def sha256_of(path: os.PathLike) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      h.update(chunk)
  return h.hexdigest()


def read_idx(path: os.PathLike) -> np.ndarray:
  """Reads an IDX file (gzip or plain): magic 0x0000 <dtype> <ndim>, big-endian int32 dims, data."""
  path = Path(path)
  opener = gzip.open if path.suffix == ".gz" else open
  try:
    with opener(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"{path}: cannot read IDX file ({e}).") from None
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
    raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()}).")
  ndim = raw[3]
  header = 4 + 4 * ndim
  dims = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">i4"))
  dtype = np.dtype(_IDX_DTYPES[raw[2]])
  expected = int(np.prod(dims)) * dtype.itemsize
  if len(raw) - header != expected:
    raise DataError(f"{path}: IDX header says {dims} ({expected} bytes) but the file holds "
                    f"{len(raw) - header} bytes of data.")
  return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def verify(directory: os.PathLike, names=None) -> None:
  """Checks that each file exists and has its published SHA-256; raises one DataError otherwise."""
  directory = Path(directory)
  fix = (f"Restore the four MNIST IDX files into {directory} (they ship with the repository under "
         "data/mnist/; `git checkout -- data/mnist`), or set --config.data.mnist_dir to a folder holding them.")
  for name in names or SHA256:
    path = directory / name
    if not path.exists():
      raise DataError(f"MNIST file missing: {path}. {fix}")
    digest = sha256_of(path)
    if digest != SHA256[name]:
      raise DataError(f"MNIST file corrupt: {path} has SHA-256 {digest[:12]}..., expected "
                      f"{SHA256[name][:12]}.... {fix}")


def load_idx(split: str, directory: os.PathLike | None = None, *, check: bool = True):
  """Returns (images uint8 [N, 28, 28], labels int32 [N]) for split 'train' or 'test'."""
  if split not in FILES:
    raise ValueError(f"Unknown MNIST split {split!r}; expected one of {sorted(FILES)}.")
  directory = Path(directory or DEFAULT_DIR)
  image_file, label_file = FILES[split]
  if check:
    verify(directory, (image_file, label_file))
  images = read_idx(directory / image_file)
  labels = read_idx(directory / label_file).astype(np.int32)
  if images.shape != (SIZES[split], 28, 28) or labels.shape != (SIZES[split],):
    raise DataError(f"MNIST {split}: unexpected shapes {images.shape}, {labels.shape} in {directory}.")
  return images, labels


def tfds_available(data_dir: str | None = None) -> bool:
  """True when TFDS `mnist` has been prepared locally (TFDS cannot download here)."""
  root = data_dir or os.environ.get("TFDS_DATA_DIR") or str(Path.home() / "tensorflow_datasets")
  if "://" not in root and not any(Path(root).glob("mnist/*/dataset_info.json")):
    # Not prepared: say so without importing TensorFlow, and without TFDS's warning about an
    # empty variant folder on every run.
    return False
  try:
    import tensorflow_datasets as tfds  # Imported lazily: it pulls in TensorFlow.
    return tfds.builder("mnist", data_dir=data_dir).is_prepared()
  except Exception:  # pylint: disable=broad-except
    return False


def load_tfds(split: str, data_dir: str | None = None):
  import tensorflow_datasets as tfds
  ds = tfds.as_numpy(tfds.load("mnist", split=split, batch_size=-1, data_dir=data_dir,
                               download=False))
  return ds["image"][..., 0].astype(np.uint8), ds["label"].astype(np.int32)


def load(split: str, *, source: str = "auto", path: str | None = None,
         tfds_data_dir: str | None = None):
  """MNIST split as uint8 images [N, 28, 28] and int32 labels [N].

  source: 'idx' reads the IDX files in `path` (default: the repository's data/mnist), verifying
  checksums; 'tfds' reads a locally prepared TFDS `mnist`; 'auto' uses TFDS when it is prepared and
  the IDX files otherwise. Both give the same arrays (the IDX files are what TFDS itself downloads).
  """
  if source not in SOURCES:
    raise ValueError(f"data.source must be one of {SOURCES}, got {source!r}.")
  if source == "tfds" or (source == "auto" and not path and tfds_available(tfds_data_dir)):
    if source == "tfds" and not tfds_available(tfds_data_dir):
      raise DataError("data.source='tfds' but TFDS `mnist` is not prepared locally (and cannot be "
                      "downloaded here). Use data.source='idx' (the shipped files) or 'auto'.")
    return load_tfds(split, tfds_data_dir)
  return load_idx(split, path)


def to_float(images):
  """uint8 [N, 28, 28] -> float32 [N, 28, 28, 1] in [0, 1], as the official code (x / 255).

  Works on numpy arrays and, inside a jitted step, on jax arrays (uint8 crosses to the device).
  """
  return (images.astype("float32") / 255.0)[..., None]

