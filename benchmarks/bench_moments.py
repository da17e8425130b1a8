"""Rows beyond memory: one pass over generated chunks, then fits whose time does not grow with n.

For each n (10^5, 10^6, and 10^7 with ``--large``), p = 50 features, the data are generated
block by block from a generator seeded by the block index (never all in memory) and the
moments computed in one pass (:meth:`bayesreg.moments.Moments.from_chunks`; with ``--dask``
also :meth:`~bayesreg.moments.Moments.from_dask` on dask's threaded scheduler). Printed per
n: the generation alone, the pass (generation included), and the fits from the moments: the
Laplace and elastic-net MAP (:func:`~bayesreg.moments.moments_map`, known sigma; and the
Laplace MAP with sigma estimated jointly), the exact conjugate posterior with 4000 draws
(:func:`~bayesreg.moments.moments_posterior`), best of 5, and NUTS on the Laplace posterior
with sigma estimated (:func:`~bayesreg.moments.moments_sample`, 4 chains x 1000 + 1000, one
run, with its minimum bulk ESS over w). The pass grows like n; the fits are flat in n.

Run: ``python benchmarks/bench_moments.py [--large] [--dask] [--p 50] [--block 250000]``.
"""

from __future__ import annotations

import argparse
import time

import arviz as az
import numpy as np

from bayesreg import ElasticNet, Gaussian, GaussianLikelihood, Laplace
from bayesreg.moments import Moments, moments_map, moments_posterior, moments_sample

SIGMA = 2.0


def block(k: int, rows: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Block k: X ~ 100 + N(0, 1), y = 5 + X w + N(0, sigma^2), w sparse."""
    rng = np.random.default_rng([2026, k])
    X = 100.0 + rng.standard_normal((rows, p))
    w = np.where(np.arange(p) % 3 == 0, np.linspace(-1.0, 1.0, p), 0.0)
    return X, 5.0 + X @ w + SIGMA * rng.standard_normal(rows)


def blocks(n: int, p: int, rows: int):
    for k, start in enumerate(range(0, n, rows)):
        yield block(k, min(rows, n - start), p)


def timed(f) -> tuple[float, float]:
    """(wall, CPU) seconds of f(): on a shared machine the CPU time is the comparable one."""
    t, c = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - t, time.process_time() - c


def best_of(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def dask_pass(n: int, p: int, rows: int) -> tuple[float, float]:
    import dask
    import dask.array as da

    def gen(block_id=None):
        X, y = block(block_id[0], rows, p)
        return np.column_stack([X, y])

    V = da.map_blocks(gen, chunks=((rows,) * (n // rows), (p + 1,)), dtype=float)
    with dask.config.set(scheduler="threads"):
        return timed(lambda: Moments.from_dask(V[:, :p], V[:, p]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", action="store_true", help="also n = 10^7")
    ap.add_argument("--dask", action="store_true", help="also time the dask pass")
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--block", type=int, default=250_000, help="rows per chunk")
    args = ap.parse_args()
    p, rows = args.p, args.block
    lik = GaussianLikelihood(sigma=SIGMA)
    sizes = [10**5, 10**6] + ([10**7] if args.large else [])
    print(f"p = {p}, chunks of {rows} rows; seconds")
    print("wall (CPU) seconds; fits: best of 5 wall")
    for n in sizes:
        gen = timed(lambda: sum(1 for _ in blocks(n, p, rows)))  # noqa: B023
        box = []
        one_pass = timed(lambda: box.append(Moments.from_chunks(blocks(n, p, rows))))  # noqa: B023
        m = box[0]
        dsk = dask_pass(n, p, min(rows, n)) if args.dask else (float("nan"),) * 2
        moments_map(m, Laplace(0.01), lik)  # warm-up: numba's disk cache, BLAS
        lap = best_of(lambda: moments_map(m, Laplace(0.01), lik))  # noqa: B023
        enet = best_of(lambda: moments_map(m, ElasticNet(0.01, 0.5), lik))  # noqa: B023
        rng = np.random.default_rng(0)
        exact = best_of(lambda: moments_posterior(m, Gaussian(1.0), lik).sample(4000, rng))  # noqa: B023
        free = GaussianLikelihood()
        lap_sigma = best_of(lambda: moments_map(m, Laplace(0.01), free))  # noqa: B023
        t0 = time.perf_counter()
        idata = moments_sample(m, Laplace(0.01), free, random_seed=0)
        nuts = time.perf_counter() - t0
        ess = float(az.ess(idata, var_names=["w"])["w"].min())
        print(
            f"n = {n:>8}: generate {gen[0]:.2f} ({gen[1]:.2f}), one pass (generation "
            f"included) {one_pass[0]:.2f} ({one_pass[1]:.2f}), dask pass {dsk[0]:.2f} "
            f"({dsk[1]:.2f}) | Laplace MAP {lap * 1e3:.2f} ms, elastic-net MAP "
            f"{enet * 1e3:.2f} ms, Laplace MAP sigma estimated {lap_sigma * 1e3:.2f} ms, exact "
            f"posterior + 4000 draws {exact * 1e3:.1f} ms, NUTS (Laplace, sigma) {nuts:.2f} s "
            f"(min bulk ESS w {ess:.0f})"
        )


if __name__ == "__main__":
    main()
