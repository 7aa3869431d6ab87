"""Pure analyses of model outputs and representations (PAPER.md "Analyses").

calibration (ECE, reliability diagrams), similarity (Reflect's RSA-style measure, linear CKA,
classical RSA), agreement (per-example agreement, error overlap, KL), trajectories (pairwise
output distances, MDS, probe-output files). Plotting lives in `inductive_kd.analysis.plots`,
imported separately so that the analyses do not pull in matplotlib.
"""

from inductive_kd.analysis.agreement import confusion_between
from inductive_kd.analysis.agreement import error_overlap
from inductive_kd.analysis.agreement import kl_divergence
from inductive_kd.analysis.agreement import prediction_agreement
from inductive_kd.analysis.calibration import binary_choice_probs
from inductive_kd.analysis.calibration import expected_calibration_error
from inductive_kd.analysis.calibration import reliability_diagram
from inductive_kd.analysis.similarity import linear_cka
from inductive_kd.analysis.similarity import rsa
from inductive_kd.analysis.similarity import rsa_reflect
from inductive_kd.analysis.trajectories import classical_mds
from inductive_kd.analysis.trajectories import load_probe_outputs
from inductive_kd.analysis.trajectories import pairwise_distances
from inductive_kd.analysis.trajectories import probe_dir
from inductive_kd.analysis.trajectories import save_probe_outputs
from inductive_kd.analysis.trajectories import sklearn_mds
