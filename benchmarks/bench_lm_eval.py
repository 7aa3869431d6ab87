"""The agreement LM's evaluation step: token logits at every position vs at the target positions
only (train.make_eval_step's packed_rows), on the offline corpus's test sentences.

  XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \\
    python benchmarks/bench_lm_eval.py [--limit=1000] [--rounds=2]

Prints wall and process CPU seconds per pass over the sentences (after a warm-up pass), and
checks that both give the same outputs.
"""
from __future__ import annotations

import argparse
import statistics
import time

import jax
import numpy as np

from inductive_kd import config as config_lib, evaluate, models, parallel, runtime, tasks, train


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--limit", type=int, default=1000, help="test sentences")
  p.add_argument("--rounds", type=int, default=2)
  p.add_argument("--students", default="lstm,transformer")
  args = p.parse_args()
  runtime.tune_malloc()
  for student in args.students.split(","):
    c = config_lib.load_config_file(f"configs/sva_lm.py:student={student},size=cpu,short")
    c.eval.limit = args.limit
    task = tasks.create(c)
    model = models.create(**c.model, **task.model_kwargs)
    arrays, bs = task.eval_sets["test"], c.eval.batch_size
    rows = evaluate.packed_eval_rows(task, [arrays], bs, train.rows_for)
    sample = task.prepare(evaluate.local_batch(task.train, np.arange(2)))[0]
    variables = model.init(jax.random.PRNGKey(3), sample, train=False)
    mesh = parallel.make_mesh()
    steps = {r: jax.jit(train.make_eval_step(model, task, r), **runtime.step_jit_kwargs())
             for r in (0, rows)}
    outs = {r: evaluate.run_eval(s, variables, arrays, mesh, bs) for r, s in steps.items()}
    np.testing.assert_allclose(outs[rows]["nll_sum"], outs[0]["nll_sum"], rtol=1e-4)
    times = {r: [] for r in steps}
    for _ in range(args.rounds):  # Interleaved rounds.
      for r, s in steps.items():
        t0, c0 = time.time(), time.process_time()
        evaluate.run_eval(s, variables, arrays, mesh, bs)
        times[r].append((time.time() - t0, time.process_time() - c0))
    med = {r: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for r, v in times.items()}
    positions = min(bs, len(arrays["targets"])) * arrays["targets"].shape[1]
    print(f"{student}: eval batch {bs}, {rows} packed rows of {positions} positions; "
          f"every position {med[0][0]:.2f} s wall / {med[0][1]:.2f} CPU s, packed "
          f"{med[rows][0]:.2f} / {med[rows][1]:.2f}: {med[0][1] / med[rows][1]:.2f}x (CPU)")


if __name__ == "__main__":
  main()
