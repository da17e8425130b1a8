"""The horseshoe at p >> n: bayesreg's exact blocked Gibbs sampler (bayesreg.horseshoe_gibbs),
run as users run it: ``sample_posterior(model)``, whose ``backend="auto"`` picks the Gibbs sweeps
here (p > 400); ``--nuts`` runs the loser, the non-centred NUTS graph (``collapse=False``), as
the comparison row.

Problem: ``make_sparse_regression(n, p, n_nonzero=20, random_state=0)`` (noise sd 1), prior
``RegularizedHorseshoe.from_expected_nonzeros(20, p, n)`` (``--prior horseshoe`` for the plain
one), Gaussian likelihood with sigma estimated, 4 chains of 1000 + 1000 at the sampler's
default settings. Printed: wall time, min bulk ESS over the coefficients, bulk ESS of the
global scale tau and of sigma, ESS/s of tau, max R-hat (over w, tau, sigma), peak RSS.
``--local-update slice`` runs the losing local-scale step as a comparison row; ``--nuts`` the
non-centred NUTS (its divergences printed too; measured earlier: one chain of 1000 + 1000 took
630-780 s with 11-20 divergences at mean tree depth 9.9).

Targets (issue 15): n=200, p=2000 under 60 s with bulk ESS >= 400 for every coefficient and
for tau and sigma, R-hat <= 1.01; ``--n 500 --p 10000`` under 10 min and 4 GB.

Measured (2-core machine shared with another engineer's jobs, load 1.5-2.0, 2 worker
processes, 2026-12-03), default run: wall_s 44.0, min_bulk_ess_w 710.4, bulk_ess_tau 406.2,
bulk_ess_sigma 417.0, ess_per_s_tau 9.22, max_rhat 1.0082, peak RSS 832 MB -- targets met;
``--seed 2``: 45.4 s, ESS w 594, tau 284, sigma 289, R-hat 1.0125 -- not met.
``--prior horseshoe`` (load ~1): wall_s 43.3, min_bulk_ess_w 563.1,
bulk_ess_tau 368.5, bulk_ess_sigma 334.1, max_rhat 1.0101 -- ESS of tau and sigma short
(``--seed 2``: 43.8 s, 508, 325, 301, R-hat 1.0168). Before the in-pass global steps, ``local_passes`` and the
ridge-axis global step (2026-12-02): 27.6 s idle, min ESS w 175, tau 130, sigma 81, R-hat
1.031. ``global_accept`` is 1.0 now (every global step is a slice step).

``--n 500 --p 10000`` (2026-12-03, load ~1, default settings): wall_s 562.8 (target 600),
min_bulk_ess_w 1552, bulk_ess_tau 323, bulk_ess_sigma 556, max_rhat 1.0056, peak RSS 2573 MB
(main, after the 899 MB workers exited).

Usage: ``python benchmarks/bench_horseshoe_pn.py [--n 200] [--p 2000] [--draws 1000]
[--tune 1000] [--chains 4] [--prior regularized|horseshoe] [--local-update collapsed|slice]
[--local-passes 5] [--cores N] [--seed 1] [--nuts]``
"""

from __future__ import annotations

import argparse
import resource
import time

import arviz as az
import numpy as np

from bayesreg.datasets import make_sparse_regression
from bayesreg.model import RegressionModel
from bayesreg.priors import Horseshoe, RegularizedHorseshoe
from bayesreg.sampling import sample_posterior


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--p", type=int, default=2000)
    ap.add_argument("--nonzero", type=int, default=20)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--prior", choices=["regularized", "horseshoe"], default="regularized")
    ap.add_argument("--local-update", choices=["collapsed", "slice"], default="collapsed")
    ap.add_argument("--cores", type=int, default=None)
    ap.add_argument("--local-passes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nuts", action="store_true", help="the non-centred NUTS row instead")
    args = ap.parse_args()
    data = make_sparse_regression(args.n, args.p, args.nonzero, random_state=0)
    cls = RegularizedHorseshoe if args.prior == "regularized" else Horseshoe
    model = RegressionModel(
        data.X, data.y, cls.from_expected_nonzeros(args.nonzero, args.p, args.n)
    )
    t0 = time.perf_counter()
    common = {"draws": args.draws, "tune": args.tune, "chains": args.chains,
              "random_seed": args.seed, "progressbar": False}  # fmt: skip
    if args.nuts:
        idata = sample_posterior(model, collapse=False, **common)
    else:
        idata = sample_posterior(model, cores=args.cores, local_update=args.local_update,
                                 local_passes=args.local_passes, **common)  # fmt: skip
    wall = time.perf_counter() - t0
    post = idata.posterior[["w", "w_tau", "sigma"]]
    ess, rhat = az.ess(post, method="bulk"), az.rhat(post)
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = {
        "problem": f"n={args.n} p={args.p} nonzero={args.nonzero} prior={args.prior} "
        f"local_update={args.local_update} local_passes={args.local_passes} chains={args.chains} draws={args.draws} "
        f"tune={args.tune}",
        "wall_s": round(wall, 1),
        "min_bulk_ess_w": round(float(ess["w"].min()), 1),
        "bulk_ess_tau": round(float(ess["w_tau"]), 1),
        "bulk_ess_sigma": round(float(ess["sigma"]), 1),
        "ess_per_s_tau": round(float(ess["w_tau"]) / wall, 2),
        "max_rhat": round(float(max(rhat[v].max() for v in rhat.data_vars)), 4),
        "sampler": idata.posterior.attrs.get("sampler", idata.posterior.attrs["backend"]),
        "global_accept / divergences": round(idata.posterior.attrs["global_accept"], 3)
        if "global_accept" in idata.posterior.attrs
        else int(idata.sample_stats["diverging"].sum()),
        "peak_rss_mb (main, largest worker)": (round(rss_self), round(rss_children)),
    }
    for key, value in rows.items():
        print(f"{key}: {value}")
    met = (
        wall < (60 if args.p <= 2000 else 600)
        and min(rows["min_bulk_ess_w"], rows["bulk_ess_tau"], rows["bulk_ess_sigma"]) >= 400
        and rows["max_rhat"] <= 1.01
    )
    print(f"targets met: {met}")
    print(
        f"posterior mean sigma: {float(idata.posterior['sigma'].mean()):.3f} (true {data.noise_sd})"
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
