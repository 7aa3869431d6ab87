"""Section 4, agreement accuracy against the number of attractors: one plot per SVA scenario
and test set, a line per setup (mean over seeds)."""

from __future__ import annotations

import math
from typing import Iterator

from inductive_kd.analysis import plots
from inductive_kd.report.context import Context
from inductive_kd.report.render import figures_or, mean_std, slug
from inductive_kd.report.runs import SVA_SET_ORDER, order_sets
from inductive_kd.report.sva import is_sva


def _figures(ctx: Context) -> Iterator[list[str]]:
  for scenario in filter(is_sva, ctx.scenarios()):
    names = ctx.scenario_groups(scenario)
    sets = order_sets({s for n in names for r in ctx.groups[n] for s in r.test_sets()},
                      SVA_SET_ORDER)
    for set_name in sets:
      table = {}
      for name in names:
        accs = [mean_std([r.metric(set_name, f"acc_attractors_{k}") for r in ctx.groups[name]],
                         ctx.opt.std_ddof)[0] for k in range(5)]
        if all(math.isfinite(a) for a in accs):
          table[ctx.groups[name][0].label] = accs
      if table:
        path = plots.plot_accuracy_by_attractors(
            table, ctx.plot_path(f"attractors_{slug(scenario)}_{slug(set_name)}.png"))
        yield [f"`{scenario}` on `{set_name}` (mean over seeds):", ""] + ctx.image(
            f"attractors {scenario} {set_name}", path)


def section(ctx: Context) -> list[str]:
  return figures_or("### Accuracy against the number of attractors", _figures(ctx),
                    "No SVA runs with per-attractor accuracies: no plot.")
