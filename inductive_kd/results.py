"""What a finished run leaves in its workdir: results.json, predictions/<set>.npz and
history.json (every evaluation's metrics over training, the learning curves).

results.json is the run's record for the report and run.sh: its metrics on every test set, how it
was trained, and its `setup`: the scenario (config.data.name), the student's architecture key
(config.arch) and the teacher's (the teacher config's arch, or null for a model trained alone).
Readers take the setup from these fields, never from the run's name.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from inductive_kd import fileio, runtime

FILE = "results.json"
HISTORY = "history.json"
_EVAL_PREFIX = "eval/"  # train._evaluate_and_log's TensorBoard tags: eval/<set>/<metric>.


def write_json(path: Path, payload) -> None:
  """Atomically: a reader never sees a half-written file, and a killed run leaves no results."""
  fileio.atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True))


def is_finished(workdir: Path) -> bool:
  return (Path(workdir) / FILE).exists()


def read(workdir: Path) -> dict:
  path = Path(workdir) / FILE
  try:
    payload_ = json.loads(path.read_text())
    what = "not a results.json (no 'test' metrics)"
  except ValueError as e:
    payload_, what = None, f"not valid JSON ({e})"
  if not isinstance(payload_, dict) or not isinstance(payload_.get("test"), dict):
    raise ValueError(f"{path} is {what}; delete it and rerun: the run resumes from its last "
                     "checkpoint and writes it again.")
  return payload_


def payload(config, *, seed: int, step: int, steps_per_epoch: int, devices: int, teacher,
            wall_s: float, timed_steps: int, results: dict) -> dict:
  """The results.json of one seed (`teacher` is the run's teacher_lib.Teacher or None)."""
  out = {
      "name": config.name, "model": config.model.name, "seed": seed, "steps": step,
      "setup": {"scenario": config.data.name, "student": config.arch or None,
                "teacher": teacher.arch if teacher else None},
      "epochs": step / steps_per_epoch, "steps_per_epoch": steps_per_epoch,
      "batch_size": config.train.batch_size, "devices": devices,
      "num_seeds_vmapped": config.num_seeds,
      "teacher_workdir": str(teacher.workdir) if teacher else None,
      "teacher_config": config.teacher.config or None,
      "teacher_mode": config.distill.teacher_mode if teacher else None,
      "train_wall_s": wall_s, "train_steps_per_s": timed_steps / wall_s if wall_s else None,
      "machine": runtime.machine(), "test": results, "config": json.loads(config.to_json_best_effort()),
  }
  if config.num_seeds > 1:
    out["config"]["seed"] = seed
  return out


def write(workdir: Path, payload_: dict, outputs: dict, eval_sets: dict) -> None:
  """results.json and the per-example outputs of every test set (with its labels, if any)."""
  pred_dir = Path(workdir) / "predictions"
  pred_dir.mkdir(exist_ok=True)
  for name, out in outputs.items():
    arrays = eval_sets[name]
    labels = {"labels": arrays["labels"]} if "labels" in arrays else {}
    np.savez_compressed(pred_dir / f"{name}.npz", **labels, **out)
  write_json(Path(workdir) / FILE, payload_)


def eval_history(workdir: Path) -> dict:
  """{"steps": [...], "<set>/<metric>": [value per step]}: every evaluation of the run in
  `workdir`, read from its TensorBoard event files (one per start; where a resumed run evaluated a
  step again, the later value is kept). Empty when the run logged no evaluation."""
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  from tensorboard.util import tensor_util  # pylint: disable=g-import-not-at-top
  values: dict[str, dict[int, float]] = {}
  for path in sorted(Path(workdir).glob("events.out.tfevents.*")):
    acc = event_accumulator.EventAccumulator(
        str(path), size_guidance={event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = acc.Tags()
    for tag in tags.get("tensors", []):
      if tag.startswith(_EVAL_PREFIX):
        for event in acc.Tensors(tag):
          values.setdefault(tag[len(_EVAL_PREFIX):], {})[event.step] = float(
              tensor_util.make_ndarray(event.tensor_proto))
    for tag in tags.get("scalars", []):
      if tag.startswith(_EVAL_PREFIX):
        for event in acc.Scalars(tag):
          values.setdefault(tag[len(_EVAL_PREFIX):], {})[event.step] = float(event.value)
  steps = sorted({s for v in values.values() for s in v})
  if not steps:
    return {}
  return {"steps": steps, **{k: [v.get(s, float("nan")) for s in steps]
                             for k, v in sorted(values.items())}}


def write_history(workdir: Path) -> None:
  """<workdir>/history.json from the run's event files (eval_history)."""
  write_json(Path(workdir) / HISTORY, eval_history(workdir))


def read_history(workdir: Path) -> dict:
  """history.json of a run, or {} when there is none."""
  path = Path(workdir) / HISTORY
  if not path.is_file():
    return {}
  try:
    history = json.loads(path.read_text())
  except ValueError:
    return {}
  return history if isinstance(history, dict) else {}
