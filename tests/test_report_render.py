"""inductive_kd.report.render: mean ± std over seeds and the cells that carry it."""

import numpy as np
import pytest

from inductive_kd import paper_results
from inductive_kd import report
from inductive_kd.report import render


def test_mean_std():
  mean, std, n = report.mean_std([1.0, 2.0, 4.0], ddof=1)
  assert (mean, n) == (7 / 3, 3) and std == pytest.approx(np.std([1, 2, 4], ddof=1))
  assert report.mean_std([1.0], ddof=1)[1] is None
  assert report.mean_std([1.0], ddof=0)[1] is None  # one seed: no spread to show
  assert np.isnan(report.mean_std([None, float("nan")])[0])
  assert report.mean_std([1.0, 3.0], ddof=0)[1] == 1.0


def test_cells_and_tables():
  paper = paper_results.MeanStd(0.5, 0.01)
  assert render.cell([0.5, 0.52], 0, paper=paper) == "0.5100 ± 0.0100 (paper 0.500 ± 0.0100)"
  assert render.cell([0.53], 1, paper=paper, mark=render.DAGGER) == \
      "0.5300† (paper 0.500 ± 0.0100) ⚠"
  assert render.cell([None], 1, paper=paper) == "— (paper 0.500 ± 0.0100)"
  assert render.table(["a", "b"], [["x|y", "1"]]) == ["| a | b |", "|---|---|",
                                                       "| x\\|y | 1 |", ""]
