"""The config schema shared by every experiment, its validation, and loading config files.

The experiments themselves (the paper's numbers) live in `inductive_kd.experiments`; each file in
configs/ calls one of them, which starts from `base_config()` and changes values. `validate` then
rejects keys the schema does not know (with the nearest valid key) and impossible values, so a typo
fails at load time in one line instead of deep inside a training run. The allowed values of a key
live with the code that uses them (e.g. `optim.SCHEDULES`); `validate` asks that code.
"""
from __future__ import annotations

import difflib
import importlib.util
import os
from pathlib import Path

import ml_collections

REPO_ROOT = Path(__file__).resolve().parents[1]


class ConfigError(ValueError):
  """A config key or value is invalid; the message says what to change."""


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.name = ""                     # Experiment name, written to results.json.
  c.seed = 0                      # Init, dropout and data-order seed.
  c.num_seeds = 1                 # K > 1: seeds seed..seed+K-1 vmapped in one step (train.py).
  c.distributed = "off"           # 'off' | 'auto' (jax.distributed.initialize()).

  c.model = ml_collections.ConfigDict()
  c.model.name = "mlp"            # A name in inductive_kd.models; other keys are its fields.
  # The model's key in its scenario's table (inductive_kd.experiments, e.g. 'cnn',
  # 'transformer_seq'). results.json records the run's setup from it: the scenario (data.name), this
  # key as the student, and the teacher config's `arch` as the teacher.
  c.arch = ""

  c.data = ml_collections.ConfigDict()
  c.data.name = "mnist"
  c.data.source = "auto"          # 'auto' | 'idx' | 'tfds'
  c.data.mnist_dir = ""           # Folder with the MNIST IDX files; '' = the repository's data/mnist.
  c.data.tfds_data_dir = ""
  c.data.cache_dir = ""           # Where corrupted test sets are cached; '' = <repo>/cache.
  c.data.train_limit = 0          # Use only the first N training examples (0 = all); for tests.
  # Subject-verb agreement (data.name 'sva_lm' | 'sva_cl').
  c.data.sva_source = "tsv"       # 'tsv' (data.sva_tsv) | 'numpred' (real text, sva_cl only).
  c.data.sva_tsv = ""             # Linzen's agr_50_mostcommon_10K.tsv(.gz); '' = offline corpus.
  c.data.real_dir = ""            # Linzen's numpred and Gulordava's files; '' = ../shared/data/sva.
  c.data.synthetic_size = 200000  # Sentences of the offline corpus used when data.sva_tsv is ''.
  c.data.synthetic_seed = 0
  c.data.max_len = 50             # Longer sentences are dropped before the split (Linzen).
  c.data.max_bad_fraction = 0.01  # Malformed lines of an SVA file skipped (with a warning) up to
                                  # this fraction of its lines; more stop the run.
  c.data.vocab_size = 10000

  c.eval = ml_collections.ConfigDict()
  c.eval.shifted = "translate,scale"  # Comma-separated MNIST-C names, 'all' or ''.
  c.eval.shifted_source = "project"        # 'project' (our implementation) | 'tfds'.
  c.eval.corruption_seed = 0
  c.eval.every_steps = 0          # 0 = once per epoch.
  c.eval.batch_size = 1000
  c.eval.limit = 0                # Evaluate on the first N test examples only (0 = all).
  c.eval.ece_bins = 15
  # Language models trained on Linzen's own file (data.sva_tsv): also evaluate on Gulordava et al.'s
  # real sentences (data.real_dir / ../shared/data/sva), scored with the training vocabulary.
  c.eval.gulordava = False

  c.optim = ml_collections.ConfigDict()
  c.optim.name = "adam"           # 'adam' | 'radam'
  c.optim.learning_rate = 1e-4
  c.optim.schedule = "constant"   # 'constant' | 'exponential' | 'cosine_restarts' | 'cosine'
  c.optim.decay_steps = 10000
  c.optim.decay_rate = 0.96       # exponential: rate per decay_steps; cosine_restarts: m_mul.
  c.optim.warmup_steps = 0
  c.optim.hold_steps = 0
  c.optim.t_mul = 5.0             # cosine_restarts period multiplier.
  c.optim.alpha = 0.001           # cosine(_restarts) floor, as a fraction of the learning rate.
  c.optim.b1 = 0.9
  c.optim.b2 = 0.999
  c.optim.eps = 1e-8
  c.optim.clip_global_norm = 0.0  # 0 = off (the official clipnorm was a no-op in TF 2.1).
  c.optim.l1 = 0.0                # Keras l1_l2 regulariser on `reg_leaves`.
  c.optim.l2 = 0.0
  c.optim.reg_leaves = ("kernel",)

  c.train = ml_collections.ConfigDict()
  c.train.batch_size = 128        # Global batch, split over all devices.
  c.train.num_epochs = 400.0      # An epoch = floor(N / batch_size) steps, as the official code.
  c.train.num_steps = 0           # > 0 overrides num_epochs.
  c.train.log_every_steps = 100
  c.train.checkpoint_every_steps = 0  # 0 = once per epoch.
  c.train.max_checkpoints = 3
  c.train.progress_every_secs = 20.0

  c.teacher = ml_collections.ConfigDict()
  c.teacher.config = ""           # '' = no teacher; else 'configs/mnist_cnn.py[:arg]'.
  c.teacher.workdir = ""          # Relative paths are relative to the student workdir's parent.

  c.distill = ml_collections.ConfigDict()
  c.distill.temperature = 1.0
  c.distill.gold_rate = 1.0       # Weight of the hard-label cross-entropy.
  c.distill.distill_rate = 0.0    # Weight of the soft-target term.
  c.distill.scale = "inverse_t2"  # 'inverse_t2' (official code) | 't2' (Hinton) | 'none'
  c.distill.teacher_mode = "eval"  # 'train' (official: dropout on, BN batch stats) | 'eval'
  c.distill.cache_teacher = "auto"  # Precompute teacher logits once: 'auto' | 'on' | 'off'.

  c.analysis = ml_collections.ConfigDict()
  c.analysis.probe_every = 0      # Save probe-set outputs every N steps (0 = off).
  c.analysis.probe_size = 1000
  c.analysis.probe_set = "mnist"  # Which test set's first probe_size examples are the probes.
  return c


def smoke_test(c: ml_collections.ConfigDict, *, steps: int, log_every: int, eval_limit: int,
               probe_size: int) -> None:
  """A `quick` variant: `steps` steps with two evaluations and checkpoints, small test sets and
  probe outputs, and a progress line every 5 s; the whole pipeline runs, in about a minute."""
  c.train.num_steps = steps
  c.train.log_every_steps = log_every
  c.eval.every_steps = c.train.checkpoint_every_steps = steps // 2
  c.eval.limit = eval_limit
  c.train.progress_every_secs = 5.0
  c.analysis.probe_every = 20
  c.analysis.probe_size = probe_size


def flatten(cfg, prefix: str = "", keep_whole=()) -> dict:
  """{'a.b.c': value} for a nested ConfigDict; sub-dicts named in `keep_whole` stay values."""
  out = {}
  for key, value in cfg.items():
    if isinstance(value, ml_collections.ConfigDict) and key not in keep_whole:
      out.update(flatten(value, f"{prefix}{key}.", keep_whole))
    else:
      out[f"{prefix}{key}"] = value
  return out


def _flat_keys(cfg) -> dict:
  # config.model's keys depend on the model; models.create checks them.
  return flatten(cfg, keep_whole=("model",))


def _fail(msg: str):
  raise ConfigError(msg)


def _choices() -> dict:
  """{key: allowed values}, each list taken from the module that acts on the key."""
  # Imported here: those modules import this one (for ConfigError), so not at module level.
  from inductive_kd import losses, optim, parallel, tasks, teacher  # pylint: disable=g-import-not-at-top
  from inductive_kd.data import mnist  # pylint: disable=g-import-not-at-top
  return {
      "data.name": tuple(tasks.TASKS), "data.source": mnist.SOURCES,
      "eval.shifted_source": tasks.SHIFTED_SOURCES, "data.sva_source": tasks.SVA_SOURCES,
      "optim.name": optim.OPTIMIZERS, "optim.schedule": optim.SCHEDULES,
      "distill.scale": losses.SCALES, "distill.teacher_mode": teacher.MODES,
      "distill.cache_teacher": teacher.CACHE_MODES, "distributed": parallel.DISTRIBUTED_MODES,
  }


def validate(config: ml_collections.ConfigDict, num_devices: int | None = None) -> None:
  """Raises ConfigError (one line, naming the key) on unknown keys or impossible values."""
  known = _flat_keys(base_config())
  for key in _flat_keys(config):
    if key == "data.path":
      _fail("config.data.path was split by meaning: use config.data.mnist_dir (a folder with the "
            "MNIST IDX files) or config.data.sva_tsv (Linzen's agreement TSV).")
    if key not in known:
      close = difflib.get_close_matches(key, list(known), n=1)
      _fail(f"Unknown config key {key!r}." + (f" Did you mean {close[0]!r}?" if close else ""))
  c = config
  choices = _choices()
  flat = _flat_keys(c)
  for key, allowed in choices.items():
    if flat[key] not in allowed:
      _fail(f"config.{key}={flat[key]!r} is not one of {allowed}.")
  positive = ["optim.learning_rate", "train.batch_size", "eval.batch_size", "optim.decay_steps",
              "distill.temperature", "train.log_every_steps", "train.max_checkpoints"]
  for key in positive:
    if not flat[key] > 0:
      _fail(f"config.{key} must be > 0, got {flat[key]!r}.")
  for key in ["optim.l1", "optim.l2", "distill.gold_rate", "distill.distill_rate",
              "train.num_steps", "optim.warmup_steps", "optim.hold_steps", "optim.clip_global_norm",
              "eval.every_steps", "train.checkpoint_every_steps", "analysis.probe_every"]:
    if flat[key] < 0:
      _fail(f"config.{key} must be >= 0, got {flat[key]!r}.")
  if not 0 <= c.data.max_bad_fraction <= 1:
    _fail(f"config.data.max_bad_fraction must be in [0, 1], got {c.data.max_bad_fraction!r}.")
  if c.data.sva_source == "numpred" and c.data.name != "sva_cl":
    _fail(f"config.data.sva_source='numpred' holds prefixes up to the verb, for verb-number "
          f"classification (data.name='sva_cl'), not data.name={c.data.name!r}.")
  if c.data.sva_source == "numpred" and c.data.sva_tsv:
    _fail("config.data.sva_tsv is set but config.data.sva_source='numpred' reads "
          "config.data.real_dir instead: clear one of them.")
  if not c.train.num_epochs >= 0:  # Also NaN; unused when num_steps > 0, but still a mistake.
    _fail(f"config.train.num_epochs must be >= 0, got {c.train.num_epochs!r}.")
  if c.train.num_steps == 0 and not c.train.num_epochs > 0:
    _fail("Set config.train.num_epochs > 0 or config.train.num_steps > 0.")
  if c.distill.gold_rate == 0 and c.distill.distill_rate == 0:
    _fail("config.distill.gold_rate and distill_rate are both 0: the loss would be constant.")
  if c.distill.distill_rate > 0 and not c.teacher.config:
    _fail("config.distill.distill_rate > 0 needs a teacher: set config.teacher.config "
          "(e.g. 'configs/mnist_cnn.py') and config.teacher.workdir.")
  if c.teacher.config and not c.teacher.workdir:
    _fail("config.teacher.config is set but config.teacher.workdir is empty.")
  if c.num_seeds < 1:
    _fail(f"config.num_seeds={c.num_seeds} must be >= 1.")
  if num_devices is not None:
    for key in ("train.batch_size", "eval.batch_size"):
      if flat[key] % num_devices:
        _fail(f"config.{key}={flat[key]} is not divisible by the {num_devices} devices; "
              f"use a multiple of {num_devices}.")


def split_config_arg(spec: str) -> tuple[Path, str | None]:
  path, _, arg = spec.partition(":")
  return Path(path), (arg or None)


def resolve_config_path(path: Path) -> Path:
  """Config paths are relative to the working directory, falling back to the repository root."""
  if path.exists():
    return path
  if (REPO_ROOT / path).exists():
    return REPO_ROOT / path
  _fail(f"Config file {str(path)!r} not found (looked in {os.getcwd()} and {REPO_ROOT}).")


def load_config_file(spec: str) -> ml_collections.ConfigDict:
  """Loads 'path/to/config.py[:arg]' the way ml_collections' config_flags does."""
  path, arg = split_config_arg(spec)
  path = resolve_config_path(path)
  module_spec = importlib.util.spec_from_file_location(f"_config_{path.stem}", path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg) if arg is not None else module.get_config()


def parse_arg(arg: str | None, allowed: dict) -> dict:
  """Parses a config-file arg 'quick' or 'k1=v1,k2=v2,quick' into a dict, checking the keys."""
  out = {}
  for part in filter(None, (arg or "").split(",")):
    key, eq, value = part.partition("=")
    if key not in allowed:
      _fail(f"Unknown config arg {key!r}; valid: {', '.join(sorted(allowed))}.")
    out[key] = value if eq else True
  return out
