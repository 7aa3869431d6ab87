"""Tests for inductive_kd/fileio.py: concurrent writers of one cache file never clash."""

import gzip
import os
import threading

import pytest

from inductive_kd import fileio
from inductive_kd.data import sva_corpus


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
  path = tmp_path / "sub" / "a.bin"
  fileio.atomic_write(path, lambda f: f.write(b"one"))
  fileio.atomic_write_text(path, "two")
  assert path.read_bytes() == b"two"
  assert oct(path.stat().st_mode & 0o777) == oct(0o644)
  assert os.listdir(path.parent) == ["a.bin"]


def test_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
  path = tmp_path / "a.bin"
  path.write_bytes(b"old")

  def write(f):
    f.write(b"half")
    raise RuntimeError("disk full")

  with pytest.raises(RuntimeError, match="disk full"):
    fileio.atomic_write(path, write)
  assert path.read_bytes() == b"old"
  assert os.listdir(tmp_path) == ["a.bin"]


def test_concurrent_writers_of_the_corpus_give_one_whole_file(tmp_path):
  """Two trainings started together both generate the missing offline corpus (this crashed
  when every writer used the same temporary name)."""
  path = tmp_path / "corpus.tsv.gz"
  errors = []

  def run():
    try:
      sva_corpus.write_tsv(path, 3000, seed=1)
    except Exception as e:  # pylint: disable=broad-except
      errors.append(e)

  threads = [threading.Thread(target=run) for _ in range(3)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  assert not errors
  assert os.listdir(tmp_path) == ["corpus.tsv.gz"]
  lines = gzip.decompress(path.read_bytes()).decode().splitlines()
  assert len(lines) == 3001 and lines[0] == "\t".join(sva_corpus.FIELDS)
  single = tmp_path / "single" / "corpus.tsv.gz"
  sva_corpus.write_tsv(single, 3000, seed=1)
  assert single.read_bytes() == path.read_bytes()
