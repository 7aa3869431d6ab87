"""inductive_kd.report.compact: committed copies of runs regenerate the same report tables."""
import numpy as np
import pytest

from inductive_kd import report
from inductive_kd.report import compact
from tests.test_report_runs import (N, _probs, _wrong_first, make_mnist_runs, row, section,
                                    write_run)


def test_compact_runs_keep_what_the_report_reads(tmp_path):
  root, out = tmp_path / "runs", tmp_path / "compact"
  rng = np.random.default_rng(0)
  y = rng.integers(0, 2, N)
  pred = _wrong_first(y, 4, num_classes=2)
  preds = {"test": dict(labels=y, pred=pred, probs=_probs(pred, 0.75, 2), loss=np.zeros(N),
                        rep=rng.normal(size=(N, 8)).astype(np.float32))}
  write_run(str(root / "a" / "sva_cl_lstm"), "sva_cl_lstm", 0,
            {"test": {"mu_accuracy": 0.95, "num_examples": N}}, ("sva_cl", "lstm", None), preds,
            model={"name": "lstm_classifier"})
  assert compact.main(["--runs", str(root), "--out", str(out)]) == 0
  with np.load(out / "a" / "sva_cl_lstm" / "predictions" / "test.npz") as z:
    assert "rep" not in z.files and z["probs"].dtype == np.float16
    np.testing.assert_array_equal(z["pred"], pred)
  original = report.generate_report(root, tmp_path / "r1").read_text()
  again = report.generate_report(out, tmp_path / "r2").read_text()
  table = lambda text: text[text.index("## 2."):text.index("## 3.")]
  assert table(original) == table(again)  # ECE from float16 probabilities: same to 4 digits.
  assert compact.main(["--runs", str(tmp_path / "empty"), "--out", str(out)]) == 2


def test_rep_limit_keeps_the_first_examples_and_the_report_compares_on_them(tmp_path):
  root, out = tmp_path / "runs", tmp_path / "compact"
  make_mnist_runs(str(root))
  assert compact.main(["--runs", str(root), "--out", str(out), "--rep", "--rep_limit", "50"]) == 0
  student = next(out.glob("**/mnist_cnn_to_mlp/predictions/mnist.npz"))
  with np.load(student) as small, np.load(root / student.relative_to(out)) as full:
    assert small["rep"].shape[0] == 50 and len(small["labels"]) == len(full["labels"])
    np.testing.assert_allclose(small["rep"], full["rep"][:50], rtol=1e-3, atol=1e-3)
  text = report.generate_report(out, tmp_path / "r").read_text()
  cka = section(section(text, "## 3. Teacher–student similarity"), "### Linear CKA", "\n### ")
  # The student's representations equal its teacher's: CKA 1 on the 50 kept examples too.
  assert row(cka, "CNN→MLP vs its teacher CNN")[2] == "1.0000"
  baseline = float(row(cka, "MLP (no KD) vs the same teacher CNN")[2].split(" ± ")[0])
  assert 0 < baseline < 0.95
  with pytest.raises(SystemExit):
    compact.main(["--runs", str(root), "--out", str(out), "--rep_limit", "5"])  # needs --rep


def test_probes_are_kept_on_request_and_the_report_reads_the_compact_teacher(tmp_path):
  """--probes keeps the probe outputs (float16, the first M examples): the report made from the
  compact copies alone draws the similarity-over-training plots; and while the original runs
  still exist, the report still reads each student's teacher from the compact folder."""
  root, out = tmp_path / "runs", tmp_path / "compact"
  make_mnist_runs(str(root))
  assert compact.main(["--runs", str(root), "--out", str(out), "--rep", "--probes",
                       "--probe_limit", "20"]) == 0
  probe = next(out.glob("**/mnist_cnn_to_mlp/probes/step_00000020.npz"))
  with np.load(probe) as small, np.load(root / probe.relative_to(out)) as full:
    assert small["probs"].shape[0] == 20 and small["reps"].dtype == np.float16
    np.testing.assert_allclose(small["reps"], full["reps"][:20], rtol=1e-3, atol=1e-3)
  ctx = report.build_context(report.discover_runs(out), out, tmp_path / "r",
                             report.ReportOptions())
  teachers = [t for t in ctx.teacher_of.values() if t is not None]
  assert teachers and all(out.resolve() in t.workdir.parents for t in teachers)
  report.generate_report(out, tmp_path / "r")
  assert (tmp_path / "r" / "plots" / "similarity_training_mnist_cka.png").is_file()
  with pytest.raises(SystemExit):
    compact.main(["--runs", str(root), "--out", str(out), "--probe_limit", "5"])  # needs --probes
