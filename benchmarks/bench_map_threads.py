"""The Laplace MAP at n = 200, p = 1000 under default BLAS threads (as users run it), against
scikit-learn's Lasso in the same process, with and without the solvers' one-thread limit
(``bayesreg.solvers.map.SINGLE_THREAD_MAX_SIZE``). Wall clock, best of 7.

Run: ``python benchmarks/bench_map_threads.py``. Measured on the shared 2-core machine
(2026-12-02, another test run using both cores), four runs: with the limit 0.92-1.22x Lasso's
time; without it 0.84-3.99x (spinning OpenBLAS threads make the default erratic, not only slow).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import Lasso

import bayesreg.solvers.map as solver_map
from bayesreg import GaussianLikelihood, RegressionModel, make_sparse_regression, map_estimate
from bayesreg.conventions import penalty_to_prior


def best_of(f, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    d = make_sparse_regression(n_samples=200, n_features=1000, n_nonzero=10, random_state=0)
    X, y = np.asarray(d.X), d.y
    prior = penalty_to_prior("sklearn_lasso", 0.1, sigma=1.0, n=200)
    model = RegressionModel(X, y, prior, GaussianLikelihood(sigma=1.0))
    map_estimate(model)  # warm-up (compiles nothing below the numpy-evaluator size, caches)
    sk = best_of(lambda: Lasso(alpha=0.1).fit(X, y))
    ours = best_of(lambda: map_estimate(model))
    print(f"default threads: ours {ours * 1e3:.2f} ms, Lasso {sk * 1e3:.2f} ms, {ours / sk:.2f}x")
    limit = solver_map.SINGLE_THREAD_MAX_SIZE
    solver_map.SINGLE_THREAD_MAX_SIZE = 0  # the limit off
    try:
        off = best_of(lambda: map_estimate(model))
    finally:
        solver_map.SINGLE_THREAD_MAX_SIZE = limit
    print(f"without the one-thread limit: ours {off * 1e3:.2f} ms, {off / sk:.2f}x")


if __name__ == "__main__":
    main()
