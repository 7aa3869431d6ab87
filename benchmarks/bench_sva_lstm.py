"""Train-step throughput of the SVA LSTMs, the trainer's own step vs PyTorch: the classifier
(configs/sva_cl.py:student=lstm, cl_lstm / small_lstm_v4) and the language model
(configs/sva_lm.py:student=lstm, lm_lstm_shared_emb / lstm_drop31_v2, tied softmax over the
vocabulary at every position).

  python benchmarks/bench_sva_lstm.py --threads=1                # size=cpu (the default)
  python benchmarks/bench_sva_lstm.py --threads=1 --size=paper   # the paper's 256-d / 512-d
  python benchmarks/bench_sva_lstm.py --threads=1 --setups=cl_lstm --fused_lstm

JAX: train.make_train_step from the config file (sva_bench.py). PyTorch twins:
- torch_models.KerasLSTMLayer: the same maths (per-sequence input and recurrent dropout masks,
  Keras masking), an eager time loop;
- with --fused_lstm also torch's fused oneDNN nn.LSTM, which has no recurrent dropout and no
  masking: NOT the same model, a lower bound on what PyTorch could do, for context only.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import sva_bench  # pylint: disable=g-import-not-at-top,wrong-import-position

# Steps per timed round when --steps is 0: about a second of work per round on one core.
AUTO_STEPS = {"cpu": {"cl_lstm": 4, "lm_lstm": 2}, "paper": {"cl_lstm": 2, "lm_lstm": 1}}


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=64, steps=0, rounds=3)
  sva_bench.add_flags(p, "cl_lstm,lm_lstm")
  args = p.parse_args()
  common.setup(args)
  steps = {s: args.steps or AUTO_STEPS[args.size].get(s, 1) for s in sva_bench.SETUPS}
  sva_bench.run_benchmark(f"sva_lstm_{args.size}", args, steps)


if __name__ == "__main__":
  main()
