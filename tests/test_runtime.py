"""runtime: machine() says which CPU, vector extension and thread budget produced a result."""
import hashlib
import os

import jax
import pytest

from inductive_kd import runtime


def test_machine_names_the_cpu_features_and_usable_cores():
  m = runtime.machine()
  model, flags = runtime.cpu_flags()
  assert m["jax"] == jax.__version__ and m["cores"] == os.cpu_count()
  assert 1 <= m["usable_cores"] <= m["cores"]
  if not flags:
    pytest.skip("no /proc/cpuinfo flags on this machine")
  assert m["cpu"] == model
  assert m["cpu_flags_sha256"] == hashlib.sha256(flags.encode()).hexdigest()[:16]
  present = set(flags.split())
  assert m["isa"] == ("avx512" if "avx512f" in present else "avx2" if "avx2" in present else
                      "avx" if "avx" in present else "sse4.2" if "sse4_2" in present else "")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux affinity")
def test_usable_cores_follows_the_affinity_mask():
  before = os.sched_getaffinity(0)
  try:
    os.sched_setaffinity(0, {min(before)})
    assert runtime.usable_cores() == 1
  finally:
    os.sched_setaffinity(0, before)
  assert runtime.usable_cores() == len(before)
