"""Vocabulary of the offline agreement corpus (``sva_corpus``): words, word forms and the lexicon.

Owns the hand-written English word lists, the closed-class words the grammar emits (determiners,
prepositions, pronouns, relativisers, ...), the English word-form rules (``pluralize``,
``third_singular``, ``past_tense``, ``past_participle``, ``gerund``), the pseudo-English word
pieces, and ``build_lexicon``: the Zipf-ranked ``Lexicon`` of real words, their derivations and
pseudo-English lemmas. The lexicon depends only on a fixed internal seed, never on the corpus seed.
"""
from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

SG, PL = 0, 1
_LEXICON_SEED = 20160101  # fixed: the lexicon must not change with the corpus seed

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

PREPS_NP = ("of",) * 6 + ("in", "on", "with", "for", "from", "near", "at", "about", "behind",
                         "under", "by", "like", "without", "beside", "across", "among", "after")
PREPS_PRE = ("in", "during", "after", "at", "for", "on", "under", "before", "near", "across")
SUBORD = ("when", "while", "although", "because", "if", "since", "after", "before", "though")
PRE_ADVERBS = ("however", "today", "meanwhile", "therefore", "nevertheless", "moreover",
               "instead", "indeed", "later", "here")
DET_SG = (("the", "DT", 36), ("a", "DT", 20), ("this", "DT", 6), ("that", "DT", 3),
          ("each", "DT", 3), ("every", "DT", 3), ("another", "DT", 2), ("no", "DT", 1),
          ("his", "PRP$", 4), ("her", "PRP$", 2), ("its", "PRP$", 4), ("their", "PRP$", 3),
          ("our", "PRP$", 1), ("one", "CD", 1))
DET_PL = (("the", "DT", 40), ("these", "DT", 6), ("those", "DT", 4), ("some", "DT", 6),
          ("all", "DT", 3), ("both", "DT", 1), ("many", "JJ", 5), ("several", "JJ", 3),
          ("few", "JJ", 1), ("most", "JJS", 2), ("two", "CD", 3), ("three", "CD", 2),
          ("four", "CD", 1), ("his", "PRP$", 3), ("its", "PRP$", 3), ("their", "PRP$", 4),
          ("our", "PRP$", 1), ("", "", 8))  # "" = bare plural
PRONOUNS = (("he", "PRP", SG), ("she", "PRP", SG), ("it", "PRP", SG), ("they", "PRP", PL),
            ("we", "PRP", PL), ("you", "PRP", PL), ("i", "PRP", PL))  # i/you take VBP forms
RELATIVISERS = (("that", "WDT"), ("which", "WDT"), ("who", "WP"))
CONJ = ("and", "but")
INTENSIFIERS = ("very", "quite", "rather", "extremely", "too", "so", "not")
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
def is_vowel(c: str) -> bool:
  return c in "aeiou"


def pluralize(noun: str) -> str:
  """English regular plural: -es after sibilants, consonant+y -> -ies, otherwise -s."""
  if noun.endswith(("s", "x", "z", "ch", "sh")):
    return noun + "es"
  if noun.endswith("y") and len(noun) > 1 and not is_vowel(noun[-2]):
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
  if verb.endswith("y") and len(verb) > 1 and not is_vowel(verb[-2]):
    return verb[:-1] + "ies"
  return verb + "s"


def _double_final(verb: str) -> bool:
  # Short CVC verbs double their last consonant: stop -> stopped, run -> running.
  return (len(verb) <= 4 and len(verb) >= 3 and not is_vowel(verb[-1]) and verb[-1] not in "wxy"
          and is_vowel(verb[-2]) and not is_vowel(verb[-3]))


def past_tense(verb: str) -> str:
  if verb in _IRREG_PAST:
    return _IRREG_PAST[verb][0]
  if verb.endswith("e"):
    return verb + "d"
  if verb.endswith("y") and not is_vowel(verb[-2]):
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
  taken.update(w for w, _, _ in DET_SG + DET_PL + PRONOUNS)
  taken.update(w for w, _ in RELATIVISERS)
  taken.update(CONJ + ("which", "while", "because", "in", "of", "very"))
  taken.update(_ADVERBS + list(PREPS_NP) + list(PREPS_PRE) + list(SUBORD) +
               list(PRE_ADVERBS) + list(INTENSIFIERS) + list(_CLOSED_EXTRA))

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
