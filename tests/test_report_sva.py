"""inductive_kd.report.sva and .attractors: agreement tables beside the paper's plotted values,
and accuracy against the number of attractors."""

import json

import numpy as np

from inductive_kd import report
from tests.test_report_runs import N, _probs, _wrong_first, assert_png, row, section, write_run


def test_sva_runs_give_the_sva_table_and_attractor_plot(tmp_path):
  root = tmp_path / "runs"
  rng = np.random.default_rng(1)
  y = rng.integers(0, 2, N)
  pred = _wrong_first(y, 4, num_classes=2)
  attractors = {f"acc_attractors_{k}": 0.99 - 0.02 * k for k in range(5)}
  # An architecture key no paper row knows: config.model says it is the causal Transformer.
  write_run(str(root / "sva_cl_gpt"), "sva_cl_gpt", 0,
            {"test": {"mu_accuracy": 0.95, "macro_attractors": 0.95, "ece": 0.5,
                      "num_examples": N} | attractors}, ("sva_cl", "x", None),
            {"test": dict(labels=y, pred=pred, probs=_probs(pred, 0.75, 2), loss=np.zeros(N))},
            model={"name": "transformer_classifier", "bidirectional": False, "shared": False})
  write_run(str(root / "sva_lm_lstm"), "sva_lm_lstm", 0,
            {"test": {"mu_accuracy": 0.93, "macro_attractors": 0.90, "perplexity": 56.0,
                      "ece": 0.04} | attractors}, ("sva_lm", "lstm", None),
            model={"name": "lstm_lm"})
  out = tmp_path / "report"
  text = report.generate_report(root, out).read_text()
  sva = section(text, "## 2. Subject-verb agreement")
  cl = section(sva, "### `sva_cl` on `test` (offline corpus)", "\n### ")
  assert "**not the paper's data**" in cl  # A corpus number beside a paper number says so.
  assert "μ-acc" in cl and "A-acc (macro, k=0..4)" in cl and "k=4" in cl
  cl_row = row(cl, "`sva_cl_gpt`")
  assert cl_row[0] == "Transformer-seq"
  # The paper's value beside a corpus number says which data it is from.
  assert "0.9500 (paper, on Linzen's data: 0.964)" in cl_row
  # ECE from predictions with 20 bins: accuracy 76/80 = 0.95, confidence 0.75 -> 0.2.
  assert cl_row[-1] == "0.2000 (paper, on Linzen's data: 0.045)"
  lm = row(section(sva, "### `sva_lm` on `test` (offline corpus)", "\n### "), "`sva_lm_lstm`")
  assert "0.9000 (paper, on Linzen's data: 0.936–0.943) ⚠" in lm  # below the plotted range
  assert "56.00 (paper, on Linzen's data: 55.5–56.2)" in lm
  assert lm[-1] == "0.0400†"  # no predictions: results.json's value, marked
  assert_png(out / "plots" / "attractors_sva_cl_test.png")
  assert_png(out / "plots" / "reliability_sva_cl_test.png")
  assert "No MNIST runs" in text
  assert "No probe outputs were found" in text
  assert "No run names a teacher" in text


def test_real_text_runs_get_their_own_tables(tmp_path):
  root = tmp_path / "runs"
  for name, source in (("sva_cl_lstm", "tsv"), ("sva_cl_numpred_lstm", "numpred")):
    write_run(str(root / name), name, 0, {"test": {"mu_accuracy": 0.9, "num_examples": N}},
              ("sva_cl", "lstm", None), model={"name": "lstm_classifier"},
              data={"sva_source": source, "sva_tsv": ""})
  text = report.generate_report(root, tmp_path / "report").read_text()
  corpus = section(text, "### `sva_cl` on `test` (offline corpus)", "\n### ")
  real = section(text, "### `sva_cl` on `test` (real text)", "\n### ")
  assert "`sva_cl_lstm`" in corpus and "`sva_cl_numpred_lstm`" not in corpus
  assert "`sva_cl_numpred_lstm`" in real and "limited data" in real
  # The header's schedule list names each setup once, telling the two LSTMs apart.
  head = section(text, "## What this report was made from")
  assert "(LSTM (`sva_cl_lstm`), LSTM (`sva_cl_numpred_lstm`))" in head


def test_real_text_summary_puts_each_attractor_count_beside_the_majority_baseline(tmp_path):
  """One row per setup: valid, numpred.test.1..5 in order, Gulordava; the last row is the
  accuracy of always answering each set's most frequent label (from the runs' labels)."""
  root = tmp_path / "runs"
  sets = ("gulordava", "numpred_test_2", "valid", "numpred_test_1")
  labels = {"valid": [0, 0, 0, 1], "numpred_test_1": [1, 1, 0, 0], "numpred_test_2": [1] * 9 + [0],
            "gulordava": [0, 1, 1, 1, 1]}
  for seed, acc in ((0, 0.5), (1, 0.7)):
    write_run(str(root / f"s{seed}" / "sva_cl_numpred_lstm"), "sva_cl_numpred_lstm", seed,
              {s: {"accuracy": acc + 0.01 * i, "num_examples": 4} for i, s in enumerate(sets)},
              ("sva_cl", "lstm", None), model={"name": "lstm_classifier"},
              data={"sva_source": "numpred"},
              preds={s: {"labels": np.asarray(labels[s])} for s in sets})
  text = report.generate_report(root, tmp_path / "report").read_text()
  summary = section(text, "### `sva_cl` on real text: accuracy by set", "\n### ")
  assert "| setup | seeds | valid | k = 1 | k = 2 | gulordava |" in summary
  # Means over the two seeds (0.5 and 0.7, + 0.01 per set's place in `sets`), std ddof 1.
  assert row(summary, "LSTM")[1:] == ["2", "0.620 ± 0.141", "0.630 ± 0.141", "0.610 ± 0.141",
                                      "0.600 ± 0.141"]
  assert row(summary, "always the majority label")[2:] == ["0.750", "0.500", "0.900", "0.800"]


def test_learning_curves_plot_every_seed_of_each_language_model(tmp_path):
  root = tmp_path / "runs"
  attractors = {f"acc_attractors_{k}": 0.9 for k in range(5)}
  for name, arch, seeds in (("sva_lm_lstm", "lstm", (0, 1)), ("sva_lm_transformer", "transformer",
                                                                (0,))):
    for seed in seeds:
      workdir = root / f"s{seed}" / name
      write_run(str(workdir), name, seed, {"test": {"mu_accuracy": 0.9, "perplexity": 60.0}
                                            | attractors}, ("sva_lm", arch, None),
                model={"name": f"{arch}_lm"})
      history = {"steps": [620, 1240], "test/mu_accuracy": [0.6, 0.9],
                 "test/perplexity": [200.0, 60.0], "valid/mu_accuracy": [0.6, 0.91]}
      (workdir / "history.json").write_text(json.dumps(history))
  out = tmp_path / "report"
  text = report.generate_report(root, out).read_text()
  curves = section(text, "### Learning curves", "\n### ")
  assert "`sva_lm` on `test`, every evaluation" in curves
  assert "`sva_lm` on `valid`" not in curves  # valid has no perplexity in these histories
  assert_png(out / "plots" / "learning_sva_lm_test.png")


def test_learning_curves_say_why_there_are_none(tmp_path):
  root = tmp_path / "runs"
  write_run(str(root / "sva_lm_lstm"), "sva_lm_lstm", 0, {"test": {"mu_accuracy": 0.9}},
            ("sva_lm", "lstm", None), model={"name": "lstm_lm"})
  text = report.generate_report(root, tmp_path / "report").read_text()
  assert "No SVA run has a history.json" in section(text, "### Learning curves", "\n### ")
