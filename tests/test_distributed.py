"""Multi-process data parallelism, tested on one machine with real processes.

Two JAX processes (2 CPU devices each, gloo collectives, coordinator on 127.0.0.1) run the one
training loop on the MNIST MLP and a narrow CNN. They must end with the parameters and metrics of
one process with 4 devices, hold identical parameters, leave exactly one results.json written by
process 0, and, killed after a checkpoint, resume from it. Bad setups (unreachable coordinator,
processes disagreeing on the count, uneven devices) must end in one line naming what to change.
The launcher scripts are checked for syntax and their printed job lines for validity.

Run as `python tests/test_distributed.py worker SPEC` this file is also the worker process.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
  sys.path.insert(0, str(REPO))

from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top

STEPS, STOP_AT = 6, 3  # Train 6 steps; checkpoint (and, once, get killed) at step 3.
DIST_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID",
            "JAX_LOCAL_DEVICE_IDS", "INDUCTIVE_KD_INIT_TIMEOUT", "XLA_FLAGS")
CLUSTER_ENV_PREFIXES = ("SLURM_", "OMPI_", "PMI_", "PMIX_", "TPU_", "MEGASCALE_")


def tiny_config(model: str, distributed: str = "off"):
  """The real MNIST config, shrunk: 256 training images, batch 32, 6 steps, 200 test images."""
  c = config_lib.load_config_file(f"configs/mnist_{model}.py")
  c.distributed = distributed
  c.data.source = "idx"  # The shipped files; no TensorFlow import.
  c.data.train_limit = 256
  c.eval.limit, c.eval.batch_size, c.eval.shifted = 200, 200, ""
  c.train.batch_size, c.train.num_steps = 32, STEPS
  c.train.log_every_steps = c.train.checkpoint_every_steps = STOP_AT
  c.eval.every_steps = STEPS
  c.train.progress_every_secs = 3600.0
  # Adam moves parameters by up to the learning rate per step from the first step on (RAdam starts
  # with tiny momentum-SGD steps). eps 1e-3 keeps each update a smooth function of its gradient:
  # with the default 1e-8, a gradient that is 0 up to rounding (a conv bias that the next
  # BatchNorm subtracts again) becomes a +-lr step whose sign is the rounding noise of the
  # all-reduce, which differs between device layouts.
  c.optim.name, c.optim.learning_rate, c.optim.eps = "adam", 1e-3, 1e-3
  if model == "cnn":
    c.model.filters, c.model.maxout_size = (8, 8, 8), (8, 8, 4)
  return c


# --- The worker process ------------------------------------------------------------------------

class _RecordingWriter:
  """Wraps a clu writer; keeps every write_scalars call in a JSON file."""

  def __init__(self, inner, path: Path, just_logging: bool):
    self._inner, self._path, self._rows, self._just_logging = inner, path, [], just_logging

  def write_scalars(self, step, scalars):
    self._rows.append([int(step), {k: float(v) for k, v in scalars.items()}])
    self._dump()  # Now, not on close: a killed process never closes its writer.
    self._inner.write_scalars(step, scalars)

  def write_hparams(self, hparams):
    self._dump()
    self._inner.write_hparams(hparams)

  def _dump(self):
    self._path.write_text(json.dumps({"just_logging": self._just_logging, "rows": self._rows}))

  def __getattr__(self, name):
    return getattr(self._inner, name)


def _worker(spec: dict) -> None:
  """Trains spec['models'] in spec['root']/<model>, recording what the test compares in spec['out']."""
  import jax  # pylint: disable=g-import-not-at-top
  from clu import metric_writers  # pylint: disable=g-import-not-at-top
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  from inductive_kd import checkpoint, parallel, train  # pylint: disable=g-import-not-at-top
  from inductive_kd import results as results_lib  # pylint: disable=g-import-not-at-top

  out = Path(spec["out"])
  parallel.maybe_initialize_distributed(spec["distributed"])
  tag = f"p{jax.process_index()}"

  save_variables = checkpoint.save_variables

  def recording_save_variables(workdir, variables):
    """The final in-memory parameters of this process: every local replica must be equal."""
    arrays = {}
    for path, x in jax.tree_util.tree_flatten_with_path(variables)[0]:
      shards = [np.asarray(s.data) for s in x.addressable_shards]
      for s in shards[1:]:
        np.testing.assert_array_equal(s, shards[0])
      arrays[jax.tree_util.keystr(path)] = shards[0]
    np.savez(out / f"params_{Path(workdir).name}_{tag}.npz", **arrays)
    save_variables(workdir, variables)

  save = checkpoint.save

  def save_then_maybe_hang(mgr, step, state):
    save(mgr, step, state)
    stop = spec.get("stop")
    if stop and Path(str(mgr.directory)).parent.name == stop["model"] and step == stop["step"]:
      mgr.wait_until_finished()
      multihost_utils.sync_global_devices("checkpoint written")
      (out / f"stopped_{tag}").write_text(str(step))
      time.sleep(3600)  # Until the test kills the whole job.

  create_writer = metric_writers.create_default_writer

  def recording_writer(logdir, *, just_logging=False, **kwargs):
    path = out / f"scalars_{Path(logdir).name}_{tag}_{os.getpid()}.json"
    return _RecordingWriter(create_writer(logdir, just_logging=just_logging, **kwargs), path,
                            just_logging)

  write_json = results_lib.write_json

  def recording_write_json(path, payload):
    with open(out / f"wrote_{tag}.txt", "a") as f:
      f.write(f"{path}\n")
    write_json(path, payload)

  # train.py passes fresh, uncommitted zero metrics to the first step and after every log step, and
  # mesh-replicated ones otherwise, so jit compiles the step twice; placing them on the mesh halves
  # the compile time of this test (a no-op once train.py does it itself).
  zero_metrics = train.zero_metrics
  train.zero_metrics = lambda: jax.device_put(zero_metrics(),
                                              parallel.replicated(parallel.make_mesh()))
  checkpoint.save_variables = recording_save_variables
  checkpoint.save = save_then_maybe_hang
  metric_writers.create_default_writer = recording_writer
  results_lib.write_json = recording_write_json
  for model in spec["models"]:
    train.train_and_evaluate(tiny_config(model, spec["distributed"]), str(Path(spec["root"]) / model))


def _init_only() -> None:
  """Joins a distributed job and reports the outcome (for the bad-setup tests)."""
  from inductive_kd import parallel  # pylint: disable=g-import-not-at-top
  try:
    parallel.maybe_initialize_distributed("auto")
  except parallel.DistributedError as e:
    # One write after a newline, so that no half-written line of another thread (gloo's C++
    # logging, say) can end up in front of it: CI once saw exit 2 with no line starting 'error: '.
    os.write(2, f"\nerror: {e}\n".encode())
    sys.exit(2)
  print("joined", flush=True)


# --- Process management for the tests ----------------------------------------------------------

def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _env(devices: int, cache: Path | None = None, **extra) -> dict:
  """A child's environment: CPU devices, and nothing that JAX's cluster detection would find
  (this test may itself run inside a SLURM or MPI job)."""
  env = {k: v for k, v in os.environ.items()
         if k not in DIST_ENV and not k.startswith(CLUSTER_ENV_PREFIXES)}
  # Without LLVM's expensive passes the CNN step compiles in 60% of the time (same losses). Not
  # --xla_backend_optimization_level=0: with it XLA:CPU 0.10.2 computes NaN losses for the CNN.
  env.update(JAX_PLATFORMS="cpu", PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2",
             XLA_FLAGS=f"--xla_force_host_platform_device_count={devices} "
                       "--xla_llvm_disable_expensive_passes=true")
  if cache:  # The restarted job reuses the first one's compiled steps.
    env.update(JAX_COMPILATION_CACHE_DIR=str(cache), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
  env.update({k: str(v) for k, v in extra.items()})
  return env


class Processes:
  """Starts processes in their own process groups; kills every group that is left on exit."""

  def __init__(self, logdir: Path):
    self.logdir, self.procs, self._logs = logdir, {}, []

  def start(self, name: str, args: list, env: dict) -> subprocess.Popen:
    log = open(self.logdir / f"{name}.log", "w")  # pylint: disable=consider-using-with
    self._logs.append(log)
    p = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True)
    self.procs[name] = p
    return p

  def log(self, name: str) -> str:
    return (self.logdir / f"{name}.log").read_text()

  def wait(self, names, deadline: float) -> None:
    for name in names:
      try:
        rc = self.procs[name].wait(timeout=max(1.0, deadline - time.time()))
      except subprocess.TimeoutExpired:
        raise AssertionError(f"{name} did not finish in time:\n{self.log(name)[-3000:]}") from None
      assert rc == 0, f"{name} exited with {rc}:\n{self.log(name)[-3000:]}"

  def kill(self, names=None) -> None:
    for name in names or list(self.procs):
      p = self.procs[name]
      if p.poll() is None:
        try:
          os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
          pass
        p.wait(timeout=30)

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.kill()
    for log in self._logs:
      log.close()


def _worker_args(spec: dict) -> list:
  return [str(Path(__file__).resolve()), "worker", json.dumps(spec)]


def _dist_env(port: int, pid: int, n: int = 2, devices: int = 2, cache: Path | None = None,
              **extra) -> dict:
  return _env(devices, cache, JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAX_NUM_PROCESSES=n,
              JAX_PROCESS_ID=pid, **extra)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """One 4-device process, and two 2-device processes that are killed after the CNN's step-3
  checkpoint and restarted; returns what each recorded."""
  tmp = tmp_path_factory.mktemp("distributed")
  ref, dist = tmp / "ref", tmp / "dist"
  for d in (ref / "out", dist / "out", tmp / "logs"):
    d.mkdir(parents=True)
  models = ["mlp", "cnn"]
  facts = {}
  with Processes(tmp / "logs") as procs:
    deadline = time.time() + 240
    procs.start("ref", _worker_args(dict(models=models, root=str(ref), out=str(ref / "out"),
                                         distributed="off")), _env(4))
    spec = dict(models=models, root=str(dist), out=str(dist / "out"), distributed="auto",
                stop=dict(model="cnn", step=STOP_AT))
    port = _free_port()
    for pid in (0, 1):
      procs.start(f"first{pid}", _worker_args(spec), _dist_env(port, pid, cache=tmp / "xla"))
    while not all((dist / "out" / f"stopped_p{i}").exists() for i in (0, 1)):
      for name in ("first0", "first1"):
        if procs.procs[name].poll() is not None:
          raise AssertionError(f"{name} ended before the kill point:\n{procs.log(name)[-3000:]}")
      assert time.time() < deadline, "the first two-process run did not reach step 3 in time"
      time.sleep(0.2)
    procs.kill(["first0", "first1"])  # Both processes of the job die at once.
    facts["cnn_results_after_kill"] = (dist / "cnn" / "results.json").exists()
    facts["cnn_checkpoints_after_kill"] = sorted(
        p.name for p in (dist / "cnn" / "checkpoints").iterdir() if p.name.isdigit())
    spec.pop("stop")
    port = _free_port()
    for pid in (0, 1):
      procs.start(f"again{pid}", _worker_args(spec), _dist_env(port, pid, cache=tmp / "xla"))
    procs.wait(["again0", "again1", "ref"], deadline)
    facts["logs"] = {name: procs.log(name) for name in procs.procs}
  facts.update(ref=ref, dist=dist)
  return facts


def _params(root: Path, model: str, tag: str) -> dict:
  with np.load(root / "out" / f"params_{model}_{tag}.npz") as f:
    return dict(f)


def _scalars(root: Path, model: str, tag: str) -> list:
  """Every recorded writer of this model and process, oldest first (restarts add one)."""
  files = sorted((root / "out").glob(f"scalars_{model}_{tag}_*.json"), key=os.path.getmtime)
  return [json.loads(f.read_text()) for f in files]


def _train_rows(record: dict) -> dict:
  return {step: {k: v for k, v in s.items() if k.startswith("train/")}
          for step, s in record["rows"] if any(k.startswith("train/") for k in s)}


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_both_processes_hold_the_same_parameters(runs, model):
  p0, p1 = _params(runs["dist"], model, "p0"), _params(runs["dist"], model, "p1")
  assert p0.keys() == p1.keys() and len(p0) > 4
  for key in p0:
    np.testing.assert_array_equal(p0[key], p1[key], err_msg=key)


def _initial_params(model: str) -> dict:
  """The parameters before step 1 (init depends on the seed only, not on the devices)."""
  import jax  # pylint: disable=g-import-not-at-top
  from inductive_kd import models, optim, train  # pylint: disable=g-import-not-at-top
  c = tiny_config(model)
  state = jax.jit(lambda: train.create_train_state(
      models.create(**c.model), optim.make_optimizer(c.optim), np.zeros((2, 28, 28), np.float32),
      c.seed))()
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  return {jax.tree_util.keystr(p): np.asarray(x)
          for p, x in jax.tree_util.tree_flatten_with_path(variables)[0]}


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_two_processes_train_like_one_process_with_four_devices(runs, model):
  ref, dist = _params(runs["ref"], model, "p0"), _params(runs["dist"], model, "p0")
  init = _initial_params(model)
  assert ref.keys() == dist.keys() == init.keys()
  for key in sorted(ref):
    update_ref, update_dist = ref[key] - init[key], dist[key] - init[key]
    size = np.abs(update_ref).max()
    if "['params']" in key and "kernel" in key:
      assert size > 1e-3, key  # Six Adam steps of lr 1e-3 moved it.
    # The updates agree to 0.1% of their size (float32 all-reduces run in another order), or to
    # 0.1% of one step (lr 1e-3): updates that are only rounding noise (the conv biases that
    # BatchNorm subtracts again, exact gradient 0) are ~1e-7.
    np.testing.assert_allclose(update_dist, update_ref, rtol=0, atol=1e-3 * size + 1e-6,
                               err_msg=key)
  # Training metrics at every log step (the CNN's step 3 comes from the killed first run).
  ref_rows = _train_rows(_scalars(runs["ref"], model, "p0")[-1])
  dist_rows = {}
  for record in _scalars(runs["dist"], model, "p0"):
    dist_rows.update(_train_rows(record))
  assert sorted(ref_rows) == sorted(dist_rows) == [STOP_AT, STEPS]
  for step, row in ref_rows.items():
    assert row.keys() == dist_rows[step].keys()
    for k, v in row.items():
      assert dist_rows[step][k] == pytest.approx(v, rel=1e-4, abs=1e-6), (step, k)
  # Test metrics in results.json.
  ref_test = json.loads((runs["ref"] / model / "results.json").read_text())["test"]["mnist"]
  dist_res = json.loads((runs["dist"] / model / "results.json").read_text())
  assert dist_res["devices"] == 4 and dist_res["steps"] == STEPS
  for k in ("accuracy", "loss", "ece"):
    assert dist_res["test"]["mnist"][k] == pytest.approx(ref_test[k], rel=1e-4, abs=1e-6), k


def test_only_process_zero_writes_results_and_metrics(runs):
  dist = runs["dist"]
  wrote0 = (dist / "out" / "wrote_p0.txt").read_text().split()
  assert sorted((Path(p).parent.name, Path(p).name) for p in wrote0) == [
      ("cnn", "history.json"), ("cnn", "results.json"), ("mlp", "history.json"),
      ("mlp", "results.json")]
  assert not (dist / "out" / "wrote_p1.txt").exists()
  assert sorted(p.relative_to(dist).as_posix() for p in dist.rglob("results.json")) == [
      "cnn/results.json", "mlp/results.json"]
  assert sorted(p.name for p in (dist / "mlp" / "predictions").iterdir()) == ["mnist.npz"]
  for model in ("mlp", "cnn"):
    assert [r["just_logging"] for r in _scalars(dist, model, "p0")] == [False] * (
        1 + (model == "cnn"))
    assert all(r["just_logging"] for r in _scalars(dist, model, "p1"))
  # One log for the job: process 1 reports warnings only.
  assert "Training mlp on 256 examples" in runs["logs"]["first0"]
  assert "Training mlp on 256 examples" not in runs["logs"]["first1"]
  assert "global batch 32 = 8 per device x 4 devices (2 processes)" in runs["logs"]["first0"]


def test_a_killed_job_resumes_from_its_checkpoint(runs):
  assert not runs["cnn_results_after_kill"]
  assert runs["cnn_checkpoints_after_kill"] == [str(STOP_AT)]
  assert f"Resumed from the checkpoint at step {STOP_AT}" in runs["logs"]["again0"]
  first, again = _scalars(runs["dist"], "cnn", "p0")
  assert sorted(_train_rows(first)) == [STOP_AT] and sorted(_train_rows(again)) == [STEPS]
  # The finished MLP is not trained again after the restart.
  assert "mlp is finished (results.json exists)" in runs["logs"]["again0"]
  assert len(_scalars(runs["dist"], "mlp", "p0")) == 1


# --- Bad setups: one line each -----------------------------------------------------------------

def _run_init(procs: Processes, names_envs: dict, timeout: float = 60) -> dict:
  for name, env in names_envs.items():
    procs.start(name, [str(Path(__file__).resolve()), "init"], env)
  out = {}
  for name in names_envs:
    p = procs.procs[name]
    try:
      p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
      raise AssertionError(f"{name} hung:\n{procs.log(name)[-2000:]}") from None
    out[name] = (p.returncode, procs.log(name))
  return out


def _error_line(name: str, log: str) -> str:
  """The one line that starts with 'error: ' (the whole log in the failure message otherwise)."""
  lines = [line for line in log.splitlines() if line.startswith("error: ")]
  assert len(lines) == 1, (name, log[-3000:])
  return lines[0]


def test_unreachable_coordinator_or_missing_processes_time_out_in_one_line(tmp_path):
  port_a, port_b = _free_port(), _free_port()  # Nobody listens on port_a.
  with Processes(tmp_path) as procs:
    start = time.time()
    out = _run_init(procs, {
        "client": _dist_env(port_a, 1, INDUCTIVE_KD_INIT_TIMEOUT=2),
        "coordinator": _dist_env(port_b, 0, n=3, INDUCTIVE_KD_INIT_TIMEOUT=2),
        "no_cluster": _env(1),  # 'auto' with neither a known cluster nor the variables.
    })
  assert time.time() - start < 40
  for name, (rc, log) in out.items():
    assert rc == (2 if name == "no_cluster" else 3) and "Traceback" not in log, (name, log)
  line = _error_line("client", out["client"][1])
  assert f"cannot reach the coordinator at 127.0.0.1:{port_a} after 2 s" in line
  assert "JAX_COORDINATOR_ADDRESS" in line and "INDUCTIVE_KD_INIT_TIMEOUT" in line
  line = _error_line("coordinator", out["coordinator"][1])
  assert f"not all 3 processes joined the coordinator at 127.0.0.1:{port_b} within 2 s" in line
  assert "JAX_NUM_PROCESSES" in line and "JAX_PROCESS_ID" in line
  line = _error_line("no_cluster", out["no_cluster"][1])
  assert "coordinator_address should be defined" in line and "--config.distributed=off" in line


def test_processes_that_disagree_on_the_count_both_stop(tmp_path):
  port = _free_port()
  with Processes(tmp_path) as procs:
    out = _run_init(procs, {"p0": _dist_env(port, 0, n=2), "p1": _dist_env(port, 1, n=3)})
  for name, (rc, log) in out.items():
    assert rc == 2, (name, log)
    line = _error_line(name, log)
    assert "disagree on the process count: JAX_NUM_PROCESSES was [2, 3] but 2 processes" in line
    assert "JAX_NUM_PROCESSES=2" in line


def test_processes_with_different_device_counts_both_stop(tmp_path):
  port = _free_port()
  with Processes(tmp_path) as procs:
    out = _run_init(procs, {"p0": _dist_env(port, 0, devices=2),
                            "p1": _dist_env(port, 1, devices=1)})
  for name, (rc, log) in out.items():
    assert rc == 2, (name, log)
    line = _error_line(name, log)
    assert "same number of devices, got {0: 2, 1: 1}" in line and "xla_force_host" in line


@pytest.mark.parametrize("env,match", [
    (dict(JAX_NUM_PROCESSES="2", JAX_PROCESS_ID="2", JAX_COORDINATOR_ADDRESS="h:1"),
     r"JAX_PROCESS_ID=2 must be in 0\.\.1"),
    (dict(JAX_NUM_PROCESSES="2"), "Set both JAX_NUM_PROCESSES and JAX_PROCESS_ID"),
    (dict(JAX_NUM_PROCESSES="2", JAX_PROCESS_ID="0"), "JAX_COORDINATOR_ADDRESS is not"),
    (dict(JAX_NUM_PROCESSES="two", JAX_PROCESS_ID="0"), "JAX_NUM_PROCESSES='two' is not an int"),
])
def test_bad_environment_is_a_one_line_error_before_any_network(monkeypatch, env, match):
  from inductive_kd import parallel  # pylint: disable=g-import-not-at-top
  for k in DIST_ENV:
    monkeypatch.delenv(k, raising=False)
  for k, v in env.items():
    monkeypatch.setenv(k, v)
  with pytest.raises(parallel.DistributedError, match=match) as e:
    parallel.maybe_initialize_distributed("auto")
  assert "\n" not in str(e.value)
  with pytest.raises(parallel.DistributedError, match=r"\('off', 'auto'\)"):
    parallel.maybe_initialize_distributed("on")


# --- Mixed precision ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_bfloat16_compute_keeps_float32_parameters(model):
  """config.model.dtype='bfloat16': matmuls and convolutions in bf16; parameters, BatchNorm
  statistics, optimiser state, logits and loss in f32 (traced, not compiled: dtypes only)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from inductive_kd import models, optim, tasks, train  # pylint: disable=g-import-not-at-top
  c = tiny_config(model)
  c.model.dtype = "bfloat16"
  task = tasks.Task(name="mnist", num_classes=10, train={}, eval_sets={},
                    prepare=lambda b: (b["inputs"].astype(jnp.float32) / 255, b["labels"], None),
                    eval_outputs=None, summarize=None)
  net, tx = models.create(**c.model), optim.make_optimizer(c.optim)
  batch = {"inputs": jnp.zeros((8, 28, 28), jnp.uint8), "labels": jnp.zeros((8,), jnp.int32)}
  inputs = task.prepare(batch)[0]
  state = jax.eval_shape(lambda: train.create_train_state(net, tx, inputs, seed=0))
  new_state, metrics = jax.eval_shape(train.make_train_step(net, tx, task, c), state, batch, {},
                                      train.zero_metrics())
  for tree in (state, new_state):
    for x in jax.tree.leaves((tree.params, tree.batch_stats, tree.opt_state)):
      assert x.dtype in (jnp.float32, jnp.int32), x.dtype
  assert metrics["total_loss"].dtype == jnp.float32
  variables = {"params": state.params, "batch_stats": state.batch_stats}
  jaxpr = jax.make_jaxpr(lambda v, x: net.apply(v, x, train=False))(variables, inputs)
  heavy = [e for e in jaxpr.jaxpr.eqns
           if e.primitive.name in ("dot_general", "conv_general_dilated")]
  assert len(heavy) >= (4 if model == "mlp" else 3)
  assert all(v.aval.dtype == jnp.bfloat16 for e in heavy for v in e.invars)
  assert all(v.aval.dtype == jnp.float32 for v in jaxpr.jaxpr.outvars)  # Logits, rep.


# --- Launchers ---------------------------------------------------------------------------------

LAUNCHERS = ["run.sh", "scripts/slurm_gpu.sbatch", "scripts/submit_slurm.sh", "scripts/tpu_pod.sh"]


@pytest.mark.parametrize("script", LAUNCHERS)
def test_launcher_syntax(script):
  subprocess.run(["bash", "-n", str(REPO / script)], check=True, timeout=30)


def _check_job_line(line: str, runs: str, distributed: bool) -> dict:
  """A job line is `python main.py --config=FILE[:ARG] --workdir=DIR [--config.KEY=VALUE...]` with
  a loadable config and known keys; returns {flag: value}."""
  argv = shlex.split(line)
  assert argv[:2] == ["python", "main.py"], line
  flags = dict(a[2:].split("=", 1) for a in argv[2:])
  assert flags["workdir"].startswith(runs + "/"), line
  c = config_lib.load_config_file(flags["config"])
  overrides = {k[len("config."):]: v for k, v in flags.items() if k.startswith("config.")}
  with c.unlocked():
    for key, value in overrides.items():
      node = c
      *parents, leaf = key.split(".")
      for p in parents:
        node = node[p]
      assert leaf in node, (key, line)
      node[leaf] = type(node[leaf])(value)
  config_lib.validate(c, num_devices=1)
  assert (overrides.get("distributed") == "auto") == distributed, line
  return flags


def test_print_jobs_lists_one_valid_command_per_config_and_seed(tmp_path):
  out = subprocess.run(["bash", "run.sh", "--quick", "--print-jobs"], cwd=REPO, check=True,
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "SEEDS": "0 1", "RUNS": str(tmp_path)}).stdout
  lines = out.strip().splitlines()
  assert len(lines) == 2 * (6 + 20 + 7)  # Two seeds of the MNIST, classification and LM grids.
  seen = {(f["config"], f["config.seed"]) for f in
          (_check_job_line(line, str(tmp_path), distributed=False) for line in lines)}
  assert len(seen) == len(lines)


def test_slurm_scripts_print_valid_commands(tmp_path):
  env = {**os.environ, "DRY_RUN": "1", "RUNS": str(tmp_path), "SEEDS": "0"}
  out = subprocess.run(["bash", "scripts/submit_slurm.sh", "--quick", "--partition=gpu"], cwd=REPO,
                       check=True, capture_output=True, text=True, timeout=60, env=env).stdout
  first, second = [shlex.split(line) for line in out.strip().splitlines()]
  # Teachers: 2 MNIST + 4 classifier + 3 LM baselines; students: 4 MNIST + 16 classifier + 4 LM
  # cells.
  assert first[:3] == ["sbatch", "--array=0-8", "--partition=gpu"]
  assert second[:4] == ["sbatch", "--array=0-23", "--dependency=afterok:DRYRUN", "--partition=gpu"]
  for cmd, kind, n in ((first, "teachers", 9), (second, "students", 24)):
    assert cmd[-2:] == ["scripts/slurm_gpu.sbatch", f"--jobs-file={tmp_path}/jobs_{kind}.txt"]
    jobs = (tmp_path / f"jobs_{kind}.txt").read_text().strip().splitlines()
    assert len(jobs) == n and all(("_to_" in j) == (kind == "students") for j in jobs)
    for i in range(n):  # What array task i runs.
      srun = subprocess.run(["bash", "scripts/slurm_gpu.sbatch", cmd[-1]], cwd=REPO, check=True,
                            capture_output=True, text=True, timeout=30,
                            env={**env, "SLURM_ARRAY_TASK_ID": str(i)}).stdout
      argv = shlex.split(srun)
      assert argv[:4] == ["srun", "--kill-on-bad-exit=1", "bash", "-c"] and len(argv) == 5
      _check_job_line(argv[4], str(tmp_path), distributed=True)
  bad = subprocess.run(["bash", "scripts/slurm_gpu.sbatch", cmd[-1]], cwd=REPO, capture_output=True,
                       text=True, timeout=30, env={**env, "SLURM_ARRAY_TASK_ID": "24"})
  assert bad.returncode == 2 and "use --array=0-23" in bad.stderr


def test_tpu_pod_launcher_runs_each_job_on_all_workers(tmp_path):
  env = {**os.environ, "DRY_RUN": "1", "TPU_NAME": "pod", "ZONE": "us-central2-b",
         "RUNS": str(tmp_path), "SEEDS": "0"}
  out = subprocess.run(["bash", "scripts/tpu_pod.sh", "grid", "--quick"], cwd=REPO, check=True,
                       capture_output=True, text=True, timeout=60, env=env).stdout
  lines = [shlex.split(line) for line in out.strip().splitlines()]
  assert len(lines) == 34  # 6 MNIST, 20 classifier and 7 LM runs, then the report.
  for argv in lines:
    assert argv[:7] == ["gcloud", "compute", "tpus", "tpu-vm", "ssh", "pod", "--zone=us-central2-b"]
    assert argv[7] == "--worker=all" and argv[8].startswith("--command=cd inductive-kd && ")
  for argv in lines[:33]:
    _check_job_line(argv[8].split(" && ", 1)[1], str(tmp_path), distributed=True)
  assert "inductive_kd.report" in lines[33][8]
  missing = subprocess.run(["bash", "scripts/tpu_pod.sh", "run"], cwd=REPO, capture_output=True,
                           text=True, timeout=30, env={**os.environ, "DRY_RUN": "1"})
  assert missing.returncode != 0 and "TPU_NAME" in missing.stderr


if __name__ == "__main__":
  from absl import logging as absl_logging  # As main.py logs: INFO to stderr.
  absl_logging.use_absl_handler()
  absl_logging.set_verbosity(absl_logging.INFO)
  {"worker": lambda: _worker(json.loads(sys.argv[2])), "init": _init_only}[sys.argv[1]]()
