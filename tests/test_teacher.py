"""inductive_kd.teacher: which runs have a teacher, where it lives, and on which data it trains."""
import pytest

from inductive_kd import config as config_lib
from inductive_kd import teacher as teacher_lib


def test_only_runs_with_a_soft_target_term_have_a_teacher(tmp_path):
  assert teacher_lib.Teacher.of(config_lib.load_config_file("configs/mnist_mlp.py"), tmp_path) \
      is None
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py:quick")
  t = teacher_lib.Teacher.of(c, tmp_path / "student")
  assert t.arch == "cnn" and t.mode == "train" and not t.is_trained()
  # A relative teacher workdir lives beside the student's workdir.
  assert t.workdir == (tmp_path / "mnist_cnn_quick").absolute()


def test_a_student_with_its_teachers_model_and_seed_is_warned_about():
  """It starts from its teacher's initialisation (both derive from the seed)."""
  student = config_lib.load_config_file("configs/mnist_mlp_to_mlp.py:quick")
  teacher = teacher_lib.load_config(student)
  results = lambda seed, config: {"seed": seed, "config": config.to_dict()}
  assert "has its teacher's model and seed" in teacher_lib.shares_init_warning(
      student, results(student.seed, teacher))
  assert teacher_lib.shares_init_warning(student, results(student.seed + 1, teacher)) is None
  student.num_seeds = 2  # Vmapped seeds seed, seed + 1: one of them is the teacher's.
  assert teacher_lib.shares_init_warning(student, results(student.seed + 1, teacher))
  cnn = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py:quick")
  assert teacher_lib.shares_init_warning(
      cnn, results(cnn.seed, teacher_lib.load_config(cnn))) is None  # Another model.


def test_the_teacher_trains_on_the_students_data(tmp_path):
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py:quick")
  c.data.train_limit = 123
  assert teacher_lib.Teacher.of(c, tmp_path).config.data.train_limit == 123


def test_a_teacher_of_another_scenario_is_refused(tmp_path):
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py:quick")
  c.teacher.config = "configs/sva_cl.py:student=lstm,quick"
  with pytest.raises(config_lib.ConfigError, match="'sva_cl' experiment; the student is 'mnist'"):
    teacher_lib.Teacher.of(c, tmp_path)


def test_cached_soft_targets_are_the_step_input():
  assert teacher_lib.cached_logits({"logits": "x"}, None, None) == "x"
  with pytest.raises(ValueError, match="teacher_mode"):
    teacher_lib.make_apply(None, "frozen")
