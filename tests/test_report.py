"""inductive_kd.report: tiny hand-made runs render a REPORT.md with our numbers beside the paper's,
the right mean ± std over seeds, ⚠ where we disagree, teacher-student similarity, and plots."""

import json
import os
import re
import zlib

import numpy as np
import pytest

from inductive_kd import paper_results
from inductive_kd import report
from inductive_kd.analysis import trajectories

N, C = 80, 10          # examples per test set, classes
SETS = ("mnist", "scale", "translate", "rotate")
PROBE_N = 30
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _labels(set_name):
  # The same examples in the same order in every run (as train.py writes them).
  return np.random.default_rng(zlib.crc32(set_name.encode())).integers(0, C, N)


def _probs(pred, conf=0.75, num_classes=C):
  """Every row has confidence exactly `conf` on `pred`: ECE = |accuracy - conf| for any bins."""
  p = np.full((len(pred), num_classes), (1.0 - conf) / (num_classes - 1), np.float32)
  p[np.arange(len(pred)), pred] = conf
  return p


def _wrong_first(labels, num_wrong, num_classes=C):
  pred = labels.copy()
  pred[:num_wrong] = (labels[:num_wrong] + 1) % num_classes
  return pred


def write_run(workdir, name, seed, test, preds=None, teacher=None, probes=None, model=None,
              epochs=0.5):
  """A finished run as train.train_and_evaluate leaves it (results.json, predictions, probes)."""
  os.makedirs(workdir, exist_ok=True)
  results = {
      "name": name, "model": (model or {}).get("name", name.split("_")[-1]), "seed": seed,
      "steps": 100, "epochs": epochs, "teacher_workdir": str(teacher) if teacher else None,
      "teacher_config": "configs/x.py" if teacher else None,
      "teacher_mode": "train" if teacher else None, "train_wall_s": 90.0,
      "train_steps_per_s": 1.1, "test": test,
      "config": {"name": name, "seed": seed, "model": model or {}, "eval": {"ece_bins": 15}},
  }
  with open(os.path.join(workdir, "results.json"), "w") as f:
    json.dump(results, f)
  for set_name, arrays in (preds or {}).items():
    os.makedirs(os.path.join(workdir, "predictions"), exist_ok=True)
    np.savez_compressed(os.path.join(workdir, "predictions", f"{set_name}.npz"), **arrays)
  for step, (probs, reps) in (probes or {}).items():
    trajectories.save_probe_outputs(trajectories.probe_dir(workdir), step, probs, reps)


def _mnist_test(acc):
  return {s: {"accuracy": a, "loss": 0.1, "ece": 0.01, "num_examples": N}
          for s, a in zip(SETS, acc)} | {"shifted_mean": {"accuracy": 0.5, "loss": 1, "ece": 0}}


def make_mnist_runs(root):
  """CNN teacher; CNN->MLP student (its reps a rotation of the teacher's, same predictions);
  a plain MLP with two seeds whose accuracy and ECE differ by hand-chosen amounts."""
  rng = np.random.default_rng(0)
  teacher_dir = os.path.join(root, "s0", "mnist_cnn")
  t_preds, s_preds = {}, {}
  q, _ = np.linalg.qr(rng.normal(size=(32, 16)))  # 32x16 orthonormal columns
  for s in SETS:
    y = _labels(s)
    pred = _wrong_first(y, 8)                       # teacher accuracy 0.9
    rep = rng.normal(size=(N, 16)).astype(np.float32)
    t_preds[s] = dict(labels=y, pred=pred, probs=_probs(pred), loss=np.zeros(N), rep=rep)
    # Orthogonal map of the teacher's reps: linear CKA and Reflect RSA are exactly 1.
    s_preds[s] = dict(labels=y, pred=pred, probs=_probs(pred), loss=np.zeros(N),
                      rep=(rep @ q.T).astype(np.float32))
  probe_reps = rng.normal(size=(PROBE_N, 16)).astype(np.float32)
  probe_probs = rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32)
  t_probes = {step: (probe_probs, probe_reps) for step in (0, 10, 20)}
  s_probes = {step: (rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32),
                     rng.normal(size=(PROBE_N, 32)).astype(np.float32)) for step in (0, 10)}
  s_probes[20] = (probe_probs, (probe_reps @ q.T).astype(np.float32))
  # The CNN matches the paper exactly on MNIST (no ⚠ there).
  write_run(teacher_dir, "mnist_cnn", 0, _mnist_test([0.992, 0.962, 0.981, 0.9]), t_preds,
            probes=t_probes, model={"name": "cnn"})
  write_run(os.path.join(root, "s0", "mnist_cnn_to_mlp"), "mnist_cnn_to_mlp", 0,
            _mnist_test([0.988, 0.904, 0.51, 0.8]), s_preds, teacher=teacher_dir,
            probes=s_probes, model={"name": "mlp"})
  # Plain MLP, seeds 0 and 1: accuracy on MNIST 0.9 and 0.8 (far below the paper's 0.985);
  # predictions with confidence 0.75 and accuracy 0.5 / 0.75: ECE 0.25 / 0.0.
  for seed, acc, num_wrong in ((0, 0.9, N // 2), (1, 0.8, N // 4)):
    preds = {}
    for s in SETS:
      y = _labels(s)
      pred = _wrong_first(y, num_wrong)
      preds[s] = dict(labels=y, pred=pred, probs=_probs(pred), loss=np.zeros(N),
                      rep=rng.normal(size=(N, 32)).astype(np.float32))
    probes = {step: (rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32),
                     rng.normal(size=(PROBE_N, 32)).astype(np.float32)) for step in (0, 10, 20)}
    write_run(os.path.join(root, f"s{seed}", "mnist_mlp"), "mnist_mlp", seed,
              _mnist_test([acc, 0.79, 0.37, 0.5]), preds, probes=probes, model={"name": "mlp"})


def _section(text, start, end="\n## "):
  i = text.index(start)
  j = text.find(end, i + len(start))
  return text[i:] if j < 0 else text[i:j]


def _row(section, key):
  rows = [line for line in section.splitlines() if line.startswith("|") and key in line]
  assert len(rows) == 1, (key, rows)
  return [c.strip() for c in rows[0].strip("|").split("|")]


def _assert_png(path):
  assert os.path.getsize(path) > 1000
  with open(path, "rb") as f:
    assert f.read(8) == _PNG_MAGIC


@pytest.fixture(scope="module")
def mnist_report(tmp_path_factory):
  root = tmp_path_factory.mktemp("runs")
  make_mnist_runs(str(root))
  out = tmp_path_factory.mktemp("report")
  path = report.generate_report(root, out)
  return out, path.read_text()


def test_mnist_tables_carry_ours_and_the_papers_numbers(mnist_report):
  _, text = mnist_report
  acc = _section(text, "### Accuracy", "\n### ")
  assert "| setup | name | seeds | mnist | scale | translate | rotate |" in acc
  cnn = _row(acc, "`mnist_cnn`")
  assert cnn[:3] == ["CNN", "`mnist_cnn`", "1"]
  assert cnn[3] == "0.9920 (paper 0.992 ± 0.0009)"  # n = 1: no std; inside the paper's band
  assert cnn[6] == "0.9000"  # no paper value for rotate
  # Two seeds, accuracies 0.9 and 0.8: mean 0.85, sample std |0.9 - 0.8| / sqrt(2) = 0.0707.
  mlp = _row(acc, "`mnist_mlp`")
  assert mlp[:3] == ["MLP", "`mnist_mlp`", "2"]
  assert mlp[3] == "0.8500 ± 0.0707 (paper 0.985 ± 0.0011) ⚠"
  assert _row(acc, "`mnist_cnn_to_mlp`")[0] == "CNN→MLP"
  assert "(paper 0.904 ± 0.0073)" in _row(acc, "`mnist_cnn_to_mlp`")[4]
  # ECE from the predictions with the official 1e6 bins: MLP seeds 0.25 and 0.0.
  ece = _section(text, "### ECE with 1,000,000", "\n### ")
  assert "1000000" in ece
  mlp = _row(ece, "`mnist_mlp`")
  assert mlp[3] == "0.1250 ± 0.1768 (paper 0.015 ± 0.0006) ⚠"
  assert _row(ece, "`mnist_cnn`")[3].startswith("0.1500 (paper 0.011 ± 0.0006) ⚠")
  # The same ECE at 15 bins (confidences all 0.75) and no paper value beside it.
  alt = _section(text, "### ECE with 15 bins", "\n## ")
  assert _row(alt, "`mnist_mlp`")[3] == "0.1250 ± 0.1768"


def test_similarity_section_compares_student_and_baseline_to_the_same_teacher(mnist_report):
  _, text = mnist_report
  sim = _section(text, "## 3. Teacher–student similarity")
  cka = _section(sim, "### Linear CKA", "\n### ")
  assert "| comparison | pairs | mnist | scale | translate | rotate |" in cka
  student = _row(cka, "CNN→MLP vs its teacher CNN")
  assert student[1] == "1" and student[2] == "1.0000"
  baseline = _row(cka, "MLP (no KD) vs the same teacher CNN")
  assert baseline[1] == "2"  # both MLP seeds against the one teacher
  mean = float(baseline[2].split(" ± ")[0])
  assert mean < 0.9  # random reps: far from the student's exact 1
  assert _row(_section(sim, "### RSA", "\n### "), "CNN→MLP vs its teacher")[2] == "1.0000"
  assert _row(_section(sim, "### Prediction agreement", "\n### "),
              "CNN→MLP vs its teacher")[2] == "1.0000"
  assert _row(_section(sim, "### Error overlap", "\n### "),
              "CNN→MLP vs its teacher")[2] == "1.0000"
  # The teacher's errors are examples 0..7; MLP seed 0 errs on 0..39, seed 1 on 0..19:
  # Jaccard 8/40 = 0.2 and 8/20 = 0.4: mean 0.3, sample std 0.1414.
  assert _row(_section(sim, "### Error overlap", "\n### "),
              "MLP (no KD)")[2] == "0.3000 ± 0.1414"


def test_plots_exist_and_are_linked(mnist_report):
  out, text = mnist_report
  links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
  names = {os.path.basename(link) for link in links}
  assert "reliability_mnist_scale.png" in names
  assert "similarity_training_mnist_cka.png" in names
  assert "similarity_training_mnist_rsa.png" in names
  assert "mds_mnist.png" in names
  for link in links:
    assert not os.path.isabs(link)
    _assert_png(os.path.join(out, link))
  assert "No SVA" in text or "No subject-verb agreement runs" in text
  # Provenance: every run listed with its schedule.
  runs = _section(text, "## How this was produced")
  assert len([l for l in runs.splitlines() if l.startswith("| `mnist_")]) == 4
  assert "| 90 s |" in runs and "| 0.50 |" in runs


def test_sva_runs_give_the_sva_table_and_attractor_plot(tmp_path):
  root = tmp_path / "runs"
  rng = np.random.default_rng(1)
  y = rng.integers(0, 2, N)
  pred = _wrong_first(y, 4, num_classes=2)
  attractors = {f"acc_attractors_{k}": 0.99 - 0.02 * k for k in range(5)}
  write_run(str(root / "sva_cl_gpt"), "sva_cl_gpt", 0,
            {"test": {"mu_accuracy": 0.95, "macro_attractors": 0.95, "ece": 0.5,
                      "num_examples": N} | attractors},
            {"test": dict(labels=y, pred=pred, probs=_probs(pred, 0.75, 2), loss=np.zeros(N))},
            model={"name": "transformer_classifier", "bidirectional": False, "shared": False})
  write_run(str(root / "sva_lm_lstm"), "sva_lm_lstm", 0,
            {"test": {"mu_accuracy": 0.93, "macro_attractors": 0.90, "perplexity": 56.0,
                      "ece": 0.04} | attractors}, model={"name": "lstm_lm"})
  out = tmp_path / "report"
  text = report.generate_report(root, out).read_text()
  sva = _section(text, "## 2. Subject-verb agreement")
  cl = _section(sva, "### `sva_cl` on `test`", "\n### ")
  assert "μ-acc" in cl and "A-acc (macro, k=0..4)" in cl and "k=4" in cl
  row = _row(cl, "`sva_cl_gpt`")
  assert row[0] == "Transformer-seq"
  assert "0.9500 (paper 0.964)" in row
  # ECE from predictions with 20 bins: accuracy 76/80 = 0.95, confidence 0.75 -> 0.2.
  assert row[-1] == "0.2000 (paper 0.045)"
  lm = _row(_section(sva, "### `sva_lm` on `test`", "\n### "), "`sva_lm_lstm`")
  assert "0.9000 (paper 0.936–0.943) ⚠" in lm  # below the plotted range
  assert "56.00 (paper 55.5–56.2)" in lm
  assert lm[-1] == "0.0400†"  # no predictions: results.json's value, marked
  _assert_png(out / "plots" / "attractors_sva_cl_test.png")
  _assert_png(out / "plots" / "reliability_sva_cl_test.png")
  assert "No MNIST runs" in text
  assert "No probe outputs were found" in text
  assert "No run names a teacher" in text


def test_probs_only_probes_moved_runs_and_missing_reps(tmp_path):
  """Probes without reps -> 1 - JS curve (said in the report); predictions without `rep` -> no
  CKA but agreement; a teacher_workdir from before the runs folder moved is found beside the
  student, as configs place it."""
  root = tmp_path / "runs"
  rng = np.random.default_rng(2)
  y = _labels("mnist")
  teacher_pred = _wrong_first(y, 8)
  probe = rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32)
  write_run(str(root / "mnist_cnn"), "mnist_cnn", 0, _mnist_test([0.99] * 4),
            {"mnist": dict(labels=y, pred=teacher_pred, probs=_probs(teacher_pred))},
            probes={0: (probe, None), 5: (probe, None)})
  student_pred = _wrong_first(y, 16)  # agrees with the teacher on 72 of 80 examples
  write_run(str(root / "mnist_cnn_to_mlp"), "mnist_cnn_to_mlp", 0, _mnist_test([0.98] * 4),
            {"mnist": dict(labels=y, pred=student_pred, probs=_probs(student_pred))},
            teacher="/no/longer/here/runs/mnist_cnn",
            probes={0: (rng.dirichlet(np.ones(C), size=PROBE_N).astype(np.float32), None),
                    5: (probe, None)})
  out = tmp_path / "report"
  text = report.generate_report(root, out, report.ReportOptions(std_ddof=0)).read_text()
  sim = _section(text, "## 3. Teacher–student similarity")
  assert _row(_section(sim, "### Linear CKA", "\n### "), "CNN→MLP vs its teacher")[2] == "—"
  assert _row(_section(sim, "### Prediction agreement", "\n### "),
              "CNN→MLP vs its teacher")[2] == "0.9000"
  assert "hold only output probabilities" in text
  _assert_png(out / "plots" / "similarity_training_mnist_js.png")
  assert "ddof=0" in text
  # The student's last probe outputs equal the teacher's: 1 - JS distance reaches exactly 1.
  pairs = report._Report(report.discover_runs(root), root, out, report.ReportOptions())
  (label, _, [(student, teacher)]), = pairs.comparisons()
  steps, values = pairs._curve(student, teacher, None)  # pylint: disable=protected-access
  assert list(steps) == [0, 5] and values[1] == pytest.approx(1.0) and values[0] < 0.9


def test_paper_values_match_paper_md():
  assert str(paper_results.mnist("mnist_cnn_to_mlp", "translate", "accuracy")) == "0.510 ± 0.0148"
  assert str(paper_results.mnist("mnist_mlp", "scale", "ece")) == "0.175 ± 0.0081"
  assert paper_results.mnist("mnist_cnn", "rotate", "accuracy") is None
  assert paper_results.MeanStd(0.5, 0.01).outside(0.521)
  assert not paper_results.MeanStd(0.5, 0.01).outside(0.519)
  assert paper_results.sva("cl", "LSTM", None, "ece").value == 0.028
  assert str(paper_results.sva("lm", "Transformer", None, "perplexity")) == "57.3–57.7"


def test_no_runs_is_a_clear_error(tmp_path):
  with pytest.raises(ValueError, match="No runs found under"):
    report.generate_report(tmp_path, tmp_path / "out")
  with pytest.raises(ValueError, match="is not a directory"):
    report.generate_report(tmp_path / "missing", tmp_path / "out")
  with pytest.raises(SystemExit, match="error: No runs found"):
    report.main(["--runs", str(tmp_path), "--out", str(tmp_path / "out")])
  (tmp_path / "bad").mkdir()
  (tmp_path / "bad" / "results.json").write_text("{\"name\": \"x\"}")
  with pytest.raises(ValueError, match="lacks 'name' or a 'test' dict"):
    report.generate_report(tmp_path, tmp_path / "out")


def test_names_and_mean_std():
  assert report.parse_setup("mnist_cnn_to_mlp") == ("mnist", "cnn", "mlp")
  assert report.parse_setup("sva_cl_lstm_to_small_gpt") == ("sva_cl", "lstm", "small_gpt")
  assert report.baseline_name("mnist_mlp_to_cnn") == "mnist_cnn"
  assert report.baseline_name("mnist_cnn") is None
  assert report.setup_label("sva_cl_lstm_to_ugpt") == "LSTM→UTransformer-seq"
  assert report.setup_label("sva_cl_x", {"name": "transformer_classifier",
                                         "bidirectional": True}) == "Transformer"
  mean, std, n = report.mean_std([1.0, 2.0, 4.0], ddof=1)
  assert (mean, n) == (7 / 3, 3) and std == pytest.approx(np.std([1, 2, 4], ddof=1))
  assert report.mean_std([1.0], ddof=1)[1] is None
  assert report.mean_std([1.0], ddof=0)[1] is None  # one seed: no spread to show
  assert np.isnan(report.mean_std([None, float("nan")])[0])
  assert report.mean_std([1.0, 3.0], ddof=0)[1] == 1.0


def test_teacher_modes_of_one_name_are_separate_setups(tmp_path):
  """CNN→MLP with the official train-mode teacher and with the eval-mode (cached) teacher are
  never pooled: two rows, each labelled with its mode, the paper's value beside both."""
  root = str(tmp_path / "runs")
  make_mnist_runs(root)
  teacher_dir = os.path.join(root, "s0", "mnist_cnn")
  write_run(os.path.join(root, "eval", "mnist_cnn_to_mlp"), "mnist_cnn_to_mlp", 0,
            _mnist_test([0.5, 0.5, 0.5, 0.5]), teacher=teacher_dir, model={"name": "mlp"})
  with open(os.path.join(root, "eval", "mnist_cnn_to_mlp", "results.json")) as f:
    results = json.load(f)
  results["teacher_mode"] = "eval"
  with open(os.path.join(root, "eval", "mnist_cnn_to_mlp", "results.json"), "w") as f:
    json.dump(results, f)
  text = report.generate_report(root, tmp_path / "report").read_text()
  acc = _section(text, "### Accuracy", "\n### ")
  train_row = _row(acc, "CNN→MLP (train-mode teacher)")
  eval_row = _row(acc, "CNN→MLP (eval-mode teacher)")
  assert train_row[1] == eval_row[1] == "`mnist_cnn_to_mlp`"
  assert train_row[2] == eval_row[2] == "1"
  assert train_row[3].startswith("0.9880") and eval_row[3].startswith("0.5000")
  assert "0.9" in eval_row[3]  # The paper's CNN→MLP accuracy is shown beside the variant too.
  names = [line.split("|")[1].strip() for line in acc.splitlines() if line.startswith("| C")]
  assert abs(names.index("CNN→MLP (train-mode teacher)")
             - names.index("CNN→MLP (eval-mode teacher)")) == 1  # Side by side.
