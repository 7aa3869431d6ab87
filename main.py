"""Trains and evaluates one experiment: python main.py --config=configs/<exp>.py --workdir=DIR."""
import difflib
import logging as std_logging
import os
import sys
import textwrap
import traceback
from pathlib import Path

import ml_collections
from absl import app, flags, logging
from ml_collections import config_flags

from inductive_kd import checkpoint
from inductive_kd import config as config_lib
from inductive_kd import runtime
from inductive_kd import teacher as teacher_lib
from inductive_kd import train
from inductive_kd import workdir as workdir_lib

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Experiment config file (path[:arg]).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, TensorBoard and results.json.")
flags.DEFINE_bool("print_config", False, "Print the resolved config (the file, its :arg and the "
                  "--config.KEY overrides, validated) and exit without training; no --workdir "
                  "needed.")
flags.mark_flags_as_required(["config"])


class _QuietLibraries(std_logging.Filter):
  """Drops the INFO chatter of orbax and JAX's backend probing, and the console copy CLU's default
  writer makes of every scalar and of the hyperparameters (they are in TensorBoard, config.json and
  the trainer's own one line per evaluation); warnings still show."""

  def filter(self, record):
    noisy = ("/orbax/" in record.pathname or "xla_bridge" in record.pathname or
             "metric_writers/logging_writer" in record.pathname)
    return record.levelno >= std_logging.WARNING or not noisy


_PACKAGE = Path(__file__).resolve().parent / "inductive_kd"


def is_input_error(e: BaseException) -> bool:
  """A bad config, data file or setup, reported by the project itself: its own error classes, or a
  ValueError / FileNotFoundError raised by a project line (whose message says what to change).
  The same exception types raised inside jax, numpy or another library are bugs: they keep their
  traceback."""
  if isinstance(e, (config_lib.ConfigError, train.TrainingError, workdir_lib.WorkdirError)):
    return True
  if not isinstance(e, (ValueError, FileNotFoundError)):
    return False
  tb = e.__traceback__
  while tb is not None and tb.tb_next is not None:
    tb = tb.tb_next
  return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)


def _config_spec(argv) -> str:
  for i, arg in enumerate(argv):
    name, eq, value = arg.lstrip("-").partition("=")
    if name == "config" and arg.startswith("-"):
      return value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
  return ""


def _overrides(argv) -> list[str]:
  """The keys of --config.KEY=VALUE (and --config.KEY VALUE, --noconfig.KEY) arguments."""
  out = []
  for arg in argv:
    name = arg.lstrip("-").partition("=")[0]
    for prefix in ("config.", "noconfig."):
      if arg.startswith("-") and name.startswith(prefix):
        out.append(name[len(prefix):])
  return out


def _unknown_override(argv) -> str | None:
  """'Unknown config key ...' for the first override naming no key of the config, else None."""
  keys = list(config_lib.flatten(config_lib.load_config_file(_config_spec(argv))))
  for key in _overrides(argv):
    if key not in keys and not any(k.startswith(key + ".") for k in keys):
      close = difflib.get_close_matches(key, keys, n=1)
      return (f"Unknown config key {key!r} (--config.{key})." +
              (f" Did you mean {close[0]!r}?" if close else ""))
  return None


def _config_file_error(e: BaseException, spec: str) -> str | None:
  """What went wrong while loading the config file, in one line, or None if it was not that."""
  path = os.path.realpath(spec.partition(":")[0])
  for cause in workdir_lib.causes(e):
    if isinstance(cause, SyntaxError) and cause.filename:
      return f"config file {cause.filename} line {cause.lineno}: SyntaxError: {cause.msg}"
    if isinstance(cause, config_lib.ConfigError) and "Error whilst parsing" not in str(cause):
      return str(cause)
    frames = [f for f in traceback.extract_tb(cause.__traceback__)
              if os.path.realpath(f.filename) == path]
    if frames and "Error whilst parsing" not in str(cause):
      first = (str(cause).splitlines() or [""])[0]
      return (f"config file {frames[-1].filename} line {frames[-1].lineno}: "
              f"{type(cause).__name__}: {first}")
  return None


def parse_flags(argv):
  """absl's flag parsing (app.parse_flags_with_usage), where a bad --config file or --config.KEY
  override is one line instead of a traceback from inside ml_collections."""
  spec = _config_spec(argv)
  try:
    args = FLAGS(argv)
  except Exception as e:  # pylint: disable=broad-except
    if spec and not Path(spec.partition(":")[0]).is_file():
      message = _unreadable(spec)
    elif isinstance(e, (KeyError, AttributeError)):
      message = _unknown_override(argv)
    else:
      message = _config_file_error(e, spec)
    if message is not None:
      raise SystemExit(f"error: {message}") from None
    if not isinstance(e, flags.Error):
      raise
    raise SystemExit(f"FATAL Flags parsing error: {e}\n"
                     "Pass --helpshort or --helpfull to see help on flags.") from None
  if not isinstance(FLAGS.config, ml_collections.ConfigDict):  # Loading failed; said on access.
    raise SystemExit(f"error: {_unreadable(spec)}")
  return args


def _unreadable(spec: str) -> str:
  if not spec.partition(":")[0]:
    return "--config is empty: give a config file, configs/<experiment>.py[:arg]."
  path = Path(spec.partition(":")[0])
  return (f"config file {str(path)!r} {'is not a file' if path.exists() else 'not found'} (a "
          f"relative path is read from the current directory, {os.getcwd()}).")


def resolved_config(config) -> str:
  """The config as the trainer will run it, validated, with the teacher it would use."""
  config_lib.validate(config)
  text = str(config)
  if config.teacher.config:
    # What a missing teacher is trained with: its own config on the student's data.
    text += "teacher_run:  # config.teacher.config, with the student's data\n" + textwrap.indent(
        str(teacher_lib.load_config(config)), "  ")
  return text


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
  if FLAGS.print_config:
    try:
      print(resolved_config(FLAGS.config), end="")
    except config_lib.ConfigError as e:
      raise SystemExit(f"error: {e}") from None
    return
  if not FLAGS.workdir:
    raise SystemExit("error: --workdir is required (or --print_config to print the config "
                     "without training).")
  logging.get_absl_handler().addFilter(_QuietLibraries())
  logging.get_absl_handler().addFilter(checkpoint.QuietBackgroundFailures())
  runtime.tune_malloc()  # Before jax starts its threads; see runtime.py.
  try:
    train.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  except workdir_lib.Stopped as e:
    print(e, file=sys.stderr)
    raise SystemExit(e.exit_code) from None
  except KeyboardInterrupt:
    # Before the training loop, or a second Ctrl-C while the first one's checkpoint is written.
    print("interrupted by SIGINT before a checkpoint could be saved; rerun the same command to "
          "resume from the last one", file=sys.stderr)
    raise SystemExit(130) from None
  except Exception as e:  # pylint: disable=broad-except
    if not is_input_error(e):
      raise
    # Bad input is reported in one line, not as a traceback from deep inside JAX.
    raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
  app.run(main, flags_parser=parse_flags)
