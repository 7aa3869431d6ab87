"""inductive_kd.report.compact: committed copies of runs regenerate the same report tables."""
import numpy as np

from inductive_kd import report
from inductive_kd.report import compact
from tests.test_report_runs import N, _probs, _wrong_first, write_run


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
