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
  # Two seeds of the MNIST (6), agreement classification (20) and language model (7) grids.
  assert len(jobs) == 2 * (6 + 20 + 7)
  assert sum(j.startswith("python main.py --config=configs/mnist_") for j in jobs) == 12
  assert sum(j.startswith("python main.py --config=configs/sva_cl.py:") for j in jobs) == 40
  assert sum(j.startswith("python main.py --config=configs/sva_lm.py:") for j in jobs) == 14
  one = subprocess.run(["bash", "run.sh", "--quick", "--print-jobs", "--scenario=mnist"],
                       cwd=REPO, text=True, capture_output=True, env=dict(os.environ, SEEDS="0"),
                       check=True)
  assert len(one.stdout.strip().splitlines()) == 6
  assert any("mnist_cnn_to_mlp.py:quick" in j and "--config.teacher.workdir=mnist_cnn" in j
             for j in jobs)


# 6 MNIST, 20 agreement classifier and 7 language model trainings (~20 min on 2 idle cores);
# .ci/run runs the slow tests too.
@pytest.mark.slow
def test_quick_grid_writes_the_report(tmp_path):
  env = dict(os.environ, SEEDS="0", RUNS=str(tmp_path / "runs"), JAX_PLATFORMS="cpu")
  out = subprocess.run(["bash", "run.sh", "--quick"], cwd=REPO, env=env, text=True,
                       capture_output=True, timeout=2700)
  assert out.returncode == 0, out.stderr[-3000:]
  runs = tmp_path / "runs" / "seed0"
  for name in ("mnist_cnn", "mnist_mlp", "mnist_cnn_to_mlp", "mnist_mlp_to_cnn",
               "mnist_cnn_to_cnn", "mnist_mlp_to_mlp"):
    assert (runs / name / "results.json").exists(), name
  assert len(list(runs.glob("sva_cl_*/results.json"))) == 20
  assert len(list(runs.glob("sva_lm_*/results.json"))) == 7
  report = (tmp_path / "runs" / "report" / "REPORT.md").read_text()
  for heading in ("MNIST", "similarity", "agreement"):
    assert heading.lower() in report.lower()
  pngs = list((tmp_path / "runs" / "report").rglob("*.png"))
  assert len(pngs) >= 3 and all(p.stat().st_size > 1000 for p in pngs)
  # Rerunning skips every finished run.
  # 33 processes that each import JAX and exit, then the report: 10.5 min on 2 loaded cores.
  again = subprocess.run(["bash", "run.sh", "--quick"], cwd=REPO, env=env, text=True,
                         capture_output=True, timeout=1500)
  assert again.returncode == 0 and again.stderr.count("nothing to do") >= 33
