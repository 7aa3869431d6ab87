"""Train-step throughput of the SVA Transformers (cl_gpt2 / small_gpt_v9, cl_gpt2_shared /
small_ugpt_v9, lm_gpt2 / very_big_gpt_v10): a jitted JAX step vs PyTorch.

  python benchmarks/bench_sva_transformer.py
  python benchmarks/bench_sva_transformer.py --threads=1 --models=cl_gpt2,lm_gpt2

JAX: inductive_kd.models.transformer in the step of sva_bench.py (Adam, cross-entropy via
losses.distillation_loss; KD = soft targets of a same-config teacher in training mode).
PyTorch: torch_models.GPT2 (same blocks, dropout sites, masks, tied LM head), eager.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position
import sva_bench  # pylint: disable=g-import-not-at-top,wrong-import-position

# name -> (Reflect model, config, is LM, torch kwargs)
MODELS = {
    "cl_gpt2": ("cl_gpt2", "small_gpt_v9", False, dict(d_model=128)),
    "cl_gpt2_shared": ("cl_gpt2_shared", "small_ugpt_v9", False, dict(d_model=256, shared=True)),
    "lm_gpt2": ("lm_gpt2", "very_big_gpt_v10", True, dict(d_model=512, lm=True)),
}


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=64, steps=1, rounds=3)
  p.add_argument("--length", type=int, default=32, help="Padded sequence length.")
  p.add_argument("--models", default="cl_gpt2,cl_gpt2_shared,lm_gpt2")
  p.add_argument("--kd", default="cl_gpt2", help="Models to also time with a KD step ('' none).")
  args = p.parse_args()
  common.setup(args)
  from inductive_kd.models import transformer  # pylint: disable=g-import-not-at-top

  def jax_model(name):
    reflect, cfg, _, _ = MODELS[name]
    return transformer.build(reflect, cfg, sva_bench.VOCAB)

  def torch_model(name):
    import torch_models  # pylint: disable=g-import-not-at-top
    return torch_models.GPT2(sva_bench.VOCAB, **MODELS[name][3])

  entries = {}
  names = [m for m in args.models.split(",") if m]
  bad = sorted(set(names) - set(MODELS))
  if bad:
    raise SystemExit(f"--models: unknown {bad}; choose from {sorted(MODELS)}.")
  for name in names:
    is_lm = MODELS[name][2]
    entries[f"{name} plain"] = (
        lambda name=name, is_lm=is_lm: sva_bench.jax_runner(args, jax_model(name), is_lm),
        lambda name=name, is_lm=is_lm: sva_bench.torch_runner(args, torch_model(name), is_lm),
        True)
    if name in args.kd.split(","):
      entries[f"{name} kd({name}->{name})"] = (
          lambda name=name, is_lm=is_lm: sva_bench.jax_runner(
              args, jax_model(name), is_lm, teacher=jax_model(name)),
          lambda name=name, is_lm=is_lm: sva_bench.torch_runner(
              args, torch_model(name), is_lm, teacher=torch_model(name)), True)
  sva_bench.run_benchmark("sva_transformer", args, entries)


if __name__ == "__main__":
  main()
