"""The progress line's rate and ETA leave evaluation time out of the rate and budget it in the ETA."""
import re

import pytest

from inductive_kd import progress as progress_lib


@pytest.mark.parametrize("step,total,every,expected", [
    (0, 10, 3, 4),    # 3, 6, 9 and the last step 10.
    (9, 10, 3, 1),    # Only the last step.
    (10, 10, 3, 0),
    (0, 10, 5, 2),    # 5 and 10 (the last step is a multiple: counted once).
    (4, 10, 0, 0),    # Never.
])
def test_occurrences_left(step, total, every, expected):
  assert progress_lib.occurrences_left(step, total, every) == expected
  # The closed form counts exactly the steps the trainer runs the action at.
  assert sum(progress_lib.is_due(s, total, every) for s in range(step + 1, total + 1)) == expected


class FakeClock:

  def __init__(self):
    self.t = 0.0

  def __call__(self):
    return self.t


class Notes:

  def __init__(self):
    self.lines = []

  def set_notes(self, message):
    self.lines.append(message)


def run(monkeypatch, *, eval_every, eval_secs, total=100, step_secs=0.1, every_secs=1.0,
        pause_before=0.0):
  """Trains `total` fake steps of `step_secs`, evaluating every `eval_every` steps; returns the
  progress lines."""
  notes = Notes()
  monkeypatch.setattr(progress_lib.platform, "work_unit", lambda: notes)
  clock = FakeClock()
  progress = progress_lib.ReportProgress(num_train_steps=total, every_secs=every_secs,
                                         every={"eval": eval_every}, clock=clock)
  if pause_before:
    with progress.pause("probe"):  # Before the first step (e.g. the step-0 probes).
      clock.t += pause_before
  for step in range(1, total + 1):
    clock.t += step_secs
    progress(step)
    if step % eval_every == 0:
      with progress.pause("eval"):
        clock.t += eval_secs
  return notes.lines


def parse(line):
  rate = float(re.match(r"([\d.]+) steps/s", line).group(1))
  step = int(re.search(r"\((\d+)/", line).group(1))
  eta = re.search(r"ETA: (\S+)", line).group(1)
  return rate, step, eta


def test_rate_ignores_evaluation_time(monkeypatch):
  # Each 1 s report interval holds 10 steps; the 30 s evals every 20 steps would make CLU's
  # point estimate report 10 / 31 s = 0.3 steps/s right after each one. A 100 s pause before
  # the first step (which starts the clock) must not count either.
  lines = run(monkeypatch, eval_every=20, eval_secs=30.0, pause_before=100.0)
  assert len(lines) >= 9
  for line in lines:
    assert parse(line)[0] == pytest.approx(10.0, abs=0.06), line


def test_eta_budgets_the_remaining_evaluations(monkeypatch):
  # 1000 steps of 0.1 s, a 60 s eval every 100 steps: after the first eval, a report at `step`
  # has (1000 - step) x 0.1 s of training and 9 evals x 60 s still to come.
  lines = run(monkeypatch, eval_every=100, eval_secs=60.0, total=1000, every_secs=5.0)
  for line in lines:
    _, step, eta = parse(line)
    if 100 < step < 200:
      expected = (1000 - step) * 0.1 + 9 * 60  # The printed ETA is floored to minutes.
      assert eta == progress_lib.periodic_actions._format_secs(expected), line
      break
  else:
    pytest.fail(f"no report between steps 100 and 200: {lines}")
  assert "% eval" in lines[-1]


def test_a_teacher_phase_reports_the_whole_command(monkeypatch):
  """A teacher trained for its student: its line names the phase and adds the student's time,
  measured per step, with the teacher's forward share and the same evaluation overhead."""
  notes = Notes()
  monkeypatch.setattr(progress_lib.platform, "work_unit", lambda: notes)
  clock = FakeClock()
  student = progress_lib.NextPhase("student", steps=600, sec_per_step=0.5, share_of_this_step=0.25)
  progress = progress_lib.ReportProgress(num_train_steps=1000, every_secs=1.0, clock=clock,
                                         every={"eval": 500}, phase="teacher, phase 1 of 2",
                                         next_phase=student)
  for step in range(1, 501):
    clock.t += 2.0  # 0.5 steps/s.
    progress(step)
  with progress.pause("eval"):
    clock.t += 100.0  # A tenth of the 1000 s trained so far.
  clock.t += 2.0
  progress(501)
  line = notes.lines[-1]
  assert line.startswith("teacher, phase 1 of 2: 0.5 steps/s, 50.1% (501/1000), ETA: 18m")
  # Student: 600 steps x (0.5 s + 0.25 x 2 s) x (1 + 100 s eval / 1002 s trained) = 659.9 s
  # (minutes are floored); teacher: 499 steps x 2 s + one more 100 s eval = 1098 s.
  assert line.endswith("whole command ETA: 29m (student phase ~10m)"), line


def test_next_phase_seconds():
  phase = progress_lib.NextPhase("student", steps=10, sec_per_step=1.0, share_of_this_step=0.5)
  assert phase.seconds(this_sec_per_step=2.0, pause_fraction=0.0) == 20.0
  assert phase.seconds(this_sec_per_step=2.0, pause_fraction=0.5) == 30.0
