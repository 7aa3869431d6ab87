"""run.sh --quick: the whole reproduction grid for one seed, from a clean folder, then the report."""
import os
import subprocess

import pytest

from inductive_kd import config as config_lib

REPO = config_lib.REPO_ROOT


def test_print_jobs_lists_every_setup_and_seed():
  out = subprocess.run(["bash", "run.sh", "--quick", "--print-jobs"], cwd=REPO, text=True,
                       capture_output=True, env=dict(os.environ, SEEDS="0 1"), check=True)
  jobs = out.stdout.strip().splitlines()
  assert len(jobs) == 12
  assert all(j.startswith("python main.py --config=configs/mnist_") for j in jobs)
  assert any("mnist_cnn_to_mlp.py:quick" in j and "--config.teacher.workdir=mnist_cnn" in j
             for j in jobs)


@pytest.mark.slow  # Six trainings (~5 min on 2 idle cores); .ci/run runs the slow tests too.
def test_quick_grid_writes_the_report(tmp_path):
  env = dict(os.environ, SEEDS="0", RUNS=str(tmp_path / "runs"), JAX_PLATFORMS="cpu")
  out = subprocess.run(["bash", "run.sh", "--quick"], cwd=REPO, env=env, text=True,
                       capture_output=True, timeout=1200)
  assert out.returncode == 0, out.stderr[-3000:]
  runs = tmp_path / "runs" / "seed0"
  for name in ("mnist_cnn", "mnist_mlp", "mnist_cnn_to_mlp", "mnist_mlp_to_cnn",
               "mnist_cnn_to_cnn", "mnist_mlp_to_mlp"):
    assert (runs / name / "results.json").exists(), name
  report = (tmp_path / "runs" / "report" / "REPORT.md").read_text()
  for heading in ("MNIST", "similarity"):
    assert heading.lower() in report.lower()
  pngs = list((tmp_path / "runs" / "report").rglob("*.png"))
  assert len(pngs) >= 3 and all(p.stat().st_size > 1000 for p in pngs)
  # Rerunning skips every finished run.
  again = subprocess.run(["bash", "run.sh", "--quick"], cwd=REPO, env=env, text=True,
                         capture_output=True, timeout=600)
  assert again.returncode == 0 and again.stderr.count("nothing to do") >= 6
