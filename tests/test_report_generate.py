"""inductive_kd.report.generate: the whole REPORT.md, its plots linked by relative paths, and
how it was produced (every run with its schedule)."""

import os
import re

import pytest

from tests.test_report_runs import assert_png, mnist_report, section


@pytest.fixture(name="mnist_out_and_text")
def fixture_mnist_out_and_text(tmp_path_factory):
  return mnist_report(tmp_path_factory)


def test_plots_exist_and_are_linked(mnist_out_and_text):
  out, text = mnist_out_and_text
  links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
  names = {os.path.basename(link) for link in links}
  # A reliability figure per test set; the MDS map of trajectories and of final checkpoints.
  assert {f"reliability_mnist_{s}.png" for s in ("mnist", "scale", "translate", "rotate")} <= names
  assert "mds_final_mnist.png" in names
  assert "similarity_training_mnist_cka.png" in names
  assert "similarity_training_mnist_rsa.png" in names
  assert "mds_mnist.png" in names
  for link in links:
    assert not os.path.isabs(link)
    assert_png(os.path.join(out, link))
  assert "No SVA" in text or "No subject-verb agreement runs" in text
  # Provenance: every run listed with its schedule.
  runs = section(text, "## How this was produced")
  assert len([l for l in runs.splitlines() if l.startswith("| `mnist_")]) == 4
  assert "| 90 s |" in runs and "| 24.00 |" in runs
