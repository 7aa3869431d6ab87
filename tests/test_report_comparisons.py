"""inductive_kd.report.comparisons: each distilled student is compared with its teacher, and the
student's baseline with the same teacher; CKA, RSA, agreement and error overlap per test set."""

import numpy as np
import pytest

from inductive_kd import report
from tests.test_report_runs import (N, SETS, _labels, _probs, make_mnist_runs, mnist_report,
                                    mnist_test, row, section, write_run)


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


def test_a_student_with_its_teachers_model_and_seed_is_marked(tmp_path):
  """train.py derives the initialisation and the batch order from the seed: an MLP->MLP student
  of seed 0 under the MLP of seed 0 started where its teacher did. Its pair is counted after the
  mark; the student of seed 1 under the same teacher, and CNN->MLP (another model), are not."""
  make_mnist_runs(str(tmp_path / "runs"))
  teacher = tmp_path / "runs" / "s0" / "mnist_mlp"
  rng = np.random.default_rng(1)
  for seed in (0, 1):
    preds = {s: dict(labels=_labels(s), pred=_labels(s), probs=_probs(_labels(s)),
                     loss=np.zeros(N), rep=rng.normal(size=(N, 32)).astype(np.float32))
             for s in SETS}
    write_run(tmp_path / "runs" / f"s{seed}" / "mnist_mlp_to_mlp", "mnist_mlp_to_mlp", seed,
              mnist_test([0.98, 0.8, 0.4, 0.5]), ("mnist", "mlp", "mlp"), preds, teacher=teacher,
              model={"name": "mlp"})
  text = report.generate_report(tmp_path / "runs", tmp_path / "out").read_text()
  sim = section(text, "## 3. Teacher–student similarity")
  cka = section(sim, "### Linear CKA", "\n### ")
  assert row(cka, "MLP→MLP vs its teacher MLP")[:2] == ["MLP→MLP vs its teacher MLP ‡1", "2"]
  assert row(cka, "CNN→MLP vs its teacher CNN")[0] == "CNN→MLP vs its teacher CNN"
  assert "‡ pairs (their number after the mark) of a student with its teacher's model and seed" in sim


def test_a_baseline_on_other_data_is_no_control_for_a_student(tmp_path):
  """A real-text Transformer-seq is not compared with the LSTM teacher of a student trained on
  the offline corpus (their test items differ): one control row, the corpus baseline's."""
  root = tmp_path / "runs"
  y = np.arange(N) % 2
  preds = {"test": dict(labels=y, pred=y, probs=_probs(y, 0.75, 2), loss=np.zeros(N))}
  test = {"test": {"mu_accuracy": 0.9, "num_examples": N}}
  corpus = {"sva_source": "tsv", "sva_tsv": ""}
  write_run(root / "sva_cl_lstm", "sva_cl_lstm", 0, test, ("sva_cl", "lstm", None), preds,
            model={"name": "lstm_classifier"}, data=corpus)
  write_run(root / "sva_cl_lstm_to_transformer_seq", "sva_cl_lstm_to_transformer_seq", 0, test,
            ("sva_cl", "transformer_seq", "lstm"), preds, teacher=root / "sva_cl_lstm",
            model={"name": "transformer_classifier"}, data=corpus)
  for name, data in (("sva_cl_transformer_seq", corpus),
                     ("sva_cl_numpred_transformer_seq", {"sva_source": "numpred"})):
    write_run(root / name, name, 0, test, ("sva_cl", "transformer_seq", None), preds,
              model={"name": "transformer_classifier"}, data=data)
  text = report.generate_report(root, tmp_path / "out").read_text()
  agree = section(section(text, "## 3. Teacher–student similarity"), "### Prediction agreement",
                  "\n### ")
  assert row(agree, "Transformer-seq (no KD) vs the same teacher LSTM")[1:3] == ["1", "1.0000"]
