"""inductive_kd.experiments.grid: the jobs run.sh runs, teachers first, read from the configs."""
import pytest

from inductive_kd.experiments import grid


def test_teachers_come_first_and_students_name_their_teachers_workdir():
  jobs = list(grid.jobs("R", [0, 1], quick=True, scenarios=["mnist"]))
  assert len(jobs) == 12
  teachers = list(grid.jobs("R", [0, 1], quick=True, phase="teachers", scenarios=["mnist"]))
  students = list(grid.jobs("R", [0, 1], quick=True, phase="students", scenarios=["mnist"]))
  assert jobs == teachers + students and len(teachers) == 4
  assert all("--config.teacher.workdir" not in j for j in teachers)
  # The teacher's workdir comes from config.teacher.config (configs/mnist_mlp.py:quick).
  assert ("python main.py --config=configs/mnist_mlp_to_cnn.py:quick "
          "--workdir=R/seed1/mnist_mlp_to_cnn --config.seed=1 "
          "--config.teacher.workdir=mnist_mlp") in students


def test_main_prints_the_jobs(capsys):
  assert grid.main(["--runs", "X", "--seeds", "3", "--phase", "students", "--scenario", "mnist"]) == 0
  out = capsys.readouterr().out.splitlines()
  assert len(out) == 4 and all("--workdir=X/seed3/" in j for j in out)


def test_agreement_grid_has_the_papers_cells_and_each_teacher_is_a_baseline_job():
  jobs = list(grid.jobs("R", [0], quick=True, scenarios=["sva_cl"]))
  assert len(jobs) == 4 + 4 * 4  # 4 students alone, then each with each of 4 teachers.
  baselines = {j.split("--workdir=R/seed0/")[1].split()[0] for j in jobs[:4]}
  assert baselines == {"sva_cl_transformer", "sva_cl_transformer_seq", "sva_cl_ut_seq",
                       "sva_cl_lstm"}
  for job in jobs[4:]:
    assert job.split("--config.teacher.workdir=")[1] in baselines


def test_language_model_grid_trains_the_lstm_teacher_before_its_students():
  jobs = list(grid.jobs("R", [0], quick=True, scenarios=["sva_lm"]))
  names = [j.split("--workdir=R/seed0/")[1].split()[0] for j in jobs]
  assert names == ["sva_lm_lstm", "sva_lm_transformer", "sva_lm_ut", "sva_lm_lstm_to_transformer",
                   "sva_lm_lstm_to_ut", "sva_lm_lstm_to_lstm",
                   "sva_lm_transformer_to_transformer"]
  teachers = [j.split("--config.teacher.workdir=")[1] for j in jobs[3:]]
  assert teachers == ["sva_lm_lstm"] * 3 + ["sva_lm_transformer"]


def test_short_grid_uses_every_configs_budget_recipe_and_its_teachers_are_short_too():
  jobs = list(grid.jobs("R", [0], short=True))
  assert len(jobs) == 6 + 20 + 7
  assert all(":short" in j or ",short" in j for j in jobs)
  assert ("python main.py --config=configs/mnist_cnn_to_mlp.py:short "
          "--workdir=R/seed0/mnist_cnn_to_mlp --config.seed=0 "
          "--config.teacher.workdir=mnist_cnn") in jobs
  assert grid.main(["--short", "--seeds", "1", "--scenario", "sva_cl"]) == 0
  with pytest.raises(ValueError, match="choose one"):
    list(grid.jobs("R", [0], quick=True, short=True))
  with pytest.raises(SystemExit):
    grid.main(["--short", "--quick"])


def test_a_self_distilled_student_learns_from_the_next_seeds_baseline():
  """The seed decides the initialisation and the batch order: a student of its teacher's model
  and seed would start where its teacher did. With one seed there is no other teacher (the
  trainer warns)."""
  jobs = list(grid.jobs("R", [0, 1, 2], quick=True, phase="students", scenarios=["mnist"]))
  teacher_of = {(j.split("--workdir=")[1].split()[0]): j.split("--config.teacher.workdir=")[1]
                for j in jobs}
  assert teacher_of["R/seed0/mnist_mlp_to_mlp"] == "../seed1/mnist_mlp"
  assert teacher_of["R/seed2/mnist_cnn_to_cnn"] == "../seed0/mnist_cnn"
  assert teacher_of["R/seed2/mnist_cnn_to_mlp"] == "mnist_cnn"  # Another model: own seed.
  one = list(grid.jobs("R", [3], quick=True, phase="students", scenarios=["mnist"]))
  assert all("--config.teacher.workdir=mnist_" in j for j in one)
