"""inductive_kd.data.mnist: the IDX reader, checksums and the shipped files."""
import gzip
import shutil
import sys
import types

import numpy as np
import pytest

from inductive_kd.data import mnist


def _write_idx(path, array, gz=False):
  header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">i4").tobytes()
  payload = header + array.astype(np.uint8).tobytes()
  (gzip.open if gz else open)(path, "wb").write(payload)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_hand_made(tmp_path, gz):
  arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
  path = tmp_path / ("x.idx" + (".gz" if gz else ""))
  _write_idx(path, arr, gz)
  out = mnist.read_idx(path)
  assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
  np.testing.assert_array_equal(out, arr)


def test_read_idx_rejects_bad_magic_and_truncation(tmp_path):
  bad = tmp_path / "bad.idx"
  bad.write_bytes(b"\x01\x02\x03\x04rest")
  with pytest.raises(mnist.DataError, match="bad.idx"):
    mnist.read_idx(bad)
  short = tmp_path / "short.idx"
  short.write_bytes(bytes([0, 0, 8, 1]) + np.asarray([10], ">i4").tobytes() + b"abc")
  with pytest.raises(mnist.DataError, match="10"):
    mnist.read_idx(short)


def test_shipped_files_load_with_checksums():
  x, y = mnist.load_idx("test")
  assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
  assert y.shape == (10000,) and y.dtype == np.int32 and set(np.unique(y)) == set(range(10))
  assert y[:5].tolist() == [7, 2, 1, 0, 4]  # The well-known first MNIST test labels.
  # The SHA256SUMS shipped with the files agrees with the digests in the code.
  sums = dict(line.split()[::-1] for line in (mnist.DEFAULT_DIR / "SHA256SUMS").read_text()
              .splitlines() if line.strip())
  assert sums == mnist.SHA256


def test_missing_and_corrupt_files_name_the_file_and_the_fix(tmp_path):
  with pytest.raises(mnist.DataError, match=r"missing: .*t10k-images-idx3-ubyte.gz.*data/mnist"):
    mnist.load_idx("test", tmp_path)
  for name in mnist.FILES["test"]:
    shutil.copy(mnist.DEFAULT_DIR / name, tmp_path / name)
  with open(tmp_path / "t10k-labels-idx1-ubyte.gz", "r+b") as f:
    f.seek(100)
    f.write(b"\x00\x01\x02")
  with pytest.raises(mnist.DataError, match=r"corrupt: .*t10k-labels-idx1-ubyte.gz"):
    mnist.load_idx("test", tmp_path)


def test_to_float_matches_official_preprocessing():
  x = np.array([[[0, 255], [51, 102]]], np.uint8)
  out = mnist.to_float(x)
  assert out.shape == (1, 2, 2, 1) and out.dtype == np.float32
  np.testing.assert_allclose(out[0, :, :, 0], [[0, 1], [0.2, 0.4]], rtol=1e-6)


def test_unprepared_tfds_is_detected_without_tfds_or_its_warning(tmp_path, monkeypatch):
  # TFDS warned about an empty variant folder on every run; it is not even asked now.
  (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)
  asked = []
  fake = types.SimpleNamespace(builder=lambda *a, **k: asked.append(a) or 1 / 0)
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
  assert not mnist.tfds_available(str(tmp_path)) and not asked
  (tmp_path / "mnist" / "3.0.1" / "dataset_info.json").write_text("{}")
  assert not mnist.tfds_available(str(tmp_path)) and asked  # Prepared-looking: TFDS decides.
