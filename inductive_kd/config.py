"""The config schema shared by every experiment, its validation, and loading config files.

Each file in configs/ starts from `base_config()` and changes values; `validate` then rejects keys
the schema does not know (with the nearest valid key) and impossible values, so a typo fails at
load time in one line instead of deep inside a training run.
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

  c.data = ml_collections.ConfigDict()
  c.data.name = "mnist"
  c.data.source = "auto"          # 'auto' | 'idx' | 'tfds'
  c.data.path = ""                # Folder with the IDX files; '' = the repository's data/mnist.
  c.data.tfds_data_dir = ""
  c.data.cache_dir = ""           # Where corrupted test sets are cached; '' = <repo>/cache.
  c.data.train_limit = 0          # Use only the first N training examples (0 = all); for tests.
  # Subject-verb agreement (data.name 'sva_lm' | 'sva_cl'); data.path = Linzen's TSV or ''.
  c.data.synthetic_size = 200000  # Sentences of the offline corpus used when data.path is ''.
  c.data.synthetic_seed = 0
  c.data.max_len = 50             # Longer sentences are dropped before the split (Linzen).
  c.data.vocab_size = 10000

  c.eval = ml_collections.ConfigDict()
  c.eval.shifted = "translate,scale"  # Comma-separated MNIST-C names, 'all' or ''.
  c.eval.shifted_source = "project"        # 'project' (our implementation) | 'tfds'.
  c.eval.corruption_seed = 0
  c.eval.every_steps = 0          # 0 = once per epoch.
  c.eval.batch_size = 1000
  c.eval.limit = 0                # Evaluate on the first N test examples only (0 = all).
  c.eval.ece_bins = 15

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


def validate(config: ml_collections.ConfigDict, num_devices: int | None = None) -> None:
  """Raises ConfigError (one line, naming the key) on unknown keys or impossible values."""
  known = _flat_keys(base_config())
  for key in _flat_keys(config):
    if key not in known:
      close = difflib.get_close_matches(key, list(known), n=1)
      _fail(f"Unknown config key {key!r}." + (f" Did you mean {close[0]!r}?" if close else ""))
  c = config
  choices = {
      "data.source": ("auto", "idx", "tfds"), "optim.name": ("adam", "radam"),
      "optim.schedule": ("constant", "exponential", "cosine_restarts", "cosine"),
      "distill.scale": ("inverse_t2", "t2", "none"), "distill.teacher_mode": ("train", "eval"),
      "distributed": ("off", "auto"), "eval.shifted_source": ("project", "tfds"),
      "distill.cache_teacher": ("auto", "on", "off"),
  }
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


# --- The MNIST scenario (PAPER.md "Scenario 1", REFLECT.md §1) --------------------------------

MNIST_MODELS = {
    # Reflect `vcnn_mnist7`; L2 2e-9 on the conv and projector kernels (negligible, kept).
    "cnn": dict(model=dict(name="cnn", filters=(128, 64, 64), maxout_size=(128, 64, 16),
                           pool_size=((1, 1), (2, 2), (2, 2)), hidden_dropout_rate=0.3,
                           input_dropout_rate=0.0), l1=0.0, l2=2e-9),
    # Reflect `ff_mnist4`; L1 = L2 = 1e-5 on every Dense kernel (not negligible next to a KD loss
    # divided by T² = 25).
    "mlp": dict(model=dict(name="mlp", hidden_dims=(512, 128, 32), hidden_dropout_rate=0.1,
                           input_dropout_rate=0.0), l1=1e-5, l2=1e-5),
}


def _mnist_common(model: str, quick: bool) -> ml_collections.ConfigDict:
  c = base_config()
  spec = MNIST_MODELS[model]
  c.model = ml_collections.ConfigDict(spec["model"])
  c.optim.l1, c.optim.l2 = spec["l1"], spec["l2"]
  c.train.batch_size = 128
  c.train.num_epochs = 400.0
  if quick:
    # The whole pipeline in well under 2 minutes on 2 CPU cores: a few steps, small evals.
    c.train.batch_size = 64
    c.train.num_steps = 60
    c.train.log_every_steps = 20
    c.eval.every_steps = 30
    c.train.checkpoint_every_steps = 30
    c.eval.limit = 1000
    c.train.progress_every_secs = 5.0
    # Sixty steps are too few for Keras' BatchNorm momentum 0.99 and RAdam's rectified start; a
    # smoke test should still produce a teacher worth distilling from.
    c.model.bn_momentum = 0.9
    c.analysis.probe_every = 20
    c.analysis.probe_size = 500
    c.optim.name = "adam"
    c.optim.learning_rate = 1e-3
  return c


def _mnist_args(arg: str | None) -> tuple[bool, bool]:
  """The MNIST configs' args: (quick, short)."""
  opts = parse_arg(arg, {"quick": None, "short": None})
  if "quick" in opts and "short" in opts:
    _fail("Config args 'quick' and 'short' are exclusive: choose one.")
  return "quick" in opts, "short" in opts


def _short_schedule(c: ml_collections.ConfigDict, learning_rate: float) -> None:
  """The `short` arg: 24 epochs, Adam with one cosine decay to 0 over the run.

  Not the paper's schedule: a budget recipe, measured in docs/results/mnist_short. On 2 CPU cores
  the CNN (Adam 2e-3) trains in about an hour and reaches the 400-epoch CNN's MNIST accuracy.
  """
  c.train.num_epochs = 24.0
  c.optim.name = "adam"
  c.optim.learning_rate = learning_rate
  c.optim.schedule = "cosine"
  c.optim.alpha = 0.0
  c.optim.warmup_steps = 0


def mnist_baseline(model: str, arg: str | None) -> ml_collections.ConfigDict:
  """An independently trained MNIST model (also the teacher of the distillation runs).

  The paper's teachers/baselines came from the 'online' runs: cross-entropy only, RAdam lr 1e-4
  with exponential decay 0.96 per 10000 steps, no warm-up, 400 epochs, batch 128 (REFLECT.md §1.4).
  Arg `short`: the one-hour budget schedule instead (`_short_schedule`).
  """
  quick, short = _mnist_args(arg)
  c = _mnist_common(model, quick)
  c.name = f"mnist_{model}"
  if not quick:
    c.optim.name = "radam"
    c.optim.learning_rate = 1e-4
  c.optim.schedule = "exponential"
  c.optim.decay_steps = 10000
  c.optim.decay_rate = 0.96
  if short:
    _short_schedule(c, learning_rate=2e-3)
  c.distill.gold_rate, c.distill.distill_rate = 1.0, 0.0
  return c


def mnist_distill(teacher: str, student: str, arg: str | None) -> ml_collections.ConfigDict:
  """A student distilled from a frozen, pre-trained teacher (Reflect `pure_dstl5_4_crs_slw_3`).

  T = 5, pure soft targets (distill rate 1, gold rate 0), loss × 1/T² as in the official code;
  Adam lr 1e-4 (eps 1e-8) with Keras CosineDecayRestarts(first_decay_steps 200000, t_mul 5,
  m_mul 0.2, alpha 0.001); 400 epochs at batch 128 end inside the first cosine period.
  Teacher mode 'train' (dropout on, BatchNorm batch statistics): the official code's behaviour,
  which the paper's numbers come from; pass --config.distill.teacher_mode=eval for textbook KD.
  The teacher is the baseline run `configs/mnist_<teacher>.py` in the workdir `mnist_<teacher>`
  beside the student's workdir; it is trained there first if absent. Arg `short`: teacher and
  student both use the budget schedule (`_short_schedule`; the student at the paper's lr 1e-4),
  and the teacher's workdir is `mnist_<teacher>_short`.
  """
  quick, short = _mnist_args(arg)
  c = _mnist_common(student, quick)
  c.name = f"mnist_{teacher}_to_{student}"
  c.optim.name = "adam"
  c.optim.learning_rate = 1e-3 if quick else 1e-4
  c.optim.schedule = "cosine_restarts"
  c.optim.decay_steps = 200000
  c.optim.t_mul = 5.0
  c.optim.decay_rate = 0.2
  c.optim.alpha = 0.001
  c.distill.temperature = 5.0
  c.distill.gold_rate, c.distill.distill_rate = 0.0, 1.0
  c.distill.scale = "inverse_t2"
  c.distill.teacher_mode = "train"
  if short:
    # The paper's student learning rate, not the baselines' 2e-3: the KD loss is divided by
    # T² = 25 and the MLP's L1/L2 is not, so at 2e-3 the regulariser wins (measured: the students
    # lose 4-5 points of scale/translate accuracy; docs/results/mnist_short/README.md).
    _short_schedule(c, learning_rate=1e-4)
  variant = "quick" if quick else "short" if short else ""
  c.teacher.config = f"configs/mnist_{teacher}.py" + (f":{variant}" if variant else "")
  c.teacher.workdir = f"mnist_{teacher}" + (f"_{variant}" if variant else "")
  return c


# --- Subject-verb agreement (PAPER.md "Scenario 2", REFLECT.md §2) ------------------------------

_LSTM_L2_LEAVES = ("embedding", "kernel", "recurrent_kernel", "bias")
# Reflect's transformers put l2 1e-4 on wte, wpe and the block weights and biases; by leaf name we
# cover the embeddings and every kernel (the 2-way head's kernel too, the block biases not).
_TRANSFORMER_L2_LEAVES = ("embedding", "kernel")

SVA_MODELS = {
    "cl": {
        # cl_lstm / small_lstm_v4 (eval_vp.ipynb), l2 1e-5 on every weight.
        "lstm": dict(model=dict(name="lstm_classifier", embedding_dim=256, hidden_dim=256,
                                depth=2, hidden_dropout_rate=0.8, input_dropout_rate=0.2),
                     l2=1e-5, reg_leaves=_LSTM_L2_LEAVES),
        # cl_bert / small_gpt_v9: bidirectional, classifies from a CLS token ("Transformer").
        "transformer": dict(model=dict(name="transformer_classifier", bidirectional=True,
                                       d_model=128, depth=6, n_head=8),
                            l2=1e-4, reg_leaves=_TRANSFORMER_L2_LEAVES),
        # cl_gpt2 / small_gpt_v9: causal, last position ("Transformer-seq").
        "transformer_seq": dict(model=dict(name="transformer_classifier", d_model=128, depth=6,
                                           n_head=8),
                                l2=1e-4, reg_leaves=_TRANSFORMER_L2_LEAVES),
        # cl_gpt2_shared / small_ugpt_v9: one 256-d block applied 6 times ("UTransformer-seq").
        "ut_seq": dict(model=dict(name="transformer_classifier", shared=True, d_model=256,
                                  depth=6, n_head=8),
                       l2=1e-4, reg_leaves=_TRANSFORMER_L2_LEAVES),
    },
    "lm": {
        # lm_lstm_shared_emb / lstm_drop31_v2 (eval_lm.py): tied embeddings, no l2.
        "lstm": dict(model=dict(name="lstm_lm", embedding_dim=512, hidden_dim=512, depth=2,
                                hidden_dropout_rate=0.3, input_dropout_rate=0.2)),
        # The paper's "Small LSTM": not named in Reflect's notebooks; 256-d, same dropout.
        "small_lstm": dict(model=dict(name="lstm_lm", embedding_dim=256, hidden_dim=256, depth=2,
                                      hidden_dropout_rate=0.3, input_dropout_rate=0.2)),
        # lm_gpt2 / very_big_gpt_v10: GPT-2, 512-d x 6, tied output.
        "transformer": dict(model=dict(name="transformer_lm", d_model=512, depth=6, n_head=8)),
        # lm_gpt2_shared / very_big_gpt_v10: the Universal Transformer (one block, 6 steps).
        "ut": dict(model=dict(name="transformer_lm", shared=True, d_model=512, depth=6,
                              n_head=8)),
        # big_gpt_v5 (256-d), our reading of the paper's "Small Transformer".
        "small_transformer": dict(model=dict(name="transformer_lm", d_model=256, depth=6,
                                             n_head=8, resid_pdrop=0.2, attn_pdrop=0.3)),
        "small_ut": dict(model=dict(name="transformer_lm", shared=True, d_model=256, depth=6,
                                    n_head=8, resid_pdrop=0.2, attn_pdrop=0.3)),
    },
}

# Sizes for machines without an accelerator ('size=cpu') and for smoke tests ('quick').
_SVA_SMALL = {
    "cpu": {"lstm": dict(embedding_dim=128, hidden_dim=128),
            "transformer": dict(d_model=128, depth=2, n_head=4)},
    "tiny": {"lstm": dict(embedding_dim=32, hidden_dim=32),
             "transformer": dict(d_model=32, depth=2, n_head=2)},
}


def sva_experiment(task: str, arg: str | None, student: str | None = None,
                   teacher: str | None = None) -> ml_collections.ConfigDict:
  """One cell of the SVA grid: `student=<model>[,teacher=<model>][,size=cpu][,quick]`.

  Independent models (REFLECT.md §2.5, inferred for the teachers): Adam lr 1e-3 with Reflect's
  exponential decay (0.96 per 1000 steps after 10000 warm-up and 1000 hold steps), 60 epochs,
  batch 64 (distill_main.py's default; the batch is not recorded). Distillation (config
  `pure_dstl_4_exp_vp5`, LSTM teacher): T = 1, pure soft targets, Adam 1e-3 decaying 0.7 per
  10000 steps, 40 epochs; the teacher in 'eval' mode (these models' dropout is heavy, 0.8 on the
  LSTM classifier: official soft targets came from training mode; --config.distill.teacher_mode
  =train reproduces that). LM distillation reuses the same settings (the paper's LM distillation
  config names are absent from Reflect).
  """
  models_ = SVA_MODELS[task]
  opts = parse_arg(arg, {"student": None, "teacher": None, "size": None, "quick": None})
  student = opts.get("student", student)
  teacher = opts.get("teacher", teacher)
  quick = "quick" in opts
  size = opts.get("size", "tiny" if quick else None)
  for role, name in (("student", student), ("teacher", teacher)):
    if name is not None and name not in models_:
      _fail(f"Unknown SVA {task} {role} {name!r}; valid: {', '.join(models_)}.")
  if student is None:
    _fail(f"Name the student: --config=configs/sva_{task}.py:student=<{'|'.join(models_)}>.")
  if size not in (None, "cpu", "tiny"):
    _fail(f"size must be 'cpu' or 'tiny', got {size!r}.")
  c = base_config()
  spec = models_[student]
  c.model = ml_collections.ConfigDict(dict(spec["model"]))
  if size:
    family = "lstm" if "lstm" in c.model.name else "transformer"
    c.model.update(_SVA_SMALL[size][family])
  c.optim.l2 = spec.get("l2", 0.0)
  c.optim.reg_leaves = spec.get("reg_leaves", ("kernel",))
  c.data.name = f"sva_{task}"
  c.eval.shifted = ""
  c.eval.limit = 20000
  c.eval.ece_bins = 20  # The official SVA calibration scripts use 20 bins.
  c.train.batch_size = 64
  c.train.log_every_steps = 200
  c.analysis.probe_set = "valid"
  c.optim.name = "adam"
  c.optim.learning_rate = 1e-3
  c.optim.schedule = "exponential"
  tag = f"sva_{task}_{student}"
  if teacher is None:
    c.name = tag
    c.train.num_epochs = 60.0
    c.optim.decay_steps, c.optim.decay_rate = 1000, 0.96
    c.optim.warmup_steps, c.optim.hold_steps = 10000, 1000
  else:
    c.name = f"sva_{task}_{teacher}_to_{student}"
    c.train.num_epochs = 40.0
    c.optim.decay_steps, c.optim.decay_rate = 10000, 0.7
    c.distill.temperature = 1.0
    c.distill.gold_rate, c.distill.distill_rate = 0.0, 1.0
    c.distill.teacher_mode = "eval"
    passthrough = ",".join(p for p in (f"size={size}" if size and not quick else "",
                                       "quick" if quick else "") if p)
    c.teacher.config = f"configs/sva_{task}.py:student={teacher}" + (
        f",{passthrough}" if passthrough else "")
    c.teacher.workdir = f"sva_{task}_{teacher}" + (f"_{size}" if size else "")
  if quick:
    c.data.synthetic_size = 4000
    c.train.num_steps = 40
    c.train.log_every_steps = 10
    c.eval.every_steps = 20
    c.train.checkpoint_every_steps = 20
    c.eval.limit = 500
    c.optim.warmup_steps, c.optim.hold_steps = 0, 0
    c.train.progress_every_secs = 5.0
    c.analysis.probe_every = 20
    c.analysis.probe_size = 200
  return c
