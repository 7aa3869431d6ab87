"""Transformer -> Transformer students of seed 0 (the teacher's seed: the same initialisation and
batch order as the teacher) and seed 1, against their teacher, on the first 5,000 test sentences.

    python docs/results/sva_cl/shared_init/compare.py
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.dirname(HERE)
TEACHER = os.path.join(RESULTS, "teachers/xeon/s0/sva_cl_transformer")
STUDENTS = {"seed 0 (teacher's seed)": os.path.join(HERE, "sva_cl_transformer_to_transformer/seed0"),
            "seed 1": os.path.join(RESULTS, "runs/sva_cl_transformer_to_transformer/seed1")}


def load(workdir, split="test"):
  return np.load(os.path.join(workdir, "predictions", f"{split}.npz"))


def main():
  t = load(TEACHER)
  t_err = t["pred"] != t["labels"]
  print("| student | μ-acc | ECE (20 bins) | agreement with teacher | error overlap (Jaccard) | "
        "corr. of P(plural) with teacher's |")
  print("|---|---|---|---|---|---|")
  for name, wd in STUDENTS.items():
    s = load(wd)
    assert (s["labels"] == t["labels"]).all()
    test = json.load(open(os.path.join(wd, "results.json")))["test"]["test"]
    err = s["pred"] != s["labels"]
    jac = (err & t_err).sum() / max(1, (err | t_err).sum())
    corr = np.corrcoef(s["probs"][:, 1].astype(np.float64), t["probs"][:, 1].astype(np.float64))[0, 1]
    print(f"| {name} | {test['mu_accuracy']:.4f} | {test['ece']:.4f} | "
          f"{(s['pred'] == t['pred']).mean():.4f} | {jac:.4f} | {corr:.4f} |")


if __name__ == "__main__":
  main()
