"""Subject-verb agreement data: Linzen et al. (2016) TSV, vocabulary, Reflect splits, task arrays.

Implements (REFLECT.md §2.1-2.3, DATA.md part A):

* ``read_tsv``: the 18-column ``agr_50_mostcommon_10K.tsv(.gz)`` (real, or the synthetic one of
  ``sva_corpus``). Malformed lines (wrong column count, non-integer or out-of-range index fields,
  unknown ``verb_pos``) are counted with their line numbers, never silently dropped: a warning
  lists the first few; a ``ValueError`` is raised if all lines, or more than
  ``max_bad_fraction`` of them (``config.data.max_bad_fraction``), are bad, and for a file that is
  not UTF-8 text (a binary file, a damaged gzip). Rows whose ``sentence`` has more than
  ``max_len`` tokens are dropped BEFORE the split and counted (Linzen's ``maxlen=50``; Reflect
  itself keeps them).
* Split (Reflect ``make_splits``): ``np.random.seed(42); np.random.shuffle(rows)``, train = first
  10%, valid = next 1%, test = the rest. ``np.random.RandomState(42).permutation(n)`` draws the
  same order (same legacy Fisher-Yates), which the tests check.
* ``Vocab``: ``<pad>=0, <unk>=1, <bos>=2, <eos>=3``, then the ``vocab_size`` most frequent
  whitespace tokens of the TRAIN split's ``sentence`` column, ties broken by the word (Reflect keeps
  every train word in first-seen order, ~10,030 types; with the 10K-replaced ``sentence`` column
  the two differ only in a few rare tokens).
* LM task (``word_sv_agreement_lm``): ``inputs = [<bos>] + sentence``, ``targets = sentence +
  [<eos>]``; ``targets[verb_position]`` is the verb (``verb_position = verb_index - 1``);
  ``correct_verb``/``wrong_verb`` are the ids of the verb token and of its other-number form.
* CL task (``word_sv_agreement_vp``): ``inputs = sentence[:verb_position] + [<eos>]``, ``label``
  VBZ=0 / VBP=1.
* All arrays are int32, right-padded with 0 to width ``L = max_len + 1``.

Verb inflection map (for ``wrong_verb``). Reflect pairs forms with ``inflect.plural_verb`` over
Linzen's ``wiki.vocab``, which is not available; we build it from the data itself:

1. fixed pairs ``is/are``, ``has/have``, ``does/do``, ``was/were`` and the tags ``VBZ/VBP`` (a verb
   replaced by its tag in ``sentence`` is compared with the other tag);
2. every token seen at a verb position with ``verb_pos`` VBZ is paired with the first of its
   singularisations (``-ies -> -y``, ``-es -> ''``, ``-s -> ''``) that is seen as a VBP verb,
   else that is in the vocabulary, else that re-inflects to it by rule;
3. every VBP verb token not yet paired gets its rule-based 3rd-singular form
   (``sva_corpus.third_singular``: ``-es`` after sibilants and ``-o``, ``-y -> -ies``, else ``-s``).

A pair whose form is out of vocabulary gets ``<unk>``; ``pair_ok`` marks items where both ids
are real words (use it as ``mask`` in ``sva_metrics.agreement_metrics``).

The real-text pieces in ``shared/data/sva`` (Linzen's ``numpred`` files, Gulordava et al.'s test
set) are read by ``sva_real`` into arrays of the same layout.

CLI::

  python -m inductive_kd.data.sva download --out DIR
  python -m inductive_kd.data.sva generate --out FILE.tsv.gz --n 200000 --seed 0
  python -m inductive_kd.data.sva info FILE.tsv.gz
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import hashlib
import json
import logging
import os
import sys
import warnings
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from inductive_kd import fileio
from inductive_kd.data import sva_corpus

FIELDS = sva_corpus.FIELDS
SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
PAD, UNK, BOS, EOS = 0, 1, 2, 3
LABELS = {"VBZ": 0, "VBP": 1}
FILE_NAME = "agr_50_mostcommon_10K.tsv.gz"
URLS = (  # DATA.md part A: the authors' public copies.
    "http://tallinzen.net/media/rnn_agreement/agr_50_mostcommon_10K.tsv.gz",
    "https://www.dropbox.com/s/5axdu3q9jkxzjy8/agr_50_mostcommon_10K.tsv.gz?dl=1",
)
TASKS = {"lm": "lm", "cl": "cl", "vp": "cl"}
_INT_FIELDS = ("subj_index", "verb_index", "n_intervening", "n_diff_intervening", "distance",
               "max_depth")
_CACHE_VERSION = 1
_FIXED_VERB_PAIRS = (("is", "are"), ("has", "have"), ("does", "do"), ("was", "were"),
                     ("VBZ", "VBP"))

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------
# Vocabulary.
# ----------------------------------------------------------------------------------------------
class Vocab:
  """Word <-> id map: ``<pad>=0, <unk>=1, <bos>=2, <eos>=3`` then words."""

  def __init__(self, words: Sequence[str]):
    words = list(words)
    dup = [w for w, c in Counter(words).items() if c > 1]
    if dup:
      raise ValueError(f"Vocab words must be unique; duplicated: {dup[:5]}")
    clash = [w for w in words if w in SPECIALS]
    if clash:
      raise ValueError(f"Vocab words must not contain special tokens {clash}")
    self.itos: list[str] = list(SPECIALS) + words
    self.stoi: dict[str, int] = {w: i for i, w in enumerate(self.itos)}

  @classmethod
  def build(cls, sentences: Iterable[str | Sequence[str]], size: int | None = 10000) -> "Vocab":
    """The ``size`` most frequent tokens (all if None); ties broken by the word."""
    counts: Counter = Counter()
    for s in sentences:
      counts.update(s.split() if isinstance(s, str) else s)
    for sp in SPECIALS:
      counts.pop(sp, None)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    return cls(ranked if size is None else ranked[:size])

  def __len__(self) -> int:
    return len(self.itos)

  def __contains__(self, word: str) -> bool:
    return word in self.stoi

  def __eq__(self, other) -> bool:
    return isinstance(other, Vocab) and self.itos == other.itos

  def id(self, word: str | None) -> int:
    return self.stoi.get(word, UNK) if word is not None else UNK

  def encode(self, tokens: str | Sequence[str]) -> list[int]:
    """Whitespace tokens (or a token list) -> ids; unknown -> ``<unk>``."""
    get = self.stoi.get
    return [get(t, UNK) for t in (tokens.split() if isinstance(tokens, str) else tokens)]

  def decode(self, ids: Iterable[int], *, strip_pad: bool = True) -> list[str]:
    return [self.itos[int(i)] for i in ids if not (strip_pad and int(i) == PAD)]

  def save(self, path: str | os.PathLike) -> None:
    fileio.atomic_write_text(path, json.dumps({"itos": self.itos}, ensure_ascii=False))

  @classmethod
  def load(cls, path: str | os.PathLike) -> "Vocab":
    itos = json.loads(Path(path).read_text(encoding="utf-8"))["itos"]
    if tuple(itos[:len(SPECIALS)]) != SPECIALS:
      raise ValueError(f"{path}: not a Vocab file (first ids must be {SPECIALS})")
    return cls(itos[len(SPECIALS):])


# ----------------------------------------------------------------------------------------------
# Reading the TSV.
# ----------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Dependencies:
  """Parsed rows, columnar. ``sentence`` is kept as a string (split on demand) to save memory."""
  sentence: list[str]
  verb: list[str]
  label: np.ndarray                 # VBZ=0, VBP=1
  subj_index: np.ndarray            # 1-based
  verb_index: np.ndarray            # 1-based
  n_intervening: np.ndarray
  n_diff_intervening: np.ndarray
  distance: np.ndarray
  max_depth: np.ndarray
  line: np.ndarray                  # 1-based line number in the file (header = 1)

  def __len__(self) -> int:
    return len(self.sentence)


@dataclasses.dataclass
class ReadReport:
  path: str
  n_lines: int                      # data lines (header excluded)
  n_rows: int                       # rows kept
  n_too_long: int
  max_len: int | None
  malformed: list[tuple[int, str]]  # (line number, reason)

  @property
  def n_malformed(self) -> int:
    return len(self.malformed)

  def summary(self, first: int = 5) -> str:
    s = (f"{self.path}: {self.n_lines} data lines, {self.n_rows} rows kept, "
         f"{self.n_malformed} malformed, {self.n_too_long} dropped for > {self.max_len} tokens")
    if self.malformed:
      s += "; malformed: " + "; ".join(f"line {n}: {r}" for n, r in self.malformed[:first])
      if self.n_malformed > first:
        s += f"; ... ({self.n_malformed - first} more)"
    return s

  def to_json(self) -> dict:
    d = dataclasses.asdict(self)
    d["malformed"] = [list(m) for m in self.malformed]
    return d


def _open_text(path: str | os.PathLike):
  path = os.fspath(path)
  if not os.path.exists(path):
    raise ValueError(f"{path} does not exist: pass an existing agreement TSV (.tsv or .tsv.gz), "
                     f"e.g. --config.data.sva_tsv=/path/to/{FILE_NAME}, or generate one with "
                     f"`python -m inductive_kd.data.sva generate --out FILE --n N`")
  with open(path, "rb") as f:
    gz = f.read(2) == b"\x1f\x8b"
  if gz:
    return gzip.open(path, "rt", encoding="utf-8", newline="")
  return open(path, "rt", encoding="utf-8", newline="")


@contextlib.contextmanager
def _text(path, what: str):
  """Reading `path` as text: a file that is not (binary, or a damaged gzip) is one line naming
  it, not a decoding error from deep inside the reader."""
  try:
    yield
  except UnicodeDecodeError as e:
    byte = e.object[e.start:e.start + 1].hex()
    raise ValueError(f"{path} is not UTF-8 text (byte 0x{byte}: {e.reason}; a binary file?), so "
                     f"not a {what}") from None
  except (gzip.BadGzipFile, EOFError, zlib.error) as e:
    raise ValueError(f"{path} is a damaged gzip file ({e}), so not a {what}") from None


def _unquote(field: str) -> str:
  # Linzen wrote the file with csv.writer (QUOTE_MINIMAL): a field holding '"' is quoted.
  if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
    return field[1:-1].replace('""', '"')
  return field


def _check_bad(path, n_lines: int, malformed: list, max_bad_fraction: float, what: str) -> None:
  if n_lines == 0:
    raise ValueError(f"{path}: no data lines; expected a {what}")
  bad = len(malformed)
  first = "; ".join(f"line {n}: {r}" for n, r in malformed[:5])
  if bad == n_lines:
    raise ValueError(f"{path}: all {n_lines} lines are malformed (not a {what}?); first: {first}")
  if bad > max_bad_fraction * n_lines:
    raise ValueError(f"{path}: {bad} of {n_lines} lines malformed, more than the allowed fraction "
                     f"max_bad_fraction={max_bad_fraction:g}; first: {first}. Fix the file, or "
                     f"skip up to a larger fraction of bad lines with "
                     f"--config.data.max_bad_fraction=F (F >= {bad / n_lines:.3g}).")
  if bad:
    warnings.warn(f"{path}: skipped {bad} malformed line(s) of {n_lines}; first: {first}",
                  stacklevel=3)


def read_tsv(path: str | os.PathLike, *, max_len: int | None = 50,
             max_bad_fraction: float = 0.01) -> tuple[Dependencies, ReadReport]:
  """Reads a Linzen-format TSV (plain or gzip, detected by content).

  The header row maps columns by name (so a reordered file works); a file without a header is
  read in the canonical order with a warning. Rows with more than ``max_len`` sentence tokens
  are dropped and counted (``max_len=None`` keeps all).
  """
  cols: dict[str, list] = {k: [] for k in ("sentence", "verb", "label", "line", *_INT_FIELDS)}
  malformed: list[tuple[int, str]] = []
  n_lines = n_too_long = 0
  what = "Linzen agreement TSV (18 columns)"
  with _open_text(path) as f, _text(path, what):
    first = f.readline().rstrip("\r\n")
    header = first.split("\t")
    lines: Iterable[tuple[int, str]]
    if header and header[0] == "sentence":
      missing = [c for c in FIELDS if c not in header]
      if missing:
        raise ValueError(f"{path}: header lacks columns {missing}; expected the 18 Linzen "
                         f"columns {list(FIELDS)}")
      pos = {c: header.index(c) for c in FIELDS}
      n_cols = len(header)
      lines = enumerate(f, start=2)
    else:
      warnings.warn(f"{path}: no header row; reading columns in the canonical Linzen order",
                    stacklevel=2)
      pos = {c: i for i, c in enumerate(FIELDS)}
      n_cols = len(FIELDS)
      lines = enumerate(_chain_first(first, f), start=1)
    i_sent, i_verb, i_vpos = pos["sentence"], pos["verb"], pos["verb_pos"]
    int_pos = [(c, pos[c]) for c in _INT_FIELDS]
    for line_no, raw in lines:
      n_lines += 1
      fields = raw.rstrip("\r\n").split("\t")
      if len(fields) != n_cols:
        malformed.append((line_no, f"{len(fields)} columns, expected {n_cols}"))
        continue
      try:
        ints = {}
        for c, j in int_pos:
          v = fields[j].strip()
          try:
            ints[c] = int(v)
          except ValueError:
            raise ValueError(f"non-integer {c}={v!r}") from None
        vpos = _unquote(fields[i_vpos])
        if vpos not in LABELS:
          raise ValueError(f"verb_pos={vpos!r}, expected VBZ or VBP")
        sentence = _unquote(fields[i_sent])
        toks = sentence.split()
        n_tok = len(toks)
        vi = ints["verb_index"]
        if not 1 <= vi <= n_tok:
          raise ValueError(f"verb_index={vi} out of range [1, {n_tok}]")
        if not 1 <= ints["subj_index"] < vi:
          raise ValueError(f"subj_index={ints['subj_index']} not in [1, verb_index={vi})")
        verb = _unquote(fields[i_verb])
        # `sentence` holds the verb itself or, if rare, its tag; anything else means the
        # tokens and the 1-based index are misaligned.
        if toks[vi - 1] not in (verb, verb.lower(), vpos):
          raise ValueError(f"token {toks[vi - 1]!r} at verb_index={vi} is neither the verb "
                           f"{verb!r} nor {vpos}")
      except ValueError as e:
        malformed.append((line_no, str(e)))
        continue
      if max_len is not None and n_tok > max_len:
        n_too_long += 1
        continue
      cols["sentence"].append(sentence)
      cols["verb"].append(verb)
      cols["label"].append(LABELS[vpos])
      cols["line"].append(line_no)
      for c, v in ints.items():
        cols[c].append(v)
  _check_bad(path, n_lines, malformed, max_bad_fraction, what)
  deps = Dependencies(
      sentence=cols["sentence"], verb=cols["verb"],
      label=np.asarray(cols["label"], np.int32), line=np.asarray(cols["line"], np.int64),
      **{c: np.asarray(cols[c], np.int32) for c in _INT_FIELDS})
  report = ReadReport(os.fspath(path), n_lines, len(deps), n_too_long, max_len, malformed)
  return deps, report


def _chain_first(first: str, rest) -> Iterator[str]:
  yield first
  yield from rest


# ----------------------------------------------------------------------------------------------
# Splits and verb inflections.
# ----------------------------------------------------------------------------------------------
def split_indices(n: int, fractions: tuple[float, float] = (0.1, 0.01),
                  seed: int = 42) -> dict[str, np.ndarray]:
  """Reflect's ``make_splits``: seeded legacy shuffle; first ``int(n*f_train)`` rows train, next
  ``int(n*f_valid)`` valid, the rest test."""
  f_train, f_valid = fractions
  if not (0 <= f_train and 0 <= f_valid and f_train + f_valid <= 1):
    raise ValueError(f"split_fractions={fractions}: need two non-negative fractions summing to "
                     f"<= 1 (train, valid); the rest is test")
  perm = np.random.RandomState(seed).permutation(n)
  n_train, n_valid = int(n * f_train), int(n * f_valid)
  return {"train": perm[:n_train], "valid": perm[n_train:n_train + n_valid],
          "test": perm[n_train + n_valid:]}


def _singular_candidates(vbz: str) -> list[str]:
  c = []
  if vbz.endswith("ies") and len(vbz) > 3:
    c.append(vbz[:-3] + "y")
  if vbz.endswith("es") and len(vbz) > 2:
    c.append(vbz[:-2])
  if vbz.endswith("s") and len(vbz) > 1:
    c.append(vbz[:-1])
  return c


def build_verb_inflections(vbz_forms: Iterable[str], vbp_forms: Iterable[str],
                           known_words: Iterable[str] = ()) -> dict[str, str]:
  """VBZ <-> VBP map from observed verb tokens (see the module docstring for the rules)."""
  vbz, vbp, known = set(vbz_forms), set(vbp_forms), set(known_words)
  infl: dict[str, str] = {}
  for a, b in _FIXED_VERB_PAIRS:
    infl[a], infl[b] = b, a
  for z in sorted(vbz):
    if z in infl:
      continue
    cands = _singular_candidates(z)
    pick = (next((c for c in cands if c in vbp), None)
            or next((c for c in cands if c in known), None)
            or next((c for c in cands if sva_corpus.third_singular(c) == z), None))
    if pick is not None:
      infl[z] = pick
      infl.setdefault(pick, z)
  for p in sorted(vbp):
    if p not in infl:
      z = sva_corpus.third_singular(p)
      infl[p] = z
      infl.setdefault(z, p)
  return infl


def _inflections_from(deps: Dependencies, vocab: Vocab) -> dict[str, str]:
  vbz, vbp = set(), set()
  for s, verb, vi, lab in zip(deps.sentence, deps.verb, deps.verb_index, deps.label):
    tok = s.split()[vi - 1]
    (vbz if lab == 0 else vbp).update((tok, verb))
  return build_verb_inflections(vbz, vbp, vocab.itos[len(SPECIALS):])


# ----------------------------------------------------------------------------------------------
# Arrays.
# ----------------------------------------------------------------------------------------------
def _flat(encoded: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  lengths = np.fromiter((len(e) for e in encoded), np.int64, len(encoded))
  ids = np.fromiter((t for e in encoded for t in e), np.int32, int(lengths.sum()))
  rows = np.repeat(np.arange(len(encoded)), lengths)
  cols = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
  return ids, rows, cols


def lm_arrays(tokens: list[list[str]], verb_position: np.ndarray, vocab: Vocab,
              infl: dict[str, str], width: int, *, correct_forms: Sequence[str] | None = None,
              wrong_forms: Sequence[str] | None = None) -> dict[str, np.ndarray]:
  """LM arrays for sentences (token lists) with 0-based ``verb_position``.

  By default the correct form is the sentence token at the verb and the wrong one its
  ``infl`` partner; ``correct_forms``/``wrong_forms`` override them (Gulordava's gold file)."""
  n = len(tokens)
  enc = [vocab.encode(t) for t in tokens]
  ids, rows, cols = _flat(enc)
  lengths = np.fromiter((len(e) for e in enc), np.int64, n)
  if n and lengths.max() + 1 > width:
    raise ValueError(f"a sentence has {lengths.max()} tokens; arrays of width {width} hold at "
                     f"most {width - 1}: raise max_len")
  inputs = np.zeros((n, width), np.int32)
  targets = np.zeros((n, width), np.int32)
  inputs[:, 0] = BOS
  inputs[rows, cols + 1] = ids
  targets[rows, cols] = ids
  targets[np.arange(n), lengths] = EOS
  vp = np.asarray(verb_position, np.int32)
  if correct_forms is None:
    correct = targets[np.arange(n), vp] if n else np.zeros(0, np.int32)
    wrong = np.fromiter((vocab.id(infl.get(t[v])) for t, v in zip(tokens, vp)), np.int32, n)
  else:
    correct = np.fromiter((vocab.id(w) for w in correct_forms), np.int32, n)
    wrong = np.fromiter((vocab.id(w) for w in wrong_forms), np.int32, n)
  return {"inputs": inputs, "targets": targets, "length": (lengths + 1).astype(np.int32),
          "verb_position": vp, "correct_verb": correct.astype(np.int32),
          "wrong_verb": wrong.astype(np.int32),
          "pair_ok": (correct != UNK) & (wrong != UNK) & (correct != wrong)}


def cl_arrays(prefixes: list[list[str]], vocab: Vocab, width: int) -> dict[str, np.ndarray]:
  """CL inputs: prefix tokens (everything before the verb) then ``<eos>``; pad 0."""
  n = len(prefixes)
  enc = [vocab.encode(p) for p in prefixes]
  ids, rows, cols = _flat(enc)
  lengths = np.fromiter((len(e) for e in enc), np.int64, n)
  if n and lengths.max() + 1 > width:
    raise ValueError(f"a prefix has {lengths.max()} tokens; width {width} holds at most "
                     f"{width - 1}: raise max_len")
  inputs = np.zeros((n, width), np.int32)
  inputs[rows, cols] = ids
  inputs[np.arange(n), lengths] = EOS
  return {"inputs": inputs, "length": (lengths + 1).astype(np.int32)}


def task_arrays(task: str, deps: Dependencies, idx: np.ndarray, vocab: Vocab,
                infl: dict[str, str], width: int) -> dict[str, np.ndarray]:
  """Arrays of one split (``idx`` rows of ``deps``) for ``task`` in {'lm', 'cl'}."""
  tokens = [deps.sentence[i].split() for i in idx]
  vp = deps.verb_index[idx] - 1
  if task == "lm":
    out = lm_arrays(tokens, vp, vocab, infl, width)
  else:
    out = cl_arrays([t[:v] for t, v in zip(tokens, vp)], vocab, width)
  out.update(label=deps.label[idx], n_intervening=deps.n_intervening[idx],
             n_diff_intervening=deps.n_diff_intervening[idx], distance=deps.distance[idx],
             line=deps.line[idx])
  return out


# ----------------------------------------------------------------------------------------------
# Entry points.
# ----------------------------------------------------------------------------------------------
def _file_sha256(path) -> str:
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      h.update(block)
  return h.hexdigest()


def _task_name(task: str) -> str:
  if task not in TASKS:
    raise ValueError(f"task={task!r}; expected one of {sorted(TASKS)} "
                     f"('lm' language modelling, 'cl'/'vp' verb-number classification)")
  return TASKS[task]


def prepare(task: str, path, *, max_len: int | None = 50, vocab_size: int | None = 10000,
            split_fractions: tuple[float, float] = (0.1, 0.01), seed: int = 42,
            max_bad_fraction: float = 0.01
            ) -> tuple[dict[str, dict[str, np.ndarray]], Vocab, ReadReport]:
  """``load_task`` without the cache, also returning the read report."""
  task = _task_name(task)
  if max_len is not None and max_len < 2:
    raise ValueError(f"max_len={max_len}: need >= 2 tokens (a subject and a verb)")
  deps, report = read_tsv(path, max_len=max_len, max_bad_fraction=max_bad_fraction)
  splits_idx = split_indices(len(deps), tuple(split_fractions), seed)
  vocab = Vocab.build((deps.sentence[i] for i in splits_idx["train"]), vocab_size)
  infl = _inflections_from(deps, vocab)
  # max_len=None keeps every row (Reflect's own split); arrays are then as wide as the longest.
  width = (max_len if max_len is not None else
           max((len(s.split()) for s in deps.sentence), default=1)) + 1
  splits = {k: task_arrays(task, deps, idx, vocab, infl, width) for k, idx in splits_idx.items()}
  return splits, vocab, report


def load_task(task: str, path, *, max_len: int | None = 50, vocab_size: int | None = 10000,
              split_fractions: tuple[float, float] = (0.1, 0.01), seed: int = 42,
              cache_dir: str | os.PathLike | None = None, max_bad_fraction: float = 0.01
              ) -> tuple[dict[str, dict[str, np.ndarray]], Vocab]:
  """Arrays of the train/valid/test splits of a Linzen TSV for ``task`` ('lm' or 'cl').

  Returns ({'train'|'valid'|'test': {name: array}}, vocab). LM arrays: inputs, targets [N, L],
  length, verb_position, correct_verb, wrong_verb, pair_ok [N]; CL arrays: inputs [N, L], length
  [N]; both: label, n_intervening, n_diff_intervening, distance, line [N]; L = max_len + 1.
  Rows longer than ``max_len`` tokens are dropped before the split (Linzen); ``max_len=None``
  keeps all rows, which reproduces Reflect's split exactly (Reflect applies no length cut).
  With ``cache_dir`` the arrays are stored as .npz keyed by the file's sha256 and the arguments.
  """
  task = _task_name(task)
  args = dict(task=task, max_len=max_len, vocab_size=vocab_size,
              split_fractions=list(split_fractions), seed=seed,
              max_bad_fraction=max_bad_fraction, version=_CACHE_VERSION)
  cache = None
  if cache_dir is not None:
    _open_text(path).close()  # clear error for a missing file before hashing it
    key = hashlib.sha256(json.dumps({"file": _file_sha256(path), **args},
                                    sort_keys=True).encode()).hexdigest()[:20]
    cache = Path(cache_dir) / f"sva_{task}_{key}"
    if cache.with_suffix(".npz").exists() and cache.with_suffix(".vocab.json").exists():
      with np.load(cache.with_suffix(".npz")) as z:
        splits: dict[str, dict[str, np.ndarray]] = {}
        for name in z.files:
          split, arr = name.split(".", 1)
          splits.setdefault(split, {})[arr] = z[name]
      log.info("SVA %s arrays from cache %s", task, cache)
      return splits, Vocab.load(cache.with_suffix(".vocab.json"))
  splits, vocab, report = prepare(task, path, max_len=max_len, vocab_size=vocab_size,
                                  split_fractions=split_fractions, seed=seed,
                                  max_bad_fraction=max_bad_fraction)
  log.info("%s; split sizes %s; vocab %d", report.summary(),
           {k: len(v["inputs"]) for k, v in splits.items()}, len(vocab))
  if cache is not None:
    # The .npz last: a reader takes its presence to mean the vocabulary and report are there.
    vocab.save(cache.with_suffix(".vocab.json"))
    fileio.atomic_write_text(cache.with_suffix(".report.json"), json.dumps(report.to_json()))
    fileio.atomic_savez(cache.with_suffix(".npz"),
                        **{f"{s}.{k}": v for s, d in splits.items() for k, v in d.items()})
  return splits, vocab


# ----------------------------------------------------------------------------------------------
# CLI.
# ----------------------------------------------------------------------------------------------
def download(out_dir, *, timeout: float = 10.0) -> Path:
  """Fetches the authors' file into ``out_dir``; raises ConnectionError if unreachable."""
  import urllib.error
  import urllib.request
  out = Path(out_dir) / FILE_NAME
  out.parent.mkdir(parents=True, exist_ok=True)
  errors = []
  for url in URLS:
    tmp = out.with_suffix(".part")
    try:
      with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
        while block := r.read(1 << 20):
          f.write(block)
      with open(tmp, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
          raise OSError("the reply is not a gzip file")
      os.replace(tmp, out)
      return out
    except (urllib.error.URLError, OSError, ValueError) as e:
      errors.append(f"{url}: {getattr(e, 'reason', e)}")
      tmp.unlink(missing_ok=True)
  raise ConnectionError("; ".join(errors))


def main(argv: Sequence[str] | None = None) -> int:
  p = argparse.ArgumentParser(prog="python -m inductive_kd.data.sva",
                              description="Linzen et al. (2016) subject-verb agreement data.")
  sub = p.add_subparsers(dest="cmd", required=True)
  d = sub.add_parser("download", help=f"fetch {FILE_NAME} from the authors' site")
  d.add_argument("--out", required=True, help="output folder")
  d.add_argument("--timeout", type=float, default=10.0)
  g = sub.add_parser("generate", help="write a synthetic Linzen-format TSV (sva_corpus)")
  g.add_argument("--out", required=True)
  g.add_argument("--n", type=int, default=200000)
  g.add_argument("--seed", type=int, default=0)
  i = sub.add_parser("info", help="read a TSV and print malformed/too-long counts and splits")
  i.add_argument("path")
  i.add_argument("--max_len", type=int, default=50)
  args = p.parse_args(argv)
  if args.cmd == "download":
    try:
      out = download(args.out, timeout=args.timeout)
    except ConnectionError as e:
      print(f"network unreachable ({e}); get {FILE_NAME} on a machine with network access and "
            f"pass it with --config.data.sva_tsv=/path/to/{FILE_NAME}", file=sys.stderr)
      return 1
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {_file_sha256(out)})")
    return 0
  if args.cmd == "generate":
    return sva_corpus.main(["--out", args.out, "--n", str(args.n), "--seed", str(args.seed)]) or 0
  deps, report = read_tsv(args.path, max_len=args.max_len, max_bad_fraction=1.0)
  print(report.summary(first=20))
  sizes = {k: len(v) for k, v in split_indices(len(deps)).items()}
  print(f"Reflect split (seed 42, 10%/1%/89%): {sizes}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
