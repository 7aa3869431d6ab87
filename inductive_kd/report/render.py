"""Markdown pieces every section shares: mean ± std cells against the paper, tables, images.

Pure formatting: nothing here reads runs or writes files.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

FLAG = "⚠"
DAGGER = "†"


def mean_std(values: Iterable[float], ddof: int = 1) -> tuple[float, float | None, int]:
  """(mean, std, n) of the finite values: NaN mean when none, std None for a single value."""
  v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
  if v.size == 0:
    return float("nan"), None, 0
  std = float(np.std(v, ddof=ddof)) if v.size > 1 else None
  return float(np.mean(v)), std, int(v.size)


def format_mean_std(mean: float, std: float | None, digits: int = 4) -> str:
  if not math.isfinite(mean):
    return "—"
  return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def flagged(values: Sequence[float], ddof: int, paper: Any) -> float | None:
  """Our mean when it lies outside the paper's mean ± 2 std (or range), else None."""
  mean, _, n = mean_std(values, ddof)
  return mean if n and paper is not None and paper.outside(mean) else None


def cell(values: Sequence[float], ddof: int, digits: int = 4, paper: Any = None,
         mark: str = "", flag: bool = True, paper_label: str = "paper") -> str:
  """'ours (paper X) ⚠': ⚠ when our mean is outside the paper's mean ± 2 std (or range) and
  `flag` (False for smoke runs, whose numbers are not comparable); `paper_label` says whose data
  the paper's value is from where it is not the data of ours."""
  mean, std, n = mean_std(values, ddof)
  if n == 0:
    return "—" if paper is None else f"— ({paper_label} {paper})"
  text = format_mean_std(mean, std, digits) + mark
  if paper is not None:
    text += f" ({paper_label} {paper})" + (
        f" {FLAG}" if flag and flagged(values, ddof, paper) is not None else "")
  return text


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
  out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
  return out + [""]


def duration(seconds: Any) -> str:
  if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
    return "—"
  if seconds < 120:
    return f"{seconds:.0f} s"
  return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def rel(path: str, start: Path) -> str:
  """`path` relative to `start` with '/' separators: links that work wherever the report is read."""
  return os.path.relpath(path, start).replace(os.sep, "/")


def image(title: str, path: str, out_dir: Path) -> list[str]:
  return [f"![{title}]({rel(path, out_dir)})", ""]


def figures_or(heading: str, figures: Iterable[list[str]], fallback: str) -> list[str]:
  """A plot section: its heading, then its figures, or the sentence saying why there are none."""
  body = [line for figure in figures for line in figure]
  return [heading, ""] + (body or [fallback, ""])


def slug(text: str) -> str:
  return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "x"
