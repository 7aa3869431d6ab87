"""The paper's experiments: each scenario's setups, with their hyperparameters and sources.

`configs/*.py` are the command-line entry points; the numbers live here, one module per scenario,
each value next to the line of PAPER.md / REFLECT.md it comes from:

- `mnist.py`: CNN and MLP on MNIST (PAPER.md "Scenario 1", REFLECT.md §1): baselines/teachers and
  distilled students, with the `quick` (smoke test) and `short` (budget schedule) variants.
- `sva.py`: subject-verb agreement (PAPER.md "Scenario 2", REFLECT.md §2): the classification and
  language-model grids.

Every experiment names its model in `config.arch`; train.py writes the setup (scenario, student,
teacher) into results.json, and the report and run.sh read those fields instead of parsing names.
"""
