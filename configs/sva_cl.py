"""Subject-verb agreement as verb-number classification: the paper's grid, one command per cell.

  python main.py --config=configs/sva_cl.py:student=transformer_seq --workdir=runs/sva_cl_transformer_seq
  python main.py --config=configs/sva_cl.py:student=transformer_seq,teacher=lstm --workdir=runs/sva_cl_lstm_to_transformer_seq

Students {transformer (bidirectional, CLS), transformer_seq (causal), ut_seq (causal, shared),
lstm} x teachers {none, lstm, ut_seq, transformer_seq, transformer}; `size=cpu` and `quick` as in
sva_lm.py.

`data=numpred` trains on Linzen's real text instead of the offline corpus (or data.sva_tsv):
numpred.val less a 10% 'valid' slice, tested on numpred_test_1..5 and gulordava, read from
../shared/data/sva (--config.data.real_dir=DIR elsewhere); the runs are named sva_cl_numpred_*:

  python main.py --config=configs/sva_cl.py:student=lstm,data=numpred --workdir=runs/numpred_lstm
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("cl", arg)
