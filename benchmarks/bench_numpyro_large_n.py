"""Bernoulli at large n: NumPyro's NUTS on JAX (a GPU when JAX sees one) against the default.

Problem: logistic regression with ``n`` rows (default 10^6) and ``p`` = 100 standard-normal
features, true weights N(0, 0.3^2), Gaussian prior tau = 1, flat intercept. Both rows run
``sample_posterior`` as a user would (4 chains x 1000 + 1000 by default), with
``log_likelihood=False``: the pointwise log-likelihood would be a (chains, draws, n) array,
32 GB at n = 10^6.

Rows (ESS/s = min bulk ESS over w / wall clock of the whole call, compilation included):

* ``numpyro``: ``backend="numpyro"`` (PyMC's JAX bridge; X becomes a constant of the jitted
  graph, on the GPU when there is one; chains vectorized on one device, or
  ``--chain-method parallel`` over several);
* ``default``: ``backend="auto"`` (nutpie calling the static numba kernels on the CPU), the
  baseline run in the same process (``--skip-default`` leaves it out where it would take too
  long; ``--default-n`` runs it at a smaller n, and the ratio is then of ESS/s x n, rows per
  second, which an O(n p) gradient makes comparable across n).

Run on a GPU machine (``pip install -e ".[fast]"`` and a CUDA build of jaxlib)::

    python benchmarks/bench_numpyro_large_n.py                  # n = 10^6, p = 100
    python benchmarks/bench_numpyro_large_n.py --n 100000 --draws 300 --tune 300 --chains 2

Prints JAX's devices, each row's wall time, min bulk ESS, ESS/s, the posterior mean's largest
error against the true weights (a sanity check, not a test), and the ratio numpyro / default.
Measured so far only on the CPU (this repository's 2-core development machine, shared with a
test run, load ~3): n = 10^5, p = 100, 2 chains x 200 + 200: numpyro 136 s wall, min bulk ESS
382. No GPU was available to the session that wrote it, so the n = 10^6 GPU figure is not in
the README yet.
"""

from __future__ import annotations

import argparse
import time

import arviz as az
import numpy as np

from bayesreg.likelihoods import BernoulliLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Gaussian
from bayesreg.sampling import sample_posterior


def problem(n: int, p: int, seed: int = 0) -> tuple[RegressionModel, np.ndarray]:
    """The logistic model on generated rows, and its true weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = rng.normal(0.0, 0.3, p)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(np.float64)
    return RegressionModel(X, y, Gaussian(1.0), BernoulliLikelihood()), w


def row(model: RegressionModel, w_true: np.ndarray, backend: str, args, **kw) -> dict:
    """One timed ``sample_posterior`` call and its ESS/s."""
    t0 = time.perf_counter()
    idata = sample_posterior(
        model, backend=backend, draws=args.draws, tune=args.tune, chains=args.chains,
        random_seed=args.seed, progressbar=False, log_likelihood=False, **kw,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    ess = float(az.ess(idata.posterior[["w"]], method="bulk")["w"].min())
    err = float(np.abs(idata.posterior["w"].mean(("chain", "draw")).values - w_true).max())
    return {"n": model.n, "wall_s": wall, "min_bulk_ess": ess, "ess_per_s": ess / wall,
            "max_abs_error_of_mean": err}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=100)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chain-method", choices=["vectorized", "parallel"], default="vectorized")
    ap.add_argument("--skip-default", action="store_true")
    ap.add_argument("--default-n", type=int, default=None, help="n of the baseline row")
    args = ap.parse_args()
    import jax

    print(f"jax {jax.__version__}, devices: {jax.devices()}")
    model, w_true = problem(args.n, args.p)
    jax_kwargs = {"chain_method": args.chain_method}
    rows = {"numpyro": row(model, w_true, "numpyro", args, nuts_sampler_kwargs=jax_kwargs)}
    if not args.skip_default:
        base, w_base = (
            (model, w_true) if args.default_n is None else problem(args.default_n, args.p)
        )
        rows["default"] = row(base, w_base, "auto", args)
    for name, r in rows.items():
        print(f"{name:8s} n={r['n']:>9d} wall {r['wall_s']:8.1f} s  min bulk ESS "
              f"{r['min_bulk_ess']:7.0f}  ESS/s {r['ess_per_s']:8.2f}  "
              f"max |mean - w| {r['max_abs_error_of_mean']:.3f}")  # fmt: skip
    if "default" in rows:
        a, b = rows["numpyro"], rows["default"]
        ratio = (a["ess_per_s"] * a["n"]) / (b["ess_per_s"] * b["n"])
        same = "" if a["n"] == b["n"] else " (per row: ESS/s x n, the baseline at its own n)"
        print(f"ratio numpyro / default ESS/s{same}: {ratio:.2f}")


if __name__ == "__main__":
    main()
