"""inductive_kd.report.provenance: the header saying what the report was made from (schedule,
data, seeds, machine), the schedule footnote under the paper tables and the ⚠ explanations."""

import json

import pytest

from inductive_kd import paper_results
from inductive_kd import report
from inductive_kd.report import provenance
from tests.test_report_runs import MLP, mnist_report, mnist_test, row, section, write_run


@pytest.fixture(name="mnist_text")
def fixture_mnist_text(tmp_path_factory):
  return mnist_report(tmp_path_factory)[1]


def test_schedule_rule():
  assert provenance.classify(0.06, 400.0) == provenance.SMOKE   # mnist :quick, 60 steps
  assert provenance.classify(6.67, 60.0, steps=40) == provenance.SMOKE  # agreement :quick
  assert provenance.classify(24.0, 400.0) == provenance.BUDGET  # mnist :short
  assert provenance.classify(400.0, 400.0) == provenance.PAPER
  assert provenance.classify(None, 400.0) == provenance.UNKNOWN
  assert paper_results.paper_epochs("sva_cl", False) == 60.0
  assert paper_results.paper_epochs("sva_cl", True) == 40.0
  sched = provenance.Schedule(provenance.BUDGET, 20.0, 60.0)
  assert sched.describe() == "budget: 20 of the paper's 60 epochs"
  assert provenance.Schedule(provenance.BUDGET, 20 / 3, 60.0).describe() == \
      "budget: 6.67 of the paper's 60 epochs"


def test_header_says_schedule_data_seeds_and_machine(mnist_text):
  head = section(mnist_text, "## What this report was made from")
  assert mnist_text.index("## What this report was made from") < mnist_text.index("## 1. MNIST")
  assert "- **Budget schedule** (CNN, MLP, CNN→MLP): fewer epochs than the paper" in head
  assert "- **Machine**: not recorded" in head
  assert row(head, "`mnist_mlp`") == [
      "MLP", "`mnist_mlp`", "2 (0, 1)", "budget: 24 of the paper's 400 epochs",
      "MNIST + MNIST-C scale, translate, rotate (ours, seeded)"]
  assert "Schedule rule: smoke = under one epoch" in head


def test_budget_footnote_and_flag_explanations(mnist_text):
  acc = section(mnist_text, "### Accuracy", "\n### ")
  assert ("Budget schedule: CNN, MLP, CNN→MLP (budget: 24 of the paper's 400 epochs). Runs on a "
          "budget schedule are expected below the paper's accuracies.") in acc
  # The MLP's 0.85 on MNIST (paper 0.985): worse, which the budget schedule explains.
  assert ("- Worse than the paper, as expected of the budget schedule (24 of 400 epochs): MLP "
          "`mnist` 0.8500 (paper 0.985 ± 0.0011).") in acc
  ece = section(mnist_text, "### ECE with 1,000,000", "\n### ")
  assert "- Not attributed to the budget schedule (24 of 400 epochs)" in ece
  assert "MLP `translate` 0.1250 (paper 0.564 ± 0.0091, better)" in ece


def test_machine_and_seeds_when_recorded(tmp_path):
  for seed in (0, 1, 2):
    workdir = tmp_path / f"s{seed}"
    write_run(str(workdir), "mnist_mlp", seed, mnist_test([0.98, 0.8, 0.4, 0.5]), MLP,
              epochs=400.0)
    results = json.loads((workdir / "results.json").read_text())
    results["machine"] = {"cpu": "AMD EPYC", "jax": "0.10.2"}
    (workdir / "results.json").write_text(json.dumps(results))
  text = report.generate_report(tmp_path, tmp_path / "out").read_text()
  head = section(text, "## What this report was made from")
  assert "- **The paper's schedule** (MLP)." in head
  assert row(head, "`mnist_mlp`")[2:] == ["3 (0–2)", "paper: 400 epochs",
                                         "MNIST + MNIST-C scale, translate, rotate (ours, seeded)",
                                         "cpu AMD EPYC, jax 0.10.2"]
  assert "not recorded" not in head


def test_flag_reason_by_data_and_schedule():
  paper = paper_results.MeanStd(0.9, 0.01)
  budget = provenance.Schedule(provenance.BUDGET, 20.0, 60.0)
  full = provenance.Schedule(provenance.PAPER, 60.0, 60.0)
  flag = provenance.Flag("LSTM", "test", "μ-acc", 0.8, paper, True, budget, "corpus")
  assert provenance.flag_reason(flag) == (
      "worse", "other data than the paper's (offline corpus): not comparable")
  flag = provenance.Flag("LSTM", "test", "μ-acc", 0.8, paper, True, full, "linzen_tsv")
  assert provenance.flag_reason(flag) == ("worse", "on the paper's schedule: not explained")
  flag = provenance.Flag("LSTM", "test", "perplexity", 50.0, paper_results.Range(55, 56), False,
                         budget, "linzen_tsv")
  assert provenance.flag_reason(flag) == ("", "better than the paper: not explained by the "
                                              "schedule")
