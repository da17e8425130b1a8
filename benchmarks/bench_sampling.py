"""Sampling speed: ESS per second of our backends vs a plain ``pm.sample``, the exact sampler vs
NUTS, a posterior path vs rebuilding the model per scale, and what PyTensor's missing BLAS costs.

Run: ``python benchmarks/bench_sampling.py`` (add ``--quick`` for a smoke run). Every ratio is
measured in this one process against a baseline run in the same process (the BLAS comparison
runs two child processes, since PyTensor's BLAS flags are global). Numbers depend on the machine;
the script prints them, it does not assert them.

Problem: n=1000, p=100, 10 true non-zeros, Laplace prior (the Bayesian lasso), sigma estimated.
ESS/s = min over the 100 coefficients of the bulk ESS, divided by wall time, with compilation
included (first call) and excluded (second call of the same compiled sampler / PyMC's own
``sampling_time``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def _min_ess(idata) -> float:
    import arviz as az

    return float(az.ess(idata, var_names=["w"], method="bulk")["w"].min())


def _problem(n: int, p: int, seed: int = 0):
    from bayesreg.datasets import make_sparse_regression

    return make_sparse_regression(n_samples=n, n_features=p, n_nonzero=10, random_state=seed)


def plain_pymc(X, y, b, sigma_scale, draws, tune, chains, seed):
    """The baseline: a hand-written PyMC model and a plain pm.sample (compiles every time)."""
    import pymc as pm

    t0 = time.perf_counter()
    with pm.Model(coords={"feature": np.arange(X.shape[1])}):
        w = pm.Laplace("w", 0.0, b, dims="feature")
        intercept = pm.Flat("intercept")
        sigma = pm.HalfNormal("sigma", sigma_scale)
        pm.Normal("y", X @ w + intercept, sigma, observed=y)
        idata = pm.sample(
            draws=draws, tune=tune, chains=chains, cores=1, random_seed=seed, progressbar=False,
            compute_convergence_checks=False,
        )  # fmt: skip
    wall = time.perf_counter() - t0
    return idata, wall, float(idata.posterior.attrs["sampling_time"])


def bench_backends(args, out):
    from bayesreg import GaussianLikelihood, Laplace, RegressionModel
    from bayesreg.sampling import _has, sample_posterior

    d = _problem(args.n, args.p)
    X, y = d.X.to_numpy(), d.y
    b = 0.05
    lik = GaussianLikelihood()
    sigma_scale = lik.resolved_sigma_prior_scale(y)
    kw = dict(draws=args.draws, tune=args.tune, chains=args.chains, random_seed=1)
    rows = {}
    idata, wall, t_sample = plain_pymc(
        X, y, b, sigma_scale, seed=1, **{k: kw[k] for k in ("draws", "tune", "chains")}
    )
    ess = _min_ess(idata)
    rows["plain pm.sample"] = {
        "min_ess": ess,
        "wall_incl_compile": wall,
        "wall_excl_compile": t_sample,
    }
    backends = ["pymc"] + [
        b_ for b_, pkg in (("nutpie", "nutpie"), ("numpyro", "numpyro")) if _has(pkg)
    ]
    for backend in backends:
        model = RegressionModel(X, y, Laplace(b), lik)
        extra = {"cores": 1} if backend == "pymc" else {}
        t0 = time.perf_counter()
        first = sample_posterior(model, backend=backend, progressbar=False, **kw, **extra)
        wall1 = time.perf_counter() - t0
        if backend == "numpyro":
            # PyMC's JAX bridge freezes shared data, so every call re-traces: there is no
            # compile-excluded call to time
            rows[backend] = {
                "min_ess": _min_ess(first),
                "wall_incl_compile": wall1,
                "wall_excl_compile": float("nan"),
            }
            continue
        t0 = time.perf_counter()
        second = sample_posterior(model, backend=backend, progressbar=False, **kw, **extra)
        wall2 = time.perf_counter() - t0
        rows[backend] = {
            "min_ess": _min_ess(second),
            "wall_incl_compile": wall1,
            "wall_excl_compile": wall2,
            "min_ess_first": _min_ess(first),
        }
    base = rows["plain pm.sample"]
    print(
        f"\n== ESS/s, n={args.n} p={args.p} Laplace prior, {args.chains} chains x {args.draws} draws =="
    )
    print(
        f"{'sampler':18s} {'min ESS':>8s} {'wall+comp':>10s} {'wall':>8s} {'ESS/s+comp':>11s} {'ESS/s':>8s} {'ratio+comp':>10s} {'ratio':>7s}"
    )
    for name, r in rows.items():
        r["ess_per_s_incl"] = r["min_ess"] / r["wall_incl_compile"]
        r["ess_per_s_excl"] = r["min_ess"] / r["wall_excl_compile"]
        r["ratio_incl"] = r["ess_per_s_incl"] / (base["min_ess"] / base["wall_incl_compile"])
        r["ratio_excl"] = r["ess_per_s_excl"] / (base["min_ess"] / base["wall_excl_compile"])
        print(
            f"{name:18s} {r['min_ess']:8.0f} {r['wall_incl_compile']:10.2f} {r['wall_excl_compile']:8.2f} "
            f"{r['ess_per_s_incl']:11.1f} {r['ess_per_s_excl']:8.1f} {r['ratio_incl']:10.2f} {r['ratio_excl']:7.2f}"
        )
    out["backends"] = rows


def bench_exact(args, out):
    from bayesreg import Gaussian, GaussianLikelihood, RegressionModel
    from bayesreg.sampling import sample_posterior

    d = _problem(args.n, args.p)
    model = RegressionModel(d.X, d.y, Gaussian(0.5), GaussianLikelihood(sigma=float(d.noise_sd)))
    kw = dict(draws=args.draws, chains=args.chains, random_seed=2, progressbar=False)
    t0 = time.perf_counter()
    ex = sample_posterior(model, backend="exact", **kw)
    t_exact = time.perf_counter() - t0
    sample_posterior(model, tune=args.tune, cores=1, **kw)  # compile
    t0 = time.perf_counter()
    nuts = sample_posterior(model, tune=args.tune, cores=1, **kw)
    t_nuts = time.perf_counter() - t0
    e_ex, e_nuts = _min_ess(ex), _min_ess(nuts)
    ratio = (e_ex / t_exact) / (e_nuts / t_nuts)
    print(
        f"\n== conjugate case (Gaussian prior, known sigma), {args.chains} x {args.draws} draws =="
    )
    print(
        f"exact: min ESS {e_ex:.0f} in {t_exact:.3f} s; NUTS (compiled): min ESS {e_nuts:.0f} in {t_nuts:.2f} s"
    )
    print(f"exact / NUTS ESS/s ratio: {ratio:.0f}x")
    out["exact_vs_nuts"] = {
        "exact_s": t_exact,
        "nuts_s": t_nuts,
        "exact_ess": e_ex,
        "nuts_ess": e_nuts,
        "ratio": ratio,
    }


def bench_path(args, out):
    from bayesreg import GaussianLikelihood, Laplace, RegressionModel
    from bayesreg.sampling import posterior_path, sample_posterior

    d = _problem(args.n, args.p)
    X, y = d.X.to_numpy(), d.y
    scales = np.geomspace(0.005, 0.5, args.path_scales)
    kw = dict(
        draws=args.path_draws, tune=args.path_draws, chains=args.chains, random_seed=3, cores=1
    )
    model = RegressionModel(X, y, Laplace(float(scales[0])), GaussianLikelihood())
    t0 = time.perf_counter()
    path = posterior_path(model, scales, progressbar=False, include_map=False, **kw)
    t_path = time.perf_counter() - t0
    # "one fit's sampling time": mean over the path of the per-scale sampling time
    one_fit = float(np.mean(path.sampling_time))
    t0 = time.perf_counter()
    for s in scales:
        fresh = RegressionModel(X, y, Laplace(float(s)), GaussianLikelihood())
        sample_posterior(fresh, progressbar=False, log_likelihood=False, **kw)
    t_rebuild = time.perf_counter() - t0
    print(
        f"\n== posterior path, {len(scales)} scales, {args.chains} x {args.path_draws} draws (pymc) =="
    )
    print(f"path (one model, one compile): {t_path:.1f} s; rebuilding the model per scale: {t_rebuild:.1f} s "
          f"-> rebuild / path = {t_rebuild / t_path:.2f}x")  # fmt: skip
    print(
        f"path / ({len(scales)} x one fit's sampling time {one_fit:.2f} s) = {t_path / (len(scales) * one_fit):.2f} (target <= 1.3)"
    )
    out["path"] = {"path_s": t_path, "rebuild_s": t_rebuild, "one_fit_s": one_fit,
                   "path_over_20_fits": t_path / (len(scales) * one_fit)}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# BLAS: what PyTensor's "could not link to a BLAS" costs, and linking scipy's OpenBLAS
# (bayesreg.sampling.scipy_openblas_ldflags / link_scipy_openblas)
# ---------------------------------------------------------------------------------------------
_BLAS_CHILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
flags = sys.argv[1]
import pytensor
if flags:
    pytensor.config.blas__ldflags = flags
import numpy as np
from bayesreg import GaussianLikelihood, Laplace, RegressionModel
from bayesreg.datasets import make_sparse_regression
from bayesreg.sampling import sample_posterior
n, p, draws = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = make_sparse_regression(n_samples=n, n_features=p, n_nonzero=10, random_state=0)
m = RegressionModel(d.X, d.y, Laplace(0.05), GaussianLikelihood())
f = m.logp_dlogp_function()
th = m.initial_point() + 0.1
f(th)
reps = 3000
t0 = time.perf_counter()
for _ in range(reps):
    f(th)
t_eval = (time.perf_counter() - t0) / reps
kw = dict(draws=draws, tune=draws, chains=1, random_seed=0, progressbar=False, cores=1)
sample_posterior(m, **kw)
t0 = time.perf_counter()
sample_posterior(m, **kw)
t_sample = time.perf_counter() - t0
print(json.dumps({"ldflags": pytensor.config.blas__ldflags, "eval_us": 1e6 * t_eval, "sample_s": t_sample}))
"""


def bench_blas(args, out):
    from bayesreg.sampling import scipy_openblas_ldflags

    flags = scipy_openblas_ldflags()
    res = {}
    for label, f in (("no BLAS (pip default)", ""), ("scipy OpenBLAS linked", flags)):
        if label.startswith("scipy") and not f:
            print("scipy's OpenBLAS not found: skipped")
            continue
        proc = subprocess.run(
            [sys.executable, "-c", _BLAS_CHILD, f, str(args.n), str(args.p), str(args.blas_draws)],
            capture_output=True, text=True, timeout=1200,
        )  # fmt: skip
        if proc.returncode != 0:
            print(f"{label}: failed\n{proc.stderr[-2000:]}")
            continue
        res[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"\n== PyTensor BLAS (C backend), n={args.n} p={args.p}: logp+grad evaluation and 1 chain x {args.blas_draws} =="
    )
    for label, r in res.items():
        print(
            f"{label:24s} logp+grad {r['eval_us']:8.1f} us   sampling {r['sample_s']:6.2f} s   ldflags={'set' if r['ldflags'] else 'empty'}"
        )
    if len(res) == 2:
        a, b = res.values()
        print(
            f"no-BLAS / BLAS: logp+grad {a['eval_us'] / b['eval_us']:.2f}x, sampling {a['sample_s'] / b['sample_s']:.2f}x"
        )
    out["blas"] = res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--p", type=int, default=100)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--path-scales", type=int, default=20)
    ap.add_argument("--path-draws", type=int, default=300)
    ap.add_argument("--blas-draws", type=int, default=500)
    ap.add_argument("--only", choices=["backends", "exact", "path", "blas"], action="append")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    ap.add_argument("--json", help="write the numbers to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.p, args.draws, args.tune = 200, 20, 200, 200
        args.path_scales, args.path_draws, args.blas_draws = 3, 100, 100
    out = {"args": vars(args)}
    parts = args.only or ["backends", "exact", "path", "blas"]
    for name in parts:
        {"backends": bench_backends, "exact": bench_exact, "path": bench_path, "blas": bench_blas}[
            name
        ](args, out)
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2, default=float)


if __name__ == "__main__":
    main()
