"""Section 3, teacher–student similarity: which (model, teacher) pairs are compared (each
distilled student with its teacher, the student's baseline with the same teacher), their
per-test-set metrics (CKA, RSA, agreement, error overlap) and the tables."""

from __future__ import annotations

import collections

import numpy as np

from inductive_kd import paper_results
from inductive_kd import teacher as teacher_lib
from inductive_kd.analysis import agreement
from inductive_kd.analysis import similarity
from inductive_kd.report import provenance
from inductive_kd.report import render
from inductive_kd.report.context import Context
from inductive_kd.report.runs import MNIST_SET_ORDER, SVA_SET_ORDER, Run, order_sets, setup_label

Comparison = tuple[str, str, list[tuple[Run, Run]]]
SHARED_INIT = "‡"

_METRICS = (
    ("cka", "Linear CKA of the penultimate representations"),
    ("rsa", "RSA: Reflect's second-order cosine similarity (`rsa_reflect`) of the penultimate "
            "representations"),
    ("agreement", "Prediction agreement (fraction of examples with the same predicted class)"),
    ("jaccard", "Error overlap: Jaccard |E_model ∩ E_teacher| / |E_model ∪ E_teacher| of the "
                "misclassified examples"),
)


def comparisons(ctx: Context) -> list[Comparison]:
  """(label, scenario, [(model run, teacher run)]): each distilled student against its teacher,
  then the plain baseline of the student's architecture against the same teacher(s)."""
  return ctx.cached("comparisons", lambda: _build_comparisons(ctx))


def _build_comparisons(ctx: Context) -> list[Comparison]:
  names = ctx.ordered_groups(preferred=paper_results.MNIST_SETUP_ORDER)
  comps, seen = [], set()
  for name in names:
    group = ctx.groups[name]
    pairs = [(r, ctx.teacher_of[r.key]) for r in group if ctx.teacher_of.get(r.key) is not None]
    if not pairs:
      continue
    teacher_setup = collections.Counter(t.setup for _, t in pairs).most_common(1)[0][0]
    t_label = setup_label(teacher_setup)
    scenario = group[0].setup.scenario
    comps.append((f"{group[0].label} vs its teacher {t_label}", scenario, pairs))
    if group[0].setup.teacher is None:
      continue
    teachers = list({t.key: t for _, t in pairs}.values())
    for base in names:
      # The student's architecture alone, on the student's data (a real-text baseline is no
      # control for a student of the offline corpus: their test items differ).
      if (ctx.groups[base][0].setup != group[0].setup.baseline or
          provenance.data_source(ctx.groups[base][0]) != provenance.data_source(group[0])):
        continue
      bpairs = [(b, t) for t in teachers for b in ctx.groups[base] if b.key != t.key]
      key = (base, frozenset(t.key for t in teachers))
      if bpairs and key not in seen:
        seen.add(key)
        comps.append((f"{ctx.groups[base][0].label} (no KD) vs the same teacher {t_label}",
                      scenario, bpairs))
  return comps


def shares_init(model: Run, teacher: Run) -> bool:
  """A distilled student with its teacher's model and seed: train.py derives the initialisation
  and the batch order from the seed, so it started where its teacher started and saw the same
  batches, and part of its similarity to the teacher is not distillation's."""
  same_model = (teacher_lib.architecture(model.results.get("config") or {}) ==
                teacher_lib.architecture(teacher.results.get("config") or {}))
  return (model.setup.teacher is not None and model.seed is not None
          and model.seed == teacher.seed and same_model)


def rsa(ctx: Context, x: np.ndarray, y: np.ndarray) -> float:
  b = ctx.opt.rsa_batch_size
  return similarity.rsa_reflect(x, y, batch_size=b if b and x.shape[0] >= b else None)


def pair_metrics(ctx: Context, model: Run, teacher: Run, set_name: str) -> dict[str, float]:
  return ctx.cached(("pair", model.key, teacher.key, set_name),
                    lambda: _pair_metrics(ctx, model, teacher, set_name))


def _pair_metrics(ctx: Context, model: Run, teacher: Run, set_name: str) -> dict[str, float]:
  out: dict[str, float] = {}
  labels, t_labels = model.array(set_name, "labels"), teacher.array(set_name, "labels")
  # The same examples in the same order, or nothing is comparable.
  if labels is None or t_labels is None or not np.array_equal(labels, t_labels):
    return out
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
  # Compacted runs may keep the representations of the first N examples only (compact
  # --rep_limit): compare on the examples both have.
  if all(r is not None and r.ndim == 2 and 2 <= r.shape[0] <= labels.shape[0] for r in reps):
    n = min(r.shape[0] for r in reps)
    for metric, fn in (("cka", similarity.linear_cka), ("rsa", lambda x, y: rsa(ctx, x, y))):
      try:
        out[metric] = fn(reps[0][:n], reps[1][:n])
      except ValueError:  # e.g. a constant representation: undefined, left blank
        pass
  return out


def section(ctx: Context) -> list[str]:
  out = ["## 3. Teacher–student similarity", ""]
  comps = comparisons(ctx)
  if not comps:
    return out + ["No run names a teacher (`teacher_workdir` in results.json) that was "
                  "found, so there is nothing to compare.", ""] + ctx.notes()
  b, ddof = ctx.opt.rsa_batch_size, ctx.opt.std_ddof
  out += ["Each distilled student is compared with its own teacher; the plain model of the "
          "student's architecture is compared with the same teacher run(s), which is the "
          "paper's question (e.g. is CNN→MLP's CKA to the CNN higher than the plain MLP's?). "
          f"Mean ± std (ddof={ddof}) over the (model, teacher) pairs; `pairs` = "
          f"their number. Penultimate representations are `rep` in predictions/*.npz (CNN: "
          f"16-d global average pool; MLP: 32-d last hidden layer), on every example of the "
          f"set, or on the first N where a committed copy keeps only those (`compact "
          f"--rep_limit`). " + (
              f"RSA uses consecutive batches of {b} examples as the official notebooks "
              f"(whole set when smaller)." if b else "RSA compares whole sets at once."),
          ""] + ctx.notes()
  sets_by_comp = []
  for _, scenario, pairs in comps:
    order = MNIST_SET_ORDER if scenario == "mnist" else SVA_SET_ORDER
    sets_by_comp.append(order_sets(
        {s for m, t in pairs for s in m.test_sets() if s in t.test_sets()}, order))
  all_sets = order_sets({s for ss in sets_by_comp for s in ss}, MNIST_SET_ORDER + SVA_SET_ORDER)
  shared = [sum(shares_init(m, t) for m, t in pairs) for _, _, pairs in comps]
  if any(shared):
    out += [f"{SHARED_INIT} pairs (their number after the mark) of a student with its teacher's "
            "model and seed: it started from its teacher's initialisation and saw the same "
            "batches, so part of its similarity is not distillation's (a student with its own "
            "`--config.seed` is independent).", ""]
  for metric, title in _METRICS:
    rows = []
    for (label, _, pairs), sets, n_shared in zip(comps, sets_by_comp, shared):
      row = [label + (f" {SHARED_INIT}{n_shared}" if n_shared else ""), str(len(pairs))]
      for s in all_sets:
        if s not in sets:
          row.append("—")
          continue
        row.append(render.cell([pair_metrics(ctx, m, t, s).get(metric) for m, t in pairs], ddof))
      rows.append(row)
    out += [f"### {title}", ""] + render.table(["comparison", "pairs"] + all_sets, rows)
  return out
