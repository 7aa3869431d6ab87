"""inductive_kd.config: every config file loads and validates; bad values are one-line errors."""
from pathlib import Path

import pytest

from inductive_kd import config as config_lib

CONFIGS = sorted(p.name for p in (config_lib.REPO_ROOT / "configs").glob("*.py"))
# The grid configs need the cell named; every MNIST config takes nothing, 'quick' or 'short'.
GRID_ARGS = {
    "sva_lm.py": ["student=lstm", "student=transformer,teacher=lstm,quick",
                  "student=ut,teacher=lstm,size=cpu", "student=small_transformer"],
    "sva_cl.py": [f"student={s}" + (f",teacher={t}" if t else "")
                  for s in ("transformer", "transformer_seq", "ut_seq", "lstm")
                  for t in (None, "lstm", "ut_seq", "transformer_seq", "transformer")] + [
                      "student=lstm,data=numpred", "student=ut_seq,teacher=lstm,data=numpred,quick",
                      "student=transformer,teacher=lstm,data=numpred,size=cpu"],
}
CASES = [(name, arg) for name in CONFIGS
         for arg in GRID_ARGS.get(name, [None, "quick"] + (["short"] if "mnist" in name else []))]


@pytest.mark.parametrize("name,arg", CASES)
def test_every_config_loads_and_validates(name, arg):
  spec = f"configs/{name}" + (f":{arg}" if arg else "")
  c = config_lib.load_config_file(spec)
  config_lib.validate(c, num_devices=1)
  if c.teacher.config:  # The teacher config a distillation run names must itself be valid.
    config_lib.validate(config_lib.load_config_file(c.teacher.config))


def test_paper_hyperparameters():
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py")
  assert (c.distill.temperature, c.distill.distill_rate, c.distill.gold_rate) == (5.0, 1.0, 0.0)
  assert c.distill.scale == "inverse_t2" and c.distill.teacher_mode == "train"
  assert (c.optim.name, c.optim.learning_rate, c.optim.schedule) == ("adam", 1e-4,
                                                                     "cosine_restarts")
  assert (c.optim.decay_steps, c.optim.t_mul, c.optim.decay_rate, c.optim.alpha) == (
      200000, 5.0, 0.2, 0.001)
  assert (c.optim.l1, c.optim.l2, c.train.batch_size, c.train.num_epochs) == (1e-5, 1e-5, 128, 400)
  t = config_lib.load_config_file(c.teacher.config)
  assert (t.model.name, t.optim.name, t.optim.learning_rate, t.optim.decay_rate) == (
      "cnn", "radam", 1e-4, 0.96)


@pytest.mark.parametrize("mutate,match", [
    (lambda c: c.optim.__setattr__("learning_rate", -1.0), "optim.learning_rate must be > 0"),
    (lambda c: c.train.__setattr__("batch_size", 130), "not divisible by the 4 devices"),
    (lambda c: c.distill.__setattr__("teacher_mode", "frozen"), "teacher_mode"),
    (lambda c: c.teacher.__setattr__("config", ""), "needs a teacher"),
])
def test_impossible_values(mutate, match):
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py")
  mutate(c)
  with pytest.raises(config_lib.ConfigError, match=match):
    config_lib.validate(c, num_devices=4)


def test_unknown_key_names_the_nearest_valid_one():
  c = config_lib.load_config_file("configs/mnist_mlp.py")
  c.unlock()
  c.optim.learnig_rate = 1.0
  with pytest.raises(config_lib.ConfigError, match="'optim.learnig_rate'.*'optim.learning_rate'"):
    config_lib.validate(c)


def test_missing_config_file_and_bad_arg():
  with pytest.raises(config_lib.ConfigError, match="not found"):
    config_lib.load_config_file("configs/nope.py")
  with pytest.raises(config_lib.ConfigError, match="Unknown config arg 'quik'"):
    config_lib.load_config_file("configs/mnist_mlp.py:quik")


def test_sva_grid_arg_errors():
  with pytest.raises(config_lib.ConfigError, match="Name the student"):
    config_lib.load_config_file("configs/sva_cl.py")
  with pytest.raises(config_lib.ConfigError, match="Unknown SVA cl teacher 'gru'"):
    config_lib.load_config_file("configs/sva_cl.py:student=lstm,teacher=gru")


def test_numpred_arg_names_the_run_and_reaches_the_teacher():
  c = config_lib.load_config_file("configs/sva_cl.py:student=transformer_seq,teacher=lstm,"
                                  "data=numpred,size=cpu")
  assert (c.name, c.data.sva_source) == ("sva_cl_numpred_lstm_to_transformer_seq", "numpred")
  assert c.teacher.config == "configs/sva_cl.py:student=lstm,data=numpred,size=cpu"
  assert c.teacher.workdir == "sva_cl_numpred_lstm_cpu"
  t = config_lib.load_config_file(c.teacher.config)
  assert (t.name, t.data.sva_source) == ("sva_cl_numpred_lstm", "numpred")
  q = config_lib.load_config_file(
      "configs/sva_cl.py:student=lstm,teacher=ut_seq,data=numpred,quick")
  assert (q.teacher.config, q.teacher.workdir) == (
      "configs/sva_cl.py:student=ut_seq,data=numpred,quick", "sva_cl_numpred_ut_seq_tiny")
  # The corpus runs keep their names and data.
  plain = config_lib.load_config_file("configs/sva_cl.py:student=lstm,teacher=ut_seq")
  assert (plain.name, plain.data.sva_source, plain.teacher.workdir) == (
      "sva_cl_ut_seq_to_lstm", "tsv", "sva_cl_ut_seq")


@pytest.mark.parametrize("spec,match", [
    ("configs/sva_lm.py:student=lstm,data=numpred", "data=numpred is for configs/sva_cl.py"),
    ("configs/sva_cl.py:student=lstm,data=linzen", "data must be 'numpred'"),
])
def test_numpred_arg_errors(spec, match):
  with pytest.raises(config_lib.ConfigError, match=match):
    config_lib.load_config_file(spec)


@pytest.mark.parametrize("spec,key,value,match", [
    ("configs/sva_lm.py:student=lstm", "sva_source", "numpred", "not data.name='sva_lm'"),
    ("configs/sva_cl.py:student=lstm", "sva_source", "wiki", "data.sva_source='wiki' is not one"),
    ("configs/sva_cl.py:student=lstm,data=numpred", "sva_tsv", "x.tsv", "clear one of them"),
])
def test_sva_source_validation(spec, key, value, match):
  c = config_lib.load_config_file(spec)
  c.data[key] = value
  with pytest.raises(config_lib.ConfigError, match=match):
    config_lib.validate(c)


def test_short_is_the_budget_schedule_for_teacher_and_student():
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py:short")
  assert (c.train.num_epochs, c.optim.name, c.optim.learning_rate, c.optim.schedule,
          c.optim.alpha) == (24.0, "adam", 1e-4, "cosine", 0.0)
  assert (c.teacher.config, c.teacher.workdir) == ("configs/mnist_cnn.py:short", "mnist_cnn_short")
  # Only the schedule changes: the paper's models, regularisers and distillation objective stay.
  paper = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py")
  for key in ("model", "distill"):
    assert c[key].to_dict() == paper[key].to_dict()
  assert (c.optim.l1, c.optim.l2) == (paper.optim.l1, paper.optim.l2)
  teacher = config_lib.load_config_file(c.teacher.config)
  assert (teacher.train.num_epochs, teacher.optim.learning_rate, teacher.optim.schedule) == (
      12.0, 2e-3, "cosine")
  # A CNN student: the CNN's 12 epochs at the baselines' lr; an MLP baseline: 24 epochs.
  cnn_student = config_lib.load_config_file("configs/mnist_mlp_to_cnn.py:short")
  assert (cnn_student.train.num_epochs, cnn_student.optim.learning_rate) == (12.0, 2e-3)
  mlp = config_lib.load_config_file("configs/mnist_mlp.py:short")
  assert (mlp.train.num_epochs, mlp.optim.learning_rate) == (24.0, 2e-3)
  # Probe outputs every 2 epochs (docs/results/mnist_grid was run so), for every :short run.
  assert c.analysis.probe_every == cnn_student.analysis.probe_every == mlp.analysis.probe_every \
      == 936 and paper.analysis.probe_every == 0
  with pytest.raises(config_lib.ConfigError, match="exclusive"):
    config_lib.load_config_file("configs/mnist_cnn.py:quick,short")


def test_negative_epochs_are_refused_even_when_steps_rule():
  c = config_lib.load_config_file("configs/mnist_mlp.py:quick")
  c.train.num_epochs = -1.0
  with pytest.raises(config_lib.ConfigError, match="num_epochs must be >= 0"):
    config_lib.validate(c)


def test_old_data_path_key_says_where_it_went():
  c = config_lib.load_config_file("configs/mnist_mlp.py")
  c.unlock()
  c.data.path = "/somewhere"
  with pytest.raises(config_lib.ConfigError, match="data.mnist_dir.*data.sva_tsv"):
    config_lib.validate(c)


def test_every_experiment_names_its_architecture():
  # results.json's setup (the report, run.sh) is built from config.arch and the teacher's arch.
  for name, arg in CASES:
    c = config_lib.load_config_file(f"configs/{name}" + (f":{arg}" if arg else ""))
    assert c.arch, name
    if c.teacher.config:
      assert config_lib.load_config_file(c.teacher.config).arch, name


def test_sva_short_changes_only_the_schedule():
  short = config_lib.load_config_file("configs/sva_cl.py:student=transformer_seq,teacher=lstm,"
                                      "size=cpu,short")
  paper = config_lib.load_config_file("configs/sva_cl.py:student=transformer_seq,teacher=lstm,"
                                      "size=cpu")
  assert (short.train.num_epochs, short.optim.warmup_steps, short.optim.hold_steps) == (20, 1000, 0)
  assert short.teacher.config == "configs/sva_cl.py:student=lstm,size=cpu,short"
  assert short.teacher.workdir == "sva_cl_lstm_cpu_short"
  for c in (short, paper):
    c.train.num_epochs, c.optim.warmup_steps, c.optim.hold_steps = 0, 0, 0
    c.teacher.config = c.teacher.workdir = ""
  assert short == paper
  with pytest.raises(config_lib.ConfigError, match="exclusive"):
    config_lib.load_config_file("configs/sva_cl.py:student=lstm,quick,short")
