"""inductive_kd.report.comparisons: each distilled student is compared with its teacher, and the
student's baseline with the same teacher; CKA, RSA, agreement and error overlap per test set."""

import pytest

from tests.test_report_runs import mnist_report, row, section


@pytest.fixture(name="mnist_text")
def fixture_mnist_text(tmp_path_factory):
  return mnist_report(tmp_path_factory)[1]


def test_similarity_section_compares_student_and_baseline_to_the_same_teacher(mnist_text):
  sim = section(mnist_text, "## 3. Teacher–student similarity")
  cka = section(sim, "### Linear CKA", "\n### ")
  assert "| comparison | pairs | mnist | scale | translate | rotate |" in cka
  # Only the student and its baseline are compared: the plain CNN and MLP have no teacher.
  assert [line.split("|")[1].strip() for line in cka.splitlines()[4:] if line] == [
      "CNN→MLP vs its teacher CNN", "MLP (no KD) vs the same teacher CNN"]
  student = row(cka, "CNN→MLP vs its teacher CNN")
  assert student[1] == "1" and student[2] == "1.0000"
  baseline = row(cka, "MLP (no KD) vs the same teacher CNN")
  assert baseline[1] == "2"  # both MLP seeds against the one teacher
  mean = float(baseline[2].split(" ± ")[0])
  assert mean < 0.9  # random reps: far from the student's exact 1
  assert row(section(sim, "### RSA", "\n### "), "CNN→MLP vs its teacher")[2] == "1.0000"
  assert row(section(sim, "### Prediction agreement", "\n### "),
             "CNN→MLP vs its teacher")[2] == "1.0000"
  assert row(section(sim, "### Error overlap", "\n### "),
             "CNN→MLP vs its teacher")[2] == "1.0000"
  # The teacher's errors are examples 0..7; MLP seed 0 errs on 0..39, seed 1 on 0..19:
  # Jaccard 8/40 = 0.2 and 8/20 = 0.4: mean 0.3, sample std 0.1414.
  assert row(section(sim, "### Error overlap", "\n### "),
             "MLP (no KD)")[2] == "0.3000 ± 0.1414"
