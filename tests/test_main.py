"""main.py: bad input is one line; a genuine bug inside a library keeps its traceback."""
import sys

import jax.numpy as jnp
import pytest

from inductive_kd import config as config_lib
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
