"""inductive-kd: Transferring Inductive Biases through Knowledge Distillation, in JAX/Flax."""
from setuptools import find_packages, setup

setup(
    name="inductive-kd",
    version="0.1.0",
    description=(
        "Reproduction of Abnar, Dehghani & Zuidema, 'Transferring Inductive Biases through "
        "Knowledge Distillation' (arXiv 2006.00555) in JAX/Flax."
    ),
    packages=find_packages(include=["inductive_kd", "inductive_kd.*"]),
    python_requires=">=3.10",
    install_requires=[
        "jax>=0.4.35",
        "flax>=0.10",
        "optax>=0.2.4",
        "clu>=0.0.12",
        "orbax-checkpoint>=0.11",
        "ml-collections>=1.0",
        "absl-py",
        "numpy",
        "scipy",
        "matplotlib",
        "tensorflow-datasets",
        # CLU's TensorBoard writer and TFDS both import TensorFlow; the CPU-only wheel is
        # the smallest that provides it. JAX does all the compute.
        "tensorflow-cpu",
        "tensorboard",
    ],
    extras_require={
        # scikit-image: the tests check our MNIST-C warps and edges against it; nothing else uses it.
        "test": ["pytest>=7", "scikit-image>=0.22"],
        "bench": ["torch==2.13.0"],
    },
)
