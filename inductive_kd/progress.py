"""The training progress line: steps/s and an ETA that stay honest across evaluations.

CLU's `ReportProgress` divides the steps since its last report by the wall time since then. An
evaluation pass in between (15 s for the MNIST CNN, a fifth of a report interval) makes the next
report show a fraction of the real rate and an ETA hours too long ("0.8 steps/s, ETA 3h14m" in a
55-minute run). Here the rate counts training time only: time spent in `pause(name)` blocks
(evaluation, checkpoints, probes) is left out of it, and the ETA adds the blocks still to come
at the mean duration each has taken so far.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import time
from typing import Callable, Mapping

from clu import metric_writers, periodic_actions, platform


def is_due(step: int, total: int, every: int) -> bool:
  """The trainer's rule for evaluation, checkpoints and probes: every `every` steps (never if
  `every` is 0) and at the last step."""
  return every > 0 and (step % every == 0 or step == total)


def occurrences_left(step: int, total: int, every: int) -> int:
  """How many of the steps in (step, total] are `is_due` (counted in closed form)."""
  if every <= 0 or step >= total:
    return 0
  return total // every - step // every + (1 if total % every else 0)


@dataclasses.dataclass(frozen=True)
class NextPhase:
  """The phase that follows this one in the same command (the student, after the teacher it
  trained first), so that this phase's ETA can cover the whole command.

  `sec_per_step` is that phase's own step, measured up front; `share_of_this_step` is the part of
  this phase's step time each of its steps adds (a student step that runs the teacher's forward
  pass adds about a third of a teacher training step). Evaluations and checkpoints are assumed to
  take the same fraction of its time as they take of this phase's.
  """
  name: str
  steps: int
  sec_per_step: float
  share_of_this_step: float = 0.0

  def seconds(self, this_sec_per_step: float, pause_fraction: float) -> float:
    per_step = self.sec_per_step + self.share_of_this_step * this_sec_per_step
    return self.steps * per_step * (1.0 + pause_fraction)


class ReportProgress(periodic_actions.PeriodicAction):
  """Reports "R steps/s, P% (step/total), ETA: T (elapsed E: x% eval, ...)" every `every_secs`.

  `every` maps each paused part's name to how often it runs (in steps), for the ETA. The rate is
  also written as the `steps_per_sec` scalar, as CLU's hook does. In a command of several phases
  (a student that trains its teacher first) the line starts with the phase ("teacher, phase 1 of
  2: ...") and, while a `next_phase` is to come, adds the whole command's ETA.
  """

  def __init__(self, *, num_train_steps: int, every_secs: float,
               every: Mapping[str, int] | None = None,
               writer: metric_writers.MetricWriter | None = None,
               clock: Callable[[], float] = time.monotonic,
               phase: str = "", next_phase: NextPhase | None = None):
    super().__init__(every_secs=every_secs, on_steps=[num_train_steps])
    self._phase = phase
    self._next = next_phase
    self._total = num_train_steps
    self._every = dict(every or {})
    self._writer = writer
    self._clock = clock
    self._t0 = clock()
    self._paused_since_report = 0.0
    self._part_time = collections.defaultdict(float)
    self._part_count = collections.defaultdict(int)

  def __call__(self, step: int, t: float | None = None) -> bool:
    if self._previous_step is None:  # The first call starts the clock: earlier pauses don't count.
      self._paused_since_report = 0.0
    return super().__call__(step, self._clock() if t is None else t)

  def _should_trigger(self, step: int, t: float) -> bool:
    return step != self._previous_step and super()._should_trigger(step, t)

  @contextlib.contextmanager
  def pause(self, name: str):
    """Time inside this block is not training time; the ETA budgets the blocks still to come."""
    start = self._clock()
    try:
      yield
    finally:
      elapsed = self._clock() - start
      self._paused_since_report += elapsed
      self._part_time[name] += elapsed
      self._part_count[name] += 1

  def rate_and_eta(self, step: int, t: float) -> tuple[float, float]:
    train_time = max(t - self._previous_time - self._paused_since_report, 1e-9)
    rate = (step - self._previous_step) / train_time
    eta = (self._total - step) / rate
    for name, every in self._every.items():
      if self._part_count[name]:
        mean = self._part_time[name] / self._part_count[name]
        eta += mean * occurrences_left(step, self._total, every)
    return rate, eta

  def _apply(self, step: int, t: float):
    rate, eta = self.rate_and_eta(step, t)
    self._paused_since_report = 0.0
    fmt = periodic_actions._format_secs  # pylint: disable=protected-access
    message = (f"{rate:.1f} steps/s, {100 * step / self._total:.1f}% ({step}/{self._total}), "
               f"ETA: {fmt(eta)}")
    elapsed = t - self._t0
    if self._part_time and elapsed > 0:
      message += " (elapsed {}: {})".format(
          fmt(elapsed),
          ", ".join(f"{100 * v / elapsed:.0f}% {k}" for k, v in sorted(self._part_time.items())))
    if self._next is not None:
      paused = sum(self._part_time.values())
      later = self._next.seconds(1.0 / rate, paused / max(elapsed - paused, 1e-9))
      message += f"; whole command ETA: {fmt(eta + later)} ({self._next.name} phase ~{fmt(later)})"
    if self._phase:
      message = f"{self._phase}: {message}"
    platform.work_unit().set_notes(message)
    if self._writer is not None:
      self._writer.write_scalars(step, {"steps_per_sec": rate, "uptime": elapsed})
