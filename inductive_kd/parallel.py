"""Data parallelism: one mesh over every device of every process, batch sharded, params replicated.

This is what `pmap` became: a `jax.sharding.Mesh` with one axis 'data', `NamedSharding`s for the
batch (split on its first axis) and for the state (replicated), and `jax.jit` doing the rest. The
same code runs on 1 CPU, N local accelerators, or several hosts after `jax.distributed.initialize`.
"""
from __future__ import annotations

import logging

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = "data"


def maybe_initialize_distributed(mode: str) -> None:
  """mode 'auto' calls jax.distributed.initialize() (SLURM, Open MPI, TPU pods or the
  JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID environment); 'off' does nothing."""
  if mode == "off":
    return
  if mode != "auto":
    raise ValueError(f"config.distributed must be 'off' or 'auto', got {mode!r}.")
  if jax.distributed.is_initialized():
    return
  try:
    jax.distributed.initialize()
  except Exception as e:  # pylint: disable=broad-except
    raise RuntimeError(
        f"jax.distributed.initialize() failed: {e}. Check the coordinator address and the "
        "process count/id (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID), or set "
        "--config.distributed=off for a single-process run.") from None
  logging.info("jax.distributed: process %d of %d, %d local / %d global devices.",
               jax.process_index(), jax.process_count(), jax.local_device_count(),
               jax.device_count())


def make_mesh() -> Mesh:
  return Mesh(np.asarray(jax.devices()), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def process_slice(global_batch: int) -> slice:
  """The rows of each global batch that this process feeds (its devices' share)."""
  per_process = global_batch // jax.process_count()
  start = jax.process_index() * per_process
  return slice(start, start + per_process)


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
