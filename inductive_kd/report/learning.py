"""Section 4, learning curves: each SVA scenario's metrics over training steps, from the runs'
history.json (every evaluation), one colour per setup and a line per seed. Language models:
agreement and perplexity (the paper's LM figure plots one against the other at the end of
training; the curves show whether agreement was still rising); classifiers: accuracy and ECE."""

from __future__ import annotations

from typing import Iterator

from inductive_kd.analysis import plots
from inductive_kd.report.context import Context
from inductive_kd.report.render import figures_or, slug
from inductive_kd.report.runs import SVA_SET_ORDER, order_sets
from inductive_kd.report.sva import is_sva

PANELS = {"sva_lm": (("mu_accuracy", "agreement (μ-accuracy)"), ("perplexity", "perplexity")),
          "sva_cl": (("mu_accuracy", "μ-accuracy"), ("ece", "ECE (results.json)"))}


def _figures(ctx: Context) -> Iterator[list[str]]:
  for scenario in filter(is_sva, ctx.scenarios()):
    names = ctx.scenario_groups(scenario)
    histories = {n: [r.history() for r in ctx.groups[n]] for n in names}
    sets = order_sets({k.split("/")[0] for hs in histories.values() for h in hs for k in h
                       if k != "steps"}, SVA_SET_ORDER)
    for set_name in sets:
      panels = [(f"{set_name}/{key}", label) for key, label in PANELS[scenario]]
      curves = {}
      for name in names:
        seeds = [h for h in histories[name] if all(key in h for key, _ in panels)]
        if seeds:
          curves[ctx.groups[name][0].label] = seeds
      if curves:
        path = plots.plot_learning_curves(
            curves, panels, ctx.plot_path(f"learning_{slug(scenario)}_{slug(set_name)}.png"))
        yield [f"`{scenario}` on `{set_name}`, every evaluation during training (a line per "
               "seed):", ""] + ctx.image(f"learning curves {scenario} {set_name}", path)


def section(ctx: Context) -> list[str]:
  return figures_or("### Learning curves", _figures(ctx),
                    "No SVA run has a history.json (written by the trainer at the end of a run, "
                    "or by `python -m inductive_kd.report.compact` from its TensorBoard files): "
                    "no plot.")
