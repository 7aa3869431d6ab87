"""Subject-verb agreement, transformer teacher -> transformer student language model (see configs/sva_lm.py).

  python main.py --config=configs/sva_lm_transformer_to_transformer.py --workdir=runs/sva_lm_transformer_to_transformer
  python main.py --config=configs/sva_lm_transformer_to_transformer.py:quick --workdir=runs/quick/sva_lm_transformer_to_transformer
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("lm", arg, student="transformer", teacher="transformer")
