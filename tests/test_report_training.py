"""inductive_kd.report.training: similarity to the teacher over training from probe outputs;
with the fallbacks when probes lack reps, predictions lack `rep`, or the runs folder moved."""

import numpy as np
import pytest

from inductive_kd import report
from inductive_kd.report import comparisons
from inductive_kd.report import training
from tests.test_report_runs import (C, CNN, CNN_TO_MLP, PROBE_N, _labels, _probs, _wrong_first,
                                    assert_png, mnist_test, row, section, write_run)


def test_probs_only_probes_moved_runs_and_missing_reps(tmp_path):
  """Probes without reps -> 1 - JS curve (said in the report); predictions without `rep` -> no
  CKA but agreement; a teacher_workdir from before the runs folder moved is found beside the
  student, as configs place it."""
  root = tmp_path / "runs"
  rng = np.random.default_rng(2)
  y = _labels("mnist")
  teacher_pred = _wrong_first(y, 8)
  probe = rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32)
  write_run(str(root / "mnist_cnn"), "mnist_cnn", 0, mnist_test([0.99] * 4), CNN,
            {"mnist": dict(labels=y, pred=teacher_pred, probs=_probs(teacher_pred))},
            probes={0: (probe, None), 5: (probe, None)})
  student_pred = _wrong_first(y, 16)  # agrees with the teacher on 72 of 80 examples
  write_run(str(root / "mnist_cnn_to_mlp"), "mnist_cnn_to_mlp", 0, mnist_test([0.98] * 4),
            CNN_TO_MLP,
            {"mnist": dict(labels=y, pred=student_pred, probs=_probs(student_pred))},
            teacher="/no/longer/here/runs/mnist_cnn",
            probes={0: (rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32), None),
                    5: (probe, None)})
  out = tmp_path / "report"
  text = report.generate_report(root, out, report.ReportOptions(std_ddof=0)).read_text()
  sim = section(text, "## 3. Teacher–student similarity")
  assert row(section(sim, "### Linear CKA", "\n### "), "CNN→MLP vs its teacher")[2] == "—"
  assert row(section(sim, "### Prediction agreement", "\n### "),
             "CNN→MLP vs its teacher")[2] == "0.9000"
  assert "hold only output probabilities" in text
  assert_png(out / "plots" / "similarity_training_mnist_js.png")
  assert "ddof=0" in text
  # The student's last probe outputs equal the teacher's: 1 - JS distance reaches exactly 1.
  ctx = report.build_context(report.discover_runs(root), root, out, report.ReportOptions())
  (_, _, [(student, teacher)]), = comparisons.comparisons(ctx)
  steps, values = training.curve(student, teacher, None)
  assert list(steps) == [0, 5] and values[1] == pytest.approx(1.0) and values[0] < 0.9


def test_teacher_only_runs_are_found_in_teachers_folders_and_never_tabulated(tmp_path):
  """A student whose teacher is a teacher-only run (e.g. a single-seed retrain of a baseline
  whose committed seeds were vmapped): found under --teachers by the longest suffix of its
  teacher_workdir, compared with the student, and not a row of any table; without --teachers the
  comparison is skipped with a note; a --teachers path that is no folder is a one-line error."""
  root, teachers = tmp_path / "runs", tmp_path / "teachers"
  y = _labels("mnist")
  teacher_pred = _wrong_first(y, 8)
  write_run(str(teachers / "s0" / "mnist_cnn"), "mnist_cnn", 0, mnist_test([0.5] * 4), CNN,
            {"mnist": dict(labels=y, pred=teacher_pred, probs=_probs(teacher_pred))})
  student_pred = _wrong_first(y, 16)  # agrees with the teacher on 72 of 80 examples
  write_run(str(root / "mnist_cnn_to_mlp" / "seed0"), "mnist_cnn_to_mlp", 0,
            mnist_test([0.98] * 4), CNN_TO_MLP,
            {"mnist": dict(labels=y, pred=student_pred, probs=_probs(student_pred))},
            teacher="/scratch/elsewhere/s0/mnist_cnn")
  text = report.generate_report(root, tmp_path / "out", report.ReportOptions(),
                                [teachers]).read_text()
  agreement = section(section(text, "## 3. Teacher–student similarity"),
                      "### Prediction agreement", "\n### ")
  assert row(agreement, "CNN→MLP vs its teacher")[2] == "0.9000"
  produced = section(text, "## How this was produced")
  assert f"--teachers {teachers}" in produced and "`mnist_cnn` s0" in produced
  assert "| `mnist_cnn` |" not in produced  # the teacher is no row of the runs table
  assert "0.5000" not in section(text, "## 1. MNIST")  # nor of the accuracy table
  text = report.generate_report(root, tmp_path / "out2").read_text()
  assert "was not found at /scratch/elsewhere/s0/mnist_cnn" in text
  with pytest.raises(ValueError, match="--teachers '/no/such' is not a folder"):
    report.generate_report(root, tmp_path / "out3", report.ReportOptions(), ["/no/such"])
