"""MNIST, CNN teacher -> MLP student by knowledge distillation (PAPER.md "Scenario 1").

  python main.py --config=configs/mnist_cnn_to_mlp.py --workdir=runs/cnn_to_mlp
  python main.py --config=configs/mnist_cnn_to_mlp.py:quick --workdir=runs/cnn_to_mlp_quick

The teacher is read from (or first trained into) runs/mnist_cnn (runs/mnist_cnn_quick for :quick).
Hyperparameters and teacher mode: see inductive_kd.experiments.mnist.distill.
"""
from inductive_kd.experiments import mnist


def get_config(arg=None):
  return mnist.distill("cnn", "mlp", arg)
