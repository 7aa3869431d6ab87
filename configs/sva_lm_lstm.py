"""Subject-verb agreement, the lstm language model trained alone (see configs/sva_lm.py).

  python main.py --config=configs/sva_lm_lstm.py --workdir=runs/sva_lm_lstm
  python main.py --config=configs/sva_lm_lstm.py:quick --workdir=runs/quick/sva_lm_lstm
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("lm", arg, student="lstm")
