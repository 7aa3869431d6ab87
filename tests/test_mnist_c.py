"""Tests for inductive_kd.data.mnist_c: the cache, the set store and its manifest, the command and
the TFDS switch."""
import json
import sys
import types

import numpy as np
import pytest

from inductive_kd.data import mnist, mnist_c
from inductive_kd.data.corruptions import corrupt


@pytest.fixture(scope="module")
def test_set():
  return mnist.load_idx("test")


def test_load_or_build_writes_once_and_reloads(tmp_path, test_set, monkeypatch):
  x = test_set[0][:16]
  out = mnist_c.load_or_build("translate", x, seed=3, cache_dir=tmp_path)
  files = sorted(p.name for p in tmp_path.iterdir())
  assert files == [f"translate_seed3_{mnist_c.images_digest(x)}.npz"]
  np.testing.assert_array_equal(out, corrupt(x, "translate", 3))

  def boom(*a, **k):
    raise AssertionError("rebuilt although cached")
  monkeypatch.setattr(mnist_c, "corrupt", boom)
  np.testing.assert_array_equal(mnist_c.load_or_build("translate", x, seed=3, cache_dir=tmp_path),
                                out)
  monkeypatch.undo()
  (tmp_path / files[0]).write_bytes(b"truncated")  # A corrupt cache file is rebuilt.
  np.testing.assert_array_equal(mnist_c.load_or_build("translate", x, seed=3, cache_dir=tmp_path),
                                out)
  mnist_c.load_or_build("translate", x, seed=4, cache_dir=tmp_path)
  assert len(list(tmp_path.glob("*.npz"))) == 2 and not list(tmp_path.glob("*.tmp"))


def test_write_sets_manifest_and_skip(tmp_path, test_set):
  x, y = test_set[0][:16], test_set[1][:16]
  logs = []
  manifest = mnist_c.write_sets(tmp_path, x, y, "stripe,translate", 0, log=logs.append)
  assert [l.split()[2] for l in logs] == ["stripe", "translate"] and "built" in logs[0]
  on_disk = json.loads((tmp_path / "MANIFEST.json").read_text())
  assert on_disk["seed"] == 0 and set(on_disk["files"]) == {"stripe.npz", "translate.npz"}
  assert on_disk["files"]["stripe.npz"]["sha256"] == mnist_c._sha256_file(tmp_path / "stripe.npz")
  images, labels = mnist_c.load_set(tmp_path, "translate")
  np.testing.assert_array_equal(images, corrupt(x, "translate"))
  np.testing.assert_array_equal(labels, y)
  logs.clear()
  mnist_c.write_sets(tmp_path, x, y, ["stripe", "translate"], 0, log=logs.append)
  assert all("present, kept" in l for l in logs)
  logs.clear()
  mnist_c.write_sets(tmp_path, x, y, ["stripe"], 1, log=logs.append)  # Other seed: rebuilt.
  assert "built" in logs[0]
  (tmp_path / "translate.npz").write_bytes(b"x")
  with pytest.raises(mnist_c.MnistCError, match="does not match its SHA-256"):
    mnist_c.load_set(tmp_path, "translate")
  with pytest.raises(mnist_c.MnistCError, match="does not list fog.npz"):
    mnist_c.load_set(tmp_path, "fog")
  assert manifest["files"]["translate.npz"]["n"] == 16


def test_command_builds_sets_and_gallery(tmp_path, capsys):
  gallery = tmp_path / "gallery.png"
  rc = mnist_c.main(["--out", str(tmp_path / "sets"), "--corruptions", "stripe,brightness",
                     "--gallery", str(gallery)])
  assert rc == 0
  text = capsys.readouterr().out
  assert "[ 1/2] stripe" in text and "[ 2/2] brightness" in text and "total" in text
  images, labels = mnist_c.load_set(tmp_path / "sets", "brightness")
  assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
  assert gallery.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  with pytest.raises(SystemExit):
    mnist_c.main(["--out", str(tmp_path), "--corruptions", "nope"])


def _fake_tfds(prepared):
  builder = types.SimpleNamespace(
      is_prepared=lambda: prepared, data_dir="/fake",
      as_dataset=lambda split, batch_size: {
          "image": np.zeros((3, 28, 28, 1), np.uint8), "label": np.array([1, 2, 3])})
  return types.SimpleNamespace(builder=lambda name, data_dir=None: builder,
                               as_numpy=lambda ds: ds)


def test_load_tfds_reads_prepared_and_explains_unprepared(monkeypatch):
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", _fake_tfds(True))
  images, labels = mnist_c.load_tfds("scale")
  assert images.shape == (3, 28, 28) and images.dtype == np.uint8 and labels.dtype == np.int32
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", _fake_tfds(False))
  with pytest.raises(mnist_c.MnistCError, match="not prepared.*shifted_source='project'"):
    mnist_c.load_tfds("scale")
  with pytest.raises(ValueError, match="valid names"):
    mnist_c.load_tfds("scaled")


def test_load_tfds_real_unprepared(tmp_path):
  pytest.importorskip("tensorflow_datasets")
  with pytest.raises(mnist_c.MnistCError, match="mnist_corrupted/translate"):
    mnist_c.load_tfds("translate", data_dir=str(tmp_path))
