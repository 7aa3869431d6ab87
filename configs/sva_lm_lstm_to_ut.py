"""Subject-verb agreement, lstm teacher -> ut student language model (see configs/sva_lm.py).

  python main.py --config=configs/sva_lm_lstm_to_ut.py --workdir=runs/sva_lm_lstm_to_ut
  python main.py --config=configs/sva_lm_lstm_to_ut.py:quick --workdir=runs/quick/sva_lm_lstm_to_ut
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("lm", arg, student="ut", teacher="lstm")
