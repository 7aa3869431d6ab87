"""inductive_kd.workdir: a workdir holds one experiment (experiment.json), one process at a time
(an OS lock), and SIGTERM/SIGINT stop training at a step; teacher workdirs that cannot be used
are one line each. Nothing here trains: workdirs are laid out the way train.py leaves them."""
import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from inductive_kd import checkpoint, config as config_lib, evaluate, models, parallel, tasks
from inductive_kd import teacher, train
from inductive_kd import workdir as workdir_lib

REPO = config_lib.REPO_ROOT


def mlp_config():
  c = config_lib.load_config_file("configs/mnist_mlp.py")
  c.data.train_limit, c.eval.shifted = 64, ""
  return c


def started(c, workdir, *, finished=False, checkpoint_step=None):
  """A workdir as a run of `c` leaves it: experiment.json, and a checkpoint or results.json."""
  workdir_lib.check_experiment(c, workdir, train.seed_workdirs(c, workdir), main=True)
  if checkpoint_step is not None:
    (workdir / "checkpoints" / str(checkpoint_step)).mkdir(parents=True)
  for d in train.seed_workdirs(c, workdir) if finished else ():
    d.mkdir(parents=True, exist_ok=True)
    (d / "results.json").write_text(json.dumps({
        "test": {"mnist": {"accuracy": 0.5}}, "steps": 10,
        "config": json.loads(c.to_json_best_effort())}))
  return workdir


def refusal(c, workdir) -> str:
  with pytest.raises(workdir_lib.WorkdirError) as e:
    train.train_and_evaluate(c, workdir)
  assert "\n" not in str(e.value)
  return str(e.value)


def test_a_finished_workdir_refuses_another_config(tmp_path):
  started(mlp_config(), tmp_path / "mlp", finished=True)
  cnn = config_lib.load_config_file("configs/mnist_cnn.py")
  msg = refusal(cnn, tmp_path / "mlp")
  assert msg.startswith(f"{tmp_path / 'mlp'} holds another experiment (experiment.json): ")
  assert "model.name: 'mlp' -> 'cnn'" in msg and "model.filters: (absent) -> [128, 64, 64]" in msg
  assert "Use another --workdir" in msg


def test_a_resumed_run_refuses_another_seed_or_learning_rate(tmp_path):
  c = mlp_config()
  started(c, tmp_path, checkpoint_step=10)
  other = c.copy_and_resolve_references()
  other.seed, other.optim.learning_rate = 1, 2e-3
  msg = refusal(other, tmp_path)
  assert "optim.learning_rate: 0.0001 -> 0.002, seed: 0 -> 1." in msg
  # The keys that may change on resume do not count.
  same = c.copy_and_resolve_references()
  same.train.num_epochs, same.train.log_every_steps, same.eval.batch_size = 2.0, 7, 500
  same.data.cache_dir, same.distill.cache_teacher, same.teacher.workdir = "/x", "off", "t"
  workdir_lib.check_experiment(same, tmp_path, [tmp_path], main=True)


def test_a_schedule_over_the_run_makes_its_length_part_of_the_experiment(tmp_path):
  c = config_lib.load_config_file("configs/mnist_mlp.py:short")
  assert c.optim.schedule == "cosine"
  started(c, tmp_path, checkpoint_step=10)
  longer = c.copy_and_resolve_references()
  longer.train.num_epochs = 48.0
  with pytest.raises(workdir_lib.WorkdirError, match=r"train.num_epochs: 24.0 -> 48.0"):
    workdir_lib.check_experiment(longer, tmp_path, [tmp_path], main=True)
  assert "train.num_epochs" not in workdir_lib.fingerprint(mlp_config())  # Constant schedule.


def test_experiment_json_records_the_fingerprint_and_its_hash(tmp_path):
  c = mlp_config()
  c.num_seeds = 3
  workdir_lib.check_experiment(c, tmp_path, train.seed_workdirs(c, tmp_path), main=True)
  record = json.loads((tmp_path / "experiment.json").read_text())
  assert record["config"] == workdir_lib.fingerprint(c)
  assert record["config"]["num_seeds"] == 3 and "train.log_every_steps" not in record["config"]
  assert len(record["sha256"]) == 64
  # The stacked run is one experiment: one seed's finished folder does not change that.
  started(c, tmp_path, finished=True)
  single = c.copy_and_resolve_references()
  single.num_seeds = 1
  assert "num_seeds: 3 -> 1" in refusal(single, tmp_path)


def test_a_workdir_with_nothing_trained_yet_goes_to_the_new_config(tmp_path):
  c = mlp_config()
  workdir_lib.check_experiment(c, tmp_path, [tmp_path], main=True)  # Died before a checkpoint.
  other = c.copy_and_resolve_references()
  other.seed = 7
  workdir_lib.check_experiment(other, tmp_path, [tmp_path], main=True)
  assert json.loads((tmp_path / "experiment.json").read_text())["config"]["seed"] == 7


def test_old_workdirs_are_adopted_with_a_warning_or_checked_by_their_results(tmp_path, caplog):
  c = mlp_config()
  (tmp_path / "old" / "checkpoints" / "20").mkdir(parents=True)
  with caplog.at_level(logging.WARNING):
    workdir_lib.check_experiment(c, tmp_path / "old", [tmp_path / "old"], main=True)
  assert "has no experiment.json" in caplog.text and "cannot be checked" in caplog.text
  assert (tmp_path / "old" / "experiment.json").exists()
  # A finished one made before experiment.json: its results.json has the config to compare.
  started(c, tmp_path / "done", finished=True)
  (tmp_path / "done" / "experiment.json").unlink()
  other = c.copy_and_resolve_references()
  other.optim.l2 = 0.5
  with pytest.raises(workdir_lib.WorkdirError, match=r"the config in its results.json\): "
                     r"optim.l2: 1e-05 -> 0.5"):
    workdir_lib.check_experiment(other, tmp_path / "done", [tmp_path / "done"], main=True)


def test_schema_changes_do_not_make_old_workdirs_foreign():
  new = workdir_lib.fingerprint(mlp_config())
  old = {k: v for k, v in new.items() if k != "eval.ece_bins"} | {"data.retired_key": 1}
  assert workdir_lib.differences(old, new) == []  # Gained at its default; lost: not compared.
  assert workdir_lib.differences(old, new | {"eval.ece_bins": 20}) == [
      "eval.ece_bins: (absent) -> 20"]
  assert workdir_lib.differences(new | {"model.extra": 1}, new) == ["model.extra: 1 -> (absent)"]


def test_a_damaged_experiment_json_is_one_line(tmp_path):
  (tmp_path / "experiment.json").write_text("{not json")
  with pytest.raises(workdir_lib.WorkdirError, match=r"experiment.json is damaged"):
    workdir_lib.check_experiment(mlp_config(), tmp_path, [tmp_path], main=True)


_HOLDER = """
import sys
from pathlib import Path
from inductive_kd import workdir
with workdir.lock(Path(sys.argv[1])):
  print("held", flush=True)
  sys.stdin.read()
"""


def test_a_second_process_is_refused_and_a_killed_holder_leaves_no_lock(tmp_path):
  holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], cwd=REPO,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, JAX_PLATFORMS="cpu"))
  try:
    assert holder.stdout.readline().strip() == "held"
    msg = refusal(mlp_config(), tmp_path)
    assert msg == (f"{tmp_path} is in use by pid {holder.pid} on {os.uname().nodename} (it holds "
                   ".lock): wait for that run to end or stop it, or use another --workdir.")
  finally:
    holder.kill()
    holder.communicate()  # Waits, and closes the pipes.
  with workdir_lib.lock(tmp_path):  # SIGKILL released it.
    pass


def test_a_file_is_no_workdir(tmp_path):
  (tmp_path / "f").write_text("")
  msg = refusal(mlp_config(), tmp_path / "f")
  assert msg == f"--workdir {tmp_path / 'f'} is a file, not a folder."


def test_each_process_of_a_job_has_its_own_lock(tmp_path, monkeypatch):
  with workdir_lib.lock(tmp_path):
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    with workdir_lib.lock(tmp_path):  # Process 1 of the same job: another file.
      assert (tmp_path / ".lock.p1").read_text().startswith(f"pid {os.getpid()} on ")


def test_stop_signals_only_set_a_flag_and_a_second_one_acts_as_before():
  """Also: a signal ignored when training starts stays ignored."""
  seen = []
  # SIGINT as this process started with it (ignored when a shell started us in the background).
  int_before = signal.getsignal(signal.SIGINT)
  previous = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
  try:
    with workdir_lib.StopSignals() as signals:
      assert signals.requested(sync_point=False) is None
      os.kill(os.getpid(), signal.SIGTERM)
      assert signals.requested(sync_point=False) == signal.SIGTERM and seen == []
      os.kill(os.getpid(), signal.SIGTERM)  # The second goes to the handler from before.
      assert seen == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is int_before
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # Ignored by whoever started us.
    with workdir_lib.StopSignals():
      assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
  finally:
    signal.signal(signal.SIGTERM, previous)
  stopped = workdir_lib.Stopped(signal.SIGINT, 30, "/w/checkpoints")
  assert str(stopped) == ("stopped by SIGINT at step 30; checkpoint saved in /w/checkpoints; "
                          "rerun the same command to resume")
  assert stopped.exit_code == 130 and workdir_lib.Stopped(signal.SIGTERM, 1, "d").exit_code == 143


# --- Teacher workdirs ---------------------------------------------------------------------------

def _student(tmp_path):
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py")
  c.data.train_limit, c.eval.shifted, c.teacher.workdir = 64, "", str(tmp_path / "teacher")
  return c


def _trained_teacher(t: teacher.Teacher, task) -> None:
  """A finished teacher run as train.py leaves it: results.json and final/ (untrained weights)."""
  t.workdir.mkdir(parents=True)
  sample = _sample(task)
  variables = models.create(**t.config.model, **task.model_kwargs).init(
      jax.random.PRNGKey(0), sample, train=False)
  checkpoint.save_variables(t.workdir, dict(variables))
  (t.workdir / "results.json").write_text(json.dumps(
      {"test": {"mnist": {"accuracy": 0.9}}, "config": json.loads(t.config.to_json_best_effort())}))


def _trained_teacher_with(t: teacher.Teacher, task, scale: float) -> None:
  """The teacher's final/ rewritten with every parameter equal to `scale` (NaN: a diverged run)."""
  variables = models.create(**t.config.model, **task.model_kwargs).init(
      jax.random.PRNGKey(0), _sample(task), train=False)
  shutil.rmtree(t.workdir / "final")
  variables = dict(variables)
  variables["params"] = jax.tree.map(lambda x: np.full(x.shape, scale, x.dtype),
                                     variables["params"])
  checkpoint.save_variables(t.workdir, variables)


def _sample(task):
  return task.prepare(evaluate.local_batch(task.train, np.arange(2)))[0]


def _load_error(t: teacher.Teacher, task) -> str:
  with pytest.raises(workdir_lib.WorkdirError) as e:
    t.load(_sample(task), task, parallel.make_mesh(), 10)
  assert "\n" not in str(e.value)
  return str(e.value)


def test_unusable_teacher_workdirs_are_one_line_each(tmp_path):
  c = _student(tmp_path)
  t = teacher.Teacher(c, tmp_path / "student")
  task = tasks.create(c)
  _trained_teacher(t, task)
  t.load(_sample(task), task, parallel.make_mesh(), 10)  # As it should be: loads.
  results = json.loads((t.workdir / "results.json").read_text())
  del results["config"]["arch"]  # A teacher trained before config.arch existed still serves.
  (t.workdir / "results.json").write_text(json.dumps(results))
  t.load(_sample(task), task, parallel.make_mesh(), 10)
  _trained_teacher_with(t, task, scale=np.nan)
  assert _load_error(t, task) == (
      f"Teacher workdir {t.workdir}: its final variables hold NaN or inf (the teacher diverged); "
      "retrain it (e.g. with a lower config.optim.learning_rate) or point config.teacher.workdir "
      "at another run.")
  # Finite weights, infinite logits: the eval-mode teacher's logit cache says so.
  _trained_teacher_with(t, task, scale=1e30)
  c.distill.teacher_mode = "eval"
  assert _load_error(teacher.Teacher(c, tmp_path / "student"), task).startswith(
      f"Teacher workdir {t.workdir}: its logits on the training set hold NaN or inf")
  _trained_teacher_with(t, task, scale=1.0)

  results = json.loads((t.workdir / "results.json").read_text())
  results["config"]["model"] = {"name": "mlp", "hidden_dims": [8]}
  (t.workdir / "results.json").write_text(json.dumps(results))
  msg = _load_error(t, task)
  assert msg.startswith(f"Teacher workdir {t.workdir} holds another architecture than "
                        "config.teacher.config='configs/mnist_cnn.py'") and "model.name: 'mlp' ->" \
      " 'cnn'" in msg


  (t.workdir / "results.json").write_text("garbage")
  assert _load_error(t, task).startswith(
      f"Teacher workdir {t.workdir}: {t.workdir / 'results.json'} is not valid JSON")

  (t.workdir / "results.json").write_text(json.dumps(
      {"test": {}, "config": json.loads(t.config.to_json_best_effort())}))
  data = max((p for p in (t.workdir / "final").rglob("*") if p.is_file()), key=os.path.getsize)
  os.truncate(data, data.stat().st_size // 2)
  msg = _load_error(t, task)
  assert msg.startswith(f"Teacher workdir {t.workdir}: its final variables do not restore (")
  assert msg.endswith("delete final/ and results.json there and rerun the teacher's run: it "
                      "writes them again from its last checkpoint.")

  (tmp_path / "file").write_text("not a folder")
  c.teacher.workdir = str(tmp_path / "file")
  with pytest.raises(workdir_lib.WorkdirError, match=r"Teacher workdir .*/file is a file, not a "
                     r"folder: point config.teacher.workdir at the teacher's run."):
    teacher.Teacher(c, tmp_path / "student").is_trained()


# -- A workdir that cannot be written, a disk that is full ---------------------------------------
def _refusal(workdir) -> str:
  with pytest.raises(workdir_lib.WorkdirError) as e, workdir_lib.lock(workdir):
    pass
  return str(e.value)


def test_a_read_only_workdir_is_refused_at_the_start(tmp_path):
  (tmp_path / "w").mkdir()
  os.chmod(tmp_path / "w", 0o555)
  os.chmod(tmp_path, 0o555)
  try:
    if os.access(tmp_path / "w", os.W_OK):
      pytest.skip("permissions do not stop this user (root)")
    assert _refusal(tmp_path / "w") == (
        f"workdir {tmp_path / 'w'} is not writable (Permission denied): make it writable or use "
        "another --workdir.")
    assert _refusal(tmp_path / "new" / "run") == (
        f"workdir {tmp_path / 'new' / 'run'} is not writable (cannot create {tmp_path / 'new'}: "
        "Permission denied): make it writable or use another --workdir.")
  finally:
    os.chmod(tmp_path, 0o755)
    os.chmod(tmp_path / "w", 0o755)


def test_a_workdir_the_os_refuses_to_write_is_refused_at_the_start(tmp_path, monkeypatch):
  """As the test above, for a user the permissions do not stop (root): the OS's refusal is
  simulated where the workdir is first written (a read-only mount refuses root too)."""
  def refused(*args, dir=None, **kwargs):  # pylint: disable=redefined-builtin
    raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(dir, ".write_test.x"))
  monkeypatch.setattr(workdir_lib.tempfile, "mkstemp", refused)
  assert _refusal(tmp_path / "w") == (
      f"workdir {tmp_path / 'w'} is not writable (Read-only file system): make it writable or "
      "use another --workdir.")
  assert not (tmp_path / "w" / ".lock").exists()  # Refused before anything is written.
  real_mkdir = workdir_lib.Path.mkdir

  def mkdir(path, *args, **kwargs):
    if path.parent == tmp_path / "ro":
      raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    return real_mkdir(path, *args, **kwargs)
  monkeypatch.setattr(workdir_lib.Path, "mkdir", mkdir)
  assert _refusal(tmp_path / "ro" / "run") == (
      f"workdir {tmp_path / 'ro' / 'run'} is not writable (cannot create {tmp_path / 'ro' / 'run'}"
      ": Permission denied): make it writable or use another --workdir.")


def test_a_read_only_workdir_stops_the_run_before_any_training(tmp_path, monkeypatch):
  monkeypatch.setattr(workdir_lib, "check_writable", lambda workdir: (_ for _ in ()).throw(
      workdir_lib.WorkdirError(f"workdir {workdir} is not writable")))
  monkeypatch.setattr(tasks, "create", lambda *a: pytest.fail("the data was loaded"))
  with pytest.raises(workdir_lib.WorkdirError, match="is not writable"):
    train.train_and_evaluate(mlp_config(), tmp_path / "w")


ORBAX_NO_SPACE = (  # What orbax raised when a tmpfs filled up during a checkpoint (TensorStore).
    'RESOURCE_EXHAUSTED: Error writing "opt_state.0.nu.Dense_3.kernel/0.0" in OCDBT database at '
    'local file "{d}/4.orbax-checkpoint-tmp/default.orbax-checkpoint-tmp/ocdbt.process_0/": Failed '
    'writing: "{d}/4.orbax-checkpoint-tmp/default.orbax-checkpoint-tmp/ocdbt.process_0/d/3fcc47": '
    "Failed to write 1313370 bytes to file 6: No space left on device [os_error_code='28']")
TF_NO_SPACE = (  # ... and TensorFlow, creating the TensorBoard writer.
    "{{{{function_node __wrapped__CreateSummaryFileWriter_device_/job:localhost/replica:0/task:0/"
    "device:CPU:0}}}} {d}/events.out.tfevents.1.vm.2.0.v2; No space left on device\n\tFailed to "
    "flush 1 events")


def test_a_full_disk_is_one_line_naming_the_file_the_free_space_and_the_checkpoint(tmp_path):
  (tmp_path / "checkpoints" / "2").mkdir(parents=True)
  (tmp_path / "checkpoints" / "4.orbax-checkpoint-tmp").mkdir()
  ckpts = tmp_path / "checkpoints"
  free = f"(free: {shutil.disk_usage(tmp_path).free / 1e6:.1f} MB)"
  kept = f"the last finished checkpoint (step 2) is kept in {ckpts}: free some space and rerun " \
         "the same command."

  def message(e):
    return str(workdir_lib.no_space_error(e, tmp_path))
  assert message(ValueError(ORBAX_NO_SPACE.format(d=ckpts))) == (
      f"no space left on device writing {ckpts / '4'} {free}; {kept}")
  assert message(RuntimeError(TF_NO_SPACE.format(d=tmp_path))) == (
      f"no space left on device writing {tmp_path}/events.out.tfevents.1.vm.2.0.v2 {free}; {kept}")
  named = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "results.tmp"))
  assert message(named) == (
      f"no space left on device writing {tmp_path / 'results.tmp'} {free}; {kept}")
  wrapped = RuntimeError("a library's wrapper")
  wrapped.__cause__ = OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))  # Python's f.write.
  assert message(wrapped) == f"disk quota exceeded writing in {tmp_path} {free}; {kept}"
  (ckpts / "2").rmdir()
  assert message(named).endswith("; no checkpoint was finished yet: free some space and rerun "
                                 "the same command.")
  # Anything else is not this error, nor is the line of a teacher's run that reported it.
  assert workdir_lib.no_space_error(OSError(errno.EIO, "I/O error"), tmp_path) is None
  assert workdir_lib.no_space_error(ValueError("bad value"), tmp_path) is None
  assert workdir_lib.no_space_error(workdir_lib.WorkdirError(message(named)), tmp_path) is None
