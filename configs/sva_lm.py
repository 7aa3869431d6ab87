"""Subject-verb agreement as language modelling: any (student, teacher) cell is one command.

  python main.py --config=configs/sva_lm.py:student=lstm --workdir=runs/sva_lm_lstm
  python main.py --config=configs/sva_lm.py:student=transformer,teacher=lstm --workdir=runs/sva_lm_lstm_to_transformer
  python main.py --config=configs/sva_lm.py:student=transformer,teacher=lstm,quick --workdir=runs/q/l2t

Students/teachers: lstm, small_lstm, transformer, ut, small_transformer, small_ut (Reflect configs
in inductive_kd.experiments.sva.MODELS). `size=cpu` shrinks the models for CPU-only machines. Data: the
offline corpus unless --config.data.sva_tsv points at Linzen's agr_50_mostcommon_10K.tsv(.gz).
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("lm", arg)
