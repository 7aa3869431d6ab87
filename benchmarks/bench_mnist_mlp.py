"""Train-step throughput of the paper's MNIST MLP (ff_mnist4): the project's step vs PyTorch.

  python benchmarks/bench_mnist_mlp.py                 # plain, KD(mlp->mlp), KD(cnn->mlp), cached
  python benchmarks/bench_mnist_mlp.py --threads=1

Plain: configs/mnist_mlp.py (RAdam, L1 = L2 = 1e-5 on kernels). KD: configs/mnist_mlp_to_mlp.py
and configs/mnist_cnn_to_mlp.py (Adam, T=5, teacher in 'train' mode); the CNN teacher's forward
pass (~94 MFLOP per example) is most of the cnn->mlp step. `cached`: the CNN->MLP step with the
teacher-logit cache (config.distill.cache_teacher), whose logits ride in the batch. See
mnist_bench.py.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import mnist_bench  # pylint: disable=g-import-not-at-top,wrong-import-position


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=128, steps=40, rounds=5)
  p.add_argument("--setups", default="plain,mlp,cnn,cached",
                 help="Comma-separated: plain, mlp (KD mlp->mlp), cnn (KD cnn->mlp), cached "
                      "(KD cnn->mlp from cached teacher logits).")
  args = p.parse_args()
  common.setup(args)
  names = [s for s in args.setups.split(",") if s]
  bad = sorted(set(names) - {"plain", "mlp", "cnn", "cached"})
  if bad:
    raise SystemExit(f"--setups: unknown {bad}; choose from plain, mlp, cnn, cached.")
  setups = [("mlp", None if s == "plain" else s) for s in names]
  # A CNN teacher makes the step ~50x dearer: fewer steps per round keep rounds comparable.
  steps = {("mlp", "cnn"): max(1, args.steps // 20)}
  mnist_bench.run_benchmark("mnist_mlp", args, setups, steps=steps)


if __name__ == "__main__":
  main()
