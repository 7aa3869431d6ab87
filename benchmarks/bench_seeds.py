"""Seeds together: K vmapped seeds in one step (config.num_seeds = K) vs K sequential runs.

Times the trainer's own step (`train.vmap_seeds(train.make_train_step(...))`, jitted and donated
as train.py does) for K = 1 (the plain, un-vmapped step) and each K in --seeds, interleaved round
by round, and prints per-seed examples/s and the speed-up over running the K seeds one after the
other (K x the single-seed time). The KD setups use the cached teacher (its logits for the batch
rows as the step's teacher input), as the eval-mode reproduction does; `--setup` picks the config.

  python benchmarks/bench_seeds.py                       # MLP, K = 2, 4, 8
  python benchmarks/bench_seeds.py --setup=cnn --seeds=2,4 --steps=5
"""
from __future__ import annotations

import common
import mnist_bench


def main() -> None:
  p = common.base_parser(__doc__.splitlines()[0], batch_size=128, steps=100, rounds=5)
  p.add_argument("--setup", default="mlp", choices=("mlp", "cnn", "cnn_to_mlp"),
                 help="Which experiment config's step to time.")
  p.add_argument("--seeds", default="2,4,8", help="Comma-separated K values (besides K = 1).")
  args = p.parse_args()
  common.setup(args)

  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from inductive_kd import config as config_lib  # pylint: disable=g-import-not-at-top
  from inductive_kd import models, optim, train  # pylint: disable=g-import-not-at-top
  from inductive_kd import teacher as teacher_lib  # pylint: disable=g-import-not-at-top

  student, teacher = {"mlp": ("mlp", None), "cnn": ("cnn", None),
                      "cnn_to_mlp": ("mlp", "cnn")}[args.setup]
  config = config_lib.load_config_file(
      str(common.REPO / mnist_bench.CONFIGS[(student, teacher)]))
  model, tx = models.create(**config.model), optim.make_optimizer(config.optim)
  task = mnist_bench.step_task()
  b = args.batch_size
  ks = [1] + [int(k) for k in args.seeds.split(",")]
  rng = np.random.default_rng(0)
  runners = {}
  for k in ks:
    batch = {"inputs": jnp.asarray(rng.integers(0, 256, (b * k, 28, 28), np.uint8)),
             "labels": jnp.asarray(rng.integers(0, 10, b * k).astype(np.int32))}
    teacher_input, teacher_logits = {}, None
    if teacher is not None:  # The cached teacher: its logits for the batch's rows.
      teacher_input = {"logits": jnp.asarray(rng.normal(size=(b * k, 10)).astype(np.float32))}
      teacher_logits = teacher_lib.cached_logits
    sample = task.prepare({n: v[:2] for n, v in batch.items()})[0]
    step = train.make_train_step(model, tx, task, config, teacher_logits)
    if k == 1:
      state, metrics = train.create_train_state(model, tx, sample, 0), train.zero_metrics()
    else:
      step = train.vmap_seeds(step, k, b, teacher_per_example=teacher is not None)
      state = train.create_seed_states(model, tx, sample, list(range(k)))
      metrics = jax.tree.map(lambda v: jnp.zeros((k,), v.dtype), train.zero_metrics())
    step = jax.jit(step, donate_argnums=(0, 3), **common.jit_kwargs(args))
    box = {"state": state, "metrics": metrics}

    def run(step=step, box=box, batch=batch, teacher_input=teacher_input):
      state, metrics = box["state"], box["metrics"]
      for _ in range(args.steps):
        state, metrics = step(state, batch, teacher_input, metrics)
      jax.block_until_ready((state, metrics))
      box["state"], box["metrics"] = state, metrics

    run()  # Compile and warm up.
    runners[f"K={k}"] = run

  times = common.time_interleaved(runners, args.rounds)
  results = {}
  for k in ks:
    r = common.summarize(times[f"K={k}"], args.steps, b * k)
    r["per_seed_examples_per_s"] = r["examples_per_s"] / k
    results[f"K={k}"] = r
  single = results["K=1"]["examples_per_s"]
  speedup = {f"K={k}": results[f"K={k}"]["examples_per_s"] / single for k in ks}
  common.report(f"seeds_{args.setup}", results, args,
                {"speedup_over_sequential": speedup, "setup": args.setup})
  for k in ks:
    r = results[f"K={k}"]
    print(f"  {args.setup} K={k:<2d} {r['examples_per_s']:10.0f} ex/s in all, "
          f"{r['per_seed_examples_per_s']:9.0f} per seed; {speedup[f'K={k}']:5.2f}x the "
          "throughput of K sequential runs")


if __name__ == "__main__":
  main()
