"""inductive_kd.report.mnist: the MNIST tables carry our mean ± std over seeds beside the paper's
numbers, with ⚠ where we disagree."""

import pytest

from tests.test_report_runs import mnist_report, row, section


@pytest.fixture(name="mnist_text")
def fixture_mnist_text(tmp_path_factory):
  return mnist_report(tmp_path_factory)[1]


def test_mnist_tables_carry_ours_and_the_papers_numbers(mnist_text):
  text = mnist_text
  acc = section(text, "### Accuracy", "\n### ")
  assert "| setup | name | seeds | mnist | scale | translate | rotate |" in acc
  cnn = row(acc, "`mnist_cnn`")
  assert cnn[:3] == ["CNN", "`mnist_cnn`", "1"]
  assert cnn[3] == "0.9920 (paper 0.992 ± 0.0009)"  # n = 1: no std; inside the paper's band
  assert cnn[6] == "0.9000"  # no paper value for rotate
  # Two seeds, accuracies 0.9 and 0.8: mean 0.85, sample std |0.9 - 0.8| / sqrt(2) = 0.0707.
  mlp = row(acc, "`mnist_mlp`")
  assert mlp[:3] == ["MLP", "`mnist_mlp`", "2"]
  assert mlp[3] == "0.8500 ± 0.0707 (paper 0.985 ± 0.0011) ⚠"
  assert row(acc, "`mnist_cnn_to_mlp`")[0] == "CNN→MLP"
  assert "(paper 0.904 ± 0.0073)" in row(acc, "`mnist_cnn_to_mlp`")[4]
  # ECE from the predictions with the official 1e6 bins: MLP seeds 0.25 and 0.0.
  ece = section(text, "### ECE with 1,000,000", "\n### ")
  assert "1000000" in ece
  mlp = row(ece, "`mnist_mlp`")
  assert mlp[3] == "0.1250 ± 0.1768 (paper 0.015 ± 0.0006) ⚠"
  assert row(ece, "`mnist_cnn`")[3].startswith("0.1500 (paper 0.011 ± 0.0006) ⚠")
  # The same ECE at 15 bins (confidences all 0.75) and no paper value beside it.
  alt = section(text, "### ECE with 15 bins", "\n## ")
  assert row(alt, "`mnist_mlp`")[3] == "0.1250 ± 0.1768"
