"""Subject-verb agreement, the ut language model trained alone (see configs/sva_lm.py).

  python main.py --config=configs/sva_lm_ut.py --workdir=runs/sva_lm_ut
  python main.py --config=configs/sva_lm_ut.py:quick --workdir=runs/quick/sva_lm_ut
"""
from inductive_kd.experiments import sva


def get_config(arg=None):
  return sva.experiment("lm", arg, student="ut")
