"""Tests for inductive_kd.data.sva (Linzen TSV reader, vocabulary, splits, task arrays)."""

import gzip
import re
import urllib.error
import urllib.request

import numpy as np
import pytest

from inductive_kd.data import sva, sva_corpus
from inductive_kd.sva_metrics import agreement_metrics

HEADER = "\t".join(sva.FIELDS)


def _row(sentence, subj_index, verb_index, n_int, n_diff, *, verb_pos=None, distance=None):
  toks = sentence.split()
  verb = toks[verb_index - 1]
  verb_pos = verb_pos or ("VBZ" if verb in ("is", "has") or verb.endswith("s") else "VBP")
  fields = dict(
      sentence=sentence, orig_sentence=sentence, pos_sentence=" ".join(["X"] * len(toks)),
      subj=toks[subj_index - 1], verb=verb, subj_pos="NN" if verb_pos == "VBZ" else "NNS",
      has_rel="False", has_nsubj="False", verb_pos=verb_pos, subj_index=str(subj_index),
      verb_index=str(verb_index), n_intervening=str(n_int), last_intervening="na",
      n_diff_intervening=str(n_diff),
      distance=str(verb_index - subj_index if distance is None else distance), max_depth="0",
      all_nouns="", nouns_up_to_verb="")
  return "\t".join(fields[c] for c in sva.FIELDS)


HAND_ROWS = [
    _row("the keys to the cabinet are on the table .", 2, 6, 1, 1),
    _row("the author that the guards like laughs .", 2, 7, 1, 1),
    _row("the dog is here .", 2, 3, 0, 0),
    _row("the man near the dogs of the NN has a NN .", 2, 9, 2, 1),
]


@pytest.fixture(scope="module")
def gen_path(tmp_path_factory):
  p = tmp_path_factory.mktemp("sva") / "gen.tsv.gz"
  sva_corpus.write_tsv(p, 2000, seed=0)
  return p


@pytest.fixture(scope="module")
def lm(gen_path):
  return sva.prepare("lm", gen_path)


@pytest.fixture(scope="module")
def cl(gen_path):
  return sva.prepare("cl", gen_path)


# -- vocabulary ---------------------------------------------------------------------------------
def test_vocab_ids_round_trip_and_tie_break(tmp_path):
  v = sva.Vocab.build(["b a c a", "c b d", "a"], size=3)
  assert v.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c"]  # b, c tie: by word
  assert (v.id("<pad>"), v.id("<unk>"), v.id("<bos>"), v.id("<eos>")) == (0, 1, 2, 3)
  assert v.encode("a d c") == [4, 1, 6]
  assert v.decode([2, 4, 5, 3, 0, 0]) == ["<bos>", "a", "b", "<eos>"]
  assert v.decode(v.encode("c b a")) == ["c", "b", "a"]
  v.save(tmp_path / "v.json")
  assert sva.Vocab.load(tmp_path / "v.json") == v
  assert len(sva.Vocab.build(["b a c a", "c b d"], size=None)) == 8
  with pytest.raises(ValueError, match="unique"):
    sva.Vocab(["a", "a"])


# -- reading ------------------------------------------------------------------------------------
def test_hand_made_rows_parse(tmp_path):
  p = tmp_path / "hand.tsv"
  p.write_text(HEADER + "\n" + "\n".join(HAND_ROWS) + "\n")
  deps, rep = sva.read_tsv(p)
  assert rep.n_malformed == 0 and len(deps) == 4
  np.testing.assert_array_equal(deps.n_diff_intervening, [1, 1, 0, 1])
  np.testing.assert_array_equal(deps.n_intervening, [1, 1, 0, 2])
  np.testing.assert_array_equal(deps.label, [1, 0, 0, 0])
  np.testing.assert_array_equal(deps.verb_index, [6, 7, 3, 9])
  np.testing.assert_array_equal(deps.line, [2, 3, 4, 5])
  # Plain and gzip read the same.
  g = tmp_path / "hand.tsv.gz"
  g.write_bytes(gzip.compress(p.read_bytes()))
  assert sva.read_tsv(g)[0].sentence == deps.sentence


def test_malformed_lines_are_counted_with_line_numbers(tmp_path):
  good = HAND_ROWS * 3
  bad = [
      "too\tfew\tcolumns",                                              # line 3
      HAND_ROWS[0].replace("\t6\t1\t", "\tsix\t1\t", 1),                 # line 6: non-integer
      _row("the dog is here .", 2, 3, 0, 0).replace("\t3\t0\t", "\t9\t0\t", 1),  # line 9: range
      _row("the dog is here .", 2, 3, 0, 0, verb_pos="VBD"),             # line 12
  ]
  misaligned = _row("the dog is here .", 2, 3, 0, 0).replace("\tis\tNN\t", "\tare\tNN\t", 1)
  lines = [HEADER] + good[:1] + bad[:1] + good[1:3] + bad[1:2] + good[3:5] + bad[2:3] \
      + good[5:7] + bad[3:] + good[7:] + [misaligned]                      # line 18
  p = tmp_path / "bad.tsv"
  p.write_text("\n".join(lines) + "\n")
  with pytest.warns(UserWarning, match="line 3"):
    deps, rep = sva.read_tsv(p, max_bad_fraction=0.5)
  assert [n for n, _ in rep.malformed] == [3, 6, 9, 12, 18]
  reasons = [r for _, r in rep.malformed]
  assert "columns" in reasons[0] and "non-integer" in reasons[1]
  assert "out of range" in reasons[2] and "verb_pos" in reasons[3]
  assert "neither the verb 'are'" in reasons[4]
  assert len(deps) == 12 and rep.n_lines == 17
  assert "5 malformed" in rep.summary()
  with pytest.raises(ValueError, match="max_bad_fraction"):
    sva.read_tsv(p, max_bad_fraction=0.1)
  allbad = tmp_path / "allbad.tsv"
  allbad.write_text(HEADER + "\n" + "\n".join(bad + [misaligned]) + "\n")
  with pytest.raises(ValueError, match="all 5 lines"):
    sva.read_tsv(allbad, max_bad_fraction=1.0)


def test_too_long_rows_dropped_before_split_and_counted(tmp_path):
  long = " ".join(["the"] * 55 + ["dog", "is"])
  p = tmp_path / "long.tsv"
  p.write_text(HEADER + "\n" + "\n".join(HAND_ROWS + [_row(long, 56, 57, 0, 0)]) + "\n")
  deps, rep = sva.read_tsv(p, max_len=50)
  assert len(deps) == 4 and rep.n_too_long == 1 and rep.n_malformed == 0
  assert len(sva.read_tsv(p, max_len=None)[0]) == 5
  # max_len=None: no cut (Reflect's split); arrays as wide as the longest sentence + 1.
  splits, _, rep = sva.prepare("lm", p, max_len=None, split_fractions=(0.4, 0.2))
  assert rep.n_too_long == 0 and splits["test"]["inputs"].shape[1] == 58
  assert [len(splits[k]["label"]) for k in ("train", "valid", "test")] == [2, 1, 2]


def test_missing_file_and_bad_task_are_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="config.data.sva_tsv"):
    sva.read_tsv(tmp_path / "nope.tsv")
  with pytest.raises(ValueError, match="task="):
    sva.load_task("mlm", tmp_path / "nope.tsv")


def test_a_file_that_is_not_text_is_one_line_naming_it(tmp_path):
  binary = tmp_path / "weights.bin"
  binary.write_bytes(bytes(range(256)) * 40)
  what = "so not a Linzen agreement TSV (18 columns)"
  with pytest.raises(ValueError) as e:
    sva.load_task("cl", binary, cache_dir=tmp_path / "cache")  # As the trainer reads it.
  assert str(e.value) == (f"{binary} is not UTF-8 text (byte 0x80: invalid start byte; a binary "
                          f"file?), {what}")
  # Text whose first lines are fine and a later line is not.
  late = tmp_path / "late.tsv"
  late.write_bytes(("\n".join([HEADER] + HAND_ROWS * 3000) + "\n").encode() + b"\xff\xfe\n")
  with pytest.raises(ValueError, match=f"{late} is not UTF-8 text .*, {re.escape(what)}"):
    sva.read_tsv(late)
  truncated = tmp_path / "cut.tsv.gz"
  truncated.write_bytes(gzip.compress(("\n".join([HEADER] + HAND_ROWS) + "\n").encode())[:-20])
  with pytest.raises(ValueError,
                     match=f"{truncated} is a damaged gzip file .*, {re.escape(what)}"):
    sva.read_tsv(truncated)


def test_too_many_bad_lines_name_the_config_key_that_allows_more(tmp_path):
  p = tmp_path / "bad.tsv"
  p.write_text("\n".join([HEADER] + HAND_ROWS * 2 + ["too\tfew\tcolumns"] * 2) + "\n")
  with pytest.raises(ValueError) as e:
    sva.read_tsv(p)
  assert str(e.value) == (
      f"{p}: 2 of 10 lines malformed, more than the allowed fraction max_bad_fraction=0.01; first: "
      "line 10: 3 columns, expected 18; line 11: 3 columns, expected 18. Fix the file, or skip up "
      "to a larger fraction of bad lines with --config.data.max_bad_fraction=F (F >= 0.2).")
  with pytest.warns(UserWarning, match="skipped 2 malformed"):
    assert len(sva.read_tsv(p, max_bad_fraction=0.2)[0]) == 8


def test_the_bad_line_limit_is_the_config_key_of_the_trainer(tmp_path):
  from inductive_kd import config as config_lib, tasks  # pylint: disable=import-outside-toplevel
  p = tmp_path / "bad.tsv"
  p.write_text("\n".join([HEADER] + HAND_ROWS * 60 + ["too\tfew\tcolumns"] * 10) + "\n")
  c = config_lib.load_config_file("configs/sva_cl.py:student=lstm,quick")
  c.data.sva_tsv, c.data.cache_dir = str(p), str(tmp_path / "cache")
  with pytest.raises(ValueError, match="--config.data.max_bad_fraction=F"):
    tasks.create(c)
  c.data.max_bad_fraction = 0.05
  with pytest.warns(UserWarning, match="skipped 10 malformed"):
    assert tasks.create(c).num_train > 0
  c.data.max_bad_fraction = 1.5
  with pytest.raises(config_lib.ConfigError, match=r"data.max_bad_fraction must be in \[0, 1\]"):
    config_lib.validate(c)


# -- splits -------------------------------------------------------------------------------------
def test_split_matches_reflect_legacy_shuffle_and_sizes():
  data = list(range(1000))
  np.random.seed(42)
  np.random.shuffle(data)          # Reflect's make_splits
  s = sva.split_indices(1000)
  np.testing.assert_array_equal(np.concatenate([s["train"], s["valid"], s["test"]]), data)
  assert (len(s["train"]), len(s["valid"]), len(s["test"])) == (100, 10, 890)
  s = sva.split_indices(1987, (0.2, 0.05), seed=1)
  assert (len(s["train"]), len(s["valid"]), len(s["test"])) == (397, 99, 1491)
  with pytest.raises(ValueError, match="split_fractions"):
    sva.split_indices(10, (0.9, 0.2))


def test_generated_split_sizes(lm):
  splits, _, rep = lm
  n = rep.n_rows
  assert rep.n_malformed == 0 and n + rep.n_too_long == 2000
  assert [len(splits[k]["label"]) for k in ("train", "valid", "test")] == \
      [int(n * 0.1), int(n * 0.01), n - int(n * 0.1) - int(n * 0.01)]


# -- inflections --------------------------------------------------------------------------------
def test_verb_inflections_from_data_and_rules():
  infl = sva.build_verb_inflections({"is", "uses", "carries", "watches", "dies", "VBZ"},
                                    {"use", "carry", "watch", "die", "go"})
  assert infl["uses"] == "use" and infl["use"] == "uses"   # not "us"
  assert infl["carries"] == "carry" and infl["watches"] == "watch" and infl["dies"] == "die"
  assert infl["is"] == "are" and infl["are"] == "is" and infl["VBZ"] == "VBP"
  assert infl["go"] == "goes"                                # rule for an unseen VBZ


# -- task arrays --------------------------------------------------------------------------------
def test_lm_arrays_invariants(lm):
  splits, vocab, _ = lm
  for a in splits.values():
    n, width = a["inputs"].shape
    assert width == 51 and a["targets"].shape == (n, width)
    rows = np.arange(n)
    np.testing.assert_array_equal(a["targets"][rows, a["verb_position"]], a["correct_verb"])
    assert (a["inputs"][:, 0] == sva.BOS).all()
    np.testing.assert_array_equal(a["targets"][rows, a["length"] - 1], sva.EOS)
    nonpad = np.arange(width)[None] < a["length"][:, None]
    assert ((a["inputs"] != 0) == nonpad).all() and ((a["targets"] != 0) == nonpad).all()
    # Inputs are the targets shifted right by one.
    body = np.arange(width - 1)[None] < (a["length"] - 1)[:, None]
    np.testing.assert_array_equal(a["inputs"][:, 1:][body], a["targets"][:, :-1][body])
    # The wrong verb is the other-number form of the correct one (when both are in the
    # vocabulary of the small train split).
    ok = a["pair_ok"]
    assert ok.mean() > 0.5
    for c, w, lab in zip(a["correct_verb"][ok], a["wrong_verb"][ok], a["label"][ok]):
      sg, pl = (vocab.itos[c], vocab.itos[w])[::1 if lab == 0 else -1]
      assert sva_corpus.third_singular(pl) == sg or (sg, pl) == ("VBZ", "VBP"), (sg, pl)


def test_verb_pairs_are_in_vocab_with_a_large_train_split(gen_path):
  # In 2,000 sentences many verbs occur once, in one number only (92% paired here; 99.4% on
  # the test split of a 200k-sentence corpus with the default 10% train split).
  splits, vocab, _ = sva.prepare("lm", gen_path, split_fractions=(0.9, 0.05))
  assert splits["train"]["pair_ok"].mean() > 0.85
  assert len(vocab) > 2000


def test_lm_verb_matches_tsv_row(lm, gen_path):
  splits, vocab, _ = lm
  deps, _ = sva.read_tsv(gen_path)
  by_line = {int(l): i for i, l in enumerate(deps.line)}
  a = splits["valid"]
  for k in range(len(a["label"])):
    i = by_line[int(a["line"][k])]
    toks = deps.sentence[i].split()
    assert vocab.decode(a["targets"][k][:a["length"][k] - 1]) == [
        t if t in vocab else "<unk>" for t in toks]
    assert a["verb_position"][k] == deps.verb_index[i] - 1
    assert a["n_diff_intervening"][k] == deps.n_diff_intervening[i]


def test_cl_arrays_are_prefix_then_eos(lm, cl):
  (lm_splits, lm_vocab, _), (cl_splits, cl_vocab, _) = lm, cl
  assert lm_vocab == cl_vocab
  for split in ("train", "test"):
    a, b = cl_splits[split], lm_splits[split]
    np.testing.assert_array_equal(a["label"], b["label"])
    np.testing.assert_array_equal(a["length"], b["verb_position"] + 1)
    for k in range(len(a["label"])):
      vp = b["verb_position"][k]
      # Everything before the verb, then <eos>, then padding: the verb is not in the input.
      np.testing.assert_array_equal(a["inputs"][k, :vp], b["targets"][k, :vp])
      assert a["inputs"][k, vp] == sva.EOS and (a["inputs"][k, vp + 1:] == 0).all()
      assert sva.EOS not in a["inputs"][k, :vp]


def test_load_task_cache_round_trip(gen_path, tmp_path, lm):
  splits, vocab = sva.load_task("lm", gen_path, cache_dir=tmp_path)
  assert len(list(tmp_path.glob("sva_lm_*.npz"))) == 1
  again, vocab2 = sva.load_task("lm", gen_path, cache_dir=tmp_path)
  assert vocab2 == vocab == lm[1]
  for k in splits:
    for name in splits[k]:
      np.testing.assert_array_equal(again[k][name], splits[k][name])
      np.testing.assert_array_equal(again[k][name], lm[0][k][name])
  sva.load_task("lm", gen_path, cache_dir=tmp_path, seed=1)
  assert len(list(tmp_path.glob("sva_lm_*.npz"))) == 2


def test_metrics_on_generated_split_with_a_heuristic(cl):
  """End to end: a 'predict singular' baseline scores the singular share and 0 on plural."""
  a = cl[0]["test"]
  m = agreement_metrics(a["label"] == 0, a["n_intervening"], a["n_diff_intervening"],
                        a["distance"])
  kept = (a["n_intervening"] <= 4) & (a["distance"] <= 16)
  assert m["mu_accuracy"] == pytest.approx((a["label"][kept] == 0).mean())


# -- CLI ----------------------------------------------------------------------------------------
def test_download_without_network_prints_one_clear_line(tmp_path, monkeypatch, capsys):
  def offline(*a, **k):
    raise urllib.error.URLError("Name or service not known")
  monkeypatch.setattr(urllib.request, "urlopen", offline)
  assert sva.main(["download", "--out", str(tmp_path)]) == 1
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1
  assert "network unreachable" in err and "--config.data.sva_tsv=" in err
  assert not list(tmp_path.iterdir())


def test_generate_and_info_commands(tmp_path, capsys):
  out = tmp_path / "g.tsv"
  sva.main(["generate", "--out", str(out), "--n", "120", "--seed", "1"])
  assert len(out.read_text().splitlines()) == 121
  assert sva.main(["info", str(out)]) == 0
  assert "0 malformed" in capsys.readouterr().out
