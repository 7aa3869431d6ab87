"""Trains and evaluates one experiment: python main.py --config=configs/<exp>.py --workdir=DIR."""
import logging as std_logging
from pathlib import Path

from absl import app, flags, logging
from ml_collections import config_flags

from inductive_kd import config as config_lib
from inductive_kd import runtime
from inductive_kd import train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Experiment config file (path[:arg]).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, TensorBoard and results.json.")
flags.mark_flags_as_required(["config", "workdir"])


class _QuietLibraries(std_logging.Filter):
  """Drops the INFO chatter of orbax and JAX's backend probing; their warnings still show."""

  def filter(self, record):
    noisy = ("/orbax/" in record.pathname or "xla_bridge" in record.pathname)
    return record.levelno >= std_logging.WARNING or not noisy


_PACKAGE = Path(__file__).resolve().parent / "inductive_kd"


def is_input_error(e: BaseException) -> bool:
  """A bad config, data file or setup, reported by the project itself: its own error classes, or a
  ValueError / FileNotFoundError raised by a project line (whose message says what to change).
  The same exception types raised inside jax, numpy or another library are bugs: they keep their
  traceback."""
  if isinstance(e, (config_lib.ConfigError, train.TrainingError)):
    return True
  if not isinstance(e, (ValueError, FileNotFoundError)):
    return False
  tb = e.__traceback__
  while tb is not None and tb.tb_next is not None:
    tb = tb.tb_next
  return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
  logging.get_absl_handler().addFilter(_QuietLibraries())
  runtime.tune_malloc()  # Before jax starts its threads; see runtime.py.
  try:
    train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  except Exception as e:  # pylint: disable=broad-except
    if not is_input_error(e):
      raise
    # Bad input is reported in one line, not as a traceback from deep inside JAX.
    raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
  app.run(main)
