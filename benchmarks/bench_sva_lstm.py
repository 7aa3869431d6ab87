"""Train-step throughput of the SVA LSTMs (cl_lstm / small_lstm_v4, lm_lstm_shared_emb /
lstm_drop31_v2): a jitted JAX step vs PyTorch.

  python benchmarks/bench_sva_lstm.py
  python benchmarks/bench_sva_lstm.py --threads=1 --unroll=4

JAX: inductive_kd.models.lstm (Keras-faithful: per-sequence input and recurrent dropout masks,
masking) in the step of sva_bench.py (Adam, cross-entropy via losses.distillation_loss; KD =
soft targets of a same-size LSTM teacher in training mode). PyTorch twins:
- 'keras loop': torch_models.KerasLSTMLayer, the same maths, eager time loop;
- 'nn.LSTM': torch's fused oneDNN LSTM, which has no recurrent dropout and no masking, so it is
  NOT the same model: a lower bound on what PyTorch could do, shown for context only.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import sva_bench  # pylint: disable=g-import-not-at-top,wrong-import-position


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=64, steps=3, rounds=4)
  p.add_argument("--length", type=int, default=32, help="Padded sequence length.")
  p.add_argument("--unroll", type=int, default=1, help="KerasLSTM scan unroll (speed only).")
  p.add_argument("--no_kd", action="store_true")
  args = p.parse_args()
  common.setup(args)
  from inductive_kd.models import lstm  # pylint: disable=g-import-not-at-top

  v = sva_bench.VOCAB
  cl = lambda: lstm.build("cl_lstm", "small_lstm_v4", v, unroll=args.unroll)
  lm = lambda: lstm.build("lm_lstm_shared_emb", "lstm_drop31_v2", v, unroll=args.unroll)

  def torch_cl(fused=False):
    import torch_models  # pylint: disable=g-import-not-at-top
    return torch_models.LSTMClassifier(v, fused=fused)

  def torch_lm(fused=False):
    import torch_models  # pylint: disable=g-import-not-at-top
    return torch_models.LSTMLM(v, fused=fused)

  entries = {
      "cl_lstm plain": (lambda: sva_bench.jax_runner(args, cl(), False),
                        lambda: sva_bench.torch_runner(args, torch_cl(), False), True),
      "cl_lstm plain vs nn.LSTM": (lambda: sva_bench.jax_runner(args, cl(), False),
                                   lambda: sva_bench.torch_runner(args, torch_cl(True), False),
                                   False),
      "lm_lstm plain": (lambda: sva_bench.jax_runner(args, lm(), True),
                        lambda: sva_bench.torch_runner(args, torch_lm(), True), True),
  }
  if not args.no_kd:
    entries["cl_lstm kd(lstm->lstm)"] = (
        lambda: sva_bench.jax_runner(args, cl(), False, teacher=cl()),
        lambda: sva_bench.torch_runner(args, torch_cl(), False, teacher=torch_cl()), True)
  sva_bench.run_benchmark("sva_lstm", args, entries)


if __name__ == "__main__":
  main()
