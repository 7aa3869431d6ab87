"""Train-step throughput of the SVA Transformers, the trainer's own step vs PyTorch: the
classifiers transformer_seq (cl_gpt2), ut_seq (cl_gpt2_shared), transformer (cl_bert,
bidirectional with a CLS token) and LSTM -> transformer_seq distillation (configs/sva_cl.py); the
language model transformer (lm_gpt2) and LSTM -> transformer distillation (configs/sva_lm.py).

  python benchmarks/bench_sva_transformer.py --threads=1                 # size=cpu, every setup
  python benchmarks/bench_sva_transformer.py --threads=1 --size=paper --setups=cl_transformer_seq

JAX: train.make_train_step from the config file (sva_bench.py): KD students get soft targets
from an LSTM teacher in the config's teacher mode ('train': dropout on), run inside the step.
PyTorch: torch_models.GPT2 twins (same blocks, dropout sites, masks, tied LM head) and the
LSTM twin as teacher, eager.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import sva_bench  # pylint: disable=g-import-not-at-top,wrong-import-position

DEFAULT = ("cl_transformer_seq,cl_ut_seq,cl_transformer,cl_lstm_to_transformer_seq,"
           "lm_transformer,lm_lstm_to_transformer")
# Steps per timed round when --steps is 0: about a second of work per round on one core.
AUTO_STEPS = {"cpu": {"cl_transformer_seq": 4, "cl_ut_seq": 4, "cl_transformer": 4,
                      "cl_lstm_to_transformer_seq": 3, "lm_transformer": 2,
                      "lm_lstm_to_transformer": 1},
              "paper": {}}


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=64, steps=0, rounds=3)
  sva_bench.add_flags(p, DEFAULT)
  args = p.parse_args()
  common.setup(args)
  steps = {s: args.steps or AUTO_STEPS[args.size].get(s, 1) for s in sva_bench.SETUPS}
  sva_bench.run_benchmark(f"sva_transformer_{args.size}", args, steps)


if __name__ == "__main__":
  main()
