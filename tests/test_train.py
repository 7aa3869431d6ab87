"""inductive_kd.train: the step learns, is the same on 1 and 4 devices, resumes exactly, stops on
non-finite losses, and the :quick pipeline writes results.json."""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import optax
import pytest

from inductive_kd import checkpoint, config as config_lib, evaluate, models, optim, parallel, tasks
from inductive_kd import teacher, train
from inductive_kd.data import mnist

REPO = config_lib.REPO_ROOT


def small_config(model="mlp", steps=20):
  c = config_lib.load_config_file(f"configs/mnist_{model}.py")
  c.data.train_limit = 512
  c.eval.limit = 200
  c.eval.shifted = ""
  c.train.batch_size = 32
  c.train.num_steps = steps
  c.train.log_every_steps = 5
  c.train.checkpoint_every_steps = 10
  c.eval.every_steps = 10
  c.optim.learning_rate = 1e-3
  return c


def test_train_steps_lower_the_loss_on_a_fixed_batch():
  c = small_config()
  c.optim.name = "adam"  # RAdam's rectified start would need more steps.
  task = tasks.create(c)
  model, tx = models.create(**c.model), optim.make_optimizer(c.optim)
  mesh = parallel.make_mesh()
  batch = parallel.global_batch(mesh, evaluate.local_batch(task.train, np.arange(32)))
  state = train.create_train_state(model, tx, task.prepare(batch)[0], seed=0)
  step = jax.jit(train.make_train_step(model, tx, task, c))
  losses = []
  for _ in range(15):
    state, metrics = step(state, batch, {}, train.zero_metrics())
    losses.append(float(metrics["total_loss"]))
  assert losses[-1] < 0.5 * losses[0], losses
  assert int(state.step) == 15


def few_steps(model: str):
  """Three data-parallel steps of `model` on fixed batches; returns (flat params, summed loss)."""
  c = config_lib.load_config_file(f"configs/mnist_{model}.py")
  c.data.train_limit, c.eval.shifted, c.optim.learning_rate = 64, "", 1e-3
  if model == "cnn":  # Narrow, so the test is quick; the sharding logic is what is tested.
    c.model.filters, c.model.maxout_size = (8, 8, 8), (8, 8, 4)
  task = tasks.create(c)
  model_, tx = models.create(**c.model), optim.make_optimizer(c.optim)
  mesh = parallel.make_mesh()
  repl = parallel.replicated(mesh)
  sample = mnist.to_float(task.train["inputs"][:2])
  state = jax.device_put(train.create_train_state(model_, tx, sample, 0), repl)
  step = jax.jit(train.make_train_step(model_, tx, task, c), out_shardings=repl)
  m = train.zero_metrics()
  for i in range(3):
    batch = parallel.global_batch(mesh, evaluate.local_batch(task.train, np.arange(16) + 16 * i))
    state, m = step(state, batch, {}, m)
  leaves = jax.tree.leaves((state.params, state.batch_stats))
  return np.concatenate([np.ravel(x) for x in leaves]), float(m["total_loss"])


_DEVICE_SCRIPT = """
import sys, json
sys.path.insert(0, {repo!r})
import jax
from tests.test_train import few_steps
out = {{m: few_steps(m) for m in ("mlp", "cnn")}}
print("RESULT", jax.device_count(), json.dumps({{m: (p.tolist(), l) for m, (p, l) in out.items()}}))
"""


def test_four_devices_match_one_device():
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
             JAX_PLATFORMS="cpu")
  out = subprocess.run([sys.executable, "-c", _DEVICE_SCRIPT.format(repo=str(REPO))], env=env,
                       capture_output=True, text=True, timeout=300, cwd=REPO)
  assert out.returncode == 0, out.stderr[-3000:]
  line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT"))
  _, devices, payload = line.split(" ", 2)
  assert int(devices) == 4 and jax.device_count() == 1
  for model, (params4, loss4) in json.loads(payload).items():
    params1, loss1 = few_steps(model)
    np.testing.assert_allclose(loss4, loss1, rtol=1e-5)
    np.testing.assert_allclose(np.array(params4), params1, rtol=1e-4, atol=1e-6)


class _Interrupt(Exception):
  pass


def test_interrupted_run_resumes_from_its_checkpoint_exactly(tmp_path, monkeypatch):
  c = small_config(steps=20)
  full = train.train_and_evaluate(c, tmp_path / "full")

  real_save = checkpoint.save

  def save_then_die(mgr, step, state):
    real_save(mgr, step, state)
    if step == 10:
      mgr.wait_until_finished()
      raise _Interrupt()

  monkeypatch.setattr(checkpoint, "save", save_then_die)
  with pytest.raises(_Interrupt):
    train.train_and_evaluate(c, tmp_path / "resumed")
  assert not (tmp_path / "resumed" / "results.json").exists()
  monkeypatch.setattr(checkpoint, "save", real_save)
  resumed = train.train_and_evaluate(c, tmp_path / "resumed")
  assert resumed["steps"] == 20
  assert resumed["test"] == full["test"]  # Same batches, same dropout keys: identical results.
  a = np.load(tmp_path / "full" / "predictions" / "mnist.npz")["probs"]
  b = np.load(tmp_path / "resumed" / "predictions" / "mnist.npz")["probs"]
  np.testing.assert_array_equal(a, b)
  # A finished run is not trained again.
  assert train.train_and_evaluate(c, tmp_path / "resumed")["steps"] == 20


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
  c = small_config(steps=40)
  c.optim.learning_rate = 1e35
  c.optim.name = "adam"
  c.train.checkpoint_every_steps = 1
  c.train.log_every_steps = 1
  with pytest.raises(train.TrainingError, match=r"Non-finite loss at .*step") as e:
    train.train_and_evaluate(c, tmp_path)
  assert not (tmp_path / "results.json").exists()
  last = checkpoint.manager(tmp_path, 3).latest_step()
  if last is not None:  # Whatever was kept must be finite.
    assert f"step {last}" in str(e.value)


def test_non_finite_loss_is_caught_before_an_evaluation(tmp_path, monkeypatch):
  """Evaluations every 2 steps, logs and checkpoints rare: the check before each evaluation stops
  the run at the first evaluation after the bad step, and no checkpoint is claimed. (Step 1's
  update makes the parameters huge but finite, so the loss of step 1 is the first non-finite one;
  evaluating those parameters would only fail inside the calibration metrics.)"""
  c = small_config(steps=40)
  c.optim.learning_rate, c.optim.name = 1e35, "adam"
  c.eval.every_steps, c.train.log_every_steps, c.train.checkpoint_every_steps = 2, 1000, 1000
  evaluated = []
  real = train._evaluate_and_log
  monkeypatch.setattr(train, "_evaluate_and_log", lambda *a: evaluated.append(a[-1]) or real(*a))
  with pytest.raises(train.TrainingError, match=r"Non-finite loss at step (\d+); training stopped "
                     r"and no checkpoint was written\.") as e:
    train.train_and_evaluate(c, tmp_path)
  bad = int(e.value.args[0].split("step ")[1].split(";")[0])
  assert bad < 39 and max(evaluated, default=0) <= bad  # Step `bad`'s update was never evaluated.


def test_quick_distillation_pipeline_writes_results(tmp_path):
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  cmd = [sys.executable, str(REPO / "main.py"), "--config=configs/mnist_cnn_to_mlp.py:quick",
         f"--workdir={tmp_path / 'cnn_to_mlp'}", f"--config.data.cache_dir={tmp_path / 'cache'}"]
  out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  student = json.loads((tmp_path / "cnn_to_mlp" / "results.json").read_text())
  teacher = json.loads((tmp_path / "mnist_cnn_quick" / "results.json").read_text())
  assert student["teacher_workdir"] == str(tmp_path / "mnist_cnn_quick")
  assert teacher["model"] == "cnn" and student["model"] == "mlp"
  # Where the numbers came from, for the report's header.
  assert student["machine"]["jax"] == jax.__version__ and student["machine"]["cores"] >= 1
  for res in (student, teacher):
    assert set(res["test"]) >= {"mnist", "translate", "scale"}
    for name in ("mnist", "translate", "scale"):
      assert 0.0 <= res["test"][name]["accuracy"] <= 1.0
  assert (tmp_path / "cnn_to_mlp" / "checkpoints").is_dir()
  assert list((tmp_path / "cnn_to_mlp").glob("events.out.tfevents.*"))
  # The learning curves: every evaluation's metrics, the last one those of results.json.
  history = json.loads((tmp_path / "cnn_to_mlp" / "history.json").read_text())
  assert history["steps"][-1] == student["steps"]
  assert history["mnist/accuracy"][-1] == pytest.approx(student["test"]["mnist"]["accuracy"])


def test_bad_override_is_a_one_line_error(tmp_path):
  cmd = [sys.executable, str(REPO / "main.py"), "--config=configs/mnist_mlp.py",
         f"--workdir={tmp_path}", "--config.optim.learning_rate=-1"]
  out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, JAX_PLATFORMS="cpu"))
  assert out.returncode != 0
  assert "Traceback" not in out.stderr
  assert "optim.learning_rate must be > 0" in out.stderr


def test_cached_teacher_logits_give_the_same_step_as_the_live_teacher():
  c = small_config()
  c.distill.teacher_mode = "eval"
  c.distill.distill_rate, c.distill.gold_rate, c.distill.temperature = 1.0, 0.0, 5.0
  task = tasks.create(c)
  model, tx = models.create(**c.model), optim.make_optimizer(c.optim)
  t_model = models.create("cnn", filters=(8, 8, 8), maxout_size=(8, 8, 4))
  mesh = parallel.make_mesh()
  idx = np.arange(32)
  sample = mnist.to_float(task.train["inputs"][:2])
  t_vars = t_model.init(jax.random.PRNGKey(5), sample, train=False)
  apply = teacher.make_apply(t_model, "eval")
  cached = apply(t_vars, mnist.to_float(task.train["inputs"][idx]), None)
  live_step = jax.jit(train.make_train_step(model, tx, task, c, apply))
  cache_step = jax.jit(train.make_train_step(model, tx, task, c, teacher.cached_logits))
  state = train.create_train_state(model, tx, sample, seed=0)
  batch = parallel.global_batch(mesh, evaluate.local_batch(task.train, idx))
  s1, m1 = live_step(state, batch, t_vars, train.zero_metrics())
  s2, m2 = cache_step(state, batch, {"logits": cached}, train.zero_metrics())
  np.testing.assert_allclose(float(m1["total_loss"]), float(m2["total_loss"]), rtol=1e-6)
  for a, b in zip(jax.tree.leaves(s1.params), jax.tree.leaves(s2.params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_teacher_cache_is_refused_in_train_mode():
  c = config_lib.load_config_file("configs/mnist_cnn_to_mlp.py")
  task = tasks.Task(name="mnist", num_classes=10, train={"labels": np.zeros(10)}, eval_sets={},
                    prepare=None, eval_outputs=None, summarize=None)
  assert c.distill.teacher_mode == "train" and not teacher.use_cache(c, task)  # 'auto': off.
  c.distill.cache_teacher = "on"
  with pytest.raises(config_lib.ConfigError, match="teacher_mode='train'"):
    teacher.use_cache(c, task)
  c.distill.teacher_mode = "eval"
  assert teacher.use_cache(c, task)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_vmapped_seeds_equal_separate_runs(tmp_path, model):
  """num_seeds=2 trains seeds 3 and 4 in one step; each must be the single run with that seed
  (same init, dropout keys and data order). Only float summation order differs (batched vs plain
  matmuls), which Adam's early sign-like updates grow after 10 steps. Max |difference| of the
  2000 test probabilities, vmapped vs alone: on a 2-core AMD EPYC, MLP 9.6e-5 (seed 3) / 2.5e-5
  (seed 4), CNN 1.1e-4 / 1.6e-4; on a 2-core Intel Xeon, MLP 2.0e-3 (77 of 2000 above 1e-3).
  atol 5e-3 is 2.5x the worst of these. A wrong key or batch would differ like two seeds do:
  seed 3 vs seed 4 differ by 0.17 (MLP) and 0.038 (CNN) here, asserted > 1e-2 below."""
  c = small_config(model, steps=10)
  c.optim.name = "adam"
  if model == "cnn":
    c.model.filters, c.model.maxout_size = (8, 8, 8), (8, 8, 4)
  c.seed, c.num_seeds = 3, 2
  together = train.train_and_evaluate(c, tmp_path / "both")
  assert [r["seed"] for r in together] == [3, 4]
  assert train.seed_workdirs(c, tmp_path / "both") == [tmp_path / "both" / "seed3",
                                                        tmp_path / "both" / "seed4"]
  for seed in (3, 4):
    single = c.copy_and_resolve_references()
    single.seed, single.num_seeds = seed, 1
    alone = train.train_and_evaluate(single, tmp_path / f"alone{seed}")
    a = np.load(tmp_path / "both" / f"seed{seed}" / "predictions" / "mnist.npz")["probs"]
    b = np.load(tmp_path / f"alone{seed}" / "predictions" / "mnist.npz")["probs"]
    np.testing.assert_allclose(a, b, atol=5e-3)
    assert abs(together[seed - 3]["test"]["mnist"]["accuracy"]
               - alone["test"]["mnist"]["accuracy"]) <= 0.01
  # The two seeds really differ, and a finished K-seed run is not trained again.
  p3, p4 = (np.load(tmp_path / "both" / f"seed{s}" / "predictions" / "mnist.npz")["probs"]
            for s in (3, 4))
  assert np.abs(p3 - p4).max() > 1e-2
  assert [r["seed"] for r in train.train_and_evaluate(c, tmp_path / "both")] == [3, 4]


def _wait_for(predicate, proc, what: str, timeout: float = 300) -> None:
  deadline = time.time() + timeout
  while not predicate():
    assert proc.poll() is None, f"the run ended before {what}"
    assert time.time() < deadline, f"no {what} within {timeout} s"
    time.sleep(0.05)


def _default_signals():
  for s in (signal.SIGINT, signal.SIGTERM):
    signal.signal(s, signal.SIG_DFL)


@pytest.mark.slow
def test_a_signal_saves_a_checkpoint_and_the_run_resumes_exactly(tmp_path):
  """SIGTERM after the first checkpoint, SIGINT after the resumed run's first checkpoint, then a
  run to the end: each stop is one line with exit status 128 + the signal, and the results equal
  those of an uninterrupted run."""
  args = [sys.executable, str(REPO / "main.py"), "--config=configs/mnist_mlp.py",
          "--config.data.train_limit=512", "--config.eval.limit=200", "--config.eval.shifted=",
          "--config.train.batch_size=32", "--config.train.num_steps=2000",
          "--config.train.checkpoint_every_steps=100", "--config.eval.every_steps=1000",
          "--config.optim.learning_rate=1e-3"]
  env = dict(os.environ, JAX_PLATFORMS="cpu")

  def run(workdir, stop=None):
    """Runs to the end, or sends `stop` once a checkpoint newer than the existing ones appears."""
    steps = lambda: {int(p.name) for p in (workdir / "checkpoints").glob("*") if p.name.isdigit()}
    before = steps() if (workdir / "checkpoints").exists() else set()
    with open(tmp_path / "stderr.txt", "w") as err:
      # As from a terminal: a shell's background job (`pytest ... &`) starts with SIGINT ignored,
      # the child would inherit that, and the run rightly leaves an ignored SIGINT alone.
      proc = subprocess.Popen(args + [f"--workdir={workdir}"], cwd=REPO, env=env, stderr=err,
                              stdout=subprocess.DEVNULL, preexec_fn=_default_signals)
      if stop is not None:
        _wait_for(lambda: (workdir / "checkpoints").exists() and steps() - before, proc,
                  "a new checkpoint")
        proc.send_signal(stop)
      rc = proc.wait(timeout=600)
    log = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in log, log[-3000:]
    return rc, log.strip().splitlines()[-1], steps()

  full_rc, _, _ = run(tmp_path / "full")
  assert full_rc == 0
  for sig in (signal.SIGTERM, signal.SIGINT):
    rc, line, steps = run(tmp_path / "stopped", sig)
    last = max(steps)
    assert rc == 128 + sig and 0 < last < 2000
    assert line == (f"stopped by {sig.name} at step {last}; checkpoint saved in "
                    f"{tmp_path / 'stopped' / 'checkpoints'}; rerun the same command to resume")
  assert run(tmp_path / "stopped")[0] == 0
  full, stopped = (json.loads((tmp_path / d / "results.json").read_text())
                   for d in ("full", "stopped"))
  assert stopped["steps"] == 2000 and stopped["test"] == full["test"]


def test_eval_summary_is_one_line_for_all_seeds():
  one = {"mnist": {"accuracy": 0.98, "loss": 0.1}, "scale": {"accuracy": 0.5, "loss": 2.0}}
  assert train.eval_summary([one]) == "mnist acc 0.9800 loss 0.1000  scale acc 0.5000 loss 2.0000"
  other = {"mnist": {"accuracy": 0.96, "loss": 0.3}, "scale": {"accuracy": 0.6, "loss": 1.0}}
  assert train.eval_summary([one, other]) == (
      "mnist acc 0.9700 [0.9600-0.9800] loss 0.2000  scale acc 0.5500 [0.5000-0.6000] loss 1.5000"
      "  (2 seeds)")
  lm = {"test": {"accuracy": 0.3, "loss": 5.0, "perplexity": 148.4, "mu_accuracy": 0.61}}
  assert train.eval_summary([lm]) == "test acc 0.3000 loss 5.0000 ppl 148.4 agreement 0.6100"


@pytest.mark.parametrize("student,teacher_arch,mode,num_seeds", [
    ("lstm", None, None, 1), ("transformer", "lstm", "train", 1), ("lstm", "transformer", "eval", 2)])
def test_packed_lm_step_equals_the_full_step(student, teacher_arch, mode, num_seeds):
  """The language model's output layer on the target positions only (packed_rows) gives the full
  step's loss, metrics and updated state, up to float summation order; also through a teacher
  (train or eval mode) and vmapped seeds."""
  arg = f"student={student}" + (f",teacher={teacher_arch}" if teacher_arch else "") + ",quick"
  c = config_lib.load_config_file(f"configs/sva_lm.py:{arg}")
  c.data.synthetic_size = 2000
  if mode:
    c.distill.teacher_mode = mode
  task = tasks.create(c)
  model = models.create(**c.model, **task.model_kwargs)
  tx = optim.make_optimizer(c.optim, 10)
  batch_size, seeds = 16, list(range(num_seeds))
  rows = train.packed_target_rows(task, seeds, batch_size, 10, task.num_train // batch_size)
  counts = task.target_mask(task.train).sum(1)
  assert 0 < rows < batch_size * task.train["targets"].shape[1]
  assert rows % 64 == 0
  assert rows >= counts[train.epoch_permutation(task.num_train, 0, 0)[:batch_size]].sum()
  mesh = parallel.make_mesh()
  idx = np.stack([train.epoch_permutation(task.num_train, s, 0)[:batch_size] for s in seeds],
                 axis=1).reshape(-1)  # The trainer's first batch (seeds interleaved).
  batch = parallel.global_batch(mesh, evaluate.local_batch(task.train, idx))
  sample = task.prepare(evaluate.local_batch(task.train, np.arange(2)))[0]
  t_apply, t_vars = None, {}
  if teacher_arch:
    t_model = models.create(**teacher.load_config(c).model, **task.model_kwargs)
    t_vars = t_model.init(jax.random.PRNGKey(7), sample, train=False)
    t_apply = teacher.make_apply(t_model, mode)
  out = []
  for packed in (0, rows):
    step = train.make_train_step(model, tx, task, c, t_apply, packed)
    init = lambda: train.create_train_state(model, tx, sample, 0)
    metrics = train.zero_metrics()
    if num_seeds > 1:
      step = train.vmap_seeds(step, num_seeds, batch_size)
      init = lambda: train.create_seed_states(model, tx, sample, seeds)
      metrics = jax.tree.map(lambda v: np.zeros(num_seeds, np.float32), metrics)
    state = init()
    for _ in range(2):
      state, metrics = jax.jit(step)(state, batch, t_vars, metrics)
    out.append((state, metrics))
  (s_full, m_full), (s_packed, m_packed) = out
  for k in train.METRICS:
    np.testing.assert_allclose(m_packed[k], m_full[k], rtol=2e-5, atol=1e-6, err_msg=k)
  for a, b in zip(jax.tree.leaves(s_packed.params), jax.tree.leaves(s_full.params)):
    # Measured: at most 1.1e-7 apart (AMD, 2 steps); a step of Adam that flipped is 2e-3.
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_packed_rows_cover_every_batch_of_the_run():
  """packed_target_rows is the most targets of any batch the run's data order will give."""
  counts = np.random.default_rng(0).integers(0, 20, 100)
  mask = lambda n: np.arange(40) < n[:, None]  # n targets in 40 positions per example.
  task = tasks.Task(name="t", num_classes=2, train={"n": counts}, eval_sets={},
                    prepare=None, eval_outputs=None, summarize=None,
                    target_mask=lambda arrays: mask(arrays["n"]))
  most = max(int(counts[train.epoch_permutation(100, s, e)[:90]]
                 .reshape(9, 10).sum(1).max()) for s in (3, 4) for e in range(3))
  rows = train.packed_target_rows(task, [3, 4], 10, 25, 9)
  assert rows == -(-most // 64) * 64
  assert train.packed_target_rows(task, [3], 10, 25, 9) <= rows
  dense = dataclasses.replace(task, train={"n": np.full(100, 38)})
  assert train.packed_target_rows(dense, [3], 10, 25, 9) == 0  # 384 of 400 positions: no gain.
  no_targets = dataclasses.replace(task, target_mask=None)
  assert train.packed_target_rows(no_targets, [3], 10, 25, 9) == 0
  # Evaluation: run_eval's batches of each set, the last one padded by wrapping to its start.
  sets = [{"n": counts[:35]}, {"n": counts[35:]}]
  wrap = lambda c: c[np.arange(-(-len(c) // 10) * 10) % len(c)].reshape(-1, 10).sum(1).max()
  most_eval = max(wrap(counts[:35]), wrap(counts[35:]))
  assert evaluate.packed_eval_rows(task, sets, 10, train.rows_for) == -(-most_eval // 64) * 64
  assert evaluate.packed_eval_rows(no_targets, sets, 10, train.rows_for) == 0


@pytest.mark.parametrize("student", ["lstm", "transformer"])
def test_packed_lm_eval_step_equals_the_full_one(student):
  """The eval step's logits at the target positions only give the same per-sentence outputs
  (NLL sums, token counts, the verb choice) as every position's."""
  c = config_lib.load_config_file(f"configs/sva_lm.py:student={student},quick")
  c.data.synthetic_size = 2000
  task = tasks.create(c)
  model = models.create(**c.model, **task.model_kwargs)
  arrays = task.eval_sets["test"]
  batch_size = 32
  rows = evaluate.packed_eval_rows(task, [arrays], batch_size, train.rows_for)
  assert 0 < rows < batch_size * arrays["targets"].shape[1]
  sample = task.prepare(evaluate.local_batch(task.train, np.arange(2)))[0]
  variables = model.init(jax.random.PRNGKey(3), sample, train=False)
  mesh = parallel.make_mesh()
  full, packed = (evaluate.run_eval(jax.jit(train.make_eval_step(model, task, r)), variables,
                                    arrays, mesh, batch_size) for r in (0, rows))
  assert set(full) == set(packed) == {"nll_sum", "ntok", "verb_correct", "probs", "rep"}
  np.testing.assert_allclose(packed["nll_sum"], full["nll_sum"], rtol=1e-5)
  np.testing.assert_array_equal(packed["ntok"], full["ntok"])
  np.testing.assert_array_equal(packed["verb_correct"], full["verb_correct"])
  np.testing.assert_allclose(packed["probs"], full["probs"], rtol=1e-5, atol=1e-6)
  # And the full step's outputs are the model's own logits', as before packing existed.
  inputs = task.prepare(evaluate.local_batch(arrays, np.arange(batch_size)))[0]
  logits, _ = model.apply(variables, inputs, train=False)
  targets = arrays["targets"][:batch_size]
  nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets) * (targets != 0)
  np.testing.assert_allclose(full["nll_sum"][:batch_size], nll.sum(-1), rtol=1e-5)
