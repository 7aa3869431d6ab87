"""Model registry: config.model.name -> Flax module class.

Every model's `__call__(x, *, train)` returns `(logits, representation)`; the representation is
what the analyses compare (REFLECT.md §4: CNN 16-d GAP output, MLP 32-d last hidden layer, the
final-position hidden state for sequence classifiers). Language models also have
`output_logits(rep)`, their output layer alone, which `logits_at` applies at chosen positions.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib

# name -> "module:Class", imported lazily so one model file can be read and tested alone.
_REGISTRY = {
    "cnn": "inductive_kd.models.cnn:VanillaCNN",
    "mlp": "inductive_kd.models.mlp:VanillaFF",
    "lstm_classifier": "inductive_kd.models.lstm:LSTMClassifier",
    "lstm_lm": "inductive_kd.models.lstm:LSTMLM",
    "transformer_classifier": "inductive_kd.models.transformer:TransformerClassifier",
    "transformer_lm": "inductive_kd.models.transformer:TransformerLM",
}

NAMES = tuple(_REGISTRY)


def get_class(name: str):
  if name not in _REGISTRY:
    close = difflib.get_close_matches(name, NAMES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown model.name {name!r}.{hint} Valid names: {', '.join(NAMES)}.")
  module, cls = _REGISTRY[name].split(":")
  return getattr(importlib.import_module(module), cls)


def create(name: str, **kwargs):
  """Builds model `name` with field values `kwargs`; unknown fields give a one-line error."""
  cls = get_class(name)
  fields = {f.name for f in dataclasses.fields(cls) if f.init and f.name not in ("parent", "name")}
  unknown = sorted(set(kwargs) - fields)
  if unknown:
    hints = []
    for key in unknown:
      close = difflib.get_close_matches(key, sorted(fields), n=1)
      hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ValueError(f"Unknown config.model field(s) for {name!r}: {', '.join(hints)}. "
                     f"Valid fields: {', '.join(sorted(fields))}.")
  return cls(**kwargs)


def logits_at(model, variables, rep, rows):
  """A language model's logits at the flattened positions `rows` of its [B, L, d] representation
  `rep`: [len(rows), V], from its output layer alone (the packed step's gather + tied head)."""
  return model.apply(variables, rep.reshape(-1, rep.shape[-1])[rows], method="output_logits")
