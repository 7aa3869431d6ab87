"""Runs on disk: finding and loading results.json, what each run trained (its `Setup`), pooling
runs over seeds into groups, ordering groups and test sets, and the labels a reader sees.

What a run trained comes from results.json["setup"] = {scenario, student, teacher}, written by
train.py; config names are pooling keys only and are never parsed.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from inductive_kd import paper_results
from inductive_kd import results as results_lib
from inductive_kd.analysis import trajectories

# Entries of results["test"] that aggregate other sets rather than being a test set.
_AGGREGATES = frozenset({"shifted_mean"})
VARIANT_SEP = " @ "
MNIST_SET_ORDER = ("mnist", "scale", "translate")
SVA_SET_ORDER = ("test", "valid")


@dataclasses.dataclass(frozen=True)
class Setup:
  """What a run trained, as results.json["setup"] says: scenario ('mnist' | 'sva_cl' |
  'sva_lm'), student architecture key, teacher architecture key (None: trained alone)."""
  scenario: str
  student: str
  teacher: str | None = None

  @classmethod
  def from_results(cls, results: dict, path: str | os.PathLike) -> Setup:
    raw = results.get("setup")
    if raw is None:
      raise ValueError(f"{path} predates the `setup` field ({{scenario, student, teacher}}) that "
                       f"train.py writes into results.json; migrate that file or re-run it.")
    ok = isinstance(raw, dict) and all(
        isinstance(raw.get(k), str) and raw[k] for k in ("scenario", "student")) and (
            raw.get("teacher") is None or isinstance(raw["teacher"], str) and raw["teacher"])
    if not ok:
      raise ValueError(f"{path}: results.json['setup'] must be {{'scenario': str, 'student': str, "
                       f"'teacher': str or null}}; got {raw!r}.")
    return cls(raw["scenario"], raw["student"], raw.get("teacher"))

  @property
  def baseline(self) -> Setup:
    """The student's architecture trained alone in the same scenario."""
    return Setup(self.scenario, self.student)

  @property
  def sva_task(self) -> str:
    """'cl' / 'lm' for the agreement scenarios, '' otherwise."""
    return self.scenario.split("_", 1)[1] if self.scenario.startswith("sva_") else ""

  @property
  def config_name(self) -> str:
    """The name configs/ give this setup (mnist_cnn_to_mlp), which paper_results is keyed by."""
    arch = self.student if self.teacher is None else f"{self.teacher}_to_{self.student}"
    return f"{self.scenario}_{arch}"


@dataclasses.dataclass(eq=False)
class Run:
  """One finished run: its workdir, results.json and setup, with its arrays loaded on demand."""
  workdir: Path
  results: dict
  setup: Setup
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
  def group(self) -> str:
    """The group this run is pooled in: its name, plus its variant where one name has several."""
    return f"{self.name}{VARIANT_SEP}{self.variant}" if self.variant else self.name

  @property
  def label(self) -> str:
    return setup_label(self.setup, self.config("model"), self.variant)

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

  def history(self) -> dict:
    """The run's evaluations over training (results.read_history): {"steps": [...],
    "<set>/<metric>": [...]}, or {} without a history.json."""
    if "history" not in self._arrays:
      self._arrays["history"] = results_lib.read_history(self.workdir)
    return self._arrays["history"]

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
  return Run(workdir=Path(results_path).parent.resolve(), results=results,
             setup=Setup.from_results(results, results_path))


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


def mark_variants(runs: Sequence[Run]) -> None:
  """Runs of one config name made with different teacher modes (e.g. CNN→MLP with the official
  train-mode teacher and with the cached eval-mode one) are different setups: never pooled.

  A run renamed from its config's name by a suffix (`--config.name=sva_cl_lstm_to_
  transformer_seq_nowarmup` for an ablation) is its own group already; the suffix goes into its
  label too, so that it never reads like the config's own setup."""
  modes = collections.defaultdict(set)
  for run in runs:
    modes[run.name].add(run.results.get("teacher_mode"))
  for run in runs:
    mode = run.results.get("teacher_mode")
    prefix = run.setup.config_name + "_"
    parts = [run.name[len(prefix):]] if run.name.startswith(prefix) else []
    if mode and len(modes[run.name]) > 1:
      parts.append(f"{mode}-mode teacher")
    run.variant = ", ".join(parts)


def group_by_name(runs: Iterable[Run]) -> dict[str, list[Run]]:
  """{group: runs}: runs pooled over seeds by config name (and variant, see mark_variants)."""
  groups: dict[str, list[Run]] = collections.defaultdict(list)
  for run in runs:
    groups[run.group].append(run)
  return dict(groups)


def order_groups(groups: Mapping[str, Sequence[Run]],
                 preferred: Sequence[str] = ()) -> list[str]:
  """Group keys in `preferred` config-name order (a variant right after its plain group), then
  baselines before distilled students, then alphabetical."""
  rank = {n: i for i, n in enumerate(preferred)}

  def sort_key(group: str) -> tuple:
    setup = groups[group][0].setup
    return (setup.config_name not in rank, rank.get(setup.config_name, 0),
            setup.teacher is not None, group)

  return sorted(groups, key=sort_key)


def order_sets(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
  names = set(names)
  return [n for n in preferred if n in names] + sorted(names - set(preferred))


# ---------------------------------------------------------------------------------------------
# Display labels.


def _sva_row_from_config(task: str, model: dict | None) -> str | None:
  """Paper row of an SVA classifier from its config.model (its architecture key may not say it)."""
  if task != "cl" or not isinstance(model, dict):
    return None
  if model.get("name") == "lstm_classifier":
    return "LSTM"
  if model.get("name") == "transformer_classifier":
    if model.get("bidirectional"):
      return "Transformer"
    return "UTransformer-seq" if model.get("shared") else "Transformer-seq"
  return None


def sva_paper_row(setup: Setup, arch: str, model: dict | None = None) -> str | None:
  """The paper's row of architecture key `arch` in an SVA setup, from the key or else from the
  model's config; None when neither says."""
  task = setup.sva_task
  return paper_results.sva_row(task, arch) or _sva_row_from_config(task, model)


def arch_label(setup: Setup, arch: str, model: dict | None = None) -> str:
  if setup.scenario == "mnist":
    return arch.upper()
  return sva_paper_row(setup, arch, model) or arch


def setup_label(setup: Setup, model: dict | None = None, variant: str = "") -> str:
  """CNN, CNN→MLP, LSTM→Transformer-seq, plus ' (variant)'. `model` (the student's
  config.model) names an SVA student whose architecture key the paper's rows do not know."""
  s = arch_label(setup, setup.student, model)
  label = s if setup.teacher is None else f"{arch_label(setup, setup.teacher)}→{s}"
  return f"{label} ({variant})" if variant else label
