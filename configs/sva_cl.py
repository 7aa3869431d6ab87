"""Subject-verb agreement as verb-number classification: the paper's grid, one command per cell.

  python main.py --config=configs/sva_cl.py:student=transformer_seq --workdir=runs/sva_cl_transformer_seq
  python main.py --config=configs/sva_cl.py:student=transformer_seq,teacher=lstm --workdir=runs/sva_cl_lstm_to_transformer_seq

Students {transformer (bidirectional, CLS), transformer_seq (causal), ut_seq (causal, shared),
lstm} x teachers {none, lstm, ut_seq, transformer_seq, transformer}; `size=cpu` and `quick` as in
sva_lm.py.
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("cl", arg)
