"""inductive-kd: Transferring Inductive Biases through Knowledge Distillation, in JAX/Flax."""
import os as _os

# TensorFlow is imported only for TensorBoard summaries and TFDS; keep its C++ start-up chatter out
# of the training log.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # TF computes nothing here; silences its banner.
