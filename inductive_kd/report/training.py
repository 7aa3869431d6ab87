"""Section 4, similarity to the teacher over training: per scenario, each comparison of section 3
traced over the saved probe outputs (CKA and RSA of representations, or 1 − JS distance of
output distributions when the probes hold no representations)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from inductive_kd.analysis import plots
from inductive_kd.analysis import similarity
from inductive_kd.analysis import trajectories
from inductive_kd.report import comparisons
from inductive_kd.report.context import Context
from inductive_kd.report.render import slug
from inductive_kd.report.runs import Run


def curve(model: Run, teacher: Run,
          fn: Callable | None) -> tuple[np.ndarray, np.ndarray] | None:
  """(steps, similarity of the model's probe outputs at each step to the teacher's final ones):
  fn(reps, teacher reps), or 1 − JS distance of the output distributions when fn is None."""
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


def _probed_pairs(ctx: Context, scenario: str) -> list[tuple[str, list[tuple[Run, Run]]]]:
  """Section 3's comparisons in `scenario`, keeping the pairs whose model and teacher both have
  probe outputs on the same probe set."""
  out = []
  for label, comp_scenario, pairs in comparisons.comparisons(ctx):
    if comp_scenario != scenario:
      continue
    pairs = [(m, t) for m, t in pairs if m.probes() is not None and t.probes() is not None
             and m.probes()["probs"].shape[1] == t.probes()["probs"].shape[1]]
    if pairs:
      out.append((label, pairs))
  return out


def _curves(pairs_ok: list[tuple[str, list[tuple[Run, Run]]]], fn: Callable | None
            ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, str], set[str]]:
  """({legend: (steps, values)}, {legend: colour key}, dashed legends): the mean over a
  comparison's pairs where their steps match, else one curve per seed. A baseline (no KD)
  comparison follows its distilled one in section 3's list: it takes that one's colour, dashed,
  so each pair of curves to compare reads at a glance."""
  curves, keys, dashed = {}, {}, set()
  key = ""
  for label, pairs in pairs_ok:
    baseline = all(m.setup.teacher is None for m, _ in pairs)
    key = key if baseline and key else label
    per_pair = [curve(m, t, fn) for m, t in pairs]
    per_pair = [c for c in per_pair if c is not None]
    if not per_pair:
      continue
    if len({tuple(s) for s, _ in per_pair}) == 1:
      named = {f"{label} (n={len(per_pair)})": (
          per_pair[0][0], np.mean([v for _, v in per_pair], axis=0))}
    else:
      named = {f"{label} seed {m.seed}": (s, v) for (s, v), (m, _) in zip(per_pair, pairs)}
    curves.update(named)
    keys.update({name: key for name in named})
    if baseline:
      dashed.update(named)
  return curves, keys, dashed


def section(ctx: Context) -> list[str]:
  out = ["### Similarity to the teacher over training", ""]
  with_probes = [r for r in ctx.by_key.values() if r.probes() is not None]
  errors = [f"- {r.name} (seed {r.seed}): {r.probe_error}" for r in ctx.by_key.values()
            if r.probe_error]
  if errors:
    out += ["Probe folders that could not be read:"] + errors + [""]
  if not with_probes:
    out += ["No probe outputs were found (runs write `probes/step_*.npz` only when "
            "`config.analysis.probe_every > 0`): the similarity-over-training curves and the "
            "MDS map are skipped.", ""]
    return out
  made = False
  for scenario in sorted({r.setup.scenario for r in with_probes}):
    pairs_ok = _probed_pairs(ctx, scenario)
    if not pairs_ok:
      continue
    use_reps = all(p.probes()["reps"] is not None for _, pairs in pairs_ok for pair in pairs
                   for p in pair)
    if use_reps:
      measures = [("cka", similarity.linear_cka,
                   "linear CKA to the teacher's final probe representations"),
                  ("rsa", lambda x, y: comparisons.rsa(ctx, x, y),
                   "RSA (rsa_reflect) to the teacher's final probe representations")]
    else:
      measures = [("js", None, "1 − mean Jensen–Shannon distance to the teacher's final "
                               "probe outputs")]
    for measure, fn, ylabel in measures:
      curves, keys, dashed = _curves(pairs_ok, fn)
      if not curves:
        continue
      path = plots.plot_similarity_over_training(
          curves, ctx.plot_path(f"similarity_training_{slug(scenario)}_{measure}.png"),
          ylabel=measure.upper() if measure != "js" else "1 − JS distance", color_keys=keys,
          dashed=dashed)
      out += [f"`{scenario}`: {ylabel} at each saved step (mean over pairs when their steps "
              f"match); dashed: the model trained without distillation, in the colour of the "
              f"distilled student it is compared with.", ""]
      out += ctx.image(f"similarity over training {scenario} {measure}", path)
      made = True
    if not use_reps:
      out += ["The probe files hold only output probabilities (no `reps`), so similarity "
              "over training is 1 − JS distance between output distributions instead of "
              "CKA/RSA of representations.", ""]
  if not made:
    out += ["No run with probes has a teacher with probes on the same probe set: no "
            "similarity-over-training plot.", ""]
  return out
