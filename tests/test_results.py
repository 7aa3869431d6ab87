"""inductive_kd.results: results.json records the run's setup (never to be parsed from names)."""
import json
import time
import types

import pytest

from inductive_kd import config as config_lib
from inductive_kd import results


def _payload(config, teacher):
  return results.payload(config, seed=config.seed, step=10, steps_per_epoch=5, devices=1,
                         teacher=teacher, wall_s=2.0, timed_steps=10, results={"mnist": {}})


def test_setup_of_a_baseline_and_of_a_student(tmp_path):
  base = _payload(config_lib.load_config_file("configs/mnist_cnn.py"), None)
  assert base["setup"] == {"scenario": "mnist", "student": "cnn", "teacher": None}
  assert base["teacher_mode"] is None and base["train_steps_per_s"] == 5.0
  c = config_lib.load_config_file("configs/sva_cl.py:student=transformer_seq,teacher=lstm")
  teacher = types.SimpleNamespace(arch="lstm", workdir=tmp_path / "t")
  p = _payload(c, teacher)
  assert p["setup"] == {"scenario": "sva_cl", "student": "transformer_seq", "teacher": "lstm"}
  assert p["teacher_mode"] == "train" and p["teacher_workdir"] == str(tmp_path / "t")
  results.write(tmp_path, p, {}, {})
  assert results.is_finished(tmp_path) and results.read(tmp_path)["setup"] == p["setup"]
  assert not list(tmp_path.glob("*.tmp"))
  assert json.loads((tmp_path / "results.json").read_text())["name"] == c.name


def test_eval_history_reads_every_evaluation_and_a_resumed_start_wins(tmp_path):
  from clu import metric_writers  # pylint: disable=g-import-not-at-top
  for values in ({10: 0.5, 20: 0.6}, {20: 0.7, 30: 0.8}):  # two starts: the second resumed at 10
    writer = metric_writers.create_default_writer(str(tmp_path))
    for step, value in values.items():
      writer.write_scalars(step, {"eval/valid/mu_accuracy": value, "train/total_loss": 1.0})
    writer.flush()
    writer.close()
    time.sleep(1.1)  # event file names hold the start's second
  history = results.eval_history(tmp_path)
  assert history["steps"] == [10, 20, 30]
  assert history["valid/mu_accuracy"] == pytest.approx([0.5, 0.7, 0.8])
  assert set(history) == {"steps", "valid/mu_accuracy"}  # training scalars are not evaluations
  results.write_history(tmp_path)
  assert results.read_history(tmp_path) == history
  assert results.read_history(tmp_path / "none") == {}
