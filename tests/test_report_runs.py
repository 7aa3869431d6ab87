"""inductive_kd.report.runs: finding and loading runs, their setups (from results.json, never
the name), teacher-mode variants and labels. Also the fake runs the other test_report_* files
share: finished runs as train.train_and_evaluate leaves them."""

import json
import os
import zlib

import numpy as np
import pytest

from inductive_kd import report
from inductive_kd.analysis import trajectories
from inductive_kd.report import Setup

N, C = 80, 10          # examples per test set, classes
SETS = ("mnist", "scale", "translate", "rotate")
PROBE_N = 30
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CNN = ("mnist", "cnn", None)
MLP = ("mnist", "mlp", None)
CNN_TO_MLP = ("mnist", "mlp", "cnn")


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


def write_run(workdir, name, seed, test, setup, preds=None, teacher=None, probes=None,
              model=None, epochs=24.0, data=None):
  """A finished run as train.train_and_evaluate leaves it (results.json, predictions, probes);
  `setup` = (scenario, student, teacher or None)."""
  os.makedirs(workdir, exist_ok=True)
  scenario, student, teacher_arch = setup
  results = {
      "name": name, "model": (model or {}).get("name", name.split("_")[-1]), "seed": seed,
      # 468 steps per epoch, as MNIST at batch 128: 24 epochs is the `short` run's 11,232 steps.
      "steps": max(1, round(468 * epochs)), "epochs": epochs,
      "teacher_workdir": str(teacher) if teacher else None,
      "setup": {"scenario": scenario, "student": student, "teacher": teacher_arch},
      "teacher_config": "configs/x.py" if teacher else None,
      "teacher_mode": "train" if teacher else None, "train_wall_s": 90.0,
      "train_steps_per_s": 1.1, "test": test,
      "config": {"name": name, "seed": seed, "model": model or {}, "eval": {"ece_bins": 15},
                 "data": data or {}},
  }
  with open(os.path.join(workdir, "results.json"), "w") as f:
    json.dump(results, f)
  for set_name, arrays in (preds or {}).items():
    os.makedirs(os.path.join(workdir, "predictions"), exist_ok=True)
    np.savez_compressed(os.path.join(workdir, "predictions", f"{set_name}.npz"), **arrays)
  for step, (probs, reps) in (probes or {}).items():
    trajectories.save_probe_outputs(trajectories.probe_dir(workdir), step, probs, reps)


def mnist_test(acc):
  return {s: {"accuracy": a, "loss": 0.1, "ece": 0.01, "num_examples": N}
          for s, a in zip(SETS, acc)} | {"shifted_mean": {"accuracy": 0.5, "loss": 1, "ece": 0}}


def make_mnist_runs(root, names=("mnist_cnn", "mnist_cnn_to_mlp", "mnist_mlp")):
  """CNN teacher; CNN->MLP student (its reps a rotation of the teacher's, same predictions);
  a plain MLP with two seeds whose accuracy and ECE differ by hand-chosen amounts. `names`:
  the config names of the three setups (the report must not read anything into them)."""
  cnn_name, student_name, mlp_name = names
  rng = np.random.default_rng(0)
  teacher_dir = os.path.join(root, "s0", cnn_name)
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
  write_run(teacher_dir, cnn_name, 0, mnist_test([0.992, 0.962, 0.981, 0.9]), CNN, t_preds,
            probes=t_probes, model={"name": "cnn"})
  write_run(os.path.join(root, "s0", student_name), student_name, 0,
            mnist_test([0.988, 0.904, 0.51, 0.8]), CNN_TO_MLP, s_preds, teacher=teacher_dir,
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
    write_run(os.path.join(root, f"s{seed}", mlp_name), mlp_name, seed,
              mnist_test([acc, 0.79, 0.37, 0.5]), MLP, preds, probes=probes,
              model={"name": "mlp"})


_MNIST_REPORT = {}


def mnist_report(tmp_path_factory):
  """(out dir, REPORT.md text) of make_mnist_runs, made once per test session."""
  if not _MNIST_REPORT:
    root = tmp_path_factory.mktemp("runs")
    make_mnist_runs(str(root))
    out = tmp_path_factory.mktemp("report")
    _MNIST_REPORT["value"] = out, report.generate_report(root, out).read_text()
  return _MNIST_REPORT["value"]


def section(text, start, end="\n## "):
  i = text.index(start)
  j = text.find(end, i + len(start))
  return text[i:] if j < 0 else text[i:j]


def row(section_text, key):
  rows = [line for line in section_text.splitlines() if line.startswith("|") and key in line]
  assert len(rows) == 1, (key, rows)
  return [c.strip() for c in rows[0].strip("|").split("|")]


def assert_png(path):
  assert os.path.getsize(path) > 1000
  with open(path, "rb") as f:
    assert f.read(8) == _PNG_MAGIC


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


def test_results_without_setup_is_a_one_line_error_naming_the_file(tmp_path):
  write_run(str(tmp_path / "old"), "mnist_cnn", 0, mnist_test([0.99] * 4), CNN)
  path = tmp_path / "old" / "results.json"
  results = json.loads(path.read_text())
  del results["setup"]
  path.write_text(json.dumps(results))
  with pytest.raises(ValueError) as e:
    report.generate_report(tmp_path, tmp_path / "out")
  message = str(e.value)
  assert "\n" not in message
  assert str(path) in message and "predates the `setup` field" in message
  with pytest.raises(SystemExit, match="error: .*predates the `setup` field"):
    report.main(["--runs", str(tmp_path), "--out", str(tmp_path / "out")])
  results["setup"] = {"scenario": "mnist", "teacher": None}  # no student
  path.write_text(json.dumps(results))
  with pytest.raises(ValueError, match=r"results.json\['setup'\] must be"):
    report.load_run(path)


def test_setups_and_labels():
  setup = Setup.from_results({"setup": {"scenario": "mnist", "student": "mlp",
                                        "teacher": "cnn"}}, "results.json")
  assert setup == Setup("mnist", "mlp", "cnn") and setup.config_name == "mnist_cnn_to_mlp"
  sva = Setup.from_results({"setup": {"scenario": "sva_cl", "student": "small_gpt",
                                      "teacher": "lstm"}}, "results.json")
  assert (sva.scenario, sva.teacher, sva.student, sva.sva_task) == ("sva_cl", "lstm",
                                                                     "small_gpt", "cl")
  assert Setup("mnist", "cnn", "mlp").baseline == Setup("mnist", "cnn")
  assert Setup("mnist", "cnn", "mlp").baseline.config_name == "mnist_cnn"
  assert Setup("mnist", "cnn").baseline == Setup("mnist", "cnn")  # a baseline has no other
  assert report.setup_label(Setup("mnist", "mlp", "cnn")) == "CNN→MLP"
  assert report.setup_label(Setup("sva_cl", "ugpt", "lstm")) == "LSTM→UTransformer-seq"
  assert report.setup_label(Setup("sva_cl", "transformer_seq", "lstm")) == \
      "LSTM→Transformer-seq"
  assert report.setup_label(Setup("sva_cl", "x"), {"name": "transformer_classifier",
                                                   "bidirectional": True}) == "Transformer"
  assert report.setup_label(Setup("sva_lm", "small_lstm")) == "Small LSTM"
  assert report.setup_label(Setup("mnist", "mlp", "cnn"), None, "eval-mode teacher") == \
      "CNN→MLP (eval-mode teacher)"


def test_setup_not_the_name_says_what_a_run_trained(tmp_path):
  """Names that follow no convention: labels, the paper's numbers and the baseline comparison
  still come out right, from results.json['setup']."""
  root = str(tmp_path / "runs")
  make_mnist_runs(root, names=("teacher_a", "kd_run", "plain"))
  text = report.generate_report(root, tmp_path / "report").read_text()
  acc = section(text, "### Accuracy", "\n### ")
  assert row(acc, "`kd_run`")[:3] == ["CNN→MLP", "`kd_run`", "1"]
  assert "(paper 0.904 ± 0.0073)" in row(acc, "`kd_run`")[4]
  assert row(acc, "`plain`")[3] == "0.8500 ± 0.0707 (paper 0.985 ± 0.0011) ⚠"
  names = [line.split("|")[2].strip() for line in acc.splitlines() if line.startswith("| ")]
  assert names[1:] == ["`teacher_a`", "`plain`", "`kd_run`"]  # the paper's order
  sim = section(text, "## 3. Teacher–student similarity")
  assert row(section(sim, "### Error overlap", "\n### "),
             "MLP (no KD) vs the same teacher CNN")[2] == "0.3000 ± 0.1414"


def _mnist_runs_and_student(tmp_path, folder: str, name: str, acc: float) -> str:
  """make_mnist_runs, plus a CNN→MLP student `name` (accuracy `acc` on every set) in
  <runs>/<folder>/<name> taught by the seed-0 CNN; returns <runs>."""
  root = str(tmp_path / "runs")
  make_mnist_runs(root)
  write_run(os.path.join(root, folder, name), name, 0, mnist_test([acc] * 4), CNN_TO_MLP,
            teacher=os.path.join(root, "s0", "mnist_cnn"), model={"name": "mlp"})
  return root


def test_teacher_modes_of_one_name_are_separate_setups(tmp_path):
  """CNN→MLP with the official train-mode teacher and with the eval-mode (cached) teacher are
  never pooled: two rows, each labelled with its mode, the paper's value beside both."""
  root = _mnist_runs_and_student(tmp_path, "eval", "mnist_cnn_to_mlp", 0.5)
  with open(os.path.join(root, "eval", "mnist_cnn_to_mlp", "results.json")) as f:
    results = json.load(f)
  results["teacher_mode"] = "eval"
  with open(os.path.join(root, "eval", "mnist_cnn_to_mlp", "results.json"), "w") as f:
    json.dump(results, f)
  text = report.generate_report(root, tmp_path / "report").read_text()
  acc = section(text, "### Accuracy", "\n### ")
  train_row = row(acc, "CNN→MLP (train-mode teacher)")
  eval_row = row(acc, "CNN→MLP (eval-mode teacher)")
  assert train_row[1] == eval_row[1] == "`mnist_cnn_to_mlp`"
  assert train_row[2] == eval_row[2] == "1"
  assert train_row[3].startswith("0.9880") and eval_row[3].startswith("0.5000")
  assert "0.9" in eval_row[3]  # The paper's CNN→MLP accuracy is shown beside the variant too.
  names = [line.split("|")[1].strip() for line in acc.splitlines() if line.startswith("| C")]
  assert abs(names.index("CNN→MLP (train-mode teacher)")
             - names.index("CNN→MLP (eval-mode teacher)")) == 1  # Side by side.


def test_a_run_renamed_by_a_suffix_is_labelled_with_it(tmp_path):
  """An ablation renamed with --config.name=<config name>_<suffix> gets its own row, labelled
  with the suffix; a name that does not extend the config's (plain, kd_run) gets none."""
  root = _mnist_runs_and_student(tmp_path, "t2", "mnist_cnn_to_mlp_t2", 0.5)
  write_run(os.path.join(root, "kd_run"), "kd_run", 0, mnist_test([0.6, 0.5, 0.5, 0.5]),
            CNN_TO_MLP, teacher=os.path.join(root, "s0", "mnist_cnn"), model={"name": "mlp"})
  acc = section(report.generate_report(root, tmp_path / "report").read_text(), "### Accuracy",
                "\n### ")
  assert row(acc, "`mnist_cnn_to_mlp_t2`")[:3] == ["CNN→MLP (t2)", "`mnist_cnn_to_mlp_t2`", "1"]
  assert row(acc, "`mnist_cnn_to_mlp_t2`")[3].startswith("0.5000")
  assert row(acc, "`mnist_cnn_to_mlp`")[0] == row(acc, "`kd_run`")[0] == "CNN→MLP"
