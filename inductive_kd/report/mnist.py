"""Section 1: MNIST accuracy and ECE per setup, mean ± std over seeds beside the paper's table,
each ⚠ cell explained in a line under its table (provenance.flag_notes)."""

from __future__ import annotations

from inductive_kd import paper_results
from inductive_kd.report import provenance
from inductive_kd.report import render
from inductive_kd.report.context import Context, ece_cell, ece_values
from inductive_kd.report.runs import MNIST_SET_ORDER, order_sets


def section(ctx: Context) -> list[str]:
  out = ["## 1. MNIST: accuracy and calibration", ""]
  names = ctx.scenario_groups("mnist", paper_results.MNIST_SETUP_ORDER)
  if not names:
    return out + ["No MNIST runs were found under the runs folder.", ""]
  sets = order_sets({s for n in names for r in ctx.groups[n] for s in r.test_sets()},
                    MNIST_SET_ORDER)
  opt, ddof = ctx.opt, ctx.opt.std_ddof
  out += [f"Ours: mean ± std over seeds (std with ddof={ddof}; `seeds` = n). In parentheses: "
          f"the paper's mean ± std over its runs ({paper_results.NUM_RUNS} per setup in the "
          f"official notebooks), where it reports one. {render.FLAG} marks our mean outside the "
          f"paper's mean ± 2 std. `scale` and `translate` are the paper's Scaled and "
          f"Translated sets (MNIST-C).", ""]
  header = ["setup", "name", "seeds"] + sets
  acc_rows, ece_rows, alt_rows = [], [], []
  acc_flags, ece_flags = [], []
  for name in names:
    group = ctx.groups[name]
    paper_name = group[0].setup.config_name
    label = group[0].label
    sched = provenance.schedule(ctx, name)
    flag = sched.kind != provenance.SMOKE
    head = [label, f"`{group[0].name}`", str(len(group))]
    acc_row, ece_row = list(head), list(head)
    for s in sets:
      acc = [r.metric(s, "accuracy") for r in group]
      paper = paper_results.mnist(paper_name, s, "accuracy")
      acc_row.append(render.cell(acc, ddof, paper=paper, flag=flag))
      mean = render.flagged(acc, ddof, paper)
      if flag and mean is not None:
        acc_flags.append(provenance.Flag(label, s, "accuracy", mean, paper, True, sched))
      paper = paper_results.mnist(paper_name, s, "ece")
      ece_row.append(ece_cell(ctx, group, s, opt.mnist_ece_bins, paper=paper, flag=flag))
      mean = render.flagged(ece_values(ctx, group, s, opt.mnist_ece_bins)[0], ddof, paper)
      if flag and mean is not None:
        ece_flags.append(provenance.Flag(label, s, "ECE", mean, paper, False, sched))
    acc_rows.append(acc_row)
    ece_rows.append(ece_row)
    alt_rows.append(head + [ece_cell(ctx, group, s, opt.alt_ece_bins) for s in sets])
  footnote = provenance.schedule_footnote(ctx, names)
  out += ["### Accuracy", ""] + render.table(header, acc_rows) + footnote
  out += provenance.flag_notes(acc_flags)
  out += [f"### ECE with {opt.mnist_ece_bins:,} equal-width bins", "",
          f"Computed here from `predictions/<set>.npz` with "
          f"`calibration.expected_calibration_error(probs, labels, num_bins="
          f"{opt.mnist_ece_bins})`. The paper's MNIST ECE comes from the official "
          f"notebooks, which use tfp's ECE with {paper_results.MNIST_ECE_BINS:,} bins: in "
          f"bins 1e-6 wide only examples whose confidences agree to 1e-6 share a bin (in "
          f"practice the near-certain ones), so this approaches the mean per-example "
          f"|correct − confidence| (an upper bound of any binned ECE) and is typically "
          f"larger than a 15-bin ECE. "
          f"{render.DAGGER}: predictions missing, value taken from results.json (computed with "
          f"that run's `config.eval.ece_bins`).", ""] + render.table(header, ece_rows)
  out += footnote + provenance.flag_notes(ece_flags)
  out += [f"### ECE with {opt.alt_ece_bins} bins (for reference; not comparable with "
          f"the paper's column)", ""] + render.table(header, alt_rows)
  return out
