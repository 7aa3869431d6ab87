"""Orbax checkpoints: the resumable training state, and the final variables a teacher is read from.

`workdir/checkpoints/<step>/` holds the whole TrainState (params, BatchNorm statistics, optimiser
state, RNG, step); a killed run restarts from the latest one that restores. A damaged one (a
truncated file, a lost manifest) is moved to `workdir/damaged_checkpoints/<step>/` with a warning,
and the run resumes from the one before. `workdir/final/` holds only {'params', 'batch_stats'}, so a
teacher can be restored without knowing its optimiser.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

import jax
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from inductive_kd import parallel
from inductive_kd.workdir import WorkdirError


def manager(workdir: Path, max_to_keep: int) -> ocp.CheckpointManager:
  # A save that died (a full disk, a killed process) leaves its '<step>.orbax-checkpoint-tmp'
  # folder behind, holding space the rerun needs: it is removed when the manager starts.
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                         cleanup_tmp_directories=True)
  return ocp.CheckpointManager(Path(workdir).absolute() / "checkpoints", options=options)


@contextlib.contextmanager
def managed(workdir: Path, max_to_keep: int):
  """`manager` for a `with` block, closed however the block ends: its background save threads
  are waited for, so that none outlives an error and dies at interpreter exit (each thread it
  crosses would print its own traceback, down to 'sys.meta_path is None')."""
  mgr = manager(workdir, max_to_keep)
  # A failed save's abandoned writes die whenever they are collected, possibly after the block.
  if not isinstance(sys.unraisablehook, _DropAbandonedReads):
    sys.unraisablehook = _DropAbandonedReads(sys.unraisablehook)
  try:
    yield mgr
  except BaseException:
    # The block's error is the one to report; a save that fails too (often for the same
    # reason: a full disk) is not.
    try:
      mgr.wait_until_finished()
    except Exception as e:  # pylint: disable=broad-except
      logging.debug("The checkpoint being written failed too: %s", describe(e))
    mgr.close()
    raise
  mgr.close()


class QuietBackgroundFailures(logging.Filter):
  """Drops the reports of a failed background save, a traceback for each thread the failure
  crosses (orbax's own), and for each write it abandoned (asyncio's 'Task exception was never
  retrieved' about an orbax coroutine, or 'Future exception was never retrieved' about a
  TensorStore write into a checkpoint being saved): the failure is raised again in the main thread
  (by the next save, wait_until_finished or close), where main.py reports it once."""
  BACKGROUND = ("/futures/future.py", "/checkpointers/async_checkpointer.py",
                "/checkpoint_manager.py")
  # What names orbax in asyncio's report: the coroutine's source file (a Task), or the folder a
  # save writes into before it is renamed to the step's (a bare TensorStore Future).
  ORBAX_WRITE = ("/orbax/", ".orbax-checkpoint-tmp")

  def filter(self, record):
    if record.levelno < logging.ERROR:
      return True
    if record.name == "asyncio":
      return not any(mark in record.getMessage() for mark in self.ORBAX_WRITE)
    return not ("/orbax/" in record.pathname and record.exc_info and
                record.pathname.endswith(self.BACKGROUND))


def describe(e: BaseException) -> str:
  """A failed restore in one short line: its root cause (orbax wraps what TensorStore found in
  a message that runs to a page of spec), cut at the spec."""
  for _ in range(10):
    if (e.__cause__ or e.__context__) is None:
      break
    e = e.__cause__ or e.__context__
  first = (str(e).strip().splitlines() or [""])[0].split(" [tensorstore_spec=")[0]
  return f"{type(e).__name__}: {first[:240]}{'...' if len(first) > 240 else ''}"


class _DropAbandonedReads:
  """sys.unraisablehook once a restore or a save has failed: orbax leaves its reads or writes of
  the other arrays pending on a closed event loop, and each dies whenever it is collected (often
  much later), which Python would print as a traceback ('Event loop is closed', or 'Exception
  ignored in ...' with a page of TensorStore spec). Anything else goes to the hook that was
  there."""

  def __init__(self, hook):
    self.hook = hook

  def __call__(self, unraisable):
    if "_read_array_index_and_device_put" in repr(unraisable.object) or (
        "Event loop is closed" in str(unraisable.exc_value)):
      logging.debug("An abandoned checkpoint read: %s", unraisable.exc_value)
    else:
      self.hook(unraisable)


@contextlib.contextmanager
def quiet_failures():
  """For restores and saves that may fail: the caller reports a failure in one line, and orbax's
  abandoned reads and writes stay quiet for the rest of the process (_DropAbandonedReads)."""
  hook = sys.unraisablehook
  if not isinstance(hook, _DropAbandonedReads):
    sys.unraisablehook = _DropAbandonedReads(hook)
  yield
  sys.unraisablehook = hook  # Only after a success: nothing was abandoned.


def restore_latest(mgr: ocp.CheckpointManager, abstract_state):
  """Returns (state, step) from the newest checkpoint that restores, or (None, 0) if there is none.

  Newer checkpoints that do not restore are moved aside (the run will save those steps again) and
  named in a warning; when none restores, a WorkdirError says so."""
  failed = []
  for step in sorted(mgr.all_steps(), reverse=True):
    try:
      with quiet_failures():
        state = mgr.restore(step, args=ocp.args.StandardRestore(abstract_state))
    except Exception as e:  # pylint: disable=broad-except
      failed.append((step, describe(e)))
      continue
    if failed:
      skipped = [s for s, _ in failed]
      aside = _set_aside(mgr, skipped)
      logging.warning("Skipped the damaged checkpoint%s at step %s (%s), moved to %s; resuming "
                      "from step %d.", "s" * (len(skipped) > 1), ", ".join(map(str, skipped)),
                      failed[0][1], aside, step)
    return state, int(step)
  if failed:
    raise WorkdirError(f"No checkpoint in {mgr.directory} restores (step {failed[0][0]}: "
                       f"{failed[0][1]}); move {mgr.directory} away to start the run over.")
  return None, 0


def _set_aside(mgr: ocp.CheckpointManager, steps) -> Path:
  aside = Path(str(mgr.directory)).parent / "damaged_checkpoints"
  if parallel.is_main_process():
    for step in steps:
      target, n = aside / str(step), 1
      while target.exists():
        target, n = aside / f"{step}.{n}", n + 1
      target.parent.mkdir(exist_ok=True)
      (Path(str(mgr.directory)) / str(step)).rename(target)
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices("damaged checkpoints moved aside")
  mgr.reload()
  return aside


def save(mgr: ocp.CheckpointManager, step: int, state) -> None:
  mgr.save(step, args=ocp.args.StandardSave(state), force=True)


def latest_saved_step(mgr: ocp.CheckpointManager, before: int | None = None) -> int | None:
  """The newest checkpoint whose writing has finished (saves run in the background), of a step
  below `before` if given."""
  mgr.wait_until_finished()
  steps = [s for s in mgr.all_steps() if before is None or s < before]
  return max(steps, default=None)


def final_dir(workdir: Path) -> Path:
  return Path(workdir).absolute() / "final"


def save_variables(workdir: Path, variables) -> None:
  with ocp.StandardCheckpointer() as ckpt:
    ckpt.save(final_dir(workdir), variables, force=True)


def load_variables(workdir: Path, abstract_variables):
  path = final_dir(workdir)
  if not path.exists():
    raise FileNotFoundError(f"No final variables in {path}: the run in {workdir} has not finished.")
  with ocp.StandardCheckpointer() as ckpt:
    return ckpt.restore(path, abstract_variables)


def abstract(tree, sharding):
  """ShapeDtypeStructs with the given sharding: what orbax restores into."""
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree)
