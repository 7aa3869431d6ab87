"""MNIST, MLP teacher -> CNN student by knowledge distillation (PAPER.md "Scenario 1").

  python main.py --config=configs/mnist_mlp_to_cnn.py --workdir=runs/mlp_to_cnn
  python main.py --config=configs/mnist_mlp_to_cnn.py:quick --workdir=runs/mlp_to_cnn_quick

The teacher is read from (or first trained into) runs/mnist_mlp (runs/mnist_mlp_quick for :quick).
Hyperparameters and teacher mode: see inductive_kd.experiments.mnist.distill.
"""
from inductive_kd.experiments import mnist


def get_config(arg=None):
  return mnist.distill("mlp", "cnn", arg)
