"""main.py: bad input (config files, --config.KEY flags, the data) is one line; a genuine bug
inside a library keeps its traceback."""
import errno
import os
import re
import subprocess
import sys
import threading

import jax.numpy as jnp
import pytest

from inductive_kd import checkpoint
from inductive_kd import config as config_lib
from inductive_kd import results as results_lib
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


# -- What goes wrong during a run: one line each ---------------------------------------------------
TINY = ("--config=configs/mnist_mlp.py:quick", "--config.data.train_limit=512",
        "--config.eval.limit=200", "--config.eval.shifted=", "--config.analysis.probe_every=0",
        "--config.train.num_steps=4", "--config.train.log_every_steps=2")


def _main_in_process(monkeypatch, *args) -> str:
  """main.main's one-line report (its SystemExit) of a run, in this process so that a test can
  simulate what the OS does (a full disk, a read-only mount)."""
  argv = ["main.py", *args]
  monkeypatch.setattr(sys, "argv", argv)
  monkeypatch.setattr(main.runtime, "tune_malloc", lambda: None)  # Not for the test process.
  main.FLAGS.unparse_flags()
  main.parse_flags(argv)
  try:
    with pytest.raises(SystemExit) as e:
      main.main(["main.py"])
  finally:
    main.FLAGS.unparse_flags()
    for name in [n for n in main.FLAGS if n.startswith("config.")]:  # Defined by each parse.
      delattr(main.FLAGS, name)
  return str(e.value.code)


def _error_lines(stderr: str) -> list[str]:
  """stderr less absl's log lines ('I1204 19:00:43.363962 ...')."""
  return [l for l in stderr.splitlines() if not re.match(r"[IWEF]\d{4} \d\d:\d\d", l)]


def _live_threads():
  return {t for t in threading.enumerate() if t.is_alive() and not t.daemon}


def test_a_full_disk_while_checkpointing_is_one_line_and_keeps_the_last_checkpoint(
    tmp_path, monkeypatch):
  real_save = checkpoint.save
  ckpts = tmp_path / "w" / "checkpoints"

  def save(mgr, step, state):
    if step > 2:
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(ckpts / f"{step}.orbax-checkpoint"
                                                                 "-tmp" / "default" / "d"))
    real_save(mgr, step, state)
  monkeypatch.setattr(checkpoint, "save", save)
  before = _live_threads()
  line = _main_in_process(monkeypatch, *TINY, f"--workdir={tmp_path / 'w'}",
                          "--config.train.checkpoint_every_steps=2")
  assert re.fullmatch(
      rf"error: no space left on device writing {ckpts / '4'} \(free: \d+\.\d MB\); the last "
      rf"finished checkpoint \(step 2\) is kept in {ckpts}: free some space and rerun the same "
      r"command\.", line), line
  assert _live_threads() <= before  # The checkpoint manager and the writers were closed.
  assert sorted(os.listdir(ckpts)) == ["2"]


def test_a_full_disk_while_writing_the_results_is_one_line(tmp_path, monkeypatch):
  def full(path, payload):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # As f.write raises it: no file name.
  monkeypatch.setattr(results_lib, "write_json", full)
  workdir = tmp_path / "w"
  line = _main_in_process(monkeypatch, *TINY, f"--workdir={workdir}")
  assert re.fullmatch(
      rf"error: no space left on device writing in {workdir} \(free: \d+\.\d MB\); the last "
      rf"finished checkpoint \(step 4\) is kept in {workdir / 'checkpoints'}: free some space and "
      r"rerun the same command\.", line), line


def test_a_read_only_workdir_is_one_line_before_training(tmp_path, monkeypatch):
  def refused(*args, dir=None, **kwargs):  # pylint: disable=redefined-builtin
    raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(dir, ".write_test.x"))
  monkeypatch.setattr(workdir_lib.tempfile, "mkstemp", refused)
  monkeypatch.setattr(main.train.tasks, "create", lambda *a: pytest.fail("the data was loaded"))
  assert _main_in_process(monkeypatch, *TINY, f"--workdir={tmp_path / 'w'}") == (
      f"error: workdir {tmp_path / 'w'} is not writable (Read-only file system): make it "
      "writable or use another --workdir.")


def test_negative_epochs_are_refused_under_quick(tmp_path, monkeypatch):
  assert _main_in_process(monkeypatch, *TINY, f"--workdir={tmp_path / 'w'}",
                          "--config.train.num_epochs=-1") == (
      "error: config.train.num_epochs must be >= 0, got -1.0.")


def test_a_diverging_run_names_the_step_before_any_metric_sees_it(tmp_path):
  """Learning rate 1e35: step 1's update makes the parameters huge but finite, and the evaluation
  of step 1 (due before the loss of step 2 is known) finds their outputs non-finite: the one line
  names the step, not the calibration code's complaint about NaN probabilities."""
  out = _main(*TINY, f"--workdir={tmp_path / 'w'}", "--config.optim.learning_rate=1e35",
              "--config.eval.every_steps=1", "--config.train.checkpoint_every_steps=1")
  assert out.returncode == 1 and _error_lines(out.stderr) == [
      "error: Non-finite model outputs at step 1 (loss, probs, rep hold NaN or inf); training "
      "stopped and no checkpoint was written. Lower config.optim.learning_rate or set "
      "config.optim.clip_global_norm."], out.stderr[-3000:]


def test_a_binary_file_as_the_agreement_tsv_is_one_line(tmp_path):
  binary = tmp_path / "weights.bin"
  binary.write_bytes(bytes(range(256)) * 40)
  out = _main("--config=configs/sva_cl.py:student=lstm,quick", f"--workdir={tmp_path / 'w'}",
              f"--config.data.sva_tsv={binary}", f"--config.data.cache_dir={tmp_path / 'cache'}")
  assert out.returncode == 1 and _error_lines(out.stderr) == [
      f"error: {binary} is not UTF-8 text (byte 0x80: invalid start byte; a binary file?), so "
      "not a Linzen agreement TSV (18 columns)"], out.stderr[-3000:]


@pytest.mark.slow
def test_a_run_diverging_with_a_checkpoint_every_step_always_exits(tmp_path):
  """'lr 1e30 with a checkpoint every step: 1 run in 5 hung after printing its error': the error
  is raised while a checkpoint is being written in the background. Every run must end, within
  the subprocess timeout, with its one line."""
  for i in range(5):
    out = _main("--config=configs/mnist_mlp.py:quick", f"--workdir={tmp_path / str(i)}",
                "--config.optim.learning_rate=1e30", "--config.train.checkpoint_every_steps=1")
    assert out.returncode == 1, out.stderr[-3000:]
    lines = _error_lines(out.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: Non-finite loss at step "), lines


@pytest.fixture
def small_disk(tmp_path):
  """A 9 MB tmpfs (room for one MLP checkpoint, not two); skips where mounting is not allowed."""
  disk = tmp_path / "disk"
  disk.mkdir()
  mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=9m", "tmpfs", str(disk)],
                         capture_output=True, text=True, check=False)
  if mount.returncode:
    pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
  try:
    yield disk
  finally:
    subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.slow
def test_a_really_full_disk_is_one_line_and_the_rerun_resumes(small_disk):
  """The real thing: orbax fails in its background threads (TensorStore: RESOURCE_EXHAUSTED),
  each of which logged a traceback, and the process used to end in 'sys.meta_path is None'."""
  args = (*TINY, f"--workdir={small_disk / 'w'}", "--config.train.checkpoint_every_steps=2",
          "--config.eval.every_steps=2")
  out = _main(*args)
  ckpts = small_disk / "w" / "checkpoints"
  assert out.returncode == 1 and _error_lines(out.stderr) == [
      f"error: no space left on device writing {ckpts / '4'} (free: "
      f"{out.stderr.split('(free: ')[-1].split(')')[0]}); the last finished checkpoint (step 2) "
      f"is kept in {ckpts}: free some space and rerun the same command."], out.stderr[-3000:]
  subprocess.run(["mount", "-o", "remount,size=40m", str(small_disk)], check=True)
  out = _main(*args)
  assert out.returncode == 0, out.stderr[-3000:]
  assert "Resumed from the checkpoint at step 2" in out.stderr
  assert sorted(os.listdir(ckpts)) == ["2", "4"]  # The unfinished save of step 4 is gone.
