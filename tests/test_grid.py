"""inductive_kd.experiments.grid: the jobs run.sh runs, teachers first, read from the configs."""
from inductive_kd.experiments import grid


def test_teachers_come_first_and_students_name_their_teachers_workdir():
  jobs = list(grid.jobs("R", [0, 1], quick=True))
  assert len(jobs) == 12
  teachers = list(grid.jobs("R", [0, 1], quick=True, phase="teachers"))
  students = list(grid.jobs("R", [0, 1], quick=True, phase="students"))
  assert jobs == teachers + students and len(teachers) == 4
  assert all("--config.teacher.workdir" not in j for j in teachers)
  # The teacher's workdir comes from config.teacher.config (configs/mnist_mlp.py:quick).
  assert ("python main.py --config=configs/mnist_mlp_to_cnn.py:quick "
          "--workdir=R/seed1/mnist_mlp_to_cnn --config.seed=1 "
          "--config.teacher.workdir=mnist_mlp") in students


def test_main_prints_the_jobs(capsys):
  assert grid.main(["--runs", "X", "--seeds", "3", "--phase", "students"]) == 0
  out = capsys.readouterr().out.splitlines()
  assert len(out) == 4 and all("--workdir=X/seed3/" in j for j in out)
