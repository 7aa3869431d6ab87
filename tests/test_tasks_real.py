"""The agreement classification task on Linzen's real text (config.data.sva_source='numpred'):
splits, vocabulary, train/test overlap, metrics, errors, and a run end to end."""
import json
from pathlib import Path

import numpy as np
import pytest

from inductive_kd import config as config_lib
from inductive_kd import tasks
from inductive_kd.data import sva, sva_real

SHARED = Path(__file__).parents[2] / "shared" / "data" / "sva"
SPEC = "configs/sva_cl.py:student=lstm,data=numpred,quick"
SETS = ["valid"] + [f"numpred_test_{k}" for k in range(1, 6)] + ["gulordava"]


@pytest.fixture
def real_dir(tmp_path):
  """shared/data/sva in miniature: 30 numpred.val items, three of them also in a test set."""
  simple, gul = tmp_path / sva_real.NUMPRED_DIR, tmp_path / sva_real.GULORDAVA_DIR
  simple.mkdir()
  gul.mkdir()
  val = [f"{('VBZ', 'VBP')[i % 2]}\tthe dog{i} near the cats" for i in range(27)]
  val += ["VBP\tthe keys to the cabinet",  # Gulordava's first prefix.
          "VBZ\tthe boy with the toys", "VBZ\tthe boy with the toys"]  # In numpred.test.1.
  (simple / "numpred.val").write_text("\n".join(val) + "\n")
  (simple / "numpred.test.1").write_text("VBZ\tthe boy with the toys\n"
                                         "VBP\tthe zebras near a dog1\n")
  for k in range(2, 6):
    (simple / f"numpred.test.{k}").write_text("VBZ\tthe zebra near the cats\n" * (k - 1))
  (gul / "subj_agr_filtered.text").write_text("the keys to the cabinet are here <eos>\n"
                                              "the dog is here <eos>\n")
  (gul / "subj_agr_filtered.gold").write_text("5\tare\tis\t1\n2\tis\tare\t0\n")
  return tmp_path


def _config(real_dir, spec=SPEC):
  c = config_lib.load_config_file(spec)
  c.data.real_dir = str(real_dir)
  return c


def test_splits_vocab_from_train_only_and_overlap_removed_from_training_data(real_dir):
  splits, vocab, overlap = sva_real.load_cl_task(real_dir)
  assert list(splits) == ["train", "valid"] + SETS[1:]
  # 10% held out (3 of 30, Gulordava's twin among them); the three duplicates leave train and
  # valid, never a test set.
  assert overlap == {"numpred_test_1": {"train": 2, "valid": 0},
                     "gulordava": {"train": 0, "valid": 1},
                     **{f"numpred_test_{k}": {"train": 0, "valid": 0} for k in range(2, 6)}}
  assert (len(splits["train"]["label"]), len(splits["valid"]["label"])) == (25, 2)
  assert [len(splits[f"numpred_test_{k}"]["label"]) for k in range(1, 6)] == [2, 1, 2, 3, 4]
  assert len(splits["gulordava"]["label"]) == 2
  # Identical = the same words, before the vocabulary maps any to <unk>.
  val = (real_dir / sva_real.NUMPRED_DIR / "numpred.val").read_text().splitlines()
  words = lambda split: {val[i - 1].split("\t")[1] for i in splits[split]["line"]}
  assert not (words("train") | words("valid")) & {"the boy with the toys",
                                                   "the keys to the cabinet"}
  # Words seen only in valid, in the test sets or in the removed items are not in the vocabulary.
  valid_dogs = {w for s in words("valid") for w in s.split() if w.startswith("dog")}
  assert len(valid_dogs) == 2 and not valid_dogs & set(vocab.itos)
  assert not {"zebra", "zebras", "keys", "cabinet", "boy", "toys"} & set(vocab.itos)
  assert len(vocab) == len(sva.SPECIALS) + 25 + 3  # dog<i> of train, the, near, cats.
  # Gulordava is cut before the verb; its attractor counts and labels come from the gold file.
  g = splits["gulordava"]
  assert vocab.decode(g["inputs"][1]) == ["the", "<unk>", "<eos>"]  # "dog" alone is unseen.
  assert g["label"].tolist() == [1, 0] and g["n_diff_intervening"].tolist() == [1, 0]
  assert (splits["numpred_test_3"]["n_diff_intervening"] == 3).all()
  # Deterministic: the same split every time.
  again = sva_real.load_cl_task(real_dir)[0]
  np.testing.assert_array_equal(again["valid"]["line"], splits["valid"]["line"])


def test_task_sets_and_metrics_defined_by_the_data(real_dir):
  task = tasks.create(_config(real_dir))
  assert list(task.eval_sets) == SETS and task.num_train == 25
  results = {}
  for name, arrays in task.eval_sets.items():
    n = len(arrays["labels"])
    probs = np.full((n, 2), 0.5, np.float32)
    outputs = {"pred": arrays["labels"].copy(), "probs": probs, "loss": np.ones(n)}
    results[name] = task.summarize(outputs, arrays)
  results.update(task.aggregate(results))
  assert all(r["accuracy"] == 1.0 and "ece" in r for r in results.values())
  assert "overlap_removed" not in results["valid"]
  assert [results[s]["overlap_removed"] for s in SETS[1:]] == [2, 0, 0, 0, 0, 1]
  # Unparsed text: no distance bins, and only the attractor counts a set has.
  assert not any("macro_distance" in r or "macro_attractors" in r for r in results.values())
  assert not any(k.startswith("acc_attractors") for k in results["valid"])
  assert {k for k in results["numpred_test_2"] if "attractors" in k} == {
      "acc_attractors_2", "count_attractors_2"}
  g = results["gulordava"]
  assert g["count_attractors_0"] == g["count_attractors_1"] == 1
  # Reflect's metrics keep n_intervening <= 4: numpred_test_5's accuracy is its only k=5 number.
  assert "mu_accuracy" not in results["numpred_test_5"]


def test_missing_folder_file_and_malformed_lines_are_one_line_errors(real_dir, tmp_path):
  with pytest.raises(config_lib.ConfigError, match=r"nope' does not exist.*real_dir=DIR") as e:
    tasks.create(_config(tmp_path / "nope"))
  assert "\n" not in str(e.value)
  (real_dir / sva_real.NUMPRED_DIR / "numpred.test.4").unlink()
  with pytest.raises(ValueError, match=r"numpred\.test\.4 does not exist: .* must hold"):
    sva_real.load_cl_task(real_dir)
  (real_dir / sva_real.NUMPRED_DIR / "numpred.test.4").write_text("VBZ the zebra\n")
  with pytest.raises(ValueError, match=r"numpred\.test\.4: all 1 lines are malformed.*line 1"):
    sva_real.load_cl_task(real_dir)
  (real_dir / sva_real.NUMPRED_DIR / "numpred.test.4").write_text("VBZ\tthe zebra\n")
  (real_dir / sva_real.GULORDAVA_DIR / "subj_agr_filtered.gold").write_text(
      "5\tare\tis\t1\n2\tis\tare\n")
  with pytest.raises(ValueError, match=r"subj_agr_filtered\.gold: 1 of 2 .*line 2: 3 gold"):
    sva_real.load_cl_task(real_dir)


def test_train_and_evaluate_on_hand_made_real_text(real_dir, tmp_path):
  from inductive_kd import train  # pylint: disable=g-import-not-at-top
  c = _config(real_dir)
  c.train.batch_size, c.train.num_steps, c.eval.every_steps = 8, 2, 2
  c.train.checkpoint_every_steps, c.eval.batch_size, c.analysis.probe_size = 2, 8, 3
  train.train_and_evaluate(c, str(tmp_path / "run"))
  out = json.loads((tmp_path / "run" / "results.json").read_text())
  assert out["name"] == "sva_cl_numpred_lstm" and sorted(out["test"]) == sorted(SETS)
  assert out["test"]["gulordava"]["overlap_removed"] == 1
  assert out["test"]["numpred_test_3"]["num_examples"] == 2
  assert out["config"]["data"]["sva_source"] == "numpred"


@pytest.mark.skipif(not SHARED.exists(), reason=f"real SVA pieces not found at {SHARED}")
@pytest.mark.filterwarnings("ignore:.*skipped 4 malformed line")
def test_the_real_task():
  splits, vocab, overlap = sva_real.load_cl_task(SHARED)
  removed = {split: sum(o[split] for o in overlap.values()) for split in ("train", "valid")}
  assert {k: v for k, v in overlap.items() if any(v.values())} == {
      "numpred_test_1": {"train": 31, "valid": 2}, "gulordava": {"train": 1156, "valid": 111}}
  # A few train items are in both numpred_test_1 and gulordava, so removed once.
  assert len(splits["valid"]["label"]) == 1577 - removed["valid"] == 1464
  assert len(splits["train"]["label"]) == 15772 - 1577 - 1183 == 13012
  assert removed["train"] - 1183 == 4
  assert [len(splits[f"numpred_test_{k}"]["label"]) for k in range(1, 6)] == [
      52599, 9380, 2051, 561, 159]  # DATA.md: whole files.
  assert len(splits["gulordava"]["label"]) == 7485  # 7,489 less 4 unpairable gold lines.
  assert np.bincount(splits["gulordava"]["n_diff_intervening"]).tolist() == [
      1970, 1957, 1943, 1285, 330]
  train_words = {w for row in splits["train"]["inputs"] for w in vocab.decode(row)}
  assert len(vocab) == 7309 and set(vocab.itos) == train_words | set(sva.SPECIALS)
  task = tasks.create(config_lib.load_config_file("configs/sva_cl.py:student=lstm,data=numpred"))
  assert list(task.eval_sets) == SETS and task.num_train == 13012
  assert len(task.eval_sets["numpred_test_1"]["labels"]) == 20000  # config.eval.limit


def _linzen_style_files(tmp_path):
  """A small file in the format of Linzen's agr_50_mostcommon_10K.tsv (the offline corpus writes
  that format) and a Gulordava folder of real-format items built from its is/are sentences."""
  from inductive_kd.data import sva_corpus  # pylint: disable=g-import-not-at-top
  tsv = tmp_path / "agr_50_mostcommon_10K.tsv"
  sva_corpus.write_tsv(tsv, 600, seed=0)
  rows = [dict(zip(sva.FIELDS, line.split("\t"))) for line in tsv.read_text().splitlines()[1:]]
  items = [r for r in rows if r["verb"] in ("is", "are")][:6]
  gul = tmp_path / "real" / sva_real.GULORDAVA_DIR
  gul.mkdir(parents=True)
  (gul / "subj_agr_filtered.text").write_text("".join(r["orig_sentence"] + " <eos>\n"
                                                      for r in items))
  (gul / "subj_agr_filtered.gold").write_text("".join(
      f"{int(r['verb_index']) - 1}\t{r['verb']}\t{'are' if r['verb'] == 'is' else 'is'}\t"
      f"{r['n_diff_intervening']}\n" for r in items))
  return tsv, tmp_path / "real", len(items)


def test_a_language_model_on_linzens_file_is_scored_on_gulordava(tmp_path):
  """The path a user with Linzen's full file takes (README): train the LM on it and score
  agreement on Gulordava et al.'s sentences with the training vocabulary."""
  from inductive_kd import train  # pylint: disable=g-import-not-at-top
  tsv, real, n = _linzen_style_files(tmp_path)
  c = config_lib.load_config_file("configs/sva_lm.py:student=lstm,quick")
  c.data.sva_tsv, c.data.real_dir, c.eval.gulordava = str(tsv), str(real), True
  c.train.batch_size, c.train.num_steps, c.eval.every_steps = 8, 2, 2
  c.train.checkpoint_every_steps, c.eval.batch_size, c.analysis.probe_every = 2, 8, 0
  out = train.train_and_evaluate(c, str(tmp_path / "run"))
  gul = out["test"]["gulordava"]
  assert gul["num_examples"] == n and 0 <= gul["mu_accuracy"] <= 1 and gul["perplexity"] > 1
  assert "macro_distance" not in gul  # Gulordava's items carry no subject-verb distance.
  assert set(out["test"]) == {"valid", "test", "gulordava"}
  c.data.sva_tsv = ""
  with pytest.raises(config_lib.ConfigError, match="needs a language model trained on Linzen"):
    tasks.create(c)
