"""Runs -> REPORT.md + PNG plots: our numbers beside the paper's, and the paper's analyses.

    python -m inductive_kd.report --runs runs --out report

Reads what finished runs wrote (train.train_and_evaluate; this package never imports train.py):

    <workdir>/results.json           name, setup, seed, steps, epochs, teacher_workdir, test
                                     metrics; setup = {scenario, student, teacher} says what
                                     was trained (teacher null: trained alone)
    <workdir>/predictions/<set>.npz  labels, pred, probs, loss, rep (same examples, same order in
                                     every run of a scenario, teachers included)
    <workdir>/probes/step_*.npz      probe-set outputs over training (analysis/trajectories.py)

Runs are found by globbing **/results.json under --runs and grouped by results["name"]; several
seeds of one name give mean ± std over seeds. Scenario, architectures, baselines and labels come
from results["setup"], never from the name. Every number is computed by `inductive_kd.analysis`
(calibration, similarity, agreement, trajectories, plots); this package only gathers files,
calls those functions and writes Markdown. A missing ingredient (no probes, no SVA runs, no
teacher) gives a sentence in the report, not an exception. The paper's numbers live in
`inductive_kd.paper_results`.

Modules: `runs` (finding, loading, grouping and labelling runs), `context` (options and what
the sections share), `render` (Markdown cells and tables), one module per section (`provenance`:
what the report was made from, each setup's schedule (paper / budget / smoke), data, seeds and
machine, and why a ⚠ cell may be off; `claims`: each claim of the paper with a verdict;
`mnist`, `sva`, `comparisons`, `reliability`, `attractors`, `training`, `mds`, `runs_table`),
and `generate` (the whole report and the command line). Smoke runs (under one epoch or a few
hundred steps) are shown without ⚠: their numbers are not comparable to the paper.
"""

from inductive_kd.report.context import Context, ReportOptions, build_context
from inductive_kd.report.generate import generate_report, main, render_report
from inductive_kd.report.render import format_mean_std, mean_std
from inductive_kd.report.runs import (Run, Setup, discover_runs, group_by_name, load_run,
                                      mark_variants, setup_label)

__all__ = ["Context", "ReportOptions", "Run", "Setup", "build_context", "discover_runs",
           "format_mean_std", "generate_report", "group_by_name", "load_run", "main",
           "mark_variants", "mean_std", "render_report", "setup_label"]
