"""Atomic writes: every file the package writes for others to read (data caches, results.json,
config.json, probe outputs, REPORT.md) appears whole or not at all.

Several trainings often start at once on one machine (`run.sh`, one seed per core) and find the
same cache missing (MNIST-C sets, the offline agreement corpus, the prepared agreement arrays):
each builds it. The temporary file therefore has a name unique to its writer
(`tempfile.mkstemp` beside the target), so the writers never write into or rename each other's
half-written file, and a reader sees either no file or a whole one (`os.replace` is atomic).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, IO

import numpy as np


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> None:
  """Calls `write(f)` on a binary temporary file beside `path`, then renames it into place.

  The file gets mode 0644 (mkstemp makes 0600; these files are read by others). On any error the
  temporary file is removed and `path` is left as it was.
  """
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
  try:
    with os.fdopen(fd, "wb") as f:
      write(f)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.unlink(tmp)
    raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
  atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def atomic_savez(path: str | os.PathLike, **arrays) -> None:
  atomic_write(path, lambda f: np.savez(f, **arrays))
