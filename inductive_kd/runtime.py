"""Process-level CPU settings that make the same maths run faster (measured in benchmarks/).

Neither changes a single number the models compute; both only matter on XLA:CPU.
"""
from __future__ import annotations

import ctypes
import hashlib
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


def cpu_flags() -> tuple[str, str]:
  """(model name, sorted feature flags) of the first CPU in /proc/cpuinfo; ('', '') elsewhere."""
  model, flags = "", ""
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      for line in f:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and not model:
          model = value.strip()
        if key.strip() == "flags" and not flags:
          flags = " ".join(sorted(value.split()))
  except OSError:
    pass
  return model, flags


def cpu_flags_sha256(flags: str) -> str:
  """The first 16 hex digits of the SHA-256 of `cpu_flags()`'s flags: machines with the same
  value run the same XLA:CPU kernels."""
  return hashlib.sha256(flags.encode()).hexdigest()[:16]


def machine() -> dict:
  """What ran a result, for results.json (the report's provenance header): the devices, the CPU,
  its widest vector extension and a hash of all its feature flags, its core count and how many of
  them this process may run on (XLA:CPU sizes its thread pool by that, so `taskset -c 0` changes
  the float summation order), jax's version.
  XLA:CPU picks kernels by CPU feature, so the same run on an AVX2 and an AVX-512 machine (both
  'AMD EPYC' here) differs in the last bits and then along the whole trajectory (and MNIST's
  pinned runs by up to 0.03; tests/test_pinned_quick.py): a result says where it came from, and
  two results with the same flags hash, thread count and jax can be compared bit for bit."""
  import jax  # pylint: disable=g-import-not-at-top
  model, flags = cpu_flags()
  present = set(flags.split())
  isa = next((name for flag, name in (("avx512f", "avx512"), ("avx2", "avx2"), ("avx", "avx"),
                                      ("sse4_2", "sse4.2")) if flag in present), "")
  devices = jax.devices()
  return {"devices": f"{len(devices)} x {devices[0].device_kind}",
          "cpu": model or platform.processor() or platform.machine(), "isa": isa,
          "cpu_flags_sha256": cpu_flags_sha256(flags) if flags else "",
          "cores": os.cpu_count(), "usable_cores": usable_cores(), "jax": jax.__version__}


def usable_cores() -> int:
  """The cores this process may run on (its affinity mask: 1 under `taskset -c 0`)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:  # not Linux
    return os.cpu_count() or 1
