"""Runs -> REPORT.md + PNG plots: our numbers beside the paper's, and the paper's analyses.

    python -m inductive_kd.report --runs runs --out report

Reads what finished runs wrote (train.train_and_evaluate; this module never imports train.py):

    <workdir>/results.json           name, seed, steps, epochs, teacher_workdir, test metrics
    <workdir>/predictions/<set>.npz  labels, pred, probs, loss, rep (same examples, same order in
                                     every run of a scenario, teachers included)
    <workdir>/probes/step_*.npz      probe-set outputs over training (analysis/trajectories.py)

Runs are found by globbing **/results.json under --runs and grouped by results["name"]; several
seeds of one name give mean ± std over seeds. Every number is computed by `inductive_kd.analysis`
(calibration, similarity, agreement, trajectories, plots); this module only gathers files, calls
those functions and writes Markdown. A missing ingredient (no probes, no SVA runs, no teacher)
gives a sentence in the report, not an exception. The paper's numbers live in
`inductive_kd.paper_results`.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from inductive_kd import paper_results
from inductive_kd.analysis import agreement
from inductive_kd.analysis import calibration
from inductive_kd.analysis import plots
from inductive_kd.analysis import similarity
from inductive_kd.analysis import trajectories

# Entries of results["test"] that aggregate other sets rather than being a test set.
_AGGREGATES = frozenset({"shifted_mean"})
_FLAG = "⚠"
_DAGGER = "†"
_PLOTS = "plots"
_MDS_BUDGET = 4e9  # (pair, probe example, class) terms allowed in the MDS distance matrix


@dataclasses.dataclass(frozen=True)
class ReportOptions:
  """How numbers are computed; every choice is printed in the report."""
  # ECE compared with the paper's MNIST table: the official notebooks call
  # tfp.stats.expected_calibration_error with 1e6 bins (REFLECT.md §4).
  mnist_ece_bins: int = paper_results.MNIST_ECE_BINS
  # A second, conventional bin count shown beside it (our config.eval.ece_bins default).
  alt_ece_bins: int = 15
  # SVA ECE and all reliability diagrams: 20 bins, as the official SVA scripts.
  sva_ece_bins: int = paper_results.SVA_ECE_BINS
  reliability_bins: int = 20
  # Std over seeds: ddof=1 (sample std). With n = 1 no std is shown.
  std_ddof: int = 1
  # rsa_reflect over consecutive batches of this many examples, as the official notebooks
  # (64); sets smaller than one batch are compared whole. 0 = always whole.
  rsa_batch_size: int = 64
  # Checkpoints per run kept for the MDS map (evenly spaced, the last one always kept).
  max_probe_points: int = 20

  def validate(self) -> None:
    for field in ("mnist_ece_bins", "alt_ece_bins", "sva_ece_bins", "reliability_bins",
                  "max_probe_points"):
      value = getattr(self, field)
      if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"--{field} must be a positive integer; got {value!r}.")
    if self.std_ddof not in (0, 1):
      raise ValueError(f"--std_ddof must be 0 or 1; got {self.std_ddof!r}.")
    if self.rsa_batch_size < 0 or self.rsa_batch_size == 1:
      raise ValueError(f"--rsa_batch_size must be 0 (whole set) or >= 2; got "
                       f"{self.rsa_batch_size!r}.")


# ---------------------------------------------------------------------------------------------
# Runs on disk.


@dataclasses.dataclass(eq=False)
class Run:
  """One finished run: its workdir and results.json, with its arrays loaded on demand."""
  workdir: Path
  results: dict
  _arrays: dict = dataclasses.field(default_factory=dict, repr=False)
  _probes: Any = dataclasses.field(default=None, repr=False)
  _probes_loaded: bool = dataclasses.field(default=False, repr=False)
  probe_error: str | None = dataclasses.field(default=None, repr=False)
  # Set by `mark_variants` where runs of one name differ in how they were made (teacher mode).
  variant: str = ""

  @property
  def name(self) -> str:
    return str(self.results["name"])

  @property
  def setup(self) -> str:
    """The group this run is pooled in: its name, plus its variant where one name has several."""
    return f"{self.name}{VARIANT_SEP}{self.variant}" if self.variant else self.name

  @property
  def seed(self) -> Any:
    return self.results.get("seed")

  @property
  def key(self) -> str:
    return str(self.workdir)

  def test_sets(self) -> dict[str, dict]:
    return {k: v for k, v in self.results.get("test", {}).items()
            if k not in _AGGREGATES and isinstance(v, dict)}

  def metric(self, set_name: str, key: str) -> float | None:
    value = self.test_sets().get(set_name, {}).get(key)
    if value is None or isinstance(value, (dict, list, str)):
      return None
    value = float(value)
    return value if math.isfinite(value) else None

  def config(self, *keys: str) -> Any:
    node: Any = self.results.get("config") or {}
    for k in keys:
      if not isinstance(node, dict) or k not in node:
        return None
      node = node[k]
    return node

  def array(self, set_name: str, key: str) -> np.ndarray | None:
    """predictions/<set>.npz[key], or None when the file or the key is missing."""
    cache_key = (set_name, key)
    if cache_key in self._arrays:
      return self._arrays[cache_key]
    path = self.workdir / "predictions" / f"{set_name}.npz"
    value = None
    if path.is_file():
      try:
        with np.load(path) as z:
          if key in z.files:
            value = np.asarray(z[key])
      except (OSError, ValueError):  # a truncated file: report the run as lacking it
        value = None
    # Only per-example vectors (labels, pred) are kept: probs and reps of every run and every
    # MNIST-C set would not fit in memory together, and each is needed only a few times.
    if value is None or value.ndim <= 1:
      self._arrays[cache_key] = value
    return value

  def probes(self) -> dict | None:
    """trajectories.load_probe_outputs of <workdir>/probes, or None (reason in probe_error)."""
    if not self._probes_loaded:
      self._probes_loaded = True
      folder = trajectories.probe_dir(str(self.workdir))
      if os.path.isdir(folder):
        try:
          self._probes = trajectories.load_probe_outputs(folder)
        except ValueError as e:
          self.probe_error = str(e)
    return self._probes


def load_run(results_path: Path) -> Run:
  try:
    results = json.loads(Path(results_path).read_text())
  except (OSError, json.JSONDecodeError) as e:
    raise ValueError(f"Cannot read {results_path}: {e}. Delete or fix that file (a finished run "
                     f"writes it atomically, so a broken one is not from train.py).") from None
  if not isinstance(results, dict) or not results.get("name") or \
      not isinstance(results.get("test"), dict):
    raise ValueError(f"{results_path} lacks 'name' or a 'test' dict; it is not a results.json "
                     f"written by train.train_and_evaluate.")
  return Run(workdir=Path(results_path).parent.resolve(), results=results)


def discover_runs(runs_dir: str | os.PathLike) -> list[Run]:
  """Every run under `runs_dir` (any depth), sorted by (name, seed, workdir)."""
  root = Path(runs_dir)
  if not root.is_dir():
    raise ValueError(f"--runs {str(root)!r} is not a directory; pass the folder holding the run "
                     f"workdirs (each finished run has a results.json).")
  paths = sorted(root.glob("**/results.json"))
  if not paths:
    raise ValueError(f"No runs found under {str(root)!r}: no **/results.json. A run writes "
                     f"<workdir>/results.json when it finishes (python main.py --config=... "
                     f"--workdir=...); point --runs at the folder holding those workdirs.")
  runs = [load_run(p) for p in paths]
  runs.sort(key=lambda r: (r.name, str(r.seed), r.key))
  return runs


VARIANT_SEP = " @ "


def mark_variants(runs: Sequence[Run]) -> None:
  """Runs of one config name made with different teacher modes (e.g. CNN→MLP with the official
  train-mode teacher and with the cached eval-mode one) are different setups: never pooled."""
  modes = collections.defaultdict(set)
  for run in runs:
    modes[run.name].add(run.results.get("teacher_mode"))
  for run in runs:
    mode = run.results.get("teacher_mode")
    run.variant = f"{mode}-mode teacher" if mode and len(modes[run.name]) > 1 else ""


def group_by_name(runs: Iterable[Run]) -> dict[str, list[Run]]:
  """{setup: runs}: runs pooled over seeds by config name (and variant, see mark_variants)."""
  groups: dict[str, list[Run]] = collections.defaultdict(list)
  for run in runs:
    groups[run.setup].append(run)
  return dict(groups)


def base_name(setup: str) -> str:
  """The config name of a setup key: 'mnist_cnn_to_mlp @ eval-mode teacher' -> 'mnist_cnn_to_mlp'."""
  return setup.split(VARIANT_SEP, 1)[0]


# ---------------------------------------------------------------------------------------------
# Names: scenario, teacher and student architecture, display labels.


def scenario_of(name: str) -> str:
  """'mnist' for mnist_*, 'sva_lm' / 'sva_cl' for sva_lm_* / sva_cl_*, else the first token."""
  parts = base_name(name).split("_")
  if parts[0] == "sva" and len(parts) > 1:
    return "_".join(parts[:2])
  return parts[0]


def parse_setup(name: str) -> tuple[str, str | None, str]:
  """(scenario, teacher token or None, student token): mnist_cnn_to_mlp -> (mnist, cnn, mlp)."""
  name = base_name(name)
  scenario = scenario_of(name)
  rest = name[len(scenario) + 1:] if name.startswith(scenario + "_") else name
  if "_to_" in rest:
    teacher, student = rest.split("_to_", 1)
    return scenario, teacher, student
  return scenario, None, rest


def baseline_name(name: str) -> str | None:
  """The independently trained run of a student's architecture: mnist_cnn_to_mlp -> mnist_mlp."""
  scenario, teacher, student = parse_setup(name)
  return f"{scenario}_{student}" if teacher is not None else None


def _sva_task(scenario: str) -> str:
  return scenario.split("_", 1)[1] if scenario.startswith("sva_") else ""


def _sva_row_from_config(task: str, model: dict | None) -> str | None:
  """Paper row of an SVA classifier from its config.model (names may not say it)."""
  if task != "cl" or not isinstance(model, dict):
    return None
  if model.get("name") == "lstm_classifier":
    return "LSTM"
  if model.get("name") == "transformer_classifier":
    if model.get("bidirectional"):
      return "Transformer"
    return "UTransformer-seq" if model.get("shared") else "Transformer-seq"
  return None


def _arch_label(scenario: str, token: str, model: dict | None = None) -> str:
  if scenario == "mnist":
    return token.upper()
  task = _sva_task(scenario)
  return paper_results.sva_row(task, token) or _sva_row_from_config(task, model) or token


def setup_label(name: str, model: dict | None = None) -> str:
  """Display label: mnist_cnn -> CNN, mnist_cnn_to_mlp -> CNN→MLP, sva_cl_lstm_to_gpt ->
  LSTM→Transformer-seq. `model` (the student's config.model) disambiguates SVA names."""
  scenario, teacher, student = parse_setup(name)
  s = _arch_label(scenario, student, model)
  label = s if teacher is None else f"{_arch_label(scenario, teacher)}→{s}"
  variant = name[len(base_name(name)) + len(VARIANT_SEP):]
  return f"{label} ({variant})" if variant else label


def _group_label(group: Sequence[Run]) -> str:
  return setup_label(group[0].setup, group[0].config("model"))


def _order_names(names: Iterable[str], preferred: Sequence[str] = ()) -> list[str]:
  names = list(names)
  rank = {n: i for i, n in enumerate(preferred)}
  # Preferred order (a variant right after its base name), then baselines before students, then
  # alphabetical.
  return sorted(names, key=lambda n: (base_name(n) not in rank, rank.get(base_name(n), 0),
                                      "_to_" in n, n))


def _order_sets(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
  names = set(names)
  return [n for n in preferred if n in names] + sorted(names - set(preferred))


_MNIST_SET_ORDER = ("mnist", "scale", "translate")
_SVA_SET_ORDER = ("test", "valid")


# ---------------------------------------------------------------------------------------------
# Numbers and cells.


def mean_std(values: Iterable[float], ddof: int = 1) -> tuple[float, float | None, int]:
  """(mean, std, n) of the finite values: NaN mean when none, std None for a single value."""
  v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=np.float64)
  if v.size == 0:
    return float("nan"), None, 0
  std = float(np.std(v, ddof=ddof)) if v.size > 1 else None
  return float(np.mean(v)), std, int(v.size)


def format_mean_std(mean: float, std: float | None, digits: int = 4) -> str:
  if not math.isfinite(mean):
    return "—"
  return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def _cell(values: Sequence[float], ddof: int, digits: int = 4,
          paper: Any = None, mark: str = "") -> str:
  """'ours (paper X) ⚠': ⚠ when our mean is outside the paper's mean ± 2 std (or range)."""
  mean, std, n = mean_std(values, ddof)
  if n == 0:
    return "—" if paper is None else f"— (paper {paper})"
  text = format_mean_std(mean, std, digits) + mark
  if paper is not None:
    text += f" (paper {paper})" + (f" {_FLAG}" if paper.outside(mean) else "")
  return text


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
  out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
  return out + [""]


def _duration(seconds: Any) -> str:
  if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
    return "—"
  if seconds < 120:
    return f"{seconds:.0f} s"
  return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _rel(path: str, out_dir: Path) -> str:
  return os.path.relpath(path, out_dir).replace(os.sep, "/")


def _image(title: str, path: str, out_dir: Path) -> list[str]:
  return [f"![{title}]({_rel(path, out_dir)})", ""]


def _slug(text: str) -> str:
  return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "x"


# ---------------------------------------------------------------------------------------------
# The report.


class _Report:
  """Builds the Markdown sections; holds the runs, caches and the notes gathered on the way."""

  def __init__(self, runs: list[Run], runs_dir: Path, out_dir: Path, options: ReportOptions):
    self.runs = runs
    self.runs_dir = runs_dir
    self.out_dir = out_dir
    self.plot_dir = out_dir / _PLOTS
    self.opt = options
    mark_variants(runs)
    self.groups = group_by_name(runs)
    self.by_key = {r.key: r for r in runs}
    self._ece_cache: dict = {}
    self._pair_cache: dict = {}
    self._comparisons: list | None = None
    self.teacher_of: dict[str, Run | None] = {}
    self.teacher_notes: list[str] = []
    for run in runs:
      self.teacher_of[run.key] = self._resolve_teacher(run)

  # -- teachers -------------------------------------------------------------------------------

  def _resolve_teacher(self, run: Run) -> Run | None:
    """The run at results['teacher_workdir']; if the runs folder moved, the same relative place
    (beside the student, as configs put it, or the longest path suffix under --runs)."""
    tw = run.results.get("teacher_workdir")
    if not tw:
      return None
    tw = Path(tw)
    candidates = [tw, run.workdir.parent / tw.name]
    candidates += [self.runs_dir / Path(*tw.parts[k:]) for k in range(1, len(tw.parts))]
    for cand in candidates:
      try:
        key = str(cand.resolve())
      except OSError:
        continue
      if key in self.by_key:
        return self.by_key[key]
      if (cand / "results.json").is_file():
        teacher = load_run(cand / "results.json")
        self.by_key[teacher.key] = teacher
        return teacher
    self.teacher_notes.append(f"The teacher of {run.name} (seed {run.seed}) was not found at "
                              f"{tw}; its teacher comparisons are skipped.")
    return None

  def _notes(self) -> list[str]:
    return [f"- {note}" for note in self.teacher_notes] + ([""] if self.teacher_notes else [])

  # -- numbers ----------------------------------------------------------------------------------

  def ece(self, run: Run, set_name: str, bins: int) -> tuple[float | None, bool]:
    """(ECE from predictions/<set>.npz with `bins` bins, False), or the results.json value and
    True when the predictions are missing (computed with that run's config.eval.ece_bins)."""
    key = (run.key, set_name, bins)
    if key not in self._ece_cache:
      probs, labels = run.array(set_name, "probs"), run.array(set_name, "labels")
      value, fallback = None, False
      if probs is not None and labels is not None and probs.ndim == 2:
        try:
          value = calibration.expected_calibration_error(probs, labels, num_bins=bins)
        except ValueError:
          value = None
      if value is None:
        value, fallback = run.metric(set_name, "ece"), True
        if value is None:
          fallback = False
      self._ece_cache[key] = (value, fallback)
    return self._ece_cache[key]

  def _ece_cell(self, group: Sequence[Run], set_name: str, bins: int, paper: Any = None) -> str:
    values, fallback = [], False
    for run in group:
      value, fb = self.ece(run, set_name, bins)
      values.append(value)
      fallback |= fb
    return _cell(values, self.opt.std_ddof, paper=paper, mark=_DAGGER if fallback else "")

  # -- (1) MNIST ------------------------------------------------------------------------------

  def mnist_section(self) -> list[str]:
    out = ["## 1. MNIST: accuracy and calibration", ""]
    names = _order_names([n for n in self.groups if scenario_of(n) == "mnist"],
                         paper_results.MNIST_SETUP_ORDER)
    if not names:
      return out + ["No MNIST runs were found under the runs folder.", ""]
    sets = _order_sets({s for n in names for r in self.groups[n] for s in r.test_sets()},
                       _MNIST_SET_ORDER)
    ddof = self.opt.std_ddof
    out += [f"Ours: mean ± std over seeds (std with ddof={ddof}; `seeds` = n). In parentheses: "
            f"the paper's mean ± std over its runs ({paper_results.NUM_RUNS} per setup in the "
            f"official notebooks), where it reports one. {_FLAG} marks our mean outside the "
            f"paper's mean ± 2 std. `scale` and `translate` are the paper's Scaled and "
            f"Translated sets (MNIST-C).", ""]
    header = ["setup", "name", "seeds"] + sets
    acc_rows, ece_rows, alt_rows = [], [], []
    for name in names:
      group = self.groups[name]
      head = [_group_label(group), f"`{base_name(name)}`", str(len(group))]
      acc_rows.append(head + [
          _cell([r.metric(s, "accuracy") for r in group], ddof,
                paper=paper_results.mnist(base_name(name), s, "accuracy")) for s in sets])
      ece_rows.append(head + [
          self._ece_cell(group, s, self.opt.mnist_ece_bins,
                         paper=paper_results.mnist(base_name(name), s, "ece")) for s in sets])
      alt_rows.append(head + [self._ece_cell(group, s, self.opt.alt_ece_bins) for s in sets])
    out += ["### Accuracy", ""] + _table(header, acc_rows)
    out += [f"### ECE with {self.opt.mnist_ece_bins:,} equal-width bins", "",
            f"Computed here from `predictions/<set>.npz` with "
            f"`calibration.expected_calibration_error(probs, labels, num_bins="
            f"{self.opt.mnist_ece_bins})`. The paper's MNIST ECE comes from the official "
            f"notebooks, which use tfp's ECE with {paper_results.MNIST_ECE_BINS:,} bins: in "
            f"bins 1e-6 wide only examples whose confidences agree to 1e-6 share a bin (in "
            f"practice the near-certain ones), so this approaches the mean per-example "
            f"|correct − confidence| (an upper bound of any binned ECE) and is typically "
            f"larger than a 15-bin ECE. "
            f"{_DAGGER}: predictions missing, value taken from results.json (computed with that "
            f"run's `config.eval.ece_bins`).", ""] + _table(header, ece_rows)
    out += [f"### ECE with {self.opt.alt_ece_bins} bins (for reference; not comparable with "
            f"the paper's column)", ""] + _table(header, alt_rows)
    return out

  # -- (2) SVA --------------------------------------------------------------------------------

  def _sva_rows(self, name: str) -> tuple[str, str | None, str | None]:
    """(task, student paper row, teacher paper row or None) of an SVA config name."""
    scenario, teacher, student = parse_setup(name)
    task = _sva_task(scenario)
    group = self.groups[name]
    s_row = paper_results.sva_row(task, student) or _sva_row_from_config(
        task, group[0].config("model"))
    t_row = None
    if teacher is not None:
      t_run = next((self.teacher_of[r.key] for r in group if self.teacher_of.get(r.key)), None)
      t_row = paper_results.sva_row(task, teacher) or _sva_row_from_config(
          task, t_run.config("model") if t_run else None) or teacher
    return task, s_row, t_row

  _SVA_COLUMNS = (("mu_accuracy", "μ-acc", 4), ("accuracy", "accuracy", 4),
                  ("macro_attractors", "A-acc (macro, k=0..4)", 4),
                  ("macro_distance", "D-acc (macro)", 4)) + tuple(
                      (f"acc_attractors_{k}", f"k={k}", 4) for k in range(5)) + (
                          ("perplexity", "perplexity", 2),)

  def sva_section(self) -> list[str]:
    out = ["## 2. Subject-verb agreement", ""]
    names = [n for n in self.groups if scenario_of(n).startswith("sva")]
    if not names:
      return out + ["No subject-verb agreement runs (names `sva_*`) were found under the runs "
                    "folder; this section is empty.", ""]
    ddof = self.opt.std_ddof
    out += [f"Ours: mean ± std over seeds (ddof={ddof}). Paper values (read off the post's plots, "
            f"±0.002 accuracy, ±0.3 perplexity; LM: ranges over several runs, {_FLAG} when ours "
            f"is outside the range ± that tolerance; classifiers: single values, no flag) are "
            f"for the Linzen test split. A-acc = the mean of the 5 attractor-bin accuracies "
            f"(homogeneous items, k = 0..4); μ-acc = all kept items. ECE: "
            f"{self.opt.sva_ece_bins} equal-width bins from `predictions/<set>.npz` "
            f"({_DAGGER}: from results.json).", ""]
    for scenario in sorted({scenario_of(n) for n in names}):
      s_names = _order_names([n for n in names if scenario_of(n) == scenario])
      sets = _order_sets({s for n in s_names for r in self.groups[n] for s in r.test_sets()},
                         _SVA_SET_ORDER)
      for set_name in sets:
        columns = [c for c in self._SVA_COLUMNS if any(
            r.metric(set_name, c[0]) is not None for n in s_names for r in self.groups[n])]
        show_ece = any(self.ece(r, set_name, self.opt.sva_ece_bins)[0] is not None
                       for n in s_names for r in self.groups[n])
        header = ["setup", "name", "seeds"] + [c[1] for c in columns] + (
            [f"ECE ({self.opt.sva_ece_bins} bins)"] if show_ece else [])
        rows = []
        for name in s_names:
          group = [r for r in self.groups[name] if set_name in r.test_sets()]
          if not group:
            continue
          task, s_row, t_row = self._sva_rows(name)
          row = [_group_label(group), f"`{base_name(name)}`", str(len(group))]
          for key, _, digits in columns:
            paper = paper_results.sva(task, s_row, t_row, key)
            row.append(_cell([r.metric(set_name, key) for r in group], ddof, digits, paper))
          if show_ece:
            row.append(self._ece_cell(group, set_name, self.opt.sva_ece_bins,
                                      paper_results.sva(task, s_row, t_row, "ece")))
          rows.append(row)
        out += [f"### `{scenario}` on `{set_name}`", ""] + _table(header, rows)
    return out

  # -- (3) teacher-student similarity ------------------------------------------------------------

  def comparisons(self) -> list[tuple[str, str, list[tuple[Run, Run]]]]:
    """(label, scenario, [(model run, teacher run)]): each distilled student against its teacher,
    then the plain baseline of the student's architecture against the same teacher(s)."""
    if self._comparisons is None:
      self._comparisons = self._build_comparisons()
    return self._comparisons

  def _build_comparisons(self) -> list[tuple[str, str, list[tuple[Run, Run]]]]:
    names = _order_names(self.groups, paper_results.MNIST_SETUP_ORDER)
    comps, seen = [], set()
    for name in names:
      pairs = [(r, self.teacher_of[r.key]) for r in self.groups[name]
               if self.teacher_of.get(r.key) is not None]
      if not pairs:
        continue
      teacher_name = collections.Counter(t.name for _, t in pairs).most_common(1)[0][0]
      t_label = setup_label(teacher_name)
      comps.append((f"{_group_label(self.groups[name])} vs its teacher {t_label}",
                    scenario_of(name), pairs))
      base = baseline_name(name)
      if base not in self.groups:
        continue
      teachers = list({t.key: t for _, t in pairs}.values())
      bpairs = [(b, t) for t in teachers for b in self.groups[base] if b.key != t.key]
      key = (base, frozenset(t.key for t in teachers))
      if bpairs and key not in seen:
        seen.add(key)
        comps.append((f"{_group_label(self.groups[base])} (no KD) vs the same teacher {t_label}",
                      scenario_of(name), bpairs))
    return comps

  def _rsa(self, x: np.ndarray, y: np.ndarray) -> float:
    b = self.opt.rsa_batch_size
    return similarity.rsa_reflect(x, y, batch_size=b if b and x.shape[0] >= b else None)

  def pair_metrics(self, model: Run, teacher: Run, set_name: str) -> dict[str, float]:
    key = (model.key, teacher.key, set_name)
    if key in self._pair_cache:
      return self._pair_cache[key]
    out: dict[str, float] = {}
    labels, t_labels = model.array(set_name, "labels"), teacher.array(set_name, "labels")
    # The same examples in the same order, or nothing is comparable.
    if labels is not None and t_labels is not None and np.array_equal(labels, t_labels):
      preds = []
      for run in (model, teacher):
        p = run.array(set_name, "pred")
        if p is None and run.array(set_name, "probs") is not None:
          p = np.argmax(run.array(set_name, "probs"), axis=-1)
        preds.append(p)
      if all(p is not None and p.shape == labels.shape for p in preds):
        out["agreement"] = agreement.prediction_agreement(*preds)
        out["jaccard"] = agreement.error_overlap(*preds, labels)["jaccard"]
      reps = [model.array(set_name, "rep"), teacher.array(set_name, "rep")]
      if all(r is not None and r.ndim == 2 and r.shape[0] == labels.shape[0] for r in reps):
        for metric, fn in (("cka", similarity.linear_cka), ("rsa", self._rsa)):
          try:
            out[metric] = fn(*reps)
          except ValueError:  # e.g. a constant representation: undefined, left blank
            pass
    self._pair_cache[key] = out
    return out

  _SIM_METRICS = (
      ("cka", "Linear CKA of the penultimate representations"),
      ("rsa", "RSA: Reflect's second-order cosine similarity (`rsa_reflect`) of the penultimate "
              "representations"),
      ("agreement", "Prediction agreement (fraction of examples with the same predicted class)"),
      ("jaccard", "Error overlap: Jaccard |E_model ∩ E_teacher| / |E_model ∪ E_teacher| of the "
                  "misclassified examples"),
  )

  def similarity_section(self) -> list[str]:
    out = ["## 3. Teacher–student similarity", ""]
    comps = self.comparisons()
    if not comps:
      return out + ["No run names a teacher (`teacher_workdir` in results.json) that was "
                    "found, so there is nothing to compare.", ""] + self._notes()
    b = self.opt.rsa_batch_size
    out += ["Each distilled student is compared with its own teacher; the plain model of the "
            "student's architecture is compared with the same teacher run(s), which is the "
            "paper's question (e.g. is CNN→MLP's CKA to the CNN higher than the plain MLP's?). "
            f"Mean ± std (ddof={self.opt.std_ddof}) over the (model, teacher) pairs; `pairs` = "
            f"their number. Penultimate representations are `rep` in predictions/*.npz (CNN: "
            f"16-d global average pool; MLP: 32-d last hidden layer). " + (
                f"RSA uses consecutive batches of {b} examples as the official notebooks "
                f"(whole set when smaller)." if b else "RSA compares whole sets at once."),
            ""] + self._notes()
    sets_by_comp = []
    for _, scenario, pairs in comps:
      order = _MNIST_SET_ORDER if scenario == "mnist" else _SVA_SET_ORDER
      sets_by_comp.append(_order_sets(
          {s for m, t in pairs for s in m.test_sets() if s in t.test_sets()}, order))
    all_sets = _order_sets({s for ss in sets_by_comp for s in ss},
                           _MNIST_SET_ORDER + _SVA_SET_ORDER)
    for metric, title in self._SIM_METRICS:
      rows = []
      for (label, _, pairs), sets in zip(comps, sets_by_comp):
        row = [label, str(len(pairs))]
        for s in all_sets:
          if s not in sets:
            row.append("—")
            continue
          row.append(_cell([self.pair_metrics(m, t, s).get(metric) for m, t in pairs],
                           self.opt.std_ddof))
        rows.append(row)
      out += [f"### {title}", ""] + _table(["comparison", "pairs"] + all_sets, rows)
    return out

  # -- (4) plots ------------------------------------------------------------------------------

  def _pooled_diagram(self, group: Sequence[Run], set_name: str) -> dict | None:
    probs, labels = [], []
    for run in group:
      p, y = run.array(set_name, "probs"), run.array(set_name, "labels")
      if p is not None and y is not None and p.ndim == 2:
        probs.append(p)
        labels.append(y)
    if not probs or len({p.shape[1] for p in probs}) != 1:
      return None
    try:
      return calibration.reliability_diagram(np.concatenate(probs), np.concatenate(labels),
                                             num_bins=self.opt.reliability_bins)
    except ValueError:
      return None

  def reliability_section(self) -> list[str]:
    out = ["### Reliability diagrams", ""]
    made = False
    for scenario in sorted({scenario_of(n) for n in self.groups}):
      names = _order_names([n for n in self.groups if scenario_of(n) == scenario],
                           paper_results.MNIST_SETUP_ORDER)
      order = ("scale", "mnist") if scenario == "mnist" else ("valid", "test")
      available = {s for n in names for r in self.groups[n] for s in r.test_sets()
                   if r.array(s, "probs") is not None}
      if not available:
        continue
      set_name = _order_sets(available, order)[0]
      diagrams = {}
      for name in names:
        diag = self._pooled_diagram(self.groups[name], set_name)
        if diag is not None:
          diagrams[_group_label(self.groups[name])] = diag
      if not diagrams:
        continue
      path = plots.plot_reliability(
          diagrams, str(self.plot_dir / f"reliability_{_slug(scenario)}_{_slug(set_name)}.png"))
      out += [f"`{scenario}` on `{set_name}` ({self.opt.reliability_bins} bins, predictions "
              f"of all seeds pooled; the ECE in each title uses these bins):", ""]
      out += _image(f"reliability {scenario} {set_name}", path, self.out_dir)
      made = True
    if not made:
      out += ["No predictions/*.npz with probabilities were found: no reliability diagrams.", ""]
    return out

  def attractor_section(self) -> list[str]:
    out = ["### Accuracy against the number of attractors", ""]
    made = False
    for scenario in sorted({scenario_of(n) for n in self.groups if n.startswith("sva")}):
      names = _order_names([n for n in self.groups if scenario_of(n) == scenario])
      sets = _order_sets({s for n in names for r in self.groups[n] for s in r.test_sets()},
                         _SVA_SET_ORDER)
      for set_name in sets:
        table = {}
        for name in names:
          accs = [mean_std([r.metric(set_name, f"acc_attractors_{k}") for r in self.groups[name]],
                           self.opt.std_ddof)[0] for k in range(5)]
          if all(math.isfinite(a) for a in accs):
            table[_group_label(self.groups[name])] = accs
        if table:
          path = plots.plot_accuracy_by_attractors(
              table, str(self.plot_dir / f"attractors_{_slug(scenario)}_{_slug(set_name)}.png"))
          out += [f"`{scenario}` on `{set_name}` (mean over seeds):", ""]
          out += _image(f"attractors {scenario} {set_name}", path, self.out_dir)
          made = True
    if not made:
      out += ["No SVA runs with per-attractor accuracies: no plot.", ""]
    return out

  def training_section(self) -> list[str]:
    out = ["### Similarity to the teacher over training", ""]
    with_probes = [r for r in self.by_key.values() if r.probes() is not None]
    errors = [f"- {r.name} (seed {r.seed}): {r.probe_error}" for r in self.by_key.values()
              if r.probe_error]
    if errors:
      out += ["Probe folders that could not be read:"] + errors + [""]
    if not with_probes:
      out += ["No probe outputs were found (runs write `probes/step_*.npz` only when "
              "`config.analysis.probe_every > 0`): the similarity-over-training curves and the "
              "MDS map are skipped.", ""]
      return out
    made = False
    for scenario in sorted({scenario_of(r.name) for r in with_probes}):
      comps = [c for c in self.comparisons() if c[1] == scenario]
      pairs_ok = [(label, [(m, t) for m, t in pairs if m.probes() is not None
                           and t.probes() is not None
                           and m.probes()["probs"].shape[1] == t.probes()["probs"].shape[1]])
                  for label, _, pairs in comps]
      pairs_ok = [(label, pairs) for label, pairs in pairs_ok if pairs]
      if not pairs_ok:
        continue
      use_reps = all(p.probes()["reps"] is not None for _, pairs in pairs_ok for pair in pairs
                     for p in pair)
      if use_reps:
        measures = [("cka", similarity.linear_cka,
                     "linear CKA to the teacher's final probe representations"),
                    ("rsa", self._rsa,
                     "RSA (rsa_reflect) to the teacher's final probe representations")]
      else:
        measures = [("js", None, "1 − mean Jensen–Shannon distance to the teacher's final "
                                 "probe outputs")]
      for measure, fn, ylabel in measures:
        curves = {}
        for label, pairs in pairs_ok:
          per_pair = [self._curve(m, t, fn) for m, t in pairs]
          per_pair = [c for c in per_pair if c is not None]
          if not per_pair:
            continue
          if len({tuple(s) for s, _ in per_pair}) == 1:
            curves[f"{label} (n={len(per_pair)})"] = (
                per_pair[0][0], np.mean([v for _, v in per_pair], axis=0))
          else:
            for (s, v), (m, _) in zip(per_pair, pairs):
              curves[f"{label} seed {m.seed}"] = (s, v)
        if not curves:
          continue
        path = plots.plot_similarity_over_training(
            curves, str(self.plot_dir / f"similarity_training_{_slug(scenario)}_{measure}.png"),
            ylabel=measure.upper() if measure != "js" else "1 − JS distance")
        out += [f"`{scenario}`: {ylabel} at each saved step (mean over pairs when their steps "
                f"match).", ""]
        out += _image(f"similarity over training {scenario} {measure}", path, self.out_dir)
        made = True
      if not use_reps:
        out += ["The probe files hold only output probabilities (no `reps`), so similarity "
                "over training is 1 − JS distance between output distributions instead of "
                "CKA/RSA of representations.", ""]
    if not made:
      out += ["No run with probes has a teacher with probes on the same probe set: no "
              "similarity-over-training plot.", ""]
    return out

  def _curve(self, model: Run, teacher: Run,
             fn: Callable | None) -> tuple[np.ndarray, np.ndarray] | None:
    mp, tp = model.probes(), teacher.probes()
    steps = mp["steps"]
    if fn is None:
      stacked = np.concatenate([tp["probs"][-1:], mp["probs"]])
      dist = trajectories.pairwise_distances(stacked, metric="js")
      return steps, 1.0 - dist[0, 1:]
    target = tp["reps"][-1]
    values = []
    for reps in mp["reps"]:
      try:
        values.append(fn(reps, target))
      except ValueError:  # constant reps (e.g. a dead layer at step 0): undefined
        values.append(float("nan"))
    return steps, np.asarray(values)

  def mds_section(self) -> list[str]:
    out = ["### Function space: MDS map of training trajectories", ""]
    with_probes = [r for r in self.by_key.values() if r.probes() is not None]
    if not with_probes:
      return out + ["No probe outputs: no MDS map.", ""]
    made = False
    for scenario in sorted({scenario_of(r.name) for r in with_probes}):
      runs = [r for r in with_probes if scenario_of(r.name) == scenario]
      shapes = collections.Counter(r.probes()["probs"].shape[1:] for r in runs)
      shape = shapes.most_common(1)[0][0]
      dropped = [r for r in runs if r.probes()["probs"].shape[1:] != shape]
      runs = [r for r in runs if r.probes()["probs"].shape[1:] == shape]
      # pairwise_distances costs ~M^2/2 * n * C terms: cap M so that a large output space (an
      # LM's vocabulary) cannot stall the report; MNIST (n = 1000, C = 10) keeps the default.
      per_run = max(2, min(self.opt.max_probe_points,
                           int(math.sqrt(2 * _MDS_BUDGET / (shape[0] * shape[1]))) // len(runs)))
      points, labels = [], []
      label_count = collections.Counter(f"{setup_label(r.setup)} s{r.seed}" for r in runs)
      for run in sorted(runs, key=lambda r: (r.name, str(r.seed), r.key)):
        pr = run.probes()
        label = f"{setup_label(run.setup)} s{run.seed}"
        if label_count[label] > 1:
          label += f" ({run.workdir.name})"
        n = len(pr["steps"])
        keep = np.unique(np.round(np.linspace(0, n - 1, min(n, per_run)))
                         .astype(int))
        for i in keep:
          points.append(pr["probs"][i])
          labels.append((label, int(pr["steps"][i])))
      if len(points) < 2:
        continue
      dist = trajectories.pairwise_distances(np.stack(points), metric="js")
      coords = trajectories.classical_mds(dist, dim=2)
      with warnings.catch_warnings():
        # matplotlib's note that placing a legend over many points is slow: expected here.
        warnings.filterwarnings("ignore", message=".*legend.*slow", category=UserWarning)
        path = plots.plot_mds_paths(coords, labels,
                                    str(self.plot_dir / f"mds_{_slug(scenario)}.png"))
      out += [f"`{scenario}`: {len(points)} (run, step) points of {len(runs)} runs; distance = "
              f"mean Jensen–Shannon distance between output distributions on the shared probe "
              f"set (`trajectories.pairwise_distances(metric='js')`), embedded by classical "
              f"MDS; up to {per_run} evenly spaced checkpoints per run, the star marks the "
              f"final step.", ""]
      if dropped:
        out += [f"Left out (probe set of another shape): "
                f"{', '.join(f'{r.name} s{r.seed}' for r in dropped)}.", ""]
      out += _image(f"MDS {scenario}", path, self.out_dir)
      made = True
    if not made:
      out += ["Fewer than two probe points per scenario: no MDS map.", ""]
    return out

  # -- provenance -----------------------------------------------------------------------------

  def runs_section(self) -> list[str]:
    out = ["## How this was produced", "",
           f"`python -m inductive_kd.report --runs {self.runs_dir} --out {self.out_dir}` on "
           f"{datetime.date.today().isoformat()}, from {len(self.runs)} runs found under "
           f"`{self.runs_dir}` (every `**/results.json`), grouped by `results.json['name']`. "
           f"The paper trained 400 epochs per MNIST model and 40 epochs per agreement student; "
           f"compare the `epochs` column to see whether this schedule was shortened.", ""]
    rows = []
    for run in self.runs:
      teacher = self.teacher_of.get(run.key)
      wall = run.results.get("train_wall_s")
      epochs = run.results.get("epochs")
      rows.append([
          f"`{run.name}`", str(run.seed), f"`{_rel(str(run.workdir), self.runs_dir.resolve())}`",
          str(run.results.get("steps", "—")),
          f"{float(epochs):.2f}" if isinstance(epochs, (int, float)) else "—",
          _duration(wall),
          f"`{teacher.name}` s{teacher.seed}" if teacher else "—",
          str(run.results.get("teacher_mode") or "—")])
    out += _table(["name", "seed", "workdir", "steps", "epochs", "train wall time", "teacher",
                   "teacher mode"], rows)
    for name, group in self.groups.items():
      steps = {r.results.get("steps") for r in group}
      if len(steps) > 1:
        out += [f"Note: the seeds of `{name}` ran different numbers of steps "
                f"({sorted(map(str, steps))}); they are averaged together.", ""]
    o = self.opt
    out += [f"Settings: MNIST ECE with {o.mnist_ece_bins:,} bins (and {o.alt_ece_bins} for "
            f"reference), SVA ECE with {o.sva_ece_bins} bins, reliability diagrams with "
            f"{o.reliability_bins} bins, std over seeds with ddof={o.std_ddof}, RSA batch "
            f"{o.rsa_batch_size or 'whole set'}, at most {o.max_probe_points} checkpoints per run "
            f"in the MDS map.", ""]
    return out

  def render(self) -> str:
    lines = ["# Transferring inductive biases through knowledge distillation: our results", "",
             "Generated by `inductive_kd/report.py` from finished runs; do not edit by hand. "
             f"Paper numbers: {paper_results.SOURCE} (images "
             f"{', '.join(f'`{i}`' for i in paper_results.MNIST_SOURCE_IMAGES)} for MNIST; "
             f"{', '.join(f'`{i}`' for i in paper_results.SVA_SOURCE_IMAGES)} for agreement). "
             f"{_FLAG} = our mean outside the paper's mean ± 2 std (or plotted range).", ""]
    lines += self.mnist_section()
    lines += self.sva_section()
    lines += self.similarity_section()
    lines += ["## 4. Plots", ""]
    lines += self.reliability_section()
    lines += self.attractor_section()
    lines += self.training_section()
    lines += self.mds_section()
    lines += self.runs_section()
    return "\n".join(lines).rstrip() + "\n"


def generate_report(runs_dir: str | os.PathLike, out_dir: str | os.PathLike,
                    options: ReportOptions = ReportOptions()) -> Path:
  """Writes <out_dir>/REPORT.md and <out_dir>/plots/*.png; returns the REPORT.md path.

  Raises ValueError (one line, saying what to change) when `runs_dir` holds no runs or a
  results.json is malformed.
  """
  options.validate()
  runs_dir, out_dir = Path(runs_dir), Path(out_dir)
  runs = discover_runs(runs_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  report = _Report(runs, runs_dir, out_dir, options)
  text = report.render()
  path = out_dir / "REPORT.md"
  tmp = path.with_suffix(".md.tmp")
  tmp.write_text(text, encoding="utf-8")
  os.replace(tmp, path)
  return path


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
  d = ReportOptions()
  p = argparse.ArgumentParser(
      prog="python -m inductive_kd.report",
      description="Finished runs -> REPORT.md and PNG plots, our numbers beside the paper's.")
  p.add_argument("--runs", required=True, help="Folder holding run workdirs (any depth).")
  p.add_argument("--out", required=True, help="Output folder for REPORT.md and plots/.")
  p.add_argument("--mnist_ece_bins", type=int, default=d.mnist_ece_bins,
                 help="ECE bins for the table compared with the paper (official: 1e6).")
  p.add_argument("--alt_ece_bins", type=int, default=d.alt_ece_bins)
  p.add_argument("--sva_ece_bins", type=int, default=d.sva_ece_bins)
  p.add_argument("--reliability_bins", type=int, default=d.reliability_bins)
  p.add_argument("--std_ddof", type=int, default=d.std_ddof, choices=(0, 1))
  p.add_argument("--rsa_batch_size", type=int, default=d.rsa_batch_size)
  p.add_argument("--max_probe_points", type=int, default=d.max_probe_points)
  return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
  args = _parse_args(argv)
  options = ReportOptions(**{f.name: getattr(args, f.name)
                             for f in dataclasses.fields(ReportOptions)})
  try:
    path = generate_report(args.runs, args.out, options)
  except ValueError as e:
    raise SystemExit(f"error: {e}") from None
  print(f"Wrote {path}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
