"""Data parallelism: one mesh over every device of every process, batch sharded, params replicated.

This is what `pmap` became: a `jax.sharding.Mesh` with one axis 'data', `NamedSharding`s for the
batch (split on its first axis) and for the state (replicated), and `jax.jit` doing the rest. The
same code runs on 1 CPU, N local accelerators, or several hosts after `jax.distributed.initialize`:
each process feeds only the rows of every global batch that its own devices hold, and GSPMD inserts
the gradient all-reduce. The global batch (config.train.batch_size) never depends on the device
count, so the paper's batch, learning rate and steps per epoch hold on any number of devices.

Multi-process runs are configured the way `jax.distributed.initialize` is: SLURM, Open MPI and
Cloud TPU pods are detected; elsewhere set JAX_COORDINATOR_ADDRESS (host:port of process 0),
JAX_NUM_PROCESSES and JAX_PROCESS_ID (this module reads the last two, which JAX itself does not),
and optionally INDUCTIVE_KD_INIT_TIMEOUT (seconds to wait for every process, default 300).
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading

import jax
import numpy as np
from absl import logging as absl_logging
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"
ENV_COORDINATOR = "JAX_COORDINATOR_ADDRESS"
ENV_NUM_PROCESSES = "JAX_NUM_PROCESSES"
ENV_PROCESS_ID = "JAX_PROCESS_ID"
ENV_TIMEOUT = "INDUCTIVE_KD_INIT_TIMEOUT"
DEFAULT_TIMEOUT_S = 300
# Exit status of a process whose distributed start timed out (the watchdog exits, see below).
TIMEOUT_EXIT_CODE = 3
DISTRIBUTED_MODES = ("off", "auto")  # config.distributed


class DistributedError(ValueError):
  """The multi-process setup is wrong; the message (one line) says what to change.

  A ValueError, so main.py reports it in one line like any other bad input.
  """


def _env_int(name: str) -> int | None:
  value = os.environ.get(name)
  if value in (None, ""):
    return None
  try:
    return int(value)
  except ValueError:
    raise DistributedError(f"{name}={value!r} is not an integer.") from None


def _can_connect(address: str, timeout_s: float = 2.0) -> bool:
  host, _, port = address.rpartition(":")
  try:
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
      return True
  except (OSError, ValueError):
    return False


def _timeout_message(address: str | None, num_processes: int | None, process_id: int | None,
                     timeout_s: float) -> str:
  n = num_processes if num_processes is not None else "all"
  if address and process_id != 0 and not _can_connect(address):
    return (f"error: cannot reach the coordinator at {address} after {timeout_s:g} s: start "
            f"process 0 first or fix {ENV_COORDINATOR} (host:port of process 0, open to this "
            f"host), or raise {ENV_TIMEOUT}.")
  return (f"error: not all {n} processes joined the coordinator at {address or '(auto-detected)'}"
          f" within {timeout_s:g} s: start every process with the same {ENV_NUM_PROCESSES} and a "
          f"distinct {ENV_PROCESS_ID} in 0..N-1 (or the same SLURM/TPU job), or raise "
          f"{ENV_TIMEOUT}.")


@contextlib.contextmanager
def _watchdog(timeout_s: float, message):
  """Exits the process with a one-line error if the body runs longer than `timeout_s`.

  jax.distributed.initialize aborts the interpreter from C++ (SIGABRT and a stack trace) when its
  own timeout expires, so its failure cannot be caught as an exception; this fires first (JAX gets
  a longer timeout) and exits cleanly with TIMEOUT_EXIT_CODE.
  """
  def fire():
    os.write(2, (message() + "\n").encode())  # Not via logging: its handler may be buffered.
    os._exit(TIMEOUT_EXIT_CODE)  # pylint: disable=protected-access

  timer = threading.Timer(timeout_s, fire)
  timer.daemon = True
  timer.start()
  try:
    yield
  finally:
    timer.cancel()


def _use_cpu_collectives() -> None:
  """Cross-process collectives on CPU need an implementation (gloo); GPU/TPU ignore this flag.

  Must be set before the CPU backend is created; JAX >= 0.5 defaults to gloo already, older
  versions to none (every cross-process computation would then fail).
  """
  if getattr(jax.config, "jax_cpu_collectives_implementation", None) in (None, "none"):
    jax.config.update("jax_cpu_collectives_implementation", "gloo")


def maybe_initialize_distributed(mode: str, *, coordinator_address: str | None = None,
                                 num_processes: int | None = None, process_id: int | None = None,
                                 timeout_s: float | None = None) -> None:
  """mode 'auto' joins this process to a multi-process job; 'off' does nothing.

  'auto' calls jax.distributed.initialize(), which detects SLURM, Open MPI and Cloud TPU pods; the
  arguments, else JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID, override it. Every
  failure (an unreachable coordinator, processes that never join, processes that disagree on the
  process count, processes with different device counts) ends in a one-line error.
  """
  if mode == "off":
    return
  if mode not in DISTRIBUTED_MODES:
    raise DistributedError(f"config.distributed must be one of {DISTRIBUTED_MODES}, got {mode!r}.")
  if jax.distributed.is_initialized():
    return
  address = coordinator_address or os.environ.get(ENV_COORDINATOR) or None
  num_processes = num_processes if num_processes is not None else _env_int(ENV_NUM_PROCESSES)
  process_id = process_id if process_id is not None else _env_int(ENV_PROCESS_ID)
  if (num_processes is None) != (process_id is None):
    raise DistributedError(f"Set both {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID} (got "
                           f"{num_processes} and {process_id}), or neither on SLURM/MPI/TPU.")
  if num_processes is not None:
    if not 0 <= process_id < num_processes:
      raise DistributedError(f"{ENV_PROCESS_ID}={process_id} must be in 0..{num_processes - 1} "
                             f"({ENV_NUM_PROCESSES}={num_processes}).")
    if address is None:
      raise DistributedError(f"{ENV_NUM_PROCESSES} is set but {ENV_COORDINATOR} is not: set it "
                             "to host:port of process 0 on every process.")
  if timeout_s is None:
    timeout_s = _env_int(ENV_TIMEOUT) or DEFAULT_TIMEOUT_S
  _use_cpu_collectives()

  def message():
    # JAX records the (possibly auto-detected) address before it starts waiting.
    state = getattr(getattr(jax._src, "distributed", None), "global_state", None)  # pylint: disable=protected-access
    return _timeout_message(address or getattr(state, "coordinator_address", None),
                            num_processes, process_id, timeout_s)

  try:
    with _watchdog(timeout_s, message):
      jax.distributed.initialize(coordinator_address=address, num_processes=num_processes,
                                 process_id=process_id,
                                 initialization_timeout=int(timeout_s) + 60)
      # The device topology is exchanged when the backend starts: inside the watchdog too.
      jax.devices()
  except (ValueError, RuntimeError, TypeError) as e:
    first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise DistributedError(
        f"jax.distributed.initialize() failed: {first_line} Run under SLURM/Open MPI/a TPU pod, "
        f"or set {ENV_COORDINATOR}, {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID}; or use "
        "--config.distributed=off for one process.") from None
  check_topology(expected_processes=num_processes)
  if jax.process_index() != 0:
    # One log for the job: the other processes report only warnings and errors.
    absl_logging.set_verbosity(absl_logging.WARNING)
  logging.info("jax.distributed: process %d of %d, %d local / %d global devices (%s).",
               jax.process_index(), jax.process_count(), jax.local_device_count(),
               jax.device_count(), jax.devices()[0].platform)


def check_topology(expected_processes: int | None = None) -> None:
  """Every process must agree on the process count and hold the same number of devices.

  Both checks give the same answer on every process (they use the global device list and an
  all-gather, which needs equal device counts: that check comes first), so all processes stop
  together instead of leaving the others waiting.
  """
  per_process = np.bincount([d.process_index for d in jax.devices()],
                            minlength=jax.process_count())
  if len(set(per_process.tolist())) > 1:
    raise DistributedError(
        "Every process needs the same number of devices, got "
        f"{dict(enumerate(per_process.tolist()))} (process: devices); make the visible devices "
        "(CUDA_VISIBLE_DEVICES, JAX_LOCAL_DEVICE_IDS, --xla_force_host_platform_device_count) "
        "the same on every process.")
  if jax.process_count() > 1:
    claimed = multihost_utils.process_allgather(
        np.asarray(-1 if expected_processes is None else expected_processes, np.int32))
    claimed = sorted({int(c) for c in np.ravel(claimed)} - {-1})
    if claimed and claimed != [jax.process_count()]:
      raise DistributedError(
          f"The processes disagree on the process count: {ENV_NUM_PROCESSES} was {claimed} but "
          f"{jax.process_count()} processes joined; start every process with "
          f"{ENV_NUM_PROCESSES}={jax.process_count()} (or the number you meant, all started).")


def make_mesh() -> Mesh:
  """All devices, grouped by process, so each process's rows of a batch are one contiguous block
  (cheap host slicing, and the gathered outputs come back in batch order)."""
  devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def process_slice(global_batch: int, mesh: Mesh | None = None) -> slice | np.ndarray:
  """The rows of each global batch that this process feeds: its devices' shards, in order.

  Read from the sharding itself, so it matches what `make_array_from_process_local_data` expects
  for any device order (a slice for the contiguous block `make_mesh` gives, else the indices).
  """
  if jax.process_count() == 1:
    return slice(0, global_batch)
  sharding = batch_sharded(mesh if mesh is not None else make_mesh())
  starts = sorted({s[0].start or 0
                   for s in sharding.addressable_devices_indices_map((global_batch,)).values()})
  per_device = global_batch // len(sharding.mesh.devices.flat)
  rows = np.concatenate([np.arange(s, s + per_device) for s in starts])
  if np.array_equal(rows, np.arange(rows[0], rows[0] + len(rows))):
    return slice(int(rows[0]), int(rows[0]) + len(rows))
  return rows


def global_batch(mesh: Mesh, local: dict) -> dict:
  """Host-local numpy rows of a global batch -> global arrays sharded over the data axis.

  Each process passes only its own rows, so no process loads or moves the whole batch.
  """
  sharding = batch_sharded(mesh)
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, x), local)


def to_host(tree):
  """Global (possibly multi-host) arrays -> numpy with every row, on every process."""
  if jax.process_count() == 1:
    return jax.tree.map(np.asarray, tree)
  return multihost_utils.process_allgather(tree, tiled=True)


def is_main_process() -> bool:
  return jax.process_index() == 0

