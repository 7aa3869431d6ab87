"""A workdir belongs to one experiment and, while it trains, to one process: its identity and lock.

**Identity.** The first start in a workdir writes `<workdir>/experiment.json`: the flattened config
that defines the experiment and its SHA-256. Every later start (resume, or a finished run asked
for its results) compares its own config with it and refuses, in one line naming the differing
keys (old -> new), if they differ: otherwise a resumed run would continue another experiment's
state and write results.json claiming the new values, and a finished run would hand back another
experiment's results. With config.num_seeds > 1 the file describes the stacked run (its first
seed and num_seeds). A workdir whose first start died before its first checkpoint holds nothing
trained yet: it is given to the new config. Workdirs made before this file existed are adopted
with a warning (checked against their results.json's config when they are finished).

Keys that may change when a run is resumed (they change when or where things happen, not what is
computed, so the resumed run is still the same experiment; `MUTABLE` holds the list):
- the run length, train.num_epochs and train.num_steps, to extend or shorten a run; except when
  the learning-rate schedule spans the run (optim.schedule='cosine'): then the length shapes every
  step's learning rate and is part of the experiment;
- when things happen: train.log_every_steps, eval.every_steps, train.checkpoint_every_steps,
  train.progress_every_secs, analysis.probe_every, train.max_checkpoints (how many are kept);
- how it is computed, same maths: eval.batch_size (padded rows are dropped), distributed (the
  global batch and the data order do not depend on the device count), distill.cache_teacher (the
  same soft targets, precomputed), model.conv_impl and model.dropout_impl (models/cnn.py: the same
  outputs up to float rounding, bit-identical dropout masks);
- where the same things are read from: data.cache_dir, data.tfds_data_dir, data.mnist_dir (the IDX
  files are checked against their published SHA-256), data.source (mnist.load: IDX and TFDS give
  the same arrays), teacher.workdir (the teacher is defined by teacher.config; Teacher.load checks
  the architecture of whatever run is found there).
Everything else (seed, optimiser, model, data subset, evaluation sets and metrics, the name, ...)
defines the experiment; a key the schema gained since the workdir was made is not compared while
it keeps its default.

**Lock.** A training process first checks that it can write in the workdir (a read-only one
stops it in one line before anything is loaded), then holds an OS lock (fcntl.flock) on
`<workdir>/.lock` for as long as it works in the workdir; a second one stops with one line naming
the holder's pid and host. The OS drops the lock when its process dies however it dies, so a
killed run never leaves a stale lock (the file itself stays: removing it would let two processes
lock different files of one name).
In a multi-process job all processes share the workdir: process 0 locks `.lock` (so a job of any
size conflicts with any other through its process 0) and process i > 0 locks `.lock.p<i>`, so that
every process of a second job stops with its own line instead of waiting in a collective for a
process 0 that has gone. On a filesystem without locks (some FUSE mounts) a warning says the
workdir is unprotected and the run goes on.

**Stop signals.** While the training loop runs, SIGTERM and SIGINT only set a flag (`StopSignals`);
the loop then saves a checkpoint at the current step and raises `Stopped`, which main.py turns into
one line and exit status 128 + the signal number. A second signal acts as it would without us, and
a signal that was ignored when the loop started (`&` in a script) stays ignored. Before the
loop (loading data, compiling) and after it (the final evaluation) the signals act as usual. The
processes of a multi-process job agree at every log step (a signal to any of them stops all).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from pathlib import Path

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from inductive_kd import config as config_lib
from inductive_kd import fileio, optim, parallel
from inductive_kd import results as results_lib

FILE = "experiment.json"
RUN_LENGTH = ("train.num_epochs", "train.num_steps")
MUTABLE = RUN_LENGTH + (
    "train.log_every_steps", "eval.every_steps", "train.checkpoint_every_steps",
    "train.progress_every_secs", "analysis.probe_every", "train.max_checkpoints",
    "eval.batch_size", "distributed", "distill.cache_teacher", "model.conv_impl",
    "model.dropout_impl", "data.cache_dir", "data.tfds_data_dir", "data.mnist_dir", "data.source",
    "teacher.workdir")


class WorkdirError(RuntimeError):
  """A workdir (or a teacher's) cannot be used as it is; the message (one line) says why and what
  to do."""


def flat_config(config) -> dict:
  """{'a.b': value} of a ConfigDict or of the nested dict results.json stores, as JSON values."""
  return json.loads(json.dumps(config_lib.flatten(_config_dict(config)), default=str))


def _config_dict(config) -> ml_collections.ConfigDict:
  return config if isinstance(config, ml_collections.ConfigDict) else ml_collections.ConfigDict(
      config)


def _length_shapes_schedule(config) -> bool:
  try:
    optim.make_schedule(config.optim)  # Only a schedule that spans the run needs its length.
  except ValueError:
    return True
  return False


def fingerprint(config) -> dict:
  """The config that defines the experiment: every key but those allowed to change on resume.
  `config` is a ConfigDict or the nested dict of a results.json."""
  config = _config_dict(config)
  mutable = set(MUTABLE) - (set(RUN_LENGTH) if _length_shapes_schedule(config) else set())
  return {k: v for k, v in flat_config(config).items() if k not in mutable}


def _digest(flat: dict) -> str:
  return hashlib.sha256(json.dumps(flat, sort_keys=True).encode()).hexdigest()


def differences(old: dict, new: dict) -> list[str]:
  """'key: old -> new' for each key whose value changed. Outside config.model (whose keys are the
  model's own fields) keys are those of the schema: one it gained since `old` was written counts
  only when set to something other than its default, one it lost not at all."""
  defaults = flat_config(config_lib.base_config())
  out = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key, _ABSENT), new.get(key, _ABSENT)
    if a == b or (not key.startswith("model.") and (
        (a is _ABSENT and b == defaults.get(key, _ABSENT)) or key not in defaults)):
      continue
    out.append(f"{key}: {a!r} -> {b!r}")
  return out


class _Absent:
  def __repr__(self):
    return "(absent)"


_ABSENT = _Absent()


def _has_trained_state(workdir: Path) -> bool:
  """A checkpoint, or the results of the run or of any of its seeds (num_seeds > 1)."""
  steps = workdir / "checkpoints"
  return (steps.is_dir() and any(p.name.isdigit() for p in steps.iterdir())) or any(
      next(workdir.glob(pattern), None) for pattern in (results_lib.FILE,
                                                        f"seed*/{results_lib.FILE}"))


def _refuse(workdir: Path, source: str, diffs: list[str]) -> None:
  raise WorkdirError(f"{workdir} holds another experiment ({source}): {', '.join(diffs)}. Use "
                     "another --workdir, or delete this one to start over.")


def check_experiment(config, workdir: Path, seed_dirs, main: bool) -> None:
  """Refuses a config that is not the experiment of `workdir`; records it on the first start."""
  new = fingerprint(config)
  path = workdir / FILE
  trained = _has_trained_state(workdir)
  if path.exists():
    try:
      old = json.loads(path.read_text())["config"]
    except (ValueError, KeyError, TypeError) as e:
      raise WorkdirError(f"{path} is damaged ({type(e).__name__}: {e}); restore it or delete the "
                         "workdir to start over.") from None
    diffs = differences(old, new)
    if not diffs:
      return
    if trained:
      _refuse(workdir, FILE, diffs)
    if main:
      logging.info("%s held no checkpoint yet: it now belongs to this config (%s).", workdir,
                   ", ".join(diffs))
  elif trained:
    finished = results_lib.is_finished(seed_dirs[0])
    if finished:  # Made before experiment.json, but its results.json has its config.
      diffs = differences(fingerprint(results_lib.read(seed_dirs[0])["config"]), new)
      if diffs:
        _refuse(workdir, "the config in its results.json", diffs)
    if main:
      logging.warning("%s has no %s (it was made before workdirs recorded their experiment): "
                      "adopting it for this config%s.", workdir, FILE,
                      "" if finished else ", which cannot be checked against it")
  if main:
    workdir.mkdir(parents=True, exist_ok=True)
    fileio.atomic_write_text(
        path, json.dumps({"sha256": _digest(new), "config": new}, indent=2, sort_keys=True))


def _lock_path(workdir: Path) -> Path:
  index = jax.process_index()
  return workdir / (".lock" if index == 0 else f".lock.p{index}")


def check_writable(workdir: Path) -> None:
  """Creates `workdir` if needed and writes a file in it, so that a read-only workdir (or parent)
  stops the run in one line at the start, not at its first checkpoint. A real write rather than
  os.access: root passes every permission check but still cannot write on a read-only mount."""
  denied = (errno.EACCES, errno.EPERM, errno.EROFS)
  try:
    workdir.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    if e.errno not in denied:
      raise
    raise WorkdirError(f"workdir {workdir} is not writable (cannot create {e.filename}: "
                       f"{e.strerror}): make it writable or use another --workdir.") from None
  try:
    fd, probe = tempfile.mkstemp(prefix=".write_test.", dir=workdir)
    os.close(fd)
    os.unlink(probe)
  except OSError as e:
    if e.errno not in denied:
      raise
    raise WorkdirError(f"workdir {workdir} is not writable ({e.strerror}): make it writable or "
                       "use another --workdir.") from None


@contextlib.contextmanager
def lock(workdir: Path):
  """Holds this process's lock on `workdir` (see the module docstring) for the `with` block."""
  if workdir.exists() and not workdir.is_dir():
    raise WorkdirError(f"--workdir {workdir} is a file, not a folder.")
  check_writable(workdir)
  path = _lock_path(workdir)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = path.read_text().strip() or "a process that has not written its pid yet"
      raise WorkdirError(f"{workdir} is in use by {holder} (it holds {path.name}): wait for that "
                         "run to end or stop it, or use another --workdir.") from None
    except OSError as e:
      if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
        raise
      logging.warning("Cannot lock %s (%s: this filesystem has no locks): nothing stops a second "
                      "process from training in this workdir at the same time.", path, e)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
    yield
  finally:
    os.close(fd)  # Releases the lock.


@contextlib.contextmanager
def claim(config, workdir: Path, seed_dirs):
  """This process's tenure of a workdir: its lock, and the check that it holds this experiment."""
  with lock(workdir):
    check_experiment(config, workdir, seed_dirs, parallel.is_main_process())
    yield


# The errors of a write that finds the disk (or the user's quota) full.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def causes(e: BaseException):
  """e and the exceptions it was raised from or while handling (libraries wrap errors)."""
  seen = []
  while e is not None and e not in seen:
    seen.append(e)
    yield e
    e = e.__cause__ or e.__context__


def _failed_write(e: BaseException) -> tuple[str, str] | None:
  """(the OS error, the file) of a write that failed for lack of space, or None if `e` is not
  one; the file is '' when the error does not say.

  Python names the file in OSError.filename (when it knows it); TensorStore (orbax's checkpoint
  writes) and TensorFlow (the TensorBoard writer) raise their own errors, whose message holds the
  OS error after the file. A checkpoint being written is named by the step folder it would have
  become (orbax writes it under '<step>.orbax-checkpoint-tmp...' and renames it at the end).
  """
  step_folder = lambda path: re.sub(r"\.orbax-checkpoint-tmp[^/]*(/.*)?$", "", path)
  for cause in causes(e):
    if isinstance(cause, WorkdirError):
      return None  # Already reported in one line (by the run of a teacher trained first).
    if isinstance(cause, OSError) and cause.errno in NO_SPACE:
      return os.strerror(cause.errno), step_folder(str(cause.filename or ""))
    message = str(cause)
    for number in NO_SPACE:
      before, found, _ = message.partition(os.strerror(number))
      if found:
        paths = re.findall(r"/[\w.+@%/-]+", before)
        return os.strerror(number), step_folder(paths[-1] if paths else "")
  return None


def _free_space(path: Path) -> str:
  while not path.exists() and path != path.parent:
    path = path.parent
  return f"{shutil.disk_usage(path).free / 1e6:.1f} MB"


def no_space_error(e: BaseException, workdir: Path) -> WorkdirError | None:
  """The one line for a write that failed because the disk or the quota is full (naming the file,
  the free space and the checkpoint a rerun resumes from), or None if `e` is something else."""
  failed = _failed_write(e)
  if failed is None:
    return None
  what, path = failed
  where = path or f"in {workdir}"  # Python's own writes (f.write) do not name their file.
  checkpoints = workdir / "checkpoints"
  steps = sorted(int(p.name) for p in checkpoints.iterdir() if p.name.isdigit()) \
      if checkpoints.is_dir() else []
  kept = (f"the last finished checkpoint (step {steps[-1]}) is kept in {checkpoints}" if steps
          else "no checkpoint was finished yet")
  return WorkdirError(f"{what[0].lower()}{what[1:]} writing {where} (free: "
                      f"{_free_space(Path(path or workdir))}); {kept}: free some space and rerun "
                      "the same command.")


class Stopped(Exception):
  """Training stopped on a signal, after saving a checkpoint at `step`."""

  def __init__(self, signum: int, step: int, checkpoint_dir):
    self.signum, self.step = signum, step
    super().__init__(f"stopped by {signal.Signals(signum).name} at step {step}; checkpoint saved "
                     f"in {checkpoint_dir}; rerun the same command to resume")

  @property
  def exit_code(self) -> int:
    return 128 + self.signum


class StopSignals:
  """While active (a `with` block), SIGTERM and SIGINT set `signum` instead of ending the process.

  The handler does nothing else: the training loop asks `requested` after every step and stops
  at a step boundary. It also gives the signal back its previous handler, so that a second signal
  (a second Ctrl-C while the checkpoint is written) acts as it would without us.
  """
  SIGNALS = (signal.SIGTERM, signal.SIGINT)

  def __init__(self):
    self.signum, self._previous = None, {}

  def _handle(self, signum, frame):  # pylint: disable=unused-argument
    self.signum = signum
    signal.signal(signum, self._previous[signum])

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():  # Only it may set handlers.
      for s in self.SIGNALS:
        previous = signal.getsignal(s)
        if previous is not signal.SIG_IGN:  # Whoever made us ignore it (`&` in a script) means it.
          # None: a handler set outside Python, which Python cannot set back; SIG_DFL is closest.
          self._previous[s] = signal.SIG_DFL if previous is None else previous
          signal.signal(s, self._handle)
    return self

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)

  def requested(self, sync_point: bool) -> int | None:
    """The signal to stop on, or None. With several processes they must stop at the same step
    (the checkpoint is written by all of them), so they agree at `sync_point`s only (log steps):
    a process stops there when any process received a signal."""
    if jax.process_count() == 1:
      return self.signum
    if not sync_point:
      return None
    return int(np.max(multihost_utils.process_allgather(np.int32(self.signum or 0)))) or None
