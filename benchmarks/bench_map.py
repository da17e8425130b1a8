"""Time bayesreg's MAP against scikit-learn in the same process and print ratios.

Problems: n=1000, p=100 and n=200, p=1000 (sparse truth, Gaussian noise sd 1). Rows:

* Lasso: ``map_estimate`` (FISTA + Newton polish, relative KKT tol 1e-8) vs ``Lasso`` at the
  converted alpha (scikit-learn's default tol=1e-4); the zero patterns are compared.
* Ridge: ``map_estimate`` (closed form) vs ``Ridge(solver="cholesky")``.
* Lasso path: 100 alphas (geometric, from alpha_max down to 1e-3 alpha_max): our MAP along the
  path via ``set_prior_scale`` (one compiled graph) vs ``lasso_path`` (warm starts).

Compilation happens once per model and is excluded (a warm-up solve); each timing is the best
of ``--repeat`` runs. Run: ``python benchmarks/bench_map.py``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.linear_model import Lasso, Ridge, lasso_path

from bayesreg import GaussianLikelihood, RegressionModel, penalty_to_prior
from bayesreg.solvers import map_estimate


def _best(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:10] = rng.choice([-1, 1], 10) * rng.uniform(1, 3, 10)
    return X, X @ w + rng.standard_normal(n) + 1.0


def main(repeat: int = 3) -> None:
    warnings.filterwarnings("ignore")
    for n, p in [(1000, 100), (200, 1000)]:
        _bench(n, p, repeat)


def _bench(n: int, p: int, repeat: int) -> None:
    X, y = _problem(n, p)
    alpha_max = float(np.max(np.abs((X - X.mean(0)).T @ (y - y.mean())))) / n
    alpha = 0.05 * alpha_max
    model = RegressionModel(
        X, y, penalty_to_prior("sklearn_lasso", alpha, n=n), GaussianLikelihood(1.0)
    )
    map_estimate(model, tol=1e-8)  # compile once
    t_ours, est = _best(lambda m=model: map_estimate(m, tol=1e-8), repeat)
    t_sk, sk = _best(lambda a=alpha: Lasso(alpha=a).fit(X, y), repeat)
    same = np.array_equal(est.coef == 0, sk.coef_ == 0)
    print(
        f"n={n:5d} p={p:5d} Lasso : ours {t_ours * 1e3:8.2f} ms  sklearn {t_sk * 1e3:8.2f} ms  "
        f"ratio {t_ours / t_sk:6.2f}  zero pattern identical: {same} "
        f"(nnz {est.n_nonzero} vs {np.count_nonzero(sk.coef_)})"
    )
    ridge = RegressionModel(X, y, penalty_to_prior("sklearn_ridge", 1.0), GaussianLikelihood(1.0))
    map_estimate(ridge)
    t_ours, _ = _best(lambda m=ridge: map_estimate(m), repeat)
    t_sk, _ = _best(lambda: Ridge(alpha=1.0, solver="cholesky").fit(X, y), repeat)
    print(
        f"n={n:5d} p={p:5d} Ridge : ours {t_ours * 1e3:8.2f} ms  sklearn {t_sk * 1e3:8.2f} ms  "
        f"ratio {t_ours / t_sk:6.2f}"
    )
    alphas = alpha_max * np.geomspace(1.0, 1e-3, 100)

    def ours_path(m=model):
        out = []
        for a in alphas:
            m.set_prior_scale(1.0 / (n * a))  # sigma = 1: b = 1 / (n alpha)
            out.append(map_estimate(m, tol=1e-8, warn=False).coef)
        return np.array(out)

    t_ours, _ = _best(ours_path, 1)
    t_sk, _ = _best(lambda: lasso_path(X - X.mean(0), y - y.mean(), alphas=alphas), 1)
    print(
        f"n={n:5d} p={p:5d} path  : ours {t_ours * 1e3:8.2f} ms  sklearn {t_sk * 1e3:8.2f} ms  "
        f"ratio {t_ours / t_sk:6.2f}  (100 alphas; ours cold-starts each alpha)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    main(parser.parse_args().repeat)
