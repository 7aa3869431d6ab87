"""MNIST, the paper's MLP trained alone on cross-entropy (the baseline, and the teacher of the
distillation runs).

  python main.py --config=configs/mnist_mlp.py --workdir=runs/mnist_mlp
  python main.py --config=configs/mnist_mlp.py:quick --workdir=runs/mnist_mlp_quick   # smoke test
"""
from inductive_kd import config as config_lib


def get_config(arg=None):
  return config_lib.mnist_baseline("mlp", arg)
