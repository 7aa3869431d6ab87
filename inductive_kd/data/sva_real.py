"""Real subject-verb agreement text shipped offline: Linzen's ``numpred`` files and Gulordava's set.

The full Linzen et al. (2016) TSV cannot be downloaded here (``sva`` reads it, or the synthetic
one of ``sva_corpus``). Two public pieces of Linzen's data are in ``shared/data/sva`` (see its
README; provenance and sha256 in ``shared/spec/DATA.md``), and this module owns them:

* ``linzen_rnn_agr_simple/``: Linzen's own simplified verb-number prediction set, one
  ``VBZ|VBP<TAB>prefix`` per line; the prefix is the ``sentence`` field (rare words already
  replaced by their POS tag) up to, not including, the verb. ``numpred.val`` (15,772 items,
  natural distribution of attractors) and ``numpred.test.{1..5}`` (items with exactly k
  attractors, homogeneous intervention only). Copied from viking-sudo-rm/StackNN
  (``data/linzen/rnn_agr_simple``; the repository has no licence file), originally distributed by
  T. Linzen. Cite Linzen, Dupoux & Goldberg (2016), "Assessing the ability of LSTMs to learn
  syntax-sensitive dependencies", TACL. ``load_numpred`` gives CL arrays.
* ``gulordava_linzen_testset/subj_agr_filtered.{text,gold,eval}``: Gulordava et al. (2018)'s
  7,489-sentence subset of Linzen's test set. ``.text``: the original lowercased words (not
  POS-replaced) plus ``<eos>``; ``.gold``: ``0-based verb idx<TAB>correct<TAB>wrong<TAB>
  n_attractors``; ``.eval``: the verb indices only (not read). From
  facebookresearch/colorlessgreenRNNs (``data/linzen_testset``), licence CC BY-NC 4.0
  (non-commercial): use it for evaluation and keep the attribution to Gulordava, Bojanowski,
  Grave, Linzen & Baroni (2018), "Colorless green recurrent networks dream hierarchically",
  NAACL. ``load_gulordava`` gives LM arrays.

Both loaders encode with a caller-given ``sva.Vocab`` and build their arrays with ``sva``'s
``cl_arrays``/``lm_arrays``, so the keys and layout are those of ``sva.load_task``'s splits;
metadata the files lack is -1. Malformed lines are counted and reported as ``sva.read_tsv`` does.
``load_cl_task`` makes them the real-text classification task (``config.data.sva_source=
'numpred'``): its own splits, vocabulary and train/test overlap removal.
"""
from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from inductive_kd.data import sva_corpus
from inductive_kd.data.sva import (LABELS, Vocab, _check_bad, _open_text, _text, cl_arrays,
                                   lm_arrays)

log = logging.getLogger(__name__)


def _read_simple_lines(path, what: str) -> Iterator[tuple[int, str]]:
  with _open_text(path) as f, _text(path, what):
    for i, line in enumerate(f, start=1):
      yield i, line.rstrip("\r\n")


def read_numpred(path, *, max_len: int = 50, max_bad_fraction: float = 0.01
                 ) -> tuple[list[list[str]], dict[str, np.ndarray]]:
  """Linzen's ``rnn_agr_simple`` file (``VBZ|VBP<TAB>prefix``): the prefixes as token lists, and
  their label, n_intervening, n_diff_intervening, distance and line arrays.

  ``numpred.test.k`` holds items with exactly k attractors and homogeneous intervention, so
  n_intervening = n_diff_intervening = k; other files get -1. Distance is unknown (-1). A prefix
  longer than ``max_len - 1`` tokens (the sentence would exceed ``max_len``) is dropped, counted
  in a warning."""
  m = re.search(r"numpred\.test\.(\d+)$", os.fspath(path))
  k = int(m.group(1)) if m else -1
  prefixes, labels, lines, malformed = [], [], [], []
  n_lines = too_long = 0
  what = "numpred file (VBZ|VBP<TAB>prefix)"
  for i, line in _read_simple_lines(path, what):
    n_lines += 1
    parts = line.split("\t")
    if len(parts) != 2 or parts[0] not in LABELS or not parts[1].split():
      malformed.append((i, f"expected 'VBZ|VBP<TAB>prefix', got {line[:40]!r}"))
      continue
    toks = parts[1].split()
    if len(toks) > max_len - 1:
      too_long += 1
      continue
    prefixes.append(toks)
    labels.append(LABELS[parts[0]])
    lines.append(i)
  _check_bad(path, n_lines, malformed, max_bad_fraction, what)
  if too_long:
    warnings.warn(f"{path}: dropped {too_long} prefixes longer than {max_len - 1} tokens",
                  stacklevel=2)
  return prefixes, _metadata(labels, [k] * len(labels), lines)


def load_numpred(path, vocab: Vocab, *, max_len: int = 50,
                 max_bad_fraction: float = 0.01) -> dict[str, np.ndarray]:
  """``read_numpred``'s items as CL arrays with ``vocab``."""
  prefixes, meta = read_numpred(path, max_len=max_len, max_bad_fraction=max_bad_fraction)
  return {**cl_arrays(prefixes, vocab, max_len + 1), **meta}


def read_gulordava(directory, *, max_len: int = 50, stem: str = "subj_agr_filtered",
                   max_bad_fraction: float = 0.01):
  """Gulordava et al. (2018)'s subset of Linzen's test set (``.text`` + ``.gold``): (sentences as
  token lists, 0-based verb positions, correct forms, wrong forms, metadata arrays as
  ``read_numpred``'s).

  ``.gold`` = ``verb idx (0-based)<TAB>correct<TAB>wrong<TAB>n_attractors``. The words are the
  original ones (not POS-replaced). By inspection the items have homogeneous intervention (every
  intervening noun is an attractor), so n_intervening = n_diff_intervening = n_attractors;
  distance is unknown (-1). label: VBZ=0 if the correct form is the 3rd-singular of the wrong
  one, VBP=1 in the converse case. Sentences over ``max_len`` tokens are dropped (Linzen's cut)."""
  d = Path(directory)
  text, gold = d / f"{stem}.text", d / f"{stem}.gold"
  for p in (text, gold):
    if not p.exists():
      raise ValueError(f"{p} does not exist: pass the folder holding {stem}.text and {stem}.gold")
  what = "Gulordava .text/.gold pair"
  t_lines = list(_read_simple_lines(text, what))
  g_lines = list(_read_simple_lines(gold, what))
  if len(t_lines) != len(g_lines):
    raise ValueError(f"{text} has {len(t_lines)} lines but {gold} has {len(g_lines)}; "
                     f"they must be line-aligned")
  tokens, vps, correct, wrong, labels, ks, lines, malformed = [], [], [], [], [], [], [], []
  too_long = 0
  for (i, t), (_, g) in zip(t_lines, g_lines):
    toks = t.split()
    if toks and toks[-1] == "<eos>":
      toks = toks[:-1]
    parts = g.split("\t")
    try:
      if len(parts) != 4:
        raise ValueError(f"{len(parts)} gold columns, expected 4")
      # The .text is lowercased but a few gold forms are capitalised ("Are").
      vp, c, w, k = int(parts[0]), parts[1].lower(), parts[2].lower(), int(parts[3])
      if not 0 <= vp < len(toks):
        raise ValueError(f"verb index {vp} out of range [0, {len(toks)})")
      if toks[vp] != c:
        raise ValueError(f"token {toks[vp]!r} at verb index {vp} is not the gold verb {c!r}")
      if sva_corpus.third_singular(w) == c:
        lab = 0
      elif sva_corpus.third_singular(c) == w:
        lab = 1
      else:
        raise ValueError(f"cannot tell the number of {c!r}/{w!r}")
    except ValueError as e:
      malformed.append((i, str(e)))
      continue
    if len(toks) > max_len:
      too_long += 1
      continue
    tokens.append(toks)
    vps.append(vp)
    correct.append(c)
    wrong.append(w)
    labels.append(lab)
    ks.append(k)
    lines.append(i)
  _check_bad(gold, len(g_lines), malformed, max_bad_fraction, what)
  if too_long:
    warnings.warn(f"{text}: dropped {too_long} sentences longer than {max_len} tokens",
                  stacklevel=2)
  return tokens, vps, correct, wrong, _metadata(labels, ks, lines)


def load_gulordava(directory, vocab: Vocab, *, max_len: int = 50, stem: str = "subj_agr_filtered",
                   max_bad_fraction: float = 0.01) -> dict[str, np.ndarray]:
  """``read_gulordava``'s sentences as LM arrays with ``vocab`` (other words become ``<unk>``)."""
  tokens, vps, correct, wrong, meta = read_gulordava(directory, max_len=max_len, stem=stem,
                                                     max_bad_fraction=max_bad_fraction)
  out = lm_arrays(tokens, np.asarray(vps, np.int32), vocab, {}, max_len + 1,
                  correct_forms=correct, wrong_forms=wrong)
  return {**out, **meta}


def _metadata(labels, attractors, lines) -> dict[str, np.ndarray]:
  k = np.asarray(attractors, np.int32)
  return {"label": np.asarray(labels, np.int32), "n_intervening": k, "n_diff_intervening": k.copy(),
          "distance": np.full(len(labels), -1, np.int32), "line": np.asarray(lines, np.int64)}


# The classification task on real text (config.data.sva_source='numpred').
NUMPRED_DIR, GULORDAVA_DIR = "linzen_rnn_agr_simple", "gulordava_linzen_testset"
TEST_ATTRACTORS = (1, 2, 3, 4, 5)  # numpred.test.0 is not shipped (over 4 MiB, DATA.md).


def load_cl_task(directory, *, max_len: int = 50, vocab_size: int | None = 10000,
                 valid_fraction: float = 0.1, seed: int = 42, max_bad_fraction: float = 0.01):
  """Verb-number classification on real text, from ``directory`` (``shared/data/sva``).

  Train on ``numpred.val`` (Linzen's dev split, natural distribution of attractors) less a
  ``valid_fraction`` held out by ``np.random.RandomState(seed)``; test on ``numpred_test_k``
  (``numpred.test.k``, exactly k attractors) for k in ``TEST_ATTRACTORS`` and on ``gulordava``
  (its sentences cut before the verb). Train or valid items whose prefix is token for token one
  of a test set's are removed (test sets stay whole), and the vocabulary is the ``vocab_size``
  most frequent tokens of what remains of train. Gulordava's words are not POS-replaced: its
  rare words become ``<unk>`` where numpred has their tag.

  Returns ({'train'|'valid'|test set: CL arrays}, vocab, {test set: {'train': n, 'valid': n}}
  items removed from the training data for being in that test set).
  """
  d = Path(directory)
  simple, gul = d / NUMPRED_DIR, d / GULORDAVA_DIR
  files = [simple / "numpred.val", *(simple / f"numpred.test.{k}" for k in TEST_ATTRACTORS),
           gul / "subj_agr_filtered.text", gul / "subj_agr_filtered.gold"]
  for p in files:
    if not p.exists():
      raise ValueError(f"{p} does not exist: {d} must hold {NUMPRED_DIR}/numpred.val, "
                       f"numpred.test.{{1..5}} and {GULORDAVA_DIR}/subj_agr_filtered.text/.gold "
                       f"(shared/data/sva/README.md)")
  limits = dict(max_len=max_len, max_bad_fraction=max_bad_fraction)
  prefixes, meta = read_numpred(files[0], **limits)
  tests = {f"numpred_test_{k}": read_numpred(p, **limits)
           for k, p in zip(TEST_ATTRACTORS, files[1:])}
  tokens, vps, _, _, gul_meta = read_gulordava(gul, **limits)
  tests["gulordava"] = ([t[:v] for t, v in zip(tokens, vps)], gul_meta)

  perm = np.random.RandomState(seed).permutation(len(prefixes))
  n_valid = int(len(prefixes) * valid_fraction)
  rows = {"train": np.sort(perm[n_valid:]), "valid": np.sort(perm[:n_valid])}
  # A test item seen in training measures memory, not agreement.
  test_keys = {name: set(map(tuple, p)) for name, (p, _) in tests.items()}
  overlap = {name: {} for name in tests}
  for split, idx in rows.items():
    keys = [tuple(prefixes[i]) for i in idx]
    drop = np.zeros(len(idx), bool)
    for name, seen in test_keys.items():
      hit = np.fromiter((k in seen for k in keys), bool, len(keys))
      overlap[name][split] = int(hit.sum())
      drop |= hit
    rows[split] = idx[~drop]
  vocab = Vocab.build((prefixes[i] for i in rows["train"]), vocab_size)
  splits = {split: {**cl_arrays([prefixes[i] for i in idx], vocab, max_len + 1),
                    **{k: v[idx] for k, v in meta.items()}} for split, idx in rows.items()}
  splits.update({name: {**cl_arrays(p, vocab, max_len + 1), **m}
                 for name, (p, m) in tests.items()})
  log.info("Real-text CL task from %s: sizes %s, vocab %d; removed from the training data as "
           "identical to a test item: %s", d, {k: len(v["label"]) for k, v in splits.items()},
           len(vocab), "; ".join(f"{n} {o['train']} train + {o['valid']} valid"
                                 for n, o in overlap.items()))
  return splits, vocab, overlap
