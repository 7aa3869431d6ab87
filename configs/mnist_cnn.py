"""MNIST, the paper's CNN trained alone on cross-entropy (the baseline, and the teacher of the
distillation runs).

  python main.py --config=configs/mnist_cnn.py --workdir=runs/mnist_cnn
  python main.py --config=configs/mnist_cnn.py:quick --workdir=runs/mnist_cnn_quick   # smoke test
"""
from inductive_kd.experiments import mnist


def get_config(arg=None):
  return mnist.baseline("cnn", arg)
