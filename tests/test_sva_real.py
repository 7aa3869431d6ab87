"""Tests for inductive_kd.data.sva_real (Linzen's numpred files, Gulordava's test set)."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from inductive_kd.data import sva, sva_corpus, sva_real

SHARED = Path(__file__).parents[2] / "shared" / "data" / "sva"
needs_shared = pytest.mark.skipif(
    not SHARED.exists(), reason=f"real SVA pieces not found at {SHARED} (tests expect ../shared "
                                f"beside the repository)")


@pytest.fixture(scope="module")
def synthetic_vocab(tmp_path_factory):
  # What a model trained on the synthetic corpus knows: real text must still load with it.
  p = tmp_path_factory.mktemp("sva") / "gen.tsv.gz"
  sva_corpus.write_tsv(p, 2000, seed=0)
  return sva.prepare("lm", p)[1]


# -- hand-made files (run without ../shared) ----------------------------------------------------
def test_numpred_format_attractors_from_name_bad_and_long_lines(tmp_path):
  p = tmp_path / "numpred.test.2"
  p.write_text("VBZ\tthe dog near the cats\nVBP\tthe dogs near the cat\nVBD\tthe dog\n"
               "VBZ\t" + " ".join(["the"] * 10) + "\n")
  vocab = sva.Vocab(["the", "dog", "dogs", "near", "cat", "cats"])
  with pytest.warns(UserWarning) as w:
    a = sva_real.load_numpred(p, vocab, max_len=8, max_bad_fraction=0.5)
  msgs = [str(x.message) for x in w]
  assert any("line 3" in m for m in msgs) and any("dropped 1 prefixes" in m for m in msgs)
  assert a["label"].tolist() == [0, 1] and a["line"].tolist() == [1, 2]
  assert (a["n_intervening"] == 2).all() and (a["distance"] == -1).all()
  assert vocab.decode(a["inputs"][1]) == ["the", "dogs", "near", "the", "cat", "<eos>"]
  assert a["inputs"].shape == (2, 9)
  with pytest.raises(ValueError, match="max_bad_fraction"):
    sva_real.load_numpred(p, vocab, max_len=8)


def test_a_binary_file_is_one_line_naming_it(tmp_path):
  p = tmp_path / "numpred.val"
  p.write_bytes(b"VBZ\tthe dog\n" + bytes(range(128, 256)))
  with pytest.raises(ValueError, match=f"{p} is not UTF-8 text .*so not a numpred file"):
    sva_real.read_numpred(p)
  (tmp_path / "g.text").write_bytes(bytes(range(128, 256)))
  (tmp_path / "g.gold").write_text("1\tis\tare\t0\n")
  with pytest.raises(ValueError, match="g.text is not UTF-8 text .*so not a Gulordava"):
    sva_real.read_gulordava(tmp_path, stem="g")


def test_gulordava_format_labels_and_bad_lines(tmp_path):
  (tmp_path / "g.text").write_text("the keys to the cabinet are here <eos>\n"
                                   "the dog is here <eos>\nthe dog walks <eos>\n")
  (tmp_path / "g.gold").write_text("5\tare\tis\t1\n2\tIs\tAre\t0\n2\twalks\trun\t0\n")
  vocab = sva.Vocab(["the", "keys", "to", "cabinet", "are", "is", "here", "dog"])
  with pytest.warns(UserWarning, match="line 3: cannot tell"):
    a = sva_real.load_gulordava(tmp_path, vocab, stem="g", max_bad_fraction=0.5)
  assert a["label"].tolist() == [1, 0] and a["n_diff_intervening"].tolist() == [1, 0]
  assert [vocab.itos[i] for i in a["correct_verb"]] == ["are", "is"]
  assert [vocab.itos[i] for i in a["wrong_verb"]] == ["is", "are"]
  assert vocab.decode(a["targets"][1]) == ["the", "dog", "is", "here", "<eos>"]
  (tmp_path / "g.gold").write_text("5\tare\tis\t1\n")
  with pytest.raises(ValueError, match="line-aligned"):
    sva_real.load_gulordava(tmp_path, vocab, stem="g")
  with pytest.raises(ValueError, match="does not exist"):
    sva_real.load_gulordava(tmp_path / "nope", vocab)


# -- the real files -----------------------------------------------------------------------------
@needs_shared
def test_numpred_files_load(synthetic_vocab):
  vocab = sva.Vocab.build(line.split("\t")[1] for line in
                          (SHARED / "linzen_rnn_agr_simple" / "numpred.val").open())
  a = sva_real.load_numpred(SHARED / "linzen_rnn_agr_simple" / "numpred.val", vocab)
  assert a["inputs"].shape == (15772, 51)
  assert np.bincount(a["label"]).tolist() == [10763, 5009]   # DATA.md
  assert (a["n_intervening"] == -1).all()
  rows = np.arange(len(a["label"]))
  assert (a["inputs"][rows, a["length"] - 1] == sva.EOS).all()
  first = (SHARED / "linzen_rnn_agr_simple" / "numpred.val").open().readline().split("\t")[1]
  assert vocab.decode(a["inputs"][0])[:-1] == first.split()
  t3 = sva_real.load_numpred(SHARED / "linzen_rnn_agr_simple" / "numpred.test.3", vocab)
  assert len(t3["label"]) == 2051 and (t3["n_diff_intervening"] == 3).all()
  assert (t3["n_intervening"] == 3).all() and np.bincount(t3["label"]).tolist() == [305, 1746]
  # With the synthetic vocabulary the real words are mostly <unk>, but it loads.
  assert sva_real.load_numpred(SHARED / "linzen_rnn_agr_simple" / "numpred.test.4",
                               synthetic_vocab)["inputs"].shape == (561, 51)


@needs_shared
def test_gulordava_loads():
  d = SHARED / "gulordava_linzen_testset"
  vocab = sva.Vocab.build((line for line in (d / "subj_agr_filtered.text").open()), None)
  with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    a = sva_real.load_gulordava(d, vocab)
  # A handful of gold lines cannot be paired (e.g. line 1606: "wherein"/"wherein").
  assert any("line 1606" in str(x.message) for x in w)
  n = len(a["label"])
  assert 7480 <= n < 7489
  rows = np.arange(n)
  np.testing.assert_array_equal(a["targets"][rows, a["verb_position"]], a["correct_verb"])
  assert a["pair_ok"].mean() > 0.98
  # DATA.md: 1972/1957/1943/1287/330 items with 0..4 attractors, less the 4 unpairable lines.
  assert np.bincount(a["n_diff_intervening"]).tolist() == [1970, 1957, 1943, 1285, 330]
  words = [vocab.itos[i] for i in a["correct_verb"][:3]]
  assert words == ["is", "have", "is"] and a["label"][:3].tolist() == [0, 1, 0]
