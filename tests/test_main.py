"""main.py: bad input (config files, --config.KEY flags, the data) is one line; a genuine bug
inside a library keeps its traceback."""
import os
import subprocess
import sys

import jax.numpy as jnp
import pytest

from inductive_kd import config as config_lib
from inductive_kd import workdir as workdir_lib
from inductive_kd.data import mnist

sys.path.insert(0, str(config_lib.REPO_ROOT))
import main  # noqa: E402  pylint: disable=wrong-import-position


def _raised(fn):
  with pytest.raises(Exception) as e:
    fn()
  return e.value


def test_project_errors_are_input_errors(tmp_path):
  assert main.is_input_error(config_lib.ConfigError("x"))
  c = config_lib.load_config_file("configs/mnist_mlp.py")
  c.optim.learning_rate = -1.0
  assert main.is_input_error(_raised(lambda: config_lib.validate(c)))
  # A missing data file, raised by the project's reader.
  assert main.is_input_error(_raised(lambda: mnist.load_idx("train", tmp_path)))


def test_library_value_errors_are_bugs():
  err = _raised(lambda: jnp.zeros(6).reshape(4, 4))
  assert isinstance(err, (ValueError, TypeError)) and not main.is_input_error(err)
  assert not main.is_input_error(RuntimeError("anything else"))


def _flag_error(tmp_path, monkeypatch, *args) -> str:
  """main.parse_flags's one-line report of a bad command line (absl's FLAGS parsed afresh; the
  config flag reads its --config.KEY overrides from sys.argv)."""
  argv = ["main.py", f"--workdir={tmp_path}", *args]
  monkeypatch.setattr(sys, "argv", argv)
  main.FLAGS.unparse_flags()
  with pytest.raises(SystemExit) as e:
    main.parse_flags(argv)
  return str(e.value.code)


def test_bad_config_flags_are_one_line_each(tmp_path, monkeypatch):
  cfg = "--config=configs/mnist_mlp.py"
  assert _flag_error(tmp_path, monkeypatch, cfg, "--config.train.no_such_key=1") == (
      "error: Unknown config key 'train.no_such_key' (--config.train.no_such_key). Did you mean "
      "'train.num_steps'?")
  assert _flag_error(tmp_path, monkeypatch, cfg, "--config.trian.batch_size=3") == (
      "error: Unknown config key 'trian.batch_size' (--config.trian.batch_size). Did you mean "
      "'train.batch_size'?")
  assert _flag_error(tmp_path, monkeypatch, "--config=configs/no_such.py") == (
      "error: config file 'configs/no_such.py' not found (a relative path is read from the "
      f"current directory, {os.getcwd()}).")
  missing_with_override = _flag_error(tmp_path, monkeypatch, "--config=configs/no_such.py",
                                      "--config.seed=1")
  assert missing_with_override.startswith("error: config file 'configs/no_such.py' not found")
  bad = tmp_path / "bad.py"
  bad.write_text("def get_config():\n  return dict(\n\n  x=1 y=2)\n")
  assert _flag_error(tmp_path, monkeypatch, f"--config={bad}").startswith(
      f"error: config file {bad} line 4: SyntaxError: invalid syntax")
  bad.write_text("def get_config():\n  return undefined_name\n")
  assert _flag_error(tmp_path, monkeypatch, f"--config={bad}") == (
      f"error: config file {bad} line 2: NameError: name 'undefined_name' is not defined")
  assert _flag_error(tmp_path, monkeypatch, "--config=configs/mnist_mlp.py:bogus") == (
      "error: Unknown config arg 'bogus'; valid: quick, short.")
  main.FLAGS.unparse_flags()


def test_main_reports_a_bad_flag_in_one_line(tmp_path):
  out = subprocess.run([sys.executable, "main.py", "--config=configs/mnist_mlp.py",
                        f"--workdir={tmp_path}", "--config.trian.batch_size=3"],
                       cwd=config_lib.REPO_ROOT, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, JAX_PLATFORMS="cpu"))
  assert out.returncode == 1 and out.stderr.strip() == (
      "error: Unknown config key 'trian.batch_size' (--config.trian.batch_size). Did you mean "
      "'train.batch_size'?")


def test_workdir_errors_are_input_errors():
  assert main.is_input_error(workdir_lib.WorkdirError("x"))
  assert not main.is_input_error(KeyboardInterrupt())


def _main(*args) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, "main.py", *args], cwd=config_lib.REPO_ROOT,
                        capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, JAX_PLATFORMS="cpu"))


def test_print_config_shows_the_resolved_config_without_training(tmp_path):
  out = _main("--config=configs/mnist_cnn_to_mlp.py:quick", "--print_config",
              "--config.optim.learning_rate=0.25")
  assert out.returncode == 0, out.stderr
  student, _, teacher = out.stdout.partition("teacher_run:")
  assert "learning_rate: 0.25" in student and "arch: mlp" in student
  assert "  arch: cnn" in teacher  # The teacher a student run would train first.
  bad = _main("--config=configs/mnist_mlp.py", "--print_config", "--config.optim.learning_rate=-1")
  assert bad.returncode == 1 and bad.stderr.strip() == (
      "error: config.optim.learning_rate must be > 0, got -1.0.")
  no_workdir = _main("--config=configs/mnist_mlp.py")
  assert no_workdir.returncode == 1 and no_workdir.stderr.strip().startswith(
      "error: --workdir is required")
