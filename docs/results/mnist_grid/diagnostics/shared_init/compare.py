"""Does an MLP->MLP student of its teacher's seed (same initialisation, same batch order) differ
from one with its own seed? Prints the table in ../../README.md ("Self-distillation and the seed").

  python docs/results/mnist_grid/diagnostics/shared_init/compare.py R

R holds mnist_mlp/seed{0..3} (the teachers), mnist_mlp_to_mlp_off0/seed{S} (student seed S of
teacher S) and mnist_mlp_to_mlp_off10/seed{S+10} (student seed S+10 of teacher S).
"""
import json
import sys

import numpy as np

from inductive_kd.analysis import agreement, similarity

SETS = ("mnist", "scale", "translate")


def _summary(pairs, set_name):
  acc, agree, cka = [], [], []
  for student, teacher in pairs:
    s, t = (np.load(f"{d}/predictions/{set_name}.npz") for d in (student, teacher))
    with open(f"{student}/results.json") as f:
      acc.append(json.load(f)["test"][set_name]["accuracy"])
    agree.append(agreement.prediction_agreement(s["pred"], t["pred"]))
    cka.append(similarity.linear_cka(s["rep"].astype(np.float32), t["rep"].astype(np.float32)))
  return [f"{np.mean(v):.4f} ± {np.std(v, ddof=1):.4f}" for v in (acc, agree, cka)]


def main(root):
  teacher = lambda s: f"{root}/mnist_mlp/seed{s}"
  rows = {
      "MLP→MLP, student seed = teacher seed": [
          (f"{root}/mnist_mlp_to_mlp_off0/seed{s}", teacher(s)) for s in range(4)],
      "MLP→MLP, student seed = teacher seed + 10": [
          (f"{root}/mnist_mlp_to_mlp_off10/seed{s + 10}", teacher(s)) for s in range(4)],
      "MLP (no KD) of seed S + 1 vs the MLP of seed S": [
          (teacher((s + 1) % 4), teacher(s)) for s in range(4)],
  }
  print("| model vs teacher | set | test accuracy | agreement with the teacher | linear CKA |")
  print("|---|---|---|---|---|")
  for name, pairs in rows.items():
    for set_name in SETS:
      print(f"| {name} | {set_name} | " + " | ".join(_summary(pairs, set_name)) + " |")


if __name__ == "__main__":
  main(sys.argv[1])
