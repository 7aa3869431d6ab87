"""inductive_kd.checkpoint: a damaged latest checkpoint is skipped (and set aside, named in one
warning) for the newest one that restores; when none restores, one line says so."""
import logging
import os
import shutil

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
