"""Tests for inductive_kd.data.sva_lexicon: word-form rules and the offline corpus's lexicon."""

import pytest

from inductive_kd.data import sva_lexicon as lexicon


@pytest.mark.parametrize("fn,cases", [
    (lexicon.pluralize, {"dog": "dogs", "box": "boxes", "church": "churches", "city": "cities",
                         "day": "days", "bus": "buses"}),
    (lexicon.third_singular, {"like": "likes", "watch": "watches", "carry": "carries",
                              "play": "plays", "go": "goes", "have": "has", "are": "is"}),
    (lexicon.past_tense, {"like": "liked", "stop": "stopped", "carry": "carried", "see": "saw",
                          "visit": "visited"}),
    (lexicon.gerund, {"make": "making", "run": "running", "die": "dying", "see": "seeing"}),
])
def test_morphology(fn, cases):
  assert {k: fn(k) for k in cases} == cases


def test_lexicon_has_thousands_of_paired_forms():
  lex = lexicon.build_lexicon()
  assert len(lex.nouns) >= 5000 and len(lex.verbs) >= 1000 and len(lex.adjectives) >= 2000
  assert all(sg != pl for sg, pl in lex.nouns)
  assert all(v.vbz == lexicon.third_singular(v.vbp) for v in lex.verbs)
  sg_forms = [sg for sg, _ in lex.nouns]
  assert len(set(sg_forms)) == len(sg_forms)
  assert lex.trans and lex.intrans
