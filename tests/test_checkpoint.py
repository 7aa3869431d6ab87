"""inductive_kd.checkpoint: a damaged latest checkpoint is skipped (and set aside, named in one
warning) for the newest one that restores; when none restores, one line says so. A run that
fails leaves no save pending nor thread running; what a failed save wrote is removed on the next
start."""
import errno
import logging
import os
import shutil
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inductive_kd import checkpoint
from inductive_kd.workdir import WorkdirError

STATE = {"w": jnp.arange(1000.0), "b": {"c": jnp.ones((50, 50))}, "step": jnp.int32(0)}


def _abstract():
  return checkpoint.abstract(STATE, jax.sharding.SingleDeviceSharding(jax.devices()[0]))


def _saved(workdir, steps=(10, 20)):
  mgr = checkpoint.manager(workdir, 3)
  for step in steps:
    checkpoint.save(mgr, step, jax.tree.map(lambda x: x + step, STATE))
  mgr.wait_until_finished()
  return mgr


def _truncate_largest(step_dir):
  data = max((p for p in step_dir.rglob("*") if p.is_file()), key=os.path.getsize)
  os.truncate(data, data.stat().st_size // 2)


def _delete_manifests(step_dir):
  for p in step_dir.rglob("manifest.ocdbt"):
    p.unlink()


@pytest.mark.parametrize("damage", [_truncate_largest, _delete_manifests])
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog, damage):
  _saved(tmp_path)
  damage(tmp_path / "checkpoints" / "20")
  mgr = checkpoint.manager(tmp_path, 3)
  with caplog.at_level(logging.WARNING):
    state, step = checkpoint.restore_latest(mgr, _abstract())
  assert step == 10 and float(state["w"][1]) == 11.0
  warning, = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
  assert warning.startswith("Skipped the damaged checkpoint at step 20 (")
  assert warning.endswith(f"), moved to {tmp_path / 'damaged_checkpoints'}; resuming from step 10.")
  assert "\n" not in warning
  assert (tmp_path / "damaged_checkpoints" / "20").is_dir()
  # The run can write step 20 again, and it restores.
  checkpoint.save(mgr, 20, jax.tree.map(lambda x: x + 20, STATE))
  mgr.wait_until_finished()
  assert checkpoint.restore_latest(checkpoint.manager(tmp_path, 3), _abstract())[1] == 20


def test_lost_metadata_still_restores(tmp_path):
  _saved(tmp_path)
  (tmp_path / "checkpoints" / "20" / "default" / "_METADATA").unlink()
  state, step = checkpoint.restore_latest(checkpoint.manager(tmp_path, 3), _abstract())
  assert step == 20
  np.testing.assert_array_equal(state["w"], STATE["w"] + 20)


def test_no_checkpoint_that_restores_is_one_line(tmp_path, capfd):
  _saved(tmp_path)
  for step in ("10", "20"):
    _truncate_largest(tmp_path / "checkpoints" / step)
  with pytest.raises(WorkdirError) as e:
    checkpoint.restore_latest(checkpoint.manager(tmp_path, 3), _abstract())
  msg = str(e.value)
  assert msg.startswith(f"No checkpoint in {tmp_path / 'checkpoints'} restores (step 20: ")
  assert msg.endswith(f"move {tmp_path / 'checkpoints'} away to start the run over.")
  assert "\n" not in msg
  assert "Exception ignored" not in capfd.readouterr().err  # orbax's dying readers stay quiet.
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["10", "20"]  # Nothing moved.
  shutil.rmtree(tmp_path / "checkpoints")
  assert checkpoint.restore_latest(checkpoint.manager(tmp_path, 3), _abstract()) == (None, 0)


def _orbax_threads():
  return [t for t in threading.enumerate() if t.is_alive() and t is not threading.main_thread()
          and not t.daemon]


def test_managed_waits_for_the_save_and_closes_when_the_block_fails(tmp_path):
  """A save still in the background when the run fails is finished, and no thread of the manager
  outlives the block (one left to die at interpreter exit printed tracebacks for pages)."""
  before = set(_orbax_threads())
  with pytest.raises(RuntimeError, match="the run's own error"):
    with checkpoint.managed(tmp_path, 3) as mgr:
      checkpoint.save(mgr, 5, STATE)
      raise RuntimeError("the run's own error")
  # The manager's closed executors' threads end on their own a moment after close() returns
  # (seen: 1 run in 3 still had two of them alive at the next line, more often on a loaded
  # machine); what must not happen is a thread that stays until interpreter exit.
  deadline = time.monotonic() + 30
  while not set(_orbax_threads()) <= before and time.monotonic() < deadline:
    time.sleep(0.05)
  assert set(_orbax_threads()) <= before
  assert checkpoint.restore_latest(checkpoint.manager(tmp_path, 3), _abstract())[1] == 5


def test_managed_reports_the_blocks_error_not_a_failed_save(tmp_path, monkeypatch):
  """The save pending when the run fails may fail too (the same full disk): the run's error is
  the one raised."""
  with pytest.raises(KeyError, match="the run's own error"):
    with checkpoint.managed(tmp_path, 3) as mgr:
      real, calls = mgr.wait_until_finished, []

      def failed_save():
        calls.append(1)
        if len(calls) == 1:  # orbax raises a background failure once, then forgets it.
          raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real()
      monkeypatch.setattr(mgr, "wait_until_finished", failed_save)
      raise KeyError("the run's own error")
  assert calls


def test_an_unfinished_save_is_cleaned_up_by_the_next_manager(tmp_path):
  _saved(tmp_path, steps=(10,))
  leftover = tmp_path / "checkpoints" / "20.orbax-checkpoint-tmp"  # A save the full disk stopped.
  (leftover / "default").mkdir(parents=True)
  (leftover / "default" / "data").write_bytes(b"x" * 1000)
  mgr = checkpoint.manager(tmp_path, 3)
  assert checkpoint.latest_saved_step(mgr) == 10
  checkpoint.save(mgr, 20, STATE)  # The rerun reaches step 20 again.
  assert checkpoint.latest_saved_step(mgr) == 20
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["10", "20"]


def test_latest_saved_step_before_a_step(tmp_path):
  mgr = _saved(tmp_path, steps=(10, 20, 30))
  assert checkpoint.latest_saved_step(mgr) == 30
  assert checkpoint.latest_saved_step(mgr, before=30) == 20
  assert checkpoint.latest_saved_step(mgr, before=10) is None


def test_orbax_background_failure_reports_are_dropped():
  """They are raised again in the main thread, which reports them once."""
  quiet = checkpoint.QuietBackgroundFailures()

  def record(path, level=logging.ERROR, exc=True):
    exc_info = (ValueError, ValueError("x"), None) if exc else None
    return logging.LogRecord("absl", level, path, 1, "failed", (), exc_info)
  site = "/venv/lib/python3.11/site-packages/orbax/checkpoint/"
  assert not quiet.filter(record(site + "_src/futures/future.py"))
  assert not quiet.filter(record(site + "_src/checkpointers/async_checkpointer.py"))
  assert not quiet.filter(record(site + "checkpoint_manager.py"))
  assert quiet.filter(record(site + "checkpoint_manager.py", exc=False))
  assert quiet.filter(record(site + "_src/path/storage_backend.py"))
  assert quiet.filter(record("/work/main/inductive_kd/checkpoint_manager.py"))
  assert quiet.filter(record(site + "checkpoint_manager.py", level=logging.WARNING, exc=False))
  abandoned = logging.LogRecord(
      "asyncio", logging.ERROR, "/usr/lib/python3.11/asyncio/base_events.py", 1771,
      "Task exception was never retrieved\nfuture: <Task finished coro=<write_fragment() done, "
      f"defined at {site}_src/serialization/serialization.py:188> exception=ValueError()>", (),
      None)
  assert not quiet.filter(abandoned)
  abandoned.msg = abandoned.msg.replace(site, "/work/main/inductive_kd/")
  assert quiet.filter(abandoned)
  # A TensorStore write the full disk failed (CI, stop 31): a bare Future, named by its folder.
  tmp = "/tmp/w/checkpoints/4.orbax-checkpoint-tmp/default.orbax-checkpoint-tmp/ocdbt.process_0/"
  failed_write = logging.LogRecord(
      "asyncio", logging.ERROR, "/usr/lib/python3.11/asyncio/base_events.py", 1771,
      "Future exception was never retrieved\nfuture: <Future finished exception=ValueError("
      f"'RESOURCE_EXHAUSTED: Error writing \"opt_state.0.nu.BatchNorm_1.scale/0\" in OCDBT "
      f"database at local file \"{tmp}\": Failed writing: \"{tmp}d/4b7a\": Failed to write "
      "1233801 bytes to file 15: No space left on device [os_error_code=28]')>", (), None)
  assert not quiet.filter(failed_write)
  failed_write.msg = failed_write.msg.replace(tmp, "/tmp/w/data.bin")
  assert quiet.filter(failed_write)
