"""Process-level CPU settings that make the same maths run faster (measured in benchmarks/).

Neither changes a single number the models compute; both only matter on XLA:CPU.
"""
from __future__ import annotations

import ctypes
import os
import platform

# glibc mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -2, -4, -8


def tune_malloc() -> bool:
  """Makes glibc keep and reuse freed memory instead of returning it to the kernel.

  XLA:CPU allocates each execution's temporary buffer (~300 MB for the CNN step at batch 128)
  with aligned_alloc and frees it afterwards. glibc serves blocks that large with a fresh mmap
  (always, from the per-thread arenas XLA's worker threads use), so every step page-faults and
  zero-fills all of it again: ~100k page faults per CNN step, a third of its CPU time. One arena,
  no mmap and no trimming turn that into plain reuse. Call it before jax starts its threads
  (main.py does, first thing). Returns False where there is no glibc (nothing is changed).
  """
  try:
    libc = ctypes.CDLL("libc.so.6")
  except OSError:
    return False
  ok = [libc.mallopt(_M_ARENA_MAX, 1), libc.mallopt(_M_MMAP_MAX, 0),
        libc.mallopt(_M_TRIM_THRESHOLD, 2 ** 31 - 1), libc.mallopt(_M_TOP_PAD, 0)]
  return all(v == 1 for v in ok)


# XLA:CPU (jaxlib 0.10) sends float32 convolutions to YNNPACK by default (library fusion types
# INDIVIDUAL_DOT, REDUCE and INDIVIDUAL_CONVOLUTION); its Eigen convolutions are faster for the
# paper's CNN (benchmarks/bench_conv.py). A per-jit compiler option, so no XLA_FLAGS are touched.
NO_YNN_CONV = {"xla_cpu_experimental_ynn_fusion_type":
               "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"}


def step_jit_kwargs() -> dict:
  """Extra jax.jit arguments for the train/eval steps on this backend ({} off CPU)."""
  import jax  # Here, not at the top: tune_malloc must be importable before jax is.
  return {"compiler_options": dict(NO_YNN_CONV)} if jax.default_backend() == "cpu" else {}


def machine() -> dict:
  """What ran a result, for results.json (the report's provenance header): the devices, the CPU
  and its core count, jax's version. Numbers differ across CPUs in the last bits (and MNIST's
  pinned runs by up to 0.03; tests/test_pinned_quick.py), so a result says where it came from."""
  import jax  # pylint: disable=g-import-not-at-top
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                 cpu)
  except OSError:
    pass
  devices = jax.devices()
  return {"devices": f"{len(devices)} x {devices[0].device_kind}", "cpu": cpu,
          "cores": os.cpu_count(), "jax": jax.__version__}
