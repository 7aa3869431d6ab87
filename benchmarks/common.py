"""Shared timing helpers of the benchmarks: thread pinning, interleaved medians, roofline, output.

The benchmark machine is shared (load average > cores happens), so every script
- pins itself and both frameworks to the same `--threads` cores (CPU affinity, which XLA's and
  PyTorch's thread pools both size themselves from, plus torch.set_num_threads);
- times JAX and PyTorch *interleaved*, round after round in one process, and reports the median
  of the rounds, so a burst of foreign load hits both sides instead of biasing the ratio;
- prints the load average next to every result.

Import this module before jax or torch (it sets the CPU affinity and XLA_FLAGS they read at start).
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
  sys.path.insert(0, str(REPO))

JSON_PREFIX = "BENCH_JSON "

# XLA:CPU sends dots and convolutions through its own emitters or YNNPACK by default; its
# oneDNN matmul/convolution rewriter is opt-in. bench_conv.py measures both; see README.md.
XLA_FLAG_PRESETS = {
    "default": "",
    "onednn": "--xla_cpu_experimental_onednn_custom_call=true",
}


# The trainer's own process settings (main.py and train.py use them the same way).
from inductive_kd.runtime import NO_YNN_CONV, tune_malloc  # noqa: E402  (jax not started yet)


def no_heap_trim() -> bool:
  """glibc never gives the top of the heap back to the kernel (M_TRIM_THRESHOLD = -1).

  tune_malloc (the trainer's setting) trims only beyond 2 GiB free at the top, which a process
  running one framework does not reach (the paper-size LM step: 0 page faults per step). A
  benchmark runs JAX and PyTorch in one process, one heap: the two steps' buffers, freed in turn,
  can leave more than that free at the top, which is trimmed and faulted in again by the next
  step. Paper-size Transformer LM, one JAX and one PyTorch step per round after one warm-up round:
  JAX rounds faulted 57k and 327k pages (10.8 s/step against 8.1 s alone) with the trainer's
  setting, 90k then 6.5k (8.4 s/step) with this one; the PyTorch rounds ~0 either way. Never
  trimming lets the heap settle at the size both steps need (a few GB).
  """
  try:
    return ctypes.CDLL("libc.so.6").mallopt(-1, -1) == 1  # M_TRIM_THRESHOLD
  except OSError:
    return False


def jit_kwargs(args) -> dict:
  """Extra jax.jit arguments for the project's step, from --ynn_conv."""
  return {"compiler_options": dict(NO_YNN_CONV)} if args.ynn_conv == "off" else {}


def base_parser(description: str, *, batch_size: int, steps: int, rounds: int) -> argparse.ArgumentParser:
  p = argparse.ArgumentParser(description=description)
  p.add_argument("--batch_size", type=int, default=batch_size)
  p.add_argument("--steps", type=int, default=steps,
                 help="Steps per timed round (0, where a script allows it: its per-setup "
                      "default).")
  p.add_argument("--rounds", type=int, default=rounds,
                 help="Interleaved rounds; the reported time is their median.")
  p.add_argument("--threads", type=int, default=os.cpu_count(),
                 help="Cores for both frameworks (CPU affinity + torch.set_num_threads).")
  p.add_argument("--xla_flags", default="default",
                 help=f"A preset ({', '.join(XLA_FLAG_PRESETS)}) or literal XLA flags.")
  p.add_argument("--no_torch", action="store_true", help="Time JAX only.")
  p.add_argument("--ynn_conv", choices=("default", "off"), default="off",
                 help="'off' (what the trainer does on CPU, runtime.NO_YNN_CONV): Eigen "
                      "convolutions; 'default': XLA's default (YNNPACK).")
  p.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                 help="'tuned': glibc reuses freed memory (tune_malloc) and never trims the heap "
                      "(no_heap_trim); 'default': as is.")
  return p


def setup(args) -> None:
  """Pins the process to `args.threads` cores and sets XLA_FLAGS; call before importing jax."""
  if args.threads < 1 or args.threads > os.cpu_count():
    raise SystemExit(f"error: --threads={args.threads}: choose 1..{os.cpu_count()}.")
  if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.threads])
  args.malloc_tuned = args.malloc == "tuned" and tune_malloc() and no_heap_trim()
  flags = XLA_FLAG_PRESETS.get(args.xla_flags, args.xla_flags)
  if "jax" in sys.modules and flags:
    raise RuntimeError("benchmarks.common.setup() must run before jax is imported.")
  os.environ["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS", ""), flags]))
  os.environ.setdefault("JAX_PLATFORMS", "cpu")
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def trainer_runner(step, state, batch, teacher_vars, steps: int) -> Callable[[], None]:
  """run() does `steps` calls of a jitted train.make_train_step `step` from `state` (donated, so
  the state is carried between calls) and blocks on the result; compiled and warmed up here."""
  import jax  # pylint: disable=g-import-not-at-top
  from inductive_kd import train  # pylint: disable=g-import-not-at-top
  box = {"state": state, "metrics": train.zero_metrics()}

  def run():
    state, metrics = box["state"], box["metrics"]
    for _ in range(steps):
      state, metrics = step(state, batch, teacher_vars, metrics)
    jax.block_until_ready((state, metrics))
    box["state"], box["metrics"] = state, metrics

  run()
  return run


def setup_torch(threads: int):
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  return torch


def load() -> float:
  return os.getloadavg()[0]


def time_interleaved(fns: dict[str, Callable[[], None]], rounds: int,
                     cpu: dict[str, list[float]] | None = None,
                     faults: dict[str, list[int]] | None = None) -> dict[str, list[float]]:
  """Seconds per call of each fn, one entry per round; the fns alternate inside every round.

  Each fn must run one timed unit (e.g. `steps` train steps) and block until its results exist.
  The order inside a round rotates so that no fn always runs right after the same neighbour.
  `cpu`, if given, receives the process CPU seconds of each call (all threads): on a shared
  machine that is the work done, whatever share of the cores the process got; `faults` the
  minor page faults of each call.
  """
  names = list(fns)
  times = {n: [] for n in names}
  for n in names:
    if cpu is not None:
      cpu[n] = []
    if faults is not None:
      faults[n] = []
  for r in range(rounds):
    for n in names[r % len(names):] + names[:r % len(names)]:
      start, start_cpu = time.perf_counter(), time.process_time()
      start_faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
      fns[n]()
      times[n].append(time.perf_counter() - start)
      if cpu is not None:
        cpu[n].append(time.process_time() - start_cpu)
      if faults is not None:
        faults[n].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start_faults)
  return times


def median(xs) -> float:
  return float(statistics.median(xs))


def matmul_roofline(n: int = 2048, reps: int = 5, torch=None) -> dict:
  """GFLOP/s of an n x n float32 matmul (the compute roof the conv work is measured against)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
  mm = jax.jit(lambda a: a @ a)
  jax.block_until_ready(mm(a))
  fns = {"jax": lambda: jax.block_until_ready(mm(a))}
  if torch is not None:
    ta = torch.randn(n, n)
    fns["torch"] = lambda: ta @ ta
    fns["torch"]()
  times = time_interleaved(fns, reps)
  return {k: 2 * n ** 3 / median(v) / 1e9 for k, v in times.items()}


def machine() -> dict:
  cpu = platform.processor() or platform.machine()
  try:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
  except OSError:
    pass
  import jax  # pylint: disable=g-import-not-at-top
  info = {"cpu": cpu, "cores": os.cpu_count(), "jax": jax.__version__,
          "date": datetime.date.today().isoformat(),
          "xla_flags": os.environ.get("XLA_FLAGS", ""), "loadavg": os.getloadavg()}
  if "torch" in sys.modules:
    info["torch"] = sys.modules["torch"].__version__
  return info


def report(name: str, results: dict, args, extra: dict | None = None) -> None:
  """Prints a human table and one JSON line (prefix BENCH_JSON) for tools."""
  print(f"\n== {name}: batch {args.batch_size}, {args.threads} thread(s), median of "
        f"{args.rounds} interleaved rounds, malloc "
        f"{'tuned' if getattr(args, 'malloc_tuned', False) else 'default'}; load average "
        f"{load():.2f}")
  for key, r in results.items():
    line = f"  {key:34s} {r['examples_per_s']:9.1f} ex/s  ({r['step_ms']:8.2f} ms/step"
    if "spread" in r:
      line += f", rounds {r['spread']}"
    print(line + ")")
  payload = {"benchmark": name, "batch_size": args.batch_size, "threads": args.threads,
             "malloc_tuned": getattr(args, "malloc_tuned", False),
             "rounds": args.rounds, "steps": args.steps, "loadavg": os.getloadavg(),
             "machine": machine(), "results": results, **(extra or {})}
  print(JSON_PREFIX + json.dumps(payload, sort_keys=True))


def summarize(times: list[float], steps: int, batch_size: int) -> dict:
  step_s = median(times) / steps
  return {"examples_per_s": batch_size / step_s, "step_ms": step_s * 1e3,
          "spread": f"{batch_size * steps / max(times):.0f}-{batch_size * steps / min(times):.0f}"}
