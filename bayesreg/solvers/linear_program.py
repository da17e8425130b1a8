"""The exact MAP of a piecewise-linear likelihood with an L1 prior: a linear program.

With a likelihood whose loss is ``J0 = sum_i c_pos max(r_i, 0) + c_neg max(-r_i, 0)``,
``r = y - X w - b`` (:meth:`~bayesreg.likelihoods.Likelihood.linear_pieces`; the Laplace
likelihood has ``c_pos = c_neg = 1 / sigma``) and a penalty ``sum_j a_j |w_j|``
(:meth:`~bayesreg.priors.Prior.elastic_coefs` with no L2 part), the MAP solves::

    minimize    a' (w+ + w-) + c_pos 1' r+ + c_neg 1' r-
    subject to  X (w+ - w-) + b 1 + r+ - r- = y,    w+, w-, r+, r- >= 0,  b free

(HiGHS' dual simplex through :func:`scipy.optimize.linprog`; a vertex solution, so the zeros
of w are exact). This is scikit-learn's ``QuantileRegressor`` problem at quantile
``c_pos / (c_pos + c_neg)``.

**Optimality** is certified here, not taken from the solver's status: the equality constraints'
multipliers lambda (``d objective / d y``) are a subgradient choice of the loss,
``-lambda_i in dJ0 / d eta_i`` (``lambda_i = c_pos`` where ``r_i > 0``, ``-c_neg`` where
``r_i < 0``, anything between where ``r_i = 0``). After projecting lambda onto that set, the
KKT residual of the whole problem is the prior's residual at the gradient ``-X' lambda``
(:meth:`~bayesreg.priors.Prior.kkt_residual`) together with ``|1' lambda|`` for the intercept;
converged means it is ``<= tol * max(1, r_max)`` with ``r_max = max_j ||X_j||_1 max(c_pos,
c_neg)`` (the largest value ``|X' lambda|`` can take: the gradient's scale) and the equality
constraints hold to ``1e-9 max(1, ||y||_inf)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import optimize, sparse

from bayesreg._capabilities import HAS_MAP, L1_ONLY, PIECEWISE_LINEAR_LIKELIHOOD
from bayesreg.model import RegressionModel

__all__ = ["LP_NEEDS", "LinearProgramSolution", "linear_program_map"]

#: what the linear-program route needs of (prior, likelihood)
LP_NEEDS = (HAS_MAP, PIECEWISE_LINEAR_LIKELIHOOD, L1_ONLY)


class LinearProgramSolution(NamedTuple):
    """The LP's MAP: coefficients, intercept, simplex iterations, the certified KKT residual,
    its target, the primal infeasibility and the solver's message."""

    coef: np.ndarray
    intercept: float
    n_iter: int
    residual: float
    target: float
    infeasibility: float
    message: str

    @property
    def converged(self) -> bool:
        return bool(self.residual <= self.target and np.isfinite(self.infeasibility))


def _lp_data(model: RegressionModel, a: np.ndarray, pieces: tuple[float, float]):
    """(c, A_eq) of the LP over x = [w+ (p), w- (p), b (0 or 1), r+ (n), r- (n)]."""
    n = model.n
    X = sparse.csr_array(model.X)
    eye = sparse.identity(n, format="csr")
    blocks = [X, -X] + ([sparse.csr_array(np.ones((n, 1)))] if model.fit_intercept else [])
    A = sparse.hstack([*blocks, eye, -eye], format="csc")
    nb = 1 if model.fit_intercept else 0
    c = np.concatenate([a, a, np.zeros(nb), np.full(n, pieces[0]), np.full(n, pieces[1])])
    return c, A


def certificate(model, w, b, r_pos, r_neg, lam, pieces, sigma) -> float:
    """KKT residual of the whole problem at (w, b) with the multipliers' subgradient choice."""
    c_pos, c_neg = pieces
    lam = np.clip(lam, -c_neg, c_pos)
    lam = np.where(r_pos > 0.0, c_pos, np.where(r_neg > 0.0, -c_neg, lam))
    g_w = -(model.X.T @ lam)  # d J0 / d w = X' (d J0 / d eta) = -X' lambda
    r = float(np.max(model.prior.kkt_residual(w, g_w, sigma))) if model.p else 0.0
    if model.fit_intercept:
        r = max(r, abs(float(lam.sum())))
    return r


def linear_program_map(
    model: RegressionModel, *, tol: float = 1e-10, sigma: float | None = None
) -> LinearProgramSolution:
    """The MAP of ``model`` at a fixed sigma by the linear program above (module docstring).

    Parameters
    ----------
    model : RegressionModel
        A piecewise-linear likelihood (``Likelihood.linear_pieces``) and a pure L1 prior
        (``Prior.elastic_coefs(sigma)`` with c = 0).
    tol : float, default 1e-10
        Relative KKT tolerance of the certificate.
    sigma : float, optional
        The noise scale to solve at (default: the likelihood's known sigma). ``map_estimate``
        passes it when sigma is estimated (the (w, b) block of the joint MAP).

    Returns
    -------
    LinearProgramSolution
    """
    sigma = float(model.likelihood.fixed_sigma if sigma is None else sigma)
    a, _ = model.prior.elastic_coefs(sigma)
    n, p = model.n, model.p
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), (p,))
    pieces = model.likelihood.linear_pieces(sigma)
    c, A = _lp_data(model, a, pieces)
    nb = 1 if model.fit_intercept else 0
    bounds = [(0, None)] * (2 * p) + [(None, None)] * nb + [(0, None)] * (2 * n)
    options = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    res = optimize.linprog(
        c, A_eq=A, b_eq=model.y, bounds=bounds, method="highs-ds", options=options
    )
    scale = float(np.max(np.abs(model.X).sum(axis=0))) * max(pieces) if p else 0.0
    target = tol * max(1.0, scale)
    if res.x is None:
        nan = np.full(p, np.nan)
        return LinearProgramSolution(nan, np.nan, int(res.nit), np.inf, target, np.inf, res.message)
    x = res.x
    w = x[:p] - x[p : 2 * p]
    b = float(x[2 * p]) if nb else 0.0
    r_pos, r_neg = x[2 * p + nb : 2 * p + nb + n], x[2 * p + nb + n :]
    infeas = float(np.max(np.abs(model.X @ w + b + r_pos - r_neg - model.y), initial=0.0))
    if infeas > 1e-9 * max(1.0, float(np.max(np.abs(model.y), initial=0.0))):
        infeas = np.inf  # the equality constraints do not hold: not a solution
    resid = certificate(model, w, b, r_pos, r_neg, res.eqlin.marginals, pieces, sigma)
    return LinearProgramSolution(w, b, int(res.nit), resid, target, infeas, res.message)
