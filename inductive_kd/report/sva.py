"""Section 2: subject-verb agreement tables, one per scenario and test set, beside the values
read off the paper's plots."""

from __future__ import annotations

import numpy as np

from inductive_kd import paper_results
from inductive_kd.report import provenance
from inductive_kd.report import render
from inductive_kd.report.context import Context, ece, ece_cell
from inductive_kd.report.provenance import DATA_NOTES, DATA_SHORT, PAPER_LABEL, data_source
from inductive_kd.report.runs import SVA_SET_ORDER, Run, order_sets, sva_paper_row

_COLUMNS = (("mu_accuracy", "μ-acc", 4), ("accuracy", "accuracy", 4),
            ("macro_attractors", "A-acc (macro, k=0..4)", 4),
            ("macro_distance", "D-acc (macro)", 4)) + tuple(
                (f"acc_attractors_{k}", f"k={k}", 4) for k in range(5)) + (
                    ("perplexity", "perplexity", 2),)


def is_sva(scenario: str) -> bool:
  return scenario.startswith("sva")


def paper_rows(ctx: Context, group: list[Run]) -> tuple[str, str | None, str | None]:
  """(task, student paper row, teacher paper row or None) of an SVA group."""
  setup = group[0].setup
  s_row = sva_paper_row(setup, setup.student, group[0].config("model"))
  t_row = None
  if setup.teacher is not None:
    t_run = next((ctx.teacher_of[r.key] for r in group if ctx.teacher_of.get(r.key)), None)
    t_row = sva_paper_row(setup, setup.teacher,
                          t_run.config("model") if t_run else None) or setup.teacher
  return setup.sva_task, s_row, t_row


def section(ctx: Context) -> list[str]:
  out = ["## 2. Subject-verb agreement", ""]
  if not ctx.ordered_groups(is_sva):
    return out + ["No subject-verb agreement runs (setup scenario `sva_cl` or `sva_lm`) were "
                  "found under the runs folder; this section is empty.", ""]
  opt, ddof = ctx.opt, ctx.opt.std_ddof
  out += [f"Ours: mean ± std over seeds (ddof={ddof}). Paper values (read off the post's plots, "
          f"±0.002 accuracy, ±0.3 perplexity; LM: ranges over several runs, {render.FLAG} when "
          f"ours is outside the range ± that tolerance; classifiers: single values, no flag) are "
          f"for the Linzen test split. A-acc = the mean of the 5 attractor-bin accuracies "
          f"(homogeneous items, k = 0..4); μ-acc = all kept items. ECE: "
          f"{opt.sva_ece_bins} equal-width bins from `predictions/<set>.npz` "
          f"({render.DAGGER}: from results.json).", ""]
  for scenario in filter(is_sva, ctx.scenarios()):
    by_data: dict[str, list[str]] = {}
    for name in ctx.scenario_groups(scenario):
      by_data.setdefault(data_source(ctx.groups[name][0]), []).append(name)
    for data, names in by_data.items():
      out += _tables(ctx, scenario, data, names)
  return out


def _majority(ctx: Context, names: list[str], set_name: str) -> float | None:
  """The accuracy of always answering a set's most frequent label (from the first run that kept
  its labels)."""
  for name in names:
    for run in ctx.groups[name]:
      labels = run.array(set_name, "labels")
      if labels is not None and len(labels):
        return float(np.bincount(np.asarray(labels, np.int64)).max() / len(labels))
  return None


def _real_text_summary(ctx: Context, scenario: str, names: list[str], sets: list[str]) -> list[str]:
  """Real text at a glance: accuracy on the held-out prefixes, on each numpred.test.k (every
  intervening noun an attractor) and on Gulordava's prefixes, with the majority-label baseline of
  each set: on sets where the plural verb dominates, below the baseline means the model follows
  the attractor."""
  by_k = sorted(s for s in sets if s.startswith("numpred_test_"))
  order = (["valid"] if "valid" in sets else []) + by_k + (
      ["gulordava"] if "gulordava" in sets else [])
  if not order:
    return []
  ddof = ctx.opt.std_ddof
  title = lambda s: ("k = " + s.rsplit("_", 1)[1]) if s.startswith("numpred_test_") else s
  rows = []
  for name in names:
    group = ctx.groups[name]
    rows.append([group[0].label, str(len(group))] + [
        render.cell([r.metric(s, "accuracy") for r in group if s in r.test_sets()], ddof, 3)
        for s in order])
  rows.append(["always the majority label", "—"] + [
      "—" if (m := _majority(ctx, names, s)) is None else f"{m:.3f}" for s in order])
  return [f"### `{scenario}` on real text: accuracy by set", "",
          "`valid`: held-out `numpred.val` prefixes (natural attractor distribution); `k = K`: "
          "`numpred.test.K`, exactly K attractors; `gulordava`: Gulordava et al.'s prefixes "
          "(0-4 attractors, words not POS-replaced). The last row: always answering the set's "
          "most frequent verb number.", ""] + render.table(
              ["setup", "seeds"] + [title(s) for s in order], rows)


def _tables(ctx: Context, scenario: str, data: str, names: list[str]) -> list[str]:
  """The tables of one scenario on one data source, one per test set (real text: a summary
  table first)."""
  opt, ddof = ctx.opt, ctx.opt.std_ddof
  out = []
  sets = order_sets({s for n in names for r in ctx.groups[n] for s in r.test_sets()},
                    SVA_SET_ORDER)
  if data == "numpred":
    out += _real_text_summary(ctx, scenario, names, sets)
  for set_name in sets:
    columns = [c for c in _COLUMNS if any(
        r.metric(set_name, c[0]) is not None for n in names for r in ctx.groups[n])]
    show_ece = any(ece(ctx, r, set_name, opt.sva_ece_bins)[0] is not None
                   for n in names for r in ctx.groups[n])
    header = ["setup", "name", "seeds"] + [c[1] for c in columns] + (
        [f"ECE ({opt.sva_ece_bins} bins)"] if show_ece else [])
    rows, flags = [], []
    for name in names:
      group = [r for r in ctx.groups[name] if set_name in r.test_sets()]
      if not group:
        continue
      task, s_row, t_row = paper_rows(ctx, ctx.groups[name])
      row = [group[0].label, f"`{group[0].name}`", str(len(group))]
      sched = provenance.schedule(ctx, name)
      flag = sched.kind != provenance.SMOKE
      for key, title, digits in columns:
        paper = paper_results.sva(task, s_row, t_row, key)
        values = [r.metric(set_name, key) for r in group]
        row.append(render.cell(values, ddof, digits, paper, flag=flag,
                               paper_label=PAPER_LABEL[data]))
        mean = render.flagged(values, ddof, paper)
        if flag and mean is not None:
          flags.append(provenance.Flag(group[0].label, set_name, title, mean, paper,
                                       key != "perplexity", sched, data))
      if show_ece:
        row.append(ece_cell(ctx, group, set_name, opt.sva_ece_bins,
                            paper_results.sva(task, s_row, t_row, "ece"), flag=flag,
                            paper_label=PAPER_LABEL[data]))
      rows.append(row)
    out += [f"### `{scenario}` on `{set_name}` ({DATA_SHORT[data]})", "",
            f"Data: {DATA_NOTES[data]}.", ""] + \
        render.table(header, rows) + provenance.schedule_footnote(ctx, names) + \
        provenance.flag_notes(flags)
  return out
