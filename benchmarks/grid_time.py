"""How long the paper's MNIST grid takes on this machine: each setup's train step timed on a slice,
extrapolated to the full schedule.

For the six setups of run.sh (CNN, MLP, CNN->MLP, MLP->CNN, CNN->CNN, MLP->MLP) and the cached
CNN->MLP variant, times the trainer's own jitted step built from the experiment config (its
optimiser, loss and teacher mode; `mnist_bench.jax_runners`) and one evaluation pass (MNIST test +
the configured shifted sets, batch 1000, as train.py evaluates every epoch), then extrapolates:

  run time = steps x step time + epochs x eval time   (400 epochs x 468 steps at batch 128)

and sums the grid over --seeds. Teacher training is the CNN/MLP baseline of the same seed (run.sh
order), so it is not counted twice.

  python benchmarks/grid_time.py                  # ~3 minutes on 2 idle cores
  python benchmarks/grid_time.py --seeds=4 --epochs=400
"""
from __future__ import annotations

import common
import mnist_bench

SETUPS = [("cnn", None), ("mlp", None), ("mlp", "cnn"), ("cnn", "mlp"), ("cnn", "cnn"),
          ("mlp", "mlp"), ("mlp", "cached")]


def _key(setup) -> str:
  return f"{setup[0]} {mnist_bench.label(*setup)}"


def _duration(seconds: float) -> str:
  h, m = divmod(int(round(seconds / 60)), 60)
  return f"{h} h {m:02d} min" if h else f"{m} min"


def main() -> None:
  p = common.base_parser(__doc__.splitlines()[0], batch_size=128, steps=3, rounds=3)
  p.add_argument("--epochs", type=int, default=400)
  p.add_argument("--seeds", type=int, default=4)
  p.add_argument("--train_examples", type=int, default=60000)
  args = p.parse_args()
  common.setup(args)

  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top
  from inductive_kd import models, runtime  # pylint: disable=g-import-not-at-top

  # MLP steps are ~60x cheaper than CNN steps: more of them per round keeps rounds comparable.
  steps = {s: args.steps * (60 if "cnn" not in s else 1) for s in SETUPS}
  steps[("mlp", "cached")] = args.steps * 60
  runners = {}  # One jax_runners call per setup: its keys do not name the student.
  for s in SETUPS:
    runners[s] = next(iter(mnist_bench.jax_runners(args, [s], steps).values()))

  # One evaluation pass per model: forward passes over every test set, batch 1000.
  eval_batch = 1000
  x = jnp.asarray(np.random.default_rng(0).integers(0, 256, (eval_batch, 28, 28), np.uint8))
  eval_runs, eval_batches = {}, {}
  for name in ("cnn", "mlp"):
    c = config_lib.load_config_file(str(common.REPO / f"configs/mnist_{name}.py"))
    model = models.create(**c.model)
    inputs = mnist_bench.step_task().prepare({"inputs": x,
                                              "labels": jnp.zeros(eval_batch, jnp.int32)})[0]
    variables = jax.jit(lambda: model.init(jax.random.PRNGKey(0), inputs, train=False))()
    fwd = jax.jit(lambda v, i, model=model: model.apply(v, i, train=False),
                  **runtime.step_jit_kwargs())
    sets = 1 + len([s for s in c.eval.shifted.split(",") if s])
    n_batches = eval_batches[name] = sets * 10000 // eval_batch

    def run(fwd=fwd, variables=variables, inputs=inputs, n=n_batches):
      for _ in range(n):
        out = fwd(variables, inputs)
      jax.block_until_ready(out)

    run()
    eval_runs[f"eval {name}"] = run
  times = common.time_interleaved({**{_key(s): runners[s] for s in SETUPS}, **eval_runs},
                                  args.rounds)

  steps_per_epoch = args.train_examples // args.batch_size
  total_steps = steps_per_epoch * args.epochs
  eval_s = {name: common.median(times[f"eval {name}"]) for name in ("cnn", "mlp")}
  rows, grid = [], 0.0
  print(f"\n== MNIST grid, {args.epochs} epochs x {steps_per_epoch} steps, batch "
        f"{args.batch_size}, {args.threads} thread(s), load average {common.load():.2f}")
  for s in SETUPS:
    step_s = common.median(times[_key(s)]) / steps[s]
    run_s = total_steps * step_s + args.epochs * eval_s[s[0]]
    if s[1] == "cached":  # One teacher (CNN) forward pass over the training set, once.
      run_s += args.train_examples / eval_batch * eval_s["cnn"] / eval_batches["cnn"]
    else:
      grid += run_s * args.seeds
    rows.append({"setup": mnist_bench.label(*s), "student": s[0], "step_ms": step_s * 1e3,
                 "steps_per_s": 1 / step_s, "run_s": run_s})
    print(f"  {s[0]} {mnist_bench.label(*s):22s} {1 / step_s:8.1f} steps/s  one run "
          f"{_duration(run_s):>12s}")
  print(f"  eval pass (every epoch): CNN {eval_s['cnn']:.2f} s, MLP {eval_s['mlp']:.2f} s")
  print(f"  whole grid (6 setups x {args.seeds} seeds, teacher modes as configured): "
        f"{_duration(grid)} = {grid / 86400:.1f} days")
  common.report("mnist_grid_time", {r["setup"] + " " + r["student"]: {
      "examples_per_s": r["steps_per_s"] * args.batch_size, "step_ms": r["step_ms"]}
      for r in rows}, args, {"rows": rows, "grid_s": grid, "eval_s": eval_s,
                             "epochs": args.epochs, "seeds": args.seeds})


if __name__ == "__main__":
  main()
