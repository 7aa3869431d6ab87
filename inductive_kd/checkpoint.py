"""Orbax checkpoints: the resumable training state, and the final variables a teacher is read from.

`workdir/checkpoints/<step>/` holds the whole TrainState (params, BatchNorm statistics, optimiser
state, RNG, step); a killed run restarts from the latest one. `workdir/final/` holds only
{'params', 'batch_stats'}, so a teacher can be restored without knowing its optimiser.
"""
from __future__ import annotations

from pathlib import Path

import jax
import orbax.checkpoint as ocp


def manager(workdir: Path, max_to_keep: int) -> ocp.CheckpointManager:
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
  return ocp.CheckpointManager(Path(workdir).absolute() / "checkpoints", options=options)


def restore_latest(mgr: ocp.CheckpointManager, abstract_state):
  """Returns (state, step) from the latest checkpoint, or (None, 0) if there is none."""
  step = mgr.latest_step()
  if step is None:
    return None, 0
  state = mgr.restore(step, args=ocp.args.StandardRestore(abstract_state))
  return state, int(step)


def save(mgr: ocp.CheckpointManager, step: int, state) -> None:
  mgr.save(step, args=ocp.args.StandardSave(state), force=True)


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
