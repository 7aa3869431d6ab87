"""inductive_kd.report.claims: the verdict rule on hand-made numbers, and the Claims section
rendered from hand-made runs with one claim for each verdict."""

import os

import pytest

from inductive_kd import report
from inductive_kd.report import claims
from tests.test_report_runs import CNN, CNN_TO_MLP, MLP, mnist_test, row, section, write_run

MLP_TO_MLP = ("mnist", "mlp", "mlp")


def test_spread_and_verdict_rule():
  assert claims.spread(0.03, 4, 0.04, 4) == pytest.approx(0.05)
  # A one-seed side is taken to vary as much as the other; one seed each: no spread.
  assert claims.spread(None, 1, 0.02, 4) == pytest.approx(0.02 * 2 ** 0.5)
  assert claims.spread(None, 1, None, 1) is None
  assert claims.verdict(0.06, 0.05, claims.HIGHER) == claims.REPRODUCED
  assert claims.verdict(-0.06, 0.05, claims.HIGHER) == claims.NOT_REPRODUCED
  assert claims.verdict(-0.06, 0.05, claims.LOWER) == claims.REPRODUCED
  assert claims.verdict(0.05, 0.05, claims.HIGHER) == claims.INCONCLUSIVE  # not beyond
  assert claims.verdict(0.5, None, claims.HIGHER) == claims.INCONCLUSIVE
  # "Similar or worse": only a drop beyond the spread contradicts it.
  assert claims.verdict(-0.04, 0.05, claims.NOT_LOWER) == claims.REPRODUCED
  assert claims.verdict(-0.06, 0.05, claims.NOT_LOWER) == claims.NOT_REPRODUCED
  # "Barely helps": a loss or a gain within the spread holds; only a gain beyond it contradicts.
  assert claims.verdict(-0.5, 0.05, claims.NOT_HIGHER) == claims.REPRODUCED
  assert claims.verdict(0.05, 0.05, claims.NOT_HIGHER) == claims.REPRODUCED
  assert claims.verdict(0.06, 0.05, claims.NOT_HIGHER) == claims.NOT_REPRODUCED
  r, n, i, x = (claims.REPRODUCED, claims.NOT_REPRODUCED, claims.INCONCLUSIVE, claims.NOT_RUN)
  assert claims.combine([r, r]) == r and claims.combine([r, x]) == r
  assert claims.combine([r, i]) == i and claims.combine([r, i, n]) == n
  assert claims.combine([x]) == x and claims.combine([]) == x


def test_effect_and_its_line():
  e = claims.effect("scale", [0.90, 0.92], [0.80, 0.82], claims.HIGHER, ddof=1, paper_delta=0.11)
  assert (e.n_a, e.n_b, e.verdict) == (2, 2, claims.REPRODUCED)
  assert e.delta == pytest.approx(0.10) and e.spread == pytest.approx(0.02)
  assert claims.effect("scale", [0.9], [], claims.HIGHER).verdict == claims.NOT_RUN
  one = claims.Claim("A above B", (e,))
  assert claims.row_cells(one) == ["A above B", "**reproduced**", "+0.100 ± 0.020", "+0.110",
                                   "2 vs 2 seeds"]
  lone = claims.effect("scale", [0.9], [0.8], claims.HIGHER)
  cells = claims.row_cells(claims.Claim("A above B", (e, lone), note="smoke runs: not evidence"))
  assert cells[1] == "**inconclusive** (smoke runs: not evidence)"
  assert cells[2] == ("`scale` +0.100 ± 0.020 (reproduced); "
                      "`scale` +0.100 (no spread: 1 seed each) (inconclusive)")
  assert cells[4] == "1 vs 1; 2 vs 2 seeds"
  assert claims.row_cells(claims.Claim("x", (), note="no MLP runs"))[1:] == [
      "**not run** (no MLP runs)", "—", "—", "—"]


def _mnist_claim_runs(root, epochs=24.0):
  """Two seeds per setup; accuracies (mnist, scale, translate, rotate) chosen so that CNN→MLP
  beats MLP beyond the spread (reproduced), MLP→MLP beats CNN→MLP (not reproduced), and every
  ECE is results.json's 0.01 (no predictions): a zero effect, inconclusive. No MLP→CNN runs."""
  accs = {"mnist_cnn": (CNN, None, [0.99, 0.96, 0.98, 0.9]),
          "mnist_mlp": (MLP, None, [0.98, 0.80, 0.40, 0.5]),
          "mnist_cnn_to_mlp": (CNN_TO_MLP, "mnist_cnn", [0.98, 0.88, 0.48, 0.6]),
          "mnist_mlp_to_mlp": (MLP_TO_MLP, "mnist_mlp", [0.98, 0.95, 0.60, 0.6])}
  for name, (setup, teacher, acc) in accs.items():
    for seed in (0, 1):
      jitter = [a + 0.004 * seed for a in acc]
      write_run(os.path.join(root, f"s{seed}", name), name, seed, mnist_test(jitter), setup,
                teacher=os.path.join(root, f"s{seed}", teacher) if teacher else None,
                model={"name": setup[1]}, epochs=epochs)


def test_claims_section_gives_each_verdict(tmp_path):
  root = tmp_path / "runs"
  _mnist_claim_runs(str(root))
  text = report.generate_report(root, tmp_path / "report").read_text()
  # Near the top: after the header, before the first table.
  assert text.index("## What this report was made from") < text.index("## Claims") < \
      text.index("## 1. MNIST")
  part = section(text, "## Claims")
  assert "**reproduced**: Δ has the paper's sign and |Δ| > that spread" in part
  kd = row(part, "CNN→MLP more accurate than MLP on the shifted sets")
  # Δ scale 0.88 - 0.80, translate 0.48 - 0.40; both seeds move together: std 0.0028 per side.
  assert kd[1] == "**reproduced**"
  assert kd[2] == "`scale` +0.080 ± 0.004 (reproduced); `translate` +0.080 ± 0.004 (reproduced)"
  assert kd[3] == "`scale` +0.110; `translate` +0.137"  # the paper's 0.904 - 0.794, ...
  assert kd[4] == "2 vs 2 seeds"
  assert row(part, "helps the MLP more than self-distillation")[1] == "**not reproduced**"
  ece = row(part, "better calibrated than MLP")
  assert ece[1] == "**inconclusive**" and "+0.000 ± 0.000" in ece[2]
  assert row(part, "MLP→CNN loses some of the CNN's robustness")[1:3] == [
      "**not run** (no MLP→CNN runs)", "—"]
  # Teachers found but no predictions: nothing to compare, said so.
  cka = row(part, "CNN→MLP closer to its teacher CNN than MLP is: linear CKA")
  assert cka[1] == "**not run** (no predictions to compare)"
  assert "Agreement classification (`sva_cl`): **not run**" in part


def test_smoke_runs_are_said_to_be_no_evidence_and_carry_no_flag(tmp_path):
  root = tmp_path / "runs"
  _mnist_claim_runs(str(root), epochs=0.05)
  text = report.generate_report(root, tmp_path / "report").read_text()
  head = section(text, "## What this report was made from")
  assert "**Smoke runs** (CNN, MLP, CNN→MLP, MLP→MLP): their numbers are not comparable" in head
  assert row(head, "`mnist_mlp`")[2:4] == ["2 (0, 1)", "smoke: 23 steps, 0.05 epochs"]
  assert row(section(text, "## Claims"), "CNN→MLP more accurate than MLP on")[1] == \
      "**reproduced** (smoke runs: not evidence)"
  acc = section(text, "### Accuracy", "\n### ")
  # 0.982 is outside the paper's 0.985 ± 2 x 0.0011, but a smoke run is not compared.
  assert row(acc, "`mnist_mlp`")[3] == "0.9820 ± 0.0028 (paper 0.985 ± 0.0011)"
  assert "⚠" not in acc.split("\n\n", 2)[1]  # the table itself: no flags on smoke runs
  assert "Smoke runs, shown without ⚠" in acc


def _sva_run(root, name, seed, setup, test, model, teacher=None, data=None):
  """`test`: the metrics of the `test` set, or (real text) {set name: metrics}."""
  sets = test if data else {"test": test}
  write_run(os.path.join(root, f"s{seed}", name), name, seed, sets, setup,
            teacher=os.path.join(root, f"s{seed}", teacher) if teacher else None,
            model={"name": model}, data=data)


def test_agreement_claims_per_data_source(tmp_path):
  root = str(tmp_path / "runs")
  for seed in (0, 1):
    d = 0.004 * seed
    _sva_run(root, "sva_cl_lstm", seed, ("sva_cl", "lstm", None),
             {"mu_accuracy": 0.95 + d, "ece": 0.03 + d}, "lstm_classifier")
    _sva_run(root, "sva_cl_transformer_seq", seed, ("sva_cl", "transformer_seq", None),
             {"mu_accuracy": 0.91 + d, "ece": 0.031 + d}, "transformer_classifier")
  # LMs, one seed each: no spread, so the accuracy claim is inconclusive.
  _sva_run(root, "sva_lm_lstm", 0, ("sva_lm", "lstm", None),
           {"macro_attractors": 0.93, "perplexity": 60.0}, "lstm_lm")
  _sva_run(root, "sva_lm_transformer", 0, ("sva_lm", "transformer", None),
           {"macro_attractors": 0.90, "perplexity": 58.0}, "transformer_lm")
  text = report.generate_report(root, tmp_path / "report").read_text()
  part = section(text, "## Claims")
  cl = section(part, "### Agreement classification (`sva_cl`), offline corpus (not the paper's "
                     "data: the paper's Δ is from Linzen's data)", "\n### ")
  acc = row(cl, "LSTM more accurate than Transformer-seq (μ-accuracy)")
  assert acc[1:] == ["**reproduced**", "+0.040 ± 0.004", "+0.013", "2 vs 2 seeds"]
  assert row(cl, "LSTM better calibrated than Transformer-seq")[1] == "**inconclusive**"
  assert row(cl, "LSTM→Transformer-seq more accurate than Transformer-seq")[1] == \
      "**not run** (no LSTM→Transformer-seq runs)"
  lm = section(part, "### Agreement language models (`sva_lm`)", "\n### ")
  assert row(lm, "LSTM more accurate than Transformer (A-accuracy)")[1:3] == [
      "**inconclusive**", "+0.030 (no spread: 1 seed each)"]
  assert "MNIST: **not run**" in part


def test_agreement_claims_follow_the_papers_order_and_compare_teachers(tmp_path):
  """The independent classifiers in the paper's order (adjacent pairs that ran, the missing model
  named), and for each Transformer-family student the LSTM teacher against no teacher and
  against another teacher."""
  root = str(tmp_path / "runs")
  cells = [("sva_cl_lstm", ("sva_cl", "lstm", None), 0.95, 0.03, "lstm_classifier", None),
           ("sva_cl_ut_seq", ("sva_cl", "ut_seq", None), 0.93, 0.04, "transformer_classifier",
            None),
           ("sva_cl_transformer_seq", ("sva_cl", "transformer_seq", None), 0.91, 0.06,
            "transformer_classifier", None),
           ("sva_cl_lstm_to_transformer_seq", ("sva_cl", "transformer_seq", "lstm"), 0.92, 0.04,
            "transformer_classifier", "sva_cl_lstm"),
           ("sva_cl_ut_seq_to_transformer_seq", ("sva_cl", "transformer_seq", "ut_seq"), 0.905,
            0.05, "transformer_classifier", "sva_cl_ut_seq")]
  for seed in (0, 1):
    d = 0.002 * seed
    for name, setup, acc, ece, model, teacher in cells:
      _sva_run(root, name, seed, setup, {"mu_accuracy": acc + d, "ece": ece + d}, model,
               teacher=teacher)
  text = report.generate_report(root, tmp_path / "report").read_text()
  cl = section(section(text, "## Claims"), "### Agreement classification (`sva_cl`)", "\n### ")
  # Adjacent pairs of Transformer < Transformer-seq < UTransformer-seq < LSTM that ran.
  assert row(cl, "UTransformer-seq more accurate than Transformer-seq")[1:4] == [
      "**reproduced**", "+0.020 ± 0.002", "+0.005"]  # paper 0.969 - 0.964
  assert row(cl, "LSTM more accurate than UTransformer-seq")[1] == "**reproduced**"
  assert row(cl, "UTransformer-seq better calibrated than Transformer-seq")[1:3] == [
      "**reproduced**", "-0.020 ± 0.002"]
  assert row(cl, "LSTM more accurate than Transformer-seq (μ-accuracy)")[1] == "**reproduced**"
  assert row(cl, "the whole order")[1] == "**not run** (no Transformer runs)"
  # The LSTM teacher: against no teacher (accuracy and ECE) and against the UT-seq teacher.
  assert row(cl, "LSTM→Transformer-seq more accurate than Transformer-seq")[1:4] == [
      "**reproduced**", "+0.010 ± 0.002", "+0.008"]
  assert row(cl, "LSTM→Transformer-seq better calibrated than Transformer-seq")[1] == \
      "**reproduced**"
  helps_more = row(cl, "LSTM→Transformer-seq more accurate than UTransformer-seq→Transformer-seq")
  assert helps_more[1:3] == ["**reproduced**", "+0.015 ± 0.002"]
  assert row(cl, "LSTM→UTransformer-seq more accurate than UTransformer-seq")[1] == \
      "**not run** (no LSTM→UTransformer-seq runs)"


def test_the_whole_order_the_teachers_calibration_and_transformer_teachers(tmp_path):
  """All four classifiers ran: one line for the whole order in accuracy and one in ECE, over the
  adjacent pairs. A second teacher: the LSTM teacher against it in accuracy and ECE, and the
  second teacher's student against the student alone ("Transformer teachers barely help")."""
  root = str(tmp_path / "runs")
  cells = [("sva_cl_lstm", ("sva_cl", "lstm", None), 0.95, 0.03, None),
           ("sva_cl_ut_seq", ("sva_cl", "ut_seq", None), 0.93, 0.04, None),
           ("sva_cl_transformer_seq", ("sva_cl", "transformer_seq", None), 0.91, 0.06, None),
           # Above the Transformer-seq in accuracy (the order broken), worse calibrated (kept).
           ("sva_cl_transformer", ("sva_cl", "transformer", None), 0.92, 0.07, None),
           ("sva_cl_lstm_to_transformer_seq", ("sva_cl", "transformer_seq", "lstm"), 0.92, 0.04,
            "sva_cl_lstm"),
           ("sva_cl_transformer_to_transformer_seq", ("sva_cl", "transformer_seq", "transformer"),
            0.93, 0.05, "sva_cl_transformer")]
  for seed in (0, 1):
    d = 0.002 * seed
    for name, setup, acc, ece, teacher in cells:
      model = "lstm_classifier" if setup[1] == "lstm" else "transformer_classifier"
      _sva_run(root, name, seed, setup, {"mu_accuracy": acc + d, "ece": ece + d}, model,
               teacher=teacher)
  text = report.generate_report(root, tmp_path / "report").read_text()
  cl = section(section(text, "## Claims"), "### Agreement classification (`sva_cl`)", "\n### ")
  acc = row(cl, "(μ-accuracy): the whole order, each adjacent pair")
  assert acc[0].startswith("Transformer < Transformer-seq < UTransformer-seq < LSTM")
  assert acc[1] == "**not reproduced**"
  assert acc[2] == ("`Transformer < Transformer-seq` -0.010 ± 0.002 (not reproduced); "
                    "`Transformer-seq < UTransformer-seq` +0.020 ± 0.002 (reproduced); "
                    "`UTransformer-seq < LSTM` +0.020 ± 0.002 (reproduced)")
  assert acc[3].startswith("`Transformer < Transformer-seq` +0.010; ")  # paper 0.964 - 0.954
  ece = row(cl, "in reverse in ECE (20 bins, lower is better): the whole order")
  assert ece[1] == "**reproduced**" and ece[2].startswith("`Transformer < Transformer-seq` -0.010")
  assert row(cl, "LSTM→Transformer-seq better calibrated than Transformer→Transformer-seq: the "
                 "LSTM teacher calibrates better")[1:3] == ["**reproduced**", "-0.010 ± 0.002"]
  barely = row(cl, "Transformer→Transformer-seq not more accurate than Transformer-seq beyond "
                   "the spread: Transformer teachers barely help")
  assert barely[1:3] == ["**not reproduced**", "+0.020 ± 0.002"]  # a gain beyond the spread


def test_real_text_claims_compare_the_five_attractor_set_in_plain_accuracy(tmp_path):
  """numpred.test.5 has no μ-accuracy (Reflect drops items with more than 4 attractors): the
  accuracy claims compare its plain accuracy and say so; the other sets keep μ-accuracy."""
  root = str(tmp_path / "runs")
  for seed in (0, 1):
    d = 0.002 * seed
    for name, student, acc in (("sva_cl_numpred_lstm", "lstm", 0.6),
                               ("sva_cl_numpred_transformer_seq", "transformer_seq", 0.5)):
      sets = {"numpred_test_4": {"mu_accuracy": acc + d, "accuracy": 0.0, "ece": 0.1},
              "numpred_test_5": {"accuracy": acc - 0.1 + d, "ece": 0.1}}
      _sva_run(root, name, seed, ("sva_cl", student, None), sets,
               "lstm_classifier" if student == "lstm" else "transformer_classifier",
               data={"sva_source": "numpred"})
  text = report.generate_report(root, tmp_path / "report").read_text()
  real = section(section(text, "## Claims"), "### Agreement classification (`sva_cl`), real text",
                 "\n### ")
  acc = row(real, "LSTM more accurate than Transformer-seq (μ-accuracy)")
  assert acc[1] == ("**reproduced** (`numpred_test_5` in plain accuracy: μ-accuracy counts at "
                    "most 4 attractors)")
  assert acc[2] == ("`numpred_test_4` +0.100 ± 0.002 (reproduced); "
                    "`numpred_test_5` +0.100 ± 0.002 (reproduced)")
