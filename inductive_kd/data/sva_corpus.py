r"""Offline subject-verb agreement corpus in the format of Linzen et al. (2016).

The real data (``agr_50_mostcommon_10K.tsv.gz``: ~1.5M Wikipedia sentences, DATA.md part A)
cannot be downloaded here, so this module writes a synthetic corpus with the same 18 TSV columns,
the same column semantics and the same phenomena, from an English-like probabilistic grammar:

* subjects are singular (NN) or plural (NNS) common nouns; the target verb is a present-tense
  VBZ/VBP form (``is/are``, ``has/have`` or a regular ``-s/-es/-ies`` pair);
* between subject and verb: prepositional phrases, subject relatives (``that likes the dogs``),
  object relatives with or without relativiser (``(that) the dogs like``), participial modifiers
  (``written by the authors``), pronoun-subject relatives, proper-noun PPs, adverbs. They carry
  0-6 intervening common nouns, each attached either to the subject or to the previous noun (so
  ``max_depth`` varies). The intervening nouns are of the other number (attractors) or of the same
  number; a sentence draws one of three modes: all attractors, all same-number, or mixed;
* relative-clause verbs agree with *their own* subject: a subject relative agrees with the noun it
  attaches to (the main subject or an attractor), an object relative with its own subject. So the
  nearest preceding verb is informative only through the structure, and both the "nearest noun"
  and the "majority noun" (bag-of-words) heuristics are wrong on attractor items;
* distractor nouns and verbs elsewhere: sentence-initial adverbial PPs, adverbs, subordinate
  clauses with their own agreeing verb, objects and ``that``-clauses after the verb, coordinated
  clauses;
* a vocabulary of ~16k lemmas (~29k word forms): a few hundred real English nouns, verbs and
  adjectives, English derivations of them (``-ness``, ``-er``, ``re-``, ``un-``, ...), and
  pseudo-English lemmas built from syllables and English suffixes. Every noun has a singular and a
  plural form (rule-based pluraliser + irregular table), every verb its VBP/VBZ/VBD/VBN/VBG forms
  (rule-based inflector + irregular table). Lemmas are sampled with Zipf-Mandelbrot frequencies
  (real words ranked first). The lexicon depends only on a fixed internal seed, never on ``seed``.

Column computation follows ``rnnagr/collect_agreement.py`` exactly, on the generated tokens and
tags: ``n_intervening`` counts NN/NNS strictly between subject and verb (NNP ignored),
``n_diff_intervening`` those whose tag differs from the subject's, ``last_intervening`` the tag of
the last one (``na`` if none), ``distance = verb_index - subj_index`` (both 1-based), ``max_depth``
the largest number of nouns on the path from an intervening noun up to (excluding) the subject,
``has_rel``/``has_nsubj`` whether an ``rcmod``/``nsubj`` token lies in the slice Linzen's code
inspects (it skips the token right after the subject; we keep that quirk), ``all_nouns`` and
``nouns_up_to_verb`` the NN/NNS tokens in ``sentence`` representation.

Rare-word replacement (the "10K" in the file name). Linzen kept the 10,000 most frequent word
types of a separate frequency list (``wiki.vocab``) and replaced every other token by its POS tag.
Here the frequency list is the grammar's *expected* frequency: the count of each POS in a fixed
pilot sample (5,000 sentences, internal seed) times the Zipf probability of the form within its
class; the singular and plural (VBZ and VBP) forms of a lemma share the larger of their two
expectations, so both are kept or both replaced. Closed-class words are always kept. So the
kept set depends neither on ``n`` nor on ``seed``, and about 6% of tokens become POS tags (real
``numpred.val`` prefixes: 9%).

How it differs from the real data (what a reader of results should know):

* attractors are far more frequent than in Wikipedia (real: ~4% of items with exactly one
  homogeneous attractor, 0.7% with two; here the intervening-noun count is drawn from
  ``GrammarConfig.n_intervening_probs``), so agreement with attractors is learnable from 10%;
* the syntax is a small context-free fragment: no coordination inside the subject, no
  quotations, no parentheticals between subject and verb other than adverbs and non-restrictive
  ``which`` clauses, no passives or auxiliaries on the target verb (Linzen dropped those too);
* semantics is random (``the window that the bishops eat is tall``), so a model cannot use
  plausibility to find the subject, unlike in real text;
* subject/verb number is balanced 65/35 (real ``numpred.val``: 68/32) and the verb is ``is/are``
  in ~45% of items (real test set: ~55%);
* sentences are shorter (mean 19.6 tokens; Gulordava's real test sentences: 24.9);
* the fields ``has_rel``/``has_nsubj``/``max_depth`` come from the generator's own derivation,
  not from a parser, so there are no parse errors;
* apart from function words and a few hundred common English words, the vocabulary is
  pseudo-English: a model trained on this corpus sees most real words (``numpred``, Gulordava)
  as ``<unk>``; evaluate real-text sets with a model trained on real text (e.g. ``numpred.val``).

The vocabulary (word lists, word-form rules, the lexicon) is in ``sva_lexicon``; this module
holds the grammar, the sentence sampler, the column computation and the CLI.

CLI: ``python -m inductive_kd.data.sva_corpus --out FILE.tsv.gz --n 200000 --seed 0``.
"""
from __future__ import annotations

import argparse
import bisect
import dataclasses
import functools
import gzip
import io
import itertools
import os
import sys
import time
from collections.abc import Iterator, Sequence

import numpy as np

from inductive_kd import fileio
from inductive_kd.data.sva_lexicon import (
    CONJ, DET_PL, DET_SG, INTENSIFIERS, PL, PRE_ADVERBS, PREPS_NP, PREPS_PRE, PRONOUNS,
    RELATIVISERS, SG, SUBORD, Lexicon, Verb, build_lexicon, is_vowel)
# Re-exported: sva.py and its tests call sva_corpus.third_singular.
from inductive_kd.data.sva_lexicon import third_singular  # pylint: disable=unused-import

FIELDS = (
    "sentence", "orig_sentence", "pos_sentence", "subj", "verb", "subj_pos", "has_rel",
    "has_nsubj", "verb_pos", "subj_index", "verb_index", "n_intervening", "last_intervening",
    "n_diff_intervening", "distance", "max_depth", "all_nouns", "nouns_up_to_verb",
)

NOUN_TAG = ("NN", "NNS")
VERB_TAG = ("VBZ", "VBP")
_PILOT_SEED = 7
_PILOT_SIZE = 5000

# ----------------------------------------------------------------------------------------------
# Grammar.
# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class GrammarConfig:
  """Probabilities of the grammar. Defaults: ~19.6 tokens per sentence, 44% of items with >= 1
  attractor, 0.6% of sentences longer than 50 tokens (measured on 200k sentences, seed 0)."""
  p_singular: float = 0.65
  # Number of intervening common nouns (0..6) the subject's post-modifiers carry.
  n_intervening_probs: tuple[float, ...] = (0.40, 0.24, 0.15, 0.10, 0.06, 0.035, 0.015)
  # Number of the intervening nouns: all attractors / all same number / each independently.
  mode_probs: tuple[float, float, float] = (0.45, 0.15, 0.40)
  p_mixed_attractor: float = 0.5
  # Noun-carrying modifier types: PP, subject RC, object RC, participle, PP with compound noun.
  chunk_weights: tuple[float, ...] = (0.45, 0.2, 0.2, 0.1, 0.05)
  p_attach_subject: float = 0.5        # vs attach to the previous intervening noun
  p_zero_noun_chunk: float = 0.15      # RC/PP without a common noun, before each noun chunk
  p_present_rc: float = 0.65           # RC verb in present tense (agreeing) vs past
  p_preverb_adverb: float = 0.08
  verb_type_probs: tuple[float, float, float] = (0.45, 0.08, 0.47)  # be / have / regular
  preamble_probs: tuple[float, ...] = (0.45, 0.22, 0.12, 0.15, 0.06)  # none/PP/adv/clause/year
  p_continuation: float = 0.3
  p_final_period: float = 0.95


class _Uniforms:
  """Buffered U[0,1) draws from a numpy Generator (a scalar call per draw is ~10x slower)."""

  def __init__(self, rng: np.random.Generator, chunk: int = 1 << 16):
    self._rng, self._chunk = rng, chunk
    self._buf: list[float] = []
    self._i = 0

  def __call__(self) -> float:
    if self._i >= len(self._buf):
      self._buf = self._rng.random(self._chunk).tolist()
      self._i = 0
    self._i += 1
    return self._buf[self._i - 1]


def _cum(weights: Sequence[float]) -> tuple[float, ...]:
  return tuple(itertools.accumulate(weights))


class _SentenceSampler:
  """Samples one sentence: tokens, tags, dependency labels, noun depths and the target pair."""

  def __init__(self, lex: Lexicon, cfg: GrammarConfig, rng: np.random.Generator):
    self.lex, self.cfg, self.u = lex, cfg, _Uniforms(rng)
    self._det_cum = (_cum([d[2] for d in DET_SG]), _cum([d[2] for d in DET_PL]))
    self._nint_cum = _cum(cfg.n_intervening_probs)
    self._mode_cum = _cum(cfg.mode_probs)
    self._chunk_cum = _cum(cfg.chunk_weights)
    self._verb_type_cum = _cum(cfg.verb_type_probs)
    self._pre_cum = _cum(cfg.preamble_probs)

  # -- primitive draws ---------------------------------------------------------------------------
  def _pick(self, cum: Sequence[float]) -> int:
    return bisect.bisect_right(cum, self.u() * cum[-1])

  def _one(self, seq):
    return seq[int(self.u() * len(seq))]

  def _noun(self, number: int) -> str:
    return self.lex.nouns[self._pick(self.lex.noun_cum)][number]

  def _verb(self, kind: str) -> Verb:
    lex = self.lex
    if kind == "t":
      return lex.verbs[lex.trans[self._pick(lex.trans_cum)]]
    if kind == "i":
      return lex.verbs[lex.intrans[self._pick(lex.intrans_cum)]]
    return lex.verbs[self._pick(lex.verb_cum)]

  def _adj(self) -> str:
    return self.lex.adjectives[self._pick(self.lex.adj_cum)]

  # -- emission ----------------------------------------------------------------------------------
  def _emit(self, word: str, tag: str, label: str = "") -> int:
    self.w.append(word)
    self.t.append(tag)
    self.lab.append(label)
    return len(self.w) - 1

  def _np(self, number: int, depth: int | None = None, allow_compound: bool = False,
          label: str = "", p_adj: float = 0.4) -> int:
    """Emits [det] [adj] [compound-NN] noun; returns the head index. ``depth`` is recorded for
    every common noun (compound modifiers are one level deeper than their head)."""
    det, tag, _ = (DET_SG, DET_PL)[number][self._pick(self._det_cum[number])]
    det_i = self._emit(det, tag) if det else -1
    if self.u() < p_adj:
      self._emit(self._adj(), "JJ")
      if self.u() < 0.15:
        self._emit(self._adj(), "JJ")
    if allow_compound:
      i = self._emit(self._noun(SG), "NN")
      if depth is not None:
        self.depth[i] = depth + 1
    head = self._emit(self._noun(number), NOUN_TAG[number], label)
    if depth is not None:
      self.depth[head] = depth
    if det == "a" and is_vowel(self.w[det_i + 1][0]):
      self.w[det_i] = "an"
    return head

  def _finite(self, verb: Verb, number: int, present: bool, label: str = "") -> int:
    if present:
      return self._emit(verb.vbz if number == SG else verb.vbp, VERB_TAG[number], label)
    return self._emit(verb.vbd, "VBD", label)

  def _be(self, number: int, label: str = "") -> int:
    return self._emit(("is", "are")[number], VERB_TAG[number], label)

  # -- clause parts -------------------------------------------------------------------------------
  def _preamble(self) -> None:
    c = self._pick(self._pre_cum)
    if c == 1:  # adverbial PP, possibly with a nested "of"-PP: distractor nouns before subject
      self._emit(self._one(PREPS_PRE), "IN")
      self._np(int(self.u() < 0.4))
      if self.u() < 0.3:
        self._emit("of", "IN")
        if self.u() < 0.3:
          self._emit(self.lex.propers[self._pick(self.lex.prop_cum)], "NNP")
        else:
          self._np(int(self.u() < 0.4))
      self._emit(",", ",")
    elif c == 2:
      self._emit(self._one(PRE_ADVERBS), "RB")
      self._emit(",", ",")
    elif c == 3:  # subordinate clause with its own (agreeing) verb
      self._emit(self._one(SUBORD), "IN")
      n = int(self.u() < 0.4)
      self._np(n, label="nsubj")
      present = self.u() < 0.5
      if self.u() < 0.5:
        self._finite(self._verb("t"), n, present)
        self._np(int(self.u() < 0.4))
      else:
        self._finite(self._verb("i"), n, present)
      self._emit(",", ",")
    elif c == 4:
      self._emit("in", "IN")
      self._emit(str(1900 + int(self.u() * 120)), "CD")
      self._emit(",", ",")

  def _subject(self, number: int) -> int:
    if self.u() < 0.05:  # possessor before the head noun: "the company 's products"
      self._np(int(self.u() < 0.4), p_adj=0.1)
      self._emit("'s", "POS")
      if self.u() < 0.3:
        self._emit(self._adj(), "JJ")
      return self._emit(self._noun(number), NOUN_TAG[number], "nsubj")
    return self._np(number, label="nsubj", allow_compound=self.u() < 0.05)

  def _noun_chunk(self, kind: int, attach: tuple[int, int], number: int,
                  budget: int) -> tuple[int, int]:
    """Emits one noun-carrying post-modifier of the noun ``attach`` = (number, depth); returns
    (number, depth) of the last common noun it emitted (the next attachment candidate)."""
    a_num, a_depth = attach
    d = a_depth + 1
    if kind == 0 or (kind == 4 and budget < 2):  # PP
      self._emit(self._one(PREPS_NP), "IN")
      self._np(number, d)
    elif kind == 1:  # subject relative: RC verb agrees with the attachment noun
      self._relativiser(label="nsubj")
      present = self.u() < self.cfg.p_present_rc
      if self.u() < 0.25:  # "that sleeps in the houses"
        self._finite(self._verb("i"), a_num, present, label="rcmod")
        self._emit(self._one(("in", "with", "near", "about", "for")), "IN")
        self._np(number, d)
      else:
        self._finite(self._verb("t"), a_num, present, label="rcmod")
        self._np(number, d)
    elif kind == 2:  # object relative: RC verb agrees with its own subject, a new noun
      if self.u() < 0.7:
        self._relativiser()
      self._np(number, d, label="nsubj")
      self._finite(self._verb("t"), number, self.u() < self.cfg.p_present_rc, label="rcmod")
    elif kind == 3:  # participle: "written by the authors" / "carrying the boxes"
      if self.u() < 0.6:
        self._emit(self._verb("t").vbn, "VBN")
        self._emit("by", "IN")
      else:
        self._emit(self._verb("t").vbg, "VBG")
      self._np(number, d)
    else:  # PP whose noun has a compound (NN) modifier: two intervening nouns
      self._emit(self._one(PREPS_NP), "IN")
      self._np(number, d, allow_compound=True)
    return number, d

  def _relativiser(self, label: str = "") -> None:
    word, tag = self._one(RELATIVISERS)
    self._emit(word, tag, label)

  def _zero_noun_chunk(self, attach: tuple[int, int]) -> None:
    """A modifier without common nouns: intransitive/copular subject RC, pronoun-subject
    object RC, PP with a proper noun, or an adverb. NNP/PRP are not counted by Linzen's code."""
    a_num = attach[0]
    c = int(self.u() * 5)
    if c == 0:
      self._relativiser(label="nsubj")
      self._finite(self._verb("i"), a_num, self.u() < self.cfg.p_present_rc, label="rcmod")
    elif c == 1:
      comma = self.u() < 0.3
      if comma:
        self._emit(",", ",")
      self._relativiser(label="nsubj")
      self._be(a_num)
      if self.u() < 0.3:
        self._emit(self._one(INTENSIFIERS), "RB")
      self._emit(self._adj(), "JJ", "rcmod")
      if comma:
        self._emit(",", ",")
    elif c == 2:
      if self.u() < 0.6:
        self._relativiser()
      word, tag, n = self._one(PRONOUNS)
      self._emit(word, tag, "nsubj")
      self._finite(self._verb("t"), n, self.u() < self.cfg.p_present_rc, label="rcmod")
    elif c == 3:
      self._emit(self._one(("of", "in", "from", "near", "at")), "IN")
      self._emit(self.lex.propers[self._pick(self.lex.prop_cum)], "NNP")
    else:
      self._emit(self._one(self.lex.adverbs), "RB")

  def _complement(self, vtype: int, verb: Verb | None, number: int) -> None:
    u = self.u()
    if vtype == 0:  # copula
      if u < 0.4:
        if self.u() < 0.3:
          self._emit(self._one(INTENSIFIERS), "RB")
        self._emit(self._adj(), "JJ")
        if self.u() < 0.3:
          self._emit(self._one(PREPS_NP), "IN")
          self._np(int(self.u() < 0.4))
      elif u < 0.75:
        self._np(number if self.u() < 0.8 else 1 - number, p_adj=0.5)
        if self.u() < 0.5:
          self._emit("of", "IN")
          self._np(int(self.u() < 0.5))
      else:
        self._emit(self._one(PREPS_PRE), "IN")
        self._np(int(self.u() < 0.4))
    elif verb is None or (verb.transitive and (not verb.intransitive or u < 0.7)):
      if vtype == 2 and self.u() < 0.15:  # that-clause with its own agreeing verb
        self._emit("that", "IN")
        n = int(self.u() < 0.4)
        self._np(n)
        self._be(n)
        self._emit(self._adj(), "JJ")
        return
      self._np(int(self.u() < 0.4), p_adj=0.35)
      if self.u() < 0.35:
        self._emit(self._one(PREPS_NP), "IN")
        self._np(int(self.u() < 0.4))
    else:
      if self.u() < 0.4:
        self._emit(self._one(self.lex.adverbs), "RB")
      if self.u() < 0.5:
        self._emit(self._one(PREPS_PRE), "IN")
        self._np(int(self.u() < 0.4))

  # -- sentence -----------------------------------------------------------------------------------
  def sample(self):
    """Returns (words, tags, labels, depth, subj_i, verb_i) with 0-based indices."""
    cfg, u = self.cfg, self.u
    self.w, self.t, self.lab, self.depth = [], [], [], {}
    self._preamble()
    number = SG if u() < cfg.p_singular else PL
    subj = self._subject(number)
    budget = self._pick(self._nint_cum)
    mode = self._pick(self._mode_cum)
    attach_points = [(number, 0)]
    while True:
      if u() < cfg.p_zero_noun_chunk:
        self._zero_noun_chunk(attach_points[0] if u() < 0.5 else attach_points[-1])
      if budget <= 0:
        break
      if mode == 0:
        n2 = 1 - number
      elif mode == 1:
        n2 = number
      else:
        n2 = 1 - number if u() < cfg.p_mixed_attractor else number
      kind = self._pick(self._chunk_cum)
      if kind == 4 and mode != 2:
        kind = 0  # a compound modifier is NN: it would break homogeneous intervention
      att = attach_points[0] if u() < cfg.p_attach_subject else attach_points[-1]
      attach_points.append(self._noun_chunk(kind, att, n2, budget))
      budget -= 2 if (kind == 4 and budget >= 2) else 1
    if u() < cfg.p_preverb_adverb:
      self._emit(self._one(self.lex.adverbs), "RB")
    vtype = self._pick(self._verb_type_cum)
    verb = None
    if vtype == 0:
      vi = self._be(number)
    elif vtype == 1:
      vi = self._emit(("has", "have")[number], VERB_TAG[number])
    else:
      verb = self._verb("any")
      vi = self._finite(verb, number, True)
    self._complement(vtype, verb, number)
    while u() < cfg.p_continuation:
      self._emit(",", ",")
      if u() < 0.5:
        self._emit(self._one(CONJ), "CC")
        n = int(u() < 0.4)
        self._np(n)
        vt = int(u() < 0.5) * 2
        v = self._verb("any") if vt == 2 else None
        if vt == 0:
          self._be(n)
        else:
          self._finite(v, n, True)
        self._complement(vt, v, n)
      else:
        self._emit(*self._one((("which", "WDT"), ("while", "IN"), ("because", "IN"))))
        n = int(u() < 0.4)
        self._np(n)
        self._finite(self._verb("i"), n, u() < 0.5)
    if u() < cfg.p_final_period:
      self._emit(".", ".")
    return self.w, self.t, self.lab, self.depth, subj, vi


# ----------------------------------------------------------------------------------------------
# Rows.
# ----------------------------------------------------------------------------------------------
def dependency_fields(words: Sequence[str], tags: Sequence[str], labels: Sequence[str],
                      depth: dict[int, int], subj: int, verb: int,
                      represented: Sequence[str]) -> list[str]:
  """The 18 TSV fields of one dependency, computed as ``collect_agreement.py`` does.

  ``subj``/``verb`` are 0-based; ``represented`` is the ``sentence`` representation (rare words
  replaced by tags)."""
  n_int = n_diff = max_depth = 0
  last = "na"
  subj_tag = tags[subj]
  for i in range(subj + 1, verb):
    tg = tags[i]
    if tg == "NN" or tg == "NNS":
      n_int += 1
      last = tg
      if tg != subj_tag:
        n_diff += 1
      max_depth = max(max_depth, depth.get(i, 1))
  s1, v1 = subj + 1, verb + 1
  # Linzen's `middle = sent[subj_index + 1 : verb_index - 1]` (0-based list, 1-based indices)
  # skips the token right after the subject.
  middle = range(s1 + 1, v1 - 1)
  has_rel = v1 - s1 > 1 and any(labels[i] == "rcmod" for i in middle)
  has_nsubj = v1 - s1 > 1 and any(labels[i] == "nsubj" for i in middle)
  nouns = [(i, represented[i]) for i, tg in enumerate(tags) if tg == "NN" or tg == "NNS"]
  return [
      " ".join(represented), " ".join(words), " ".join(tags), words[subj], words[verb], subj_tag,
      str(has_rel), str(has_nsubj), tags[verb], str(s1), str(v1), str(n_int), last, str(n_diff),
      str(v1 - s1), str(max_depth), " ".join(w for _, w in nouns),
      " ".join(w for i, w in nouns if i < verb),
  ]


@functools.lru_cache(maxsize=4)
def common_words(vocab_size: int = 10000, cfg: GrammarConfig = GrammarConfig()) -> frozenset[str]:
  """The ``vocab_size`` word types kept in ``sentence``: closed-class words, then open-class
  forms ranked by expected frequency = (count of the POS in a fixed pilot sample) x (probability
  of the form within its POS); ties broken by the word itself."""
  lex = build_lexicon()
  sampler = _SentenceSampler(lex, cfg, np.random.default_rng(_PILOT_SEED))
  open_tags = lex.open_class_distributions()
  tag_counts: dict[str, int] = {}
  closed: set[str] = set()
  for _ in range(_PILOT_SIZE):
    words, tags, *_ = sampler.sample()
    for wd, tg in zip(words, tags):
      if tg in open_tags and wd not in ("is", "are", "has", "have"):
        tag_counts[tg] = tag_counts.get(tg, 0) + 1
      else:
        closed.add(wd)
  closed.update(("is", "are", "has", "have", "an"))
  expected: dict[str, float] = {}
  for tg, dist in open_tags.items():
    c = tag_counts.get(tg, 0)
    for wd, p in dist.items():
      expected[wd] = expected.get(wd, 0.0) + c * p
  # The two numbers of a lemma share one rank (the larger expectation), so a noun or verb is kept
  # or replaced as a pair: the LM agreement test then always has both forms (or both tags).
  pairs = [(sg, pl) for sg, pl in lex.nouns] + [(v.vbz, v.vbp) for v in lex.verbs]
  tied = dict(expected)
  for a, b in pairs:
    m = max(expected.get(a, 0.0), expected.get(b, 0.0))
    tied[a] = max(tied.get(a, 0.0), m)
    tied[b] = max(tied.get(b, 0.0), m)
  ranked = sorted((wd for wd in tied if wd not in closed), key=lambda x: (-tied[x], x))
  keep = max(0, vocab_size - len(closed))
  return frozenset(closed) | frozenset(ranked[:keep])


def generate_rows(n: int, seed: int = 0, *, vocab_size: int = 10000,
                  cfg: GrammarConfig = GrammarConfig()) -> Iterator[list[str]]:
  """Yields ``n`` rows of the 18 fields (strings), deterministic for ``seed``."""
  if n < 0:
    raise ValueError(f"n must be >= 0, got {n}")
  keep = common_words(vocab_size, cfg)
  sampler = _SentenceSampler(build_lexicon(), cfg, np.random.default_rng(seed))
  for _ in range(n):
    words, tags, labels, depth, subj, verb = sampler.sample()
    rep = [wd if wd in keep else tg for wd, tg in zip(words, tags)]
    yield dependency_fields(words, tags, labels, depth, subj, verb, rep)


def write_tsv(path: str | os.PathLike, n: int, seed: int = 0, *, vocab_size: int = 10000,
              cfg: GrammarConfig = GrammarConfig()) -> int:
  """Writes header + ``n`` rows (gzip if the name ends in .gz); returns the number of rows."""
  path = os.fspath(path)

  def write(raw):
    if path.endswith(".gz"):  # mtime=0 and no name in the header: byte-identical for a seed
      raw = gzip.GzipFile(filename="", mode="wb", compresslevel=4, fileobj=raw, mtime=0)
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as f:
      f.write("\t".join(FIELDS) + "\n")
      buf = []
      for row in generate_rows(n, seed, vocab_size=vocab_size, cfg=cfg):
        buf.append("\t".join(row))
        if len(buf) >= 10000:
          f.write("\n".join(buf) + "\n")
          buf = []
      if buf:
        f.write("\n".join(buf) + "\n")

  fileio.atomic_write(path, write)
  return n


def main(argv: Sequence[str] | None = None) -> None:
  p = argparse.ArgumentParser(
      prog="python -m inductive_kd.data.sva_corpus",
      description="Write a synthetic Linzen-format agreement TSV (18 columns, header row).")
  p.add_argument("--out", required=True, help="output file (.tsv or .tsv.gz)")
  p.add_argument("--n", type=int, default=200000, help="number of sentences (default 200000)")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--vocab_size", type=int, default=10000,
                 help="word types kept in the `sentence` column; others become POS tags")
  args = p.parse_args(argv)
  if args.n < 0:
    p.error(f"--n must be >= 0, got {args.n}")
  t0 = time.perf_counter()
  write_tsv(args.out, args.n, args.seed, vocab_size=args.vocab_size)
  print(f"wrote {args.n} sentences to {args.out} in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr)


if __name__ == "__main__":
  main()
