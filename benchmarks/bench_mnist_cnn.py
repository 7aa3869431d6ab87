"""Train-step throughput of the paper's MNIST CNN (vcnn_mnist7): the project's step vs PyTorch.

  python benchmarks/bench_mnist_cnn.py                     # plain + KD(cnn->cnn), JAX vs PyTorch
  python benchmarks/bench_mnist_cnn.py --threads=1         # robust when the machine is busy
  python benchmarks/bench_mnist_cnn.py --ynn_conv=default  # YNNPACK convs (the trainer uses Eigen)
  python benchmarks/bench_mnist_cnn.py --conv_impl=xla --dropout_impl=flax   # the old model

Plain: configs/mnist_cnn.py (RAdam, L2 2e-9 on kernels). KD: configs/mnist_cnn_to_cnn.py (Adam,
T=5, pure soft targets, teacher CNN in 'train' mode = one more forward pass with dropout and batch
statistics). See mnist_bench.py for what exactly runs on each side.

Besides examples/s and the JAX/PyTorch ratio it reports the step's GFLOP/s (conv + dense
multiply-adds, `cnn_train_flops`) as a fraction of the same run's 2048^2 matmul throughput.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import mnist_bench  # pylint: disable=g-import-not-at-top,wrong-import-position


def cnn_train_flops(filters=(128, 64, 64), maxout=(128, 64, 16), pools=(1, 2, 2), size=28,
                    k=3, num_classes=10) -> tuple[int, int]:
  """(forward, forward+backward) FLOPs (2 per multiply-add) per example, convs + head.

  Backward = gradient wrt the weights of every layer + wrt the inputs of all but the first (the
  images need none). BN, ReLU, pooling, dropout and the optimiser are not counted.
  """
  fwd = train = 0
  cin, hw = 1, size
  for i, (f, m, p) in enumerate(zip(filters, maxout, pools)):
    hw -= k - 1
    conv = 2 * hw * hw * f * k * k * cin
    fwd += conv
    train += conv * (2 if i == 0 else 3)
    cin, hw = m, hw // p
  head = 2 * cin * num_classes
  return fwd + head, train + 3 * head


def flops_per_example(student, teacher):
  fwd, train = cnn_train_flops()
  assert student == "cnn"
  return train + (fwd if teacher == "cnn" else 0)


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=128, steps=2, rounds=5)
  p.add_argument("--conv_impl", default="", help="VanillaCNN.conv_impl (default: the model's).")
  p.add_argument("--dropout_impl", default="",
                 help="VanillaCNN.dropout_impl (default: the model's).")
  p.add_argument("--no_kd", action="store_true", help="Skip the distillation step.")
  args = p.parse_args()
  common.setup(args)
  overrides = {k: v for k, v in (("conv_impl", args.conv_impl),
                                 ("dropout_impl", args.dropout_impl)) if v}
  setups = [("cnn", None)] + ([] if args.no_kd else [("cnn", "cnn")])
  mnist_bench.run_benchmark("mnist_cnn", args, setups, flops_per_example,
                            model_overrides={"cnn": overrides})


if __name__ == "__main__":
  main()
