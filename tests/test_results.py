"""inductive_kd.results: results.json records the run's setup (never to be parsed from names)."""
import json
import types

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
