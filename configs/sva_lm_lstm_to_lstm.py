"""Subject-verb agreement, lstm teacher -> lstm student language model (see configs/sva_lm.py).

  python main.py --config=configs/sva_lm_lstm_to_lstm.py --workdir=runs/sva_lm_lstm_to_lstm
  python main.py --config=configs/sva_lm_lstm_to_lstm.py:quick --workdir=runs/quick/sva_lm_lstm_to_lstm
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("lm", arg, student="lstm", teacher="lstm")
