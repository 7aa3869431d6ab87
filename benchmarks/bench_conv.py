"""One CNN convolution, fwd + both gradients, in every formulation, against the matmul roof.

  python benchmarks/bench_conv.py                 # the dominant layer: 26x26x128 -> 24x24x64
  python benchmarks/bench_conv.py --layer=1       # the 1-channel input layer (no input grad)
  python benchmarks/bench_conv.py --threads=1

Times, interleaved in one process (benchmarks/common.py):
- every `inductive_kd.models.cnn.conv2d_valid` impl (lax.conv_general_dilated, im2col as one
  matmul, row/column im2col), jitted as output + d/dx + d/dkernel (d/dkernel only for layer 1,
  whose input is the image), each with XLA:CPU's default library choice and with YNNPACK kept
  off convolutions (common.NO_YNN_CONV, a per-jit compiler option);
- the same conv in PyTorch (oneDNN), channels-last and NCHW;
- a 2048^2 float32 matmul in both (the roof).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position

# (H = W of the input, Cin, Cout, needs the input gradient) of the vcnn_mnist7 layers.
LAYERS = {1: (28, 1, 128, False), 2: (26, 128, 64, True), 3: (12, 64, 64, True)}


def main():
  p = common.base_parser(__doc__.splitlines()[0], batch_size=128, steps=1, rounds=5)
  p.add_argument("--layer", type=int, choices=sorted(LAYERS), default=2)
  p.add_argument("--impls", default="", help="Comma-separated conv impls (default: all).")
  args = p.parse_args()
  common.setup(args)

  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from inductive_kd.models import cnn  # pylint: disable=g-import-not-at-top

  size, cin, cout, input_grad = LAYERS[args.layer]
  b, out = args.batch_size, size - 2
  x = jax.random.normal(jax.random.PRNGKey(0), (b, size, size, cin))
  k = jax.random.normal(jax.random.PRNGKey(1), (3, 3, cin, cout)) * 0.05
  g = jax.random.normal(jax.random.PRNGKey(2), (b, out, out, cout))
  flops = (3 if input_grad else 2) * 2 * b * out * out * cout * 9 * cin

  def make(impl, options):
    if input_grad:
      def f(x, k, g):
        y, vjp = jax.vjp(lambda x, k: cnn.conv2d_valid(x, k, impl), x, k)
        return (y, *vjp(g))
    else:
      def f(x, k, g):
        y, vjp = jax.vjp(lambda k: cnn.conv2d_valid(x, k, impl), k)
        return (y, *vjp(g))
    fn = jax.jit(f, **({"compiler_options": options} if options else {}))
    return fn, lambda: jax.block_until_ready(fn(x, k, g))

  impls = [s for s in args.impls.split(",") if s] or [i for i in cnn.CONV_IMPLS if i != "auto"]
  runners, outputs = {}, {}
  for impl in impls:
    for tag, options in (("", None), (" no-ynn-conv", common.NO_YNN_CONV)):
      fn, run = make(impl, options)
      outputs[impl + tag] = fn(x, k, g)
      run()
      runners[f"jax {impl}{tag}"] = run
  ref = outputs[impls[0]]
  for name, o in outputs.items():  # Every formulation computes the same numbers.
    err = max(float(abs(np.asarray(a) - np.asarray(r)).max() / abs(np.asarray(r)).max())
              for a, r in zip(o, ref))
    assert err < 1e-4, (name, err)

  torch = None
  if not args.no_torch:
    torch = common.setup_torch(args.threads)
    xt = torch.from_numpy(np.array(x)).permute(0, 3, 1, 2)
    kt = torch.from_numpy(np.array(k)).permute(3, 2, 0, 1).contiguous().requires_grad_()
    gt = torch.from_numpy(np.array(g)).permute(0, 3, 1, 2)
    for fmt, mf in (("channels-last", torch.channels_last), ("NCHW", torch.contiguous_format)):
      xi = xt.contiguous(memory_format=mf).requires_grad_(input_grad)
      gi = gt.contiguous(memory_format=mf)

      def run(xi=xi, gi=gi):
        y = torch.nn.functional.conv2d(xi, kt)
        y.backward(gi)
        xi.grad = kt.grad = None

      run()
      runners[f"torch {fmt}"] = run

  times = common.time_interleaved(runners, args.rounds)
  roof = common.matmul_roofline(torch=torch)
  results = {}
  for name, ts in times.items():
    t = common.median(ts)
    results[name] = {"ms": t * 1e3, "gflops": flops / t / 1e9,
                     "fraction_of_matmul": flops / t / 1e9 / roof["jax"]}
  print(f"\n== conv layer {args.layer}: [{b},{size},{size},{cin}] -> [{b},{out},{out},{cout}], "
        f"fwd + d/dkernel{' + d/dx' if input_grad else ''} = {flops / 1e9:.2f} GFLOP; "
        f"{args.threads} thread(s), median of {args.rounds} rounds; load {common.load():.2f}")
  for name, r in sorted(results.items(), key=lambda kv: kv[1]["ms"]):
    print(f"  {name:34s} {r['ms']:8.1f} ms {r['gflops']:7.1f} GFLOP/s "
          f"({100 * r['fraction_of_matmul']:5.1f}% of the JAX matmul)")
  print(f"  2048^2 matmul: JAX {roof['jax']:.1f} GFLOP/s"
        + (f", PyTorch {roof['torch']:.1f} GFLOP/s" if "torch" in roof else ""))
  args.steps = 1
  common.report(f"conv_layer{args.layer}", {}, args,
                {"conv": results, "matmul_gflops": roof, "gflop": flops / 1e9})


if __name__ == "__main__":
  main()
