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
import re
import sys
import time
from collections.abc import Iterator, Sequence

import numpy as np

FIELDS = (
    "sentence", "orig_sentence", "pos_sentence", "subj", "verb", "subj_pos", "has_rel",
    "has_nsubj", "verb_pos", "subj_index", "verb_index", "n_intervening", "last_intervening",
    "n_diff_intervening", "distance", "max_depth", "all_nouns", "nouns_up_to_verb",
)

SG, PL = 0, 1
NOUN_TAG = ("NN", "NNS")
VERB_TAG = ("VBZ", "VBP")
_LEXICON_SEED = 20160101  # fixed: the lexicon must not change with the corpus seed
_PILOT_SEED = 7
_PILOT_SIZE = 5000

# ----------------------------------------------------------------------------------------------
# Hand-written English stems. Irregular noun plurals are written "singular:plural". Nouns whose
# two numbers share one form (sheep, species) are left out: they carry no number information.
# ----------------------------------------------------------------------------------------------
_NOUNS = """
time year way day thing man:men world life:lives hand part child:children eye woman:women place work
week case point government company number group problem fact party room member family system
program question night story city country state student book word business issue side kind head house
service friend father mother power hour game line end law car name president team minute idea kid
body information back parent face level office door health person:people art war history result
change morning reason research girl guy moment air teacher force education foot:feet boy age policy
process music market sense nation plan college interest death experience effect class control care
field development role effort rate heart drug show leader light voice wife:wives police mind price
report decision son view relationship town road arm difference value building action model season
society tax director position player record paper space ground form event official matter center
couple site project activity star table need court oil situation cost industry figure street image
phone data picture practice piece land product doctor wall patient worker news test movie north
love support technology step baby computer type attention film tree source organization hair window
evidence population truth song article knowledge land boat bank bridge letter station river island
village castle church temple garden forest mountain valley lake bird horse dog cat fish:fishes animal
king queen prince soldier army battle ship plane train engine machine tool weapon sword knife:knives
leaf:leaves wolf:wolves shelf:shelves thief:thieves half:halves mouse:mice tooth:teeth goose:geese
analysis:analyses crisis:crises thesis:theses hypothesis:hypotheses criterion:criteria
phenomenon:phenomena box bus class church match dish brush fox watch witness process address
hero:heroes potato:potatoes tomato:tomatoes echo:echoes city lady:ladies body story country
author writer editor reader poet painter singer actor farmer driver builder pilot scientist engineer
lawyer judge nurse student professor officer captain general minister senator governor mayor
manager worker owner user customer client guest visitor neighbor citizen resident stranger enemy
hunter sailor priest bishop monk knight guard servant slave merchant trader banker dancer player
coach fan critic expert partner colleague rival victim witness suspect prisoner hostage refugee
album track single band concert festival museum library gallery theater stadium hospital school
university factory prison airport harbor port bay coast beach desert region province district county
border capital palace tower gate bell clock lamp chair bed desk shelf cabinet drawer bottle cup plate
bowl pot pan oven stove fridge sink mirror carpet curtain blanket pillow basket bag wallet coin ring
necklace button pocket jacket shirt coat dress shoe boot hat glove sock apple orange banana cherry
grape lemon onion carrot bean egg cake cookie sandwich meal dinner lunch breakfast recipe ingredient
flower plant seed root branch trunk bush cloud storm wave stone rock hill cliff cave tunnel canal lane
path trail highway avenue square park farm field barn fence roof floor ceiling corner stair kitchen
bathroom bedroom hall cell lab laboratory device sensor chip screen keyboard camera radio signal
network website page chapter volume edition series:serieses episode character plot scene stage
version copy draft note message email letter document file folder record archive map chart graph
table column row list item element unit category feature aspect factor component principle rule
theory method approach technique strategy tactic goal target objective task duty right claim
argument debate discussion conversation meeting conference committee council board panel agency
department ministry bureau firm corporation institution foundation charity union league club
association federation alliance coalition movement campaign protest election vote ballot candidate
""".split()

_VERBS = """
like:t love:t hate:t want:t need:t see:t know:t make:t take:t give:t find:t tell:t ask:t use:t
show:t try:b leave:b call:t keep:t hold:t bring:t write:b read:b build:t buy:t sell:t pay:t meet:t
follow:t include:t contain:t describe:t represent:t support:t require:t provide:t produce:t create:t
allow:t consider:t expect:t receive:t reach:t cover:t protect:t visit:t watch:t enjoy:t admire:t
attack:t avoid:t carry:t catch:t choose:t defend:t destroy:t eat:b feed:t fight:b fix:t help:t
hire:t identify:t ignore:t imagine:t inspire:t join:t kill:t lead:b lift:t miss:t move:b obey:t
offer:t own:t paint:b pass:t prefer:t push:t reject:t remember:t replace:t rescue:t respect:t
serve:b study:b teach:b touch:t trust:t visit:t wash:t welcome:t
appear:i exist:i remain:i seem:i matter:i arrive:i die:i fall:i sleep:i smile:i laugh:i cry:i
shine:i rise:i wait:i work:i live:i stay:i happen:i occur:i vanish:i disappear:i emerge:i
grow:b change:b open:b close:b run:b walk:i travel:i talk:i speak:i sing:b dance:i swim:i fly:i
return:b begin:b continue:b end:b start:b stop:b turn:b improve:b increase:b decrease:b
""".split()

_IRREG_PAST = {
    "see": ("saw", "seen"), "know": ("knew", "known"), "make": ("made", "made"),
    "take": ("took", "taken"), "give": ("gave", "given"), "find": ("found", "found"),
    "tell": ("told", "told"), "show": ("showed", "shown"), "leave": ("left", "left"),
    "keep": ("kept", "kept"), "hold": ("held", "held"), "bring": ("brought", "brought"),
    "write": ("wrote", "written"), "read": ("read", "read"), "build": ("built", "built"),
    "buy": ("bought", "bought"), "sell": ("sold", "sold"), "pay": ("paid", "paid"),
    "meet": ("met", "met"), "catch": ("caught", "caught"), "choose": ("chose", "chosen"),
    "eat": ("ate", "eaten"), "feed": ("fed", "fed"), "fight": ("fought", "fought"),
    "lead": ("led", "led"), "teach": ("taught", "taught"), "fall": ("fell", "fallen"),
    "sleep": ("slept", "slept"), "shine": ("shone", "shone"), "rise": ("rose", "risen"),
    "grow": ("grew", "grown"), "run": ("ran", "run"), "speak": ("spoke", "spoken"),
    "sing": ("sang", "sung"), "swim": ("swam", "swum"), "fly": ("flew", "flown"),
    "begin": ("began", "begun"),
}

_ADJECTIVES = """
good new first last long great little own other old right big high different small large next early
young important few public bad same able human local late hard major better economic strong possible
whole free military true federal international full special easy clear recent certain personal open
red difficult available likely short single medical current wrong private past foreign fine common
poor natural significant similar hot dead central happy serious ready simple left physical general
environmental financial blue democratic dark various entire close legal religious cold final main
green nice huge popular traditional cultural wide famous quiet ancient modern rich tall heavy bright
empty deep rare strange brave calm clever gentle proud wise angry busy careful cheap clean dirty dry
fresh funny kind lazy loud narrow odd polite quick safe sharp smooth soft sweet thick thin warm weak
wet wild wooden golden silver royal northern southern eastern western rural urban original official
successful powerful beautiful useful careful helpful peaceful colorful dangerous famous nervous
curious generous obvious previous serious various anxious enormous active creative expensive
effective massive positive negative native relative sensitive historic academic electric tropical
typical logical musical political practical classical digital global annual visual mental rapid
solid stable mobile hostile fertile fragile subtle noble humble simple
""".split()

_ADVERBS = """
often also still usually never always sometimes rarely clearly really already probably certainly
perhaps apparently generally currently recently finally actually simply mostly largely nearly
""".split()

_PROPER = """
london paris berlin rome madrid vienna moscow tokyo cairo delhi boston chicago texas ohio york
florida england france germany italy spain china india japan egypt russia canada mexico brazil europe
africa asia america australia john mary james robert michael william david richard charles joseph
thomas george henry edward peter paul mark anne elizabeth margaret susan sarah emma alice helen jane
smith johnson williams brown jones miller davis wilson anderson taylor moore jackson martin lee
harris clark lewis walker hall allen young king wright scott green baker adams nelson hill campbell
""".split()

_PREPS_NP = ("of",) * 6 + ("in", "on", "with", "for", "from", "near", "at", "about", "behind",
                          "under", "by", "like", "without", "beside", "across", "among", "after")
_PREPS_PRE = ("in", "during", "after", "at", "for", "on", "under", "before", "near", "across")
_SUBORD = ("when", "while", "although", "because", "if", "since", "after", "before", "though")
_PRE_ADVERBS = ("however", "today", "meanwhile", "therefore", "nevertheless", "moreover",
                "instead", "indeed", "later", "here")
_DET_SG = (("the", "DT", 36), ("a", "DT", 20), ("this", "DT", 6), ("that", "DT", 3),
           ("each", "DT", 3), ("every", "DT", 3), ("another", "DT", 2), ("no", "DT", 1),
           ("his", "PRP$", 4), ("her", "PRP$", 2), ("its", "PRP$", 4), ("their", "PRP$", 3),
           ("our", "PRP$", 1), ("one", "CD", 1))
_DET_PL = (("the", "DT", 40), ("these", "DT", 6), ("those", "DT", 4), ("some", "DT", 6),
           ("all", "DT", 3), ("both", "DT", 1), ("many", "JJ", 5), ("several", "JJ", 3),
           ("few", "JJ", 1), ("most", "JJS", 2), ("two", "CD", 3), ("three", "CD", 2),
           ("four", "CD", 1), ("his", "PRP$", 3), ("its", "PRP$", 3), ("their", "PRP$", 4),
           ("our", "PRP$", 1), ("", "", 8))  # "" = bare plural
_PRONOUNS = (("he", "PRP", SG), ("she", "PRP", SG), ("it", "PRP", SG), ("they", "PRP", PL),
             ("we", "PRP", PL), ("you", "PRP", PL), ("i", "PRP", PL))  # i/you take VBP forms
_RELATIVISERS = (("that", "WDT"), ("which", "WDT"), ("who", "WP"))
_CONJ = ("and", "but")
_INTENSIFIERS = ("very", "quite", "rather", "extremely", "too", "so", "not")
_COPULA = (("is", "are"), ("was", "were"))
_CLOSED_EXTRA = ("'s", ",", ".", "not", "by", "that", "an", "a", "to", "there")

_ONSETS = ("b b bl br c c cl cr d d dr f fl fr g gr h h j k l l m m n n p p pl pr r r s s sh sl sp st "
           "t t th tr v w w").split() + [""] * 4
_VOWELS = "a a a e e e i i i o o o u u a e i o ea oo ai".split()
_CODAS = ("n n r r l l t t d m s nd nt st ck ng rt p b g x ll ss".split() + [""] * 12)
_NOUN_SUFFIXES = ("", "", "", "", "tion", "ment", "ity", "ness", "er", "er", "ist", "ance", "ure",
                  "age", "ism", "ship", "ling", "ery", "let", "on", "ar", "ine", "el", "et")
_VERB_SUFFIXES = ("", "", "", "", "ate", "ize", "ify", "en", "le", "er")
_ADJ_SUFFIXES = ("al", "ous", "ive", "ic", "ful", "less", "able", "ish", "y", "ent", "ary", "id")
_NNP_SUFFIXES = ("", "ton", "ville", "ford", "berg", "ia", "son", "ham", "by", "stein", "o", "a")


# ----------------------------------------------------------------------------------------------
# Morphology.
# ----------------------------------------------------------------------------------------------
def _is_vowel(c: str) -> bool:
  return c in "aeiou"


def pluralize(noun: str) -> str:
  """English regular plural: -es after sibilants, consonant+y -> -ies, otherwise -s."""
  if noun.endswith(("s", "x", "z", "ch", "sh")):
    return noun + "es"
  if noun.endswith("y") and len(noun) > 1 and not _is_vowel(noun[-2]):
    return noun[:-1] + "ies"
  return noun + "s"


def third_singular(verb: str) -> str:
  """VBP -> VBZ by the same orthographic rules as the plural (go/do take -es)."""
  special = {"be": "is", "are": "is", "have": "has", "do": "does", "go": "goes"}
  if verb in special:
    return special[verb]
  if verb.endswith(("s", "x", "z", "ch", "sh")) or (verb.endswith("o") and
                                                    not verb.endswith("oo")):
    return verb + "es"
  if verb.endswith("y") and len(verb) > 1 and not _is_vowel(verb[-2]):
    return verb[:-1] + "ies"
  return verb + "s"


def _double_final(verb: str) -> bool:
  # Short CVC verbs double their last consonant: stop -> stopped, run -> running.
  return (len(verb) <= 4 and len(verb) >= 3 and not _is_vowel(verb[-1]) and verb[-1] not in "wxy"
          and _is_vowel(verb[-2]) and not _is_vowel(verb[-3]))


def past_tense(verb: str) -> str:
  if verb in _IRREG_PAST:
    return _IRREG_PAST[verb][0]
  if verb.endswith("e"):
    return verb + "d"
  if verb.endswith("y") and not _is_vowel(verb[-2]):
    return verb[:-1] + "ied"
  if _double_final(verb):
    return verb + verb[-1] + "ed"
  return verb + "ed"


def past_participle(verb: str) -> str:
  if verb in _IRREG_PAST:
    return _IRREG_PAST[verb][1]
  return past_tense(verb)


def gerund(verb: str) -> str:
  if verb.endswith("ie"):
    return verb[:-2] + "ying"
  if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and len(verb) > 2:
    return verb[:-1] + "ing"
  if _double_final(verb):
    return verb + verb[-1] + "ing"
  return verb + "ing"


# ----------------------------------------------------------------------------------------------
# Lexicon.
# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Verb:
  vbp: str
  vbz: str
  vbd: str
  vbn: str
  vbg: str
  transitive: bool
  intransitive: bool


@dataclasses.dataclass(frozen=True)
class Lexicon:
  """Zipf-ranked word lists; ``*_cum`` are cumulative sampling weights (for bisect)."""
  nouns: tuple[tuple[str, str], ...]        # (singular, plural)
  noun_cum: tuple[float, ...]
  verbs: tuple[Verb, ...]
  trans: tuple[int, ...]                    # indices of transitive verbs
  trans_cum: tuple[float, ...]
  intrans: tuple[int, ...]
  intrans_cum: tuple[float, ...]
  verb_cum: tuple[float, ...]
  adjectives: tuple[str, ...]
  adj_cum: tuple[float, ...]
  propers: tuple[str, ...]
  prop_cum: tuple[float, ...]
  adverbs: tuple[str, ...]

  def open_class_distributions(self) -> dict[str, dict[str, float]]:
    """Per POS tag, the probability of each word form when a word of that tag is sampled."""
    def probs(cum):
      c = np.asarray(cum)
      return np.diff(c, prepend=0.0) / c[-1]
    out: dict[str, dict[str, float]] = {t: {} for t in
                                        ("NN", "NNS", "VBZ", "VBP", "VBD", "VBN", "VBG", "JJ",
                                         "NNP")}
    for (sg, pl), p in zip(self.nouns, probs(self.noun_cum)):
      out["NN"][sg] = out["NN"].get(sg, 0.0) + p
      out["NNS"][pl] = out["NNS"].get(pl, 0.0) + p
    for v, p in zip(self.verbs, probs(self.verb_cum)):
      for tag, form in (("VBZ", v.vbz), ("VBP", v.vbp), ("VBD", v.vbd), ("VBN", v.vbn),
                        ("VBG", v.vbg)):
        out[tag][form] = out[tag].get(form, 0.0) + p
    for a, p in zip(self.adjectives, probs(self.adj_cum)):
      out["JJ"][a] = out["JJ"].get(a, 0.0) + p
    for a, p in zip(self.propers, probs(self.prop_cum)):
      out["NNP"][a] = out["NNP"].get(a, 0.0) + p
    return out


def _zipf_cum(n: int, exponent: float, offset: float = 2.7) -> tuple[float, ...]:
  """Zipf-Mandelbrot weights 1/(rank+offset)^s, cumulated."""
  w = 1.0 / (np.arange(n, dtype=np.float64) + offset) ** exponent
  return tuple(np.cumsum(w).tolist())


def _pseudo_stem(rng: np.random.Generator, n_syll: int) -> str:
  parts = []
  for _ in range(n_syll):
    parts.append(_ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))] +
                 _CODAS[rng.integers(len(_CODAS))])
  return "".join(parts)


# Letter sequences English avoids, and a few substrings nobody wants to read in a corpus.
_BAD_PSEUDO = re.compile(r"(.)\1\1|ii|uu|aa|[^aeiou]{4}|piss|shit|fuck|cunt|nig|fag|slut|cock|dick|"
                         r"rape|porn|anal|tit|puss")


def _pseudo_words(rng, n, suffixes, taken: set[str], ok=lambda w: True) -> list[str]:
  out = []
  while len(out) < n:
    w = _pseudo_stem(rng, 1 + int(rng.random() < 0.6)) + suffixes[rng.integers(len(suffixes))]
    if 3 <= len(w) <= 13 and w not in taken and not _BAD_PSEUDO.search(w) and ok(w):
      taken.add(w)
      out.append(w)
  return out


@functools.lru_cache(maxsize=4)
def build_lexicon(n_nouns: int = 8000, n_verbs: int = 1800, n_adjectives: int = 3000,
                  n_propers: int = 3000, zipf_exponent: float = 1.0) -> Lexicon:
  """Builds the lexicon deterministically (fixed internal seed) in ~0.3 s.

  Ranks: hand-written real words first (in list order, roughly by frequency), then English
  derivations, then pseudo-words; a pseudo-lemma is rejected if any of its forms collides with an
  existing word form, so each number/form maps back to one lemma (real homographs such as the
  noun and verb "work" are kept, as in English).
  """
  rng = np.random.default_rng(_LEXICON_SEED)
  taken: set[str] = set()

  # Nouns.
  nouns: list[tuple[str, str]] = []
  seen_n: set[str] = set()
  for item in _NOUNS:
    sg, _, pl = item.partition(":")
    if sg in seen_n:
      continue
    seen_n.add(sg)
    nouns.append((sg, pl or pluralize(sg)))
  derived_n = [a + "ness" for a in _ADJECTIVES if not a.endswith(("y", "ic", "al", "ous", "ive"))]
  derived_n += [v.split(":")[0] + ("r" if v.split(":")[0].endswith("e") else "er")
                for v in _VERBS[:120]]
  for d in derived_n:
    if d not in seen_n:
      seen_n.add(d)
      nouns.append((d, pluralize(d)))
  for sg, pl in nouns:
    taken.update((sg, pl))

  # Verbs.
  verbs: list[Verb] = []
  seen_v: set[str] = set()
  def add_verb(base: str, frame: str) -> None:
    seen_v.add(base)
    verbs.append(Verb(base, third_singular(base), past_tense(base), past_participle(base),
                      gerund(base), frame in "tb", frame in "ib"))
  for item in _VERBS:
    base, _, frame = item.partition(":")
    if base not in seen_v:
      add_verb(base, frame)
  for item in _VERBS[:90]:
    base, _, frame = item.partition(":")
    if "re" + base not in seen_v and not base.startswith("re"):
      add_verb("re" + base, frame)
  for v in verbs:
    taken.update((v.vbp, v.vbz, v.vbd, v.vbn, v.vbg))

  # Adjectives (+ un- derivations).
  adjs = list(dict.fromkeys(_ADJECTIVES))
  adjs += ["un" + a for a in _ADJECTIVES[:200:3] if not a.startswith(("un", "in"))]
  adjs = list(dict.fromkeys(adjs))
  taken.update(adjs)
  propers = list(dict.fromkeys(_PROPER))
  taken.update(propers)
  taken.update(w for w, _, _ in _DET_SG + _DET_PL + _PRONOUNS)
  taken.update(w for w, _ in _RELATIVISERS)
  taken.update(_CONJ + ("which", "while", "because", "in", "of", "very"))
  taken.update(_ADVERBS + list(_PREPS_NP) + list(_PREPS_PRE) + list(_SUBORD) +
               list(_PRE_ADVERBS) + list(_INTENSIFIERS) + list(_CLOSED_EXTRA))

  # Pseudo-English fill-up.
  while len(nouns) < n_nouns:
    (sg,) = _pseudo_words(rng, 1, _NOUN_SUFFIXES, taken)
    pl = pluralize(sg)
    if pl in taken:
      continue
    taken.add(pl)
    nouns.append((sg, pl))
  while len(verbs) < n_verbs:
    (base,) = _pseudo_words(rng, 1, _VERB_SUFFIXES, taken,
                            ok=lambda w: not w.endswith(("s", "ed", "ing", "ey")))
    forms = (third_singular(base), past_tense(base), gerund(base))
    if any(f in taken for f in forms):
      continue
    taken.update(forms)
    r = rng.random()
    verbs.append(Verb(base, forms[0], forms[1], forms[1], forms[2], r < 0.75, r > 0.45))
  adjs += _pseudo_words(rng, max(0, n_adjectives - len(adjs)), _ADJ_SUFFIXES, taken)
  propers += _pseudo_words(rng, max(0, n_propers - len(propers)), _NNP_SUFFIXES, taken)

  verb_cum = _zipf_cum(len(verbs), zipf_exponent)
  w = np.diff(np.asarray(verb_cum), prepend=0.0)
  trans = tuple(i for i, v in enumerate(verbs) if v.transitive)
  intrans = tuple(i for i, v in enumerate(verbs) if v.intransitive)
  return Lexicon(
      nouns=tuple(nouns), noun_cum=_zipf_cum(len(nouns), zipf_exponent),
      verbs=tuple(verbs), verb_cum=verb_cum,
      trans=trans, trans_cum=tuple(np.cumsum(w[list(trans)]).tolist()),
      intrans=intrans, intrans_cum=tuple(np.cumsum(w[list(intrans)]).tolist()),
      adjectives=tuple(adjs), adj_cum=_zipf_cum(len(adjs), zipf_exponent),
      propers=tuple(propers), prop_cum=_zipf_cum(len(propers), zipf_exponent),
      adverbs=tuple(_ADVERBS))


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
    self._det_cum = (_cum([d[2] for d in _DET_SG]), _cum([d[2] for d in _DET_PL]))
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
    det, tag, _ = (_DET_SG, _DET_PL)[number][self._pick(self._det_cum[number])]
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
    if det == "a" and _is_vowel(self.w[det_i + 1][0]):
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
      self._emit(self._one(_PREPS_PRE), "IN")
      self._np(int(self.u() < 0.4))
      if self.u() < 0.3:
        self._emit("of", "IN")
        if self.u() < 0.3:
          self._emit(self.lex.propers[self._pick(self.lex.prop_cum)], "NNP")
        else:
          self._np(int(self.u() < 0.4))
      self._emit(",", ",")
    elif c == 2:
      self._emit(self._one(_PRE_ADVERBS), "RB")
      self._emit(",", ",")
    elif c == 3:  # subordinate clause with its own (agreeing) verb
      self._emit(self._one(_SUBORD), "IN")
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
      self._emit(self._one(_PREPS_NP), "IN")
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
      self._emit(self._one(_PREPS_NP), "IN")
      self._np(number, d, allow_compound=True)
    return number, d

  def _relativiser(self, label: str = "") -> None:
    word, tag = self._one(_RELATIVISERS)
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
        self._emit(self._one(_INTENSIFIERS), "RB")
      self._emit(self._adj(), "JJ", "rcmod")
      if comma:
        self._emit(",", ",")
    elif c == 2:
      if self.u() < 0.6:
        self._relativiser()
      word, tag, n = self._one(_PRONOUNS)
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
          self._emit(self._one(_INTENSIFIERS), "RB")
        self._emit(self._adj(), "JJ")
        if self.u() < 0.3:
          self._emit(self._one(_PREPS_NP), "IN")
          self._np(int(self.u() < 0.4))
      elif u < 0.75:
        self._np(number if self.u() < 0.8 else 1 - number, p_adj=0.5)
        if self.u() < 0.5:
          self._emit("of", "IN")
          self._np(int(self.u() < 0.5))
      else:
        self._emit(self._one(_PREPS_PRE), "IN")
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
        self._emit(self._one(_PREPS_NP), "IN")
        self._np(int(self.u() < 0.4))
    else:
      if self.u() < 0.4:
        self._emit(self._one(self.lex.adverbs), "RB")
      if self.u() < 0.5:
        self._emit(self._one(_PREPS_PRE), "IN")
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
        self._emit(self._one(_CONJ), "CC")
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
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  tmp = path + ".tmp"
  raw = open(tmp, "wb")
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
  os.replace(tmp, path)
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
