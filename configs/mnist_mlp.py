"""MNIST, the paper's MLP trained alone on cross-entropy (the baseline, and the teacher of the
distillation runs).

  python main.py --config=configs/mnist_mlp.py --workdir=runs/mnist_mlp
  python main.py --config=configs/mnist_mlp.py:quick --workdir=runs/mnist_mlp_quick   # smoke test
"""
from inductive_kd.experiments import mnist


def get_config(arg=None):
  return mnist.baseline("mlp", arg)
