"""The exact MAP of a piecewise-linear likelihood with a Gaussian or elastic-net prior: a QP.

With a likelihood whose loss is ``J0 = sum_i c_pos max(r_i, 0) + c_neg max(-r_i, 0)``,
``r = y - X w - b`` (:meth:`~bayesreg.likelihoods.Likelihood.linear_pieces`; the Laplace
likelihood: least absolute deviations) and a penalty ``sum_j a_j |w_j| + c_j w_j^2 / 2`` with
every ``c_j > 0`` (:meth:`~bayesreg.priors.Prior.elastic_coefs`; a = 0 for a Gaussian prior:
robust ridge), the MAP solves the convex quadratic program::

    minimize    a' (w+ + w-) + (w+ - w-)' C (w+ - w-) / 2 + c_pos 1' r+ + c_neg 1' r-
    subject to  X (w+ - w-) + b 1 + r+ - r- = y,    w+, w-, r+, r- >= 0,  b free

(the linear program of :mod:`bayesreg.solvers.linear_program` plus the quadratic term), solved by
HiGHS' active-set QP solver (the ``highspy`` package).

**Polish.** An active-set solution stops at a tolerance of about 1e-7. Its active set -- the
rows fitted exactly (``E``: r_i = 0), the zero weights (``Z``) and the signs of the others -- fixes
every other multiplier (``lambda_i = c_pos`` where ``r_i > 0``, ``-c_neg`` where ``r_i < 0``),
and the KKT conditions on that set are one linear system in (w_free, b, lambda_E)::

    c_j w_j - X_j' lambda = -a_j sign(w_j)    (j not in Z)
    1' lambda = 0                              (with an intercept)
    x_i' w + b = y_i                           (i in E)

solved by least squares (it is square when the active set is not degenerate). The polished point
is kept when its own certificate is smaller.

**Optimality** is certified as for the LP: the multipliers projected on the loss's
subdifferential, the prior's KKT residual at the gradient ``-X' lambda``, ``|1' lambda|`` for the
intercept, and the equality constraints to ``1e-9 max(1, ||y||_inf)``.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
from scipy import sparse

from bayesreg._capabilities import HAS_MAP, PIECEWISE_LINEAR_LIKELIHOOD, Need
from bayesreg.model import RegressionModel
from bayesreg.solvers.linear_program import LinearProgramSolution, certificate

__all__ = ["QP_NEEDS", "quadratic_program_map"]


def _positive_l2(prior, lik) -> bool:
    coefs = prior.elastic_coefs(1.0)
    return coefs is not None and bool(np.all(np.asarray(coefs[1]) > 0.0))


#: a penalty with a strictly positive L2 part on every coefficient
POSITIVE_L2 = Need(
    "a penalty a*||w||_1 + c*||w||^2/2 with c > 0 for every coefficient (Prior.elastic_coefs: "
    "a Gaussian or elastic-net prior)",
    _positive_l2,
)
_HIGHSPY = Need(
    "the highspy package (pip install highspy)",
    lambda p, lik: _has_highspy(),
)
#: what the quadratic-program route needs of (prior, likelihood)
QP_NEEDS = (HAS_MAP, PIECEWISE_LINEAR_LIKELIHOOD, POSITIVE_L2, _HIGHSPY)


def _has_highspy() -> bool:
    import importlib.util

    return importlib.util.find_spec("highspy") is not None


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints its banner to the C-level stdout when the first solver object is made."""
    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def _solve_highs(X, y, a, c, pieces, fit_intercept):
    """HiGHS' QP over x = [w+ (p), w- (p), b (0 or 1), r+ (n), r- (n)]: (x, row duals, info)."""
    import highspy

    n, p = X.shape
    nb = 1 if fit_intercept else 0
    Xs, eye = sparse.csc_array(X), sparse.identity(n, format="csc")
    blocks = [Xs, -Xs] + ([sparse.csc_array(np.ones((n, 1)))] if nb else [])
    A = sparse.hstack([*blocks, eye, -eye], format="csc")
    nx = A.shape[1]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = nx, n
    lp.col_cost_ = np.concatenate(
        [a, a, np.zeros(nb), np.full(n, pieces[0]), np.full(n, pieces[1])]
    )
    lp.col_lower_ = np.concatenate([np.zeros(2 * p), np.full(nb, -np.inf), np.zeros(2 * n)])
    lp.col_upper_ = np.full(nx, np.inf)
    lp.row_lower_ = lp.row_upper_ = y
    mat = lp.a_matrix_
    mat.format_ = highspy.MatrixFormat.kColwise
    mat.num_col_, mat.num_row_ = nx, n
    mat.start_, mat.index_, mat.value_ = A.indptr, A.indices, A.data
    # the lower triangle of Q, column by column: [[C, -C], [-C, C]] on (w+, w-)
    hess = highspy.HighsHessian()
    hess.dim_, hess.format_ = nx, highspy.HessianFormat.kTriangular
    j = np.arange(p)
    index = np.concatenate([np.column_stack([j, p + j]).ravel(), p + j])
    value = np.concatenate([np.column_stack([c, -c]).ravel(), c])
    start = np.concatenate(
        [2 * np.arange(p + 1), 2 * p + 1 + np.arange(p), np.full(nx - 2 * p, 3 * p)]
    )
    hess.start_, hess.index_, hess.value_ = start.astype(np.int32), index.astype(np.int32), value
    model = highspy.HighsModel()
    model.lp_, model.hessian_ = lp, hess
    with _quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    h.passModel(model)
    h.run()
    sol = h.getSolution()
    status = h.modelStatusToString(h.getModelStatus())
    return (
        np.asarray(sol.col_value),
        np.asarray(sol.row_dual),
        status,
        int(h.getInfo().qp_iteration_count),
    )


def _polish(X, y, a, c, pieces, fit_intercept, w, b, tol_zero):
    """The KKT system on the active set of (w, b) (module docstring), or None if singular."""
    p = X.shape[1]
    r = y - X @ w - b
    scale = max(1.0, float(np.max(np.abs(y), initial=0.0)))
    exact = np.abs(r) <= tol_zero * scale
    free = np.abs(w) > tol_zero * max(1.0, float(np.max(np.abs(w), initial=0.0)))
    lam_fixed = np.where(r > 0, pieces[0], -pieces[1])
    lam_fixed[exact] = 0.0
    E, F = np.flatnonzero(exact), np.flatnonzero(free)
    nf, ne, nb = F.size, E.size, 1 if fit_intercept else 0
    # unknowns u = [w_F, b, lambda_E]; rows: stationarity (F), intercept, fitted rows (E)
    M = np.zeros((nf + nb + ne, nf + nb + ne))
    rhs = np.zeros(M.shape[0])
    M[:nf, :nf] = np.diag(c[F])
    M[:nf, nf + nb :] = -X[np.ix_(E, F)].T
    rhs[:nf] = X[:, F].T @ lam_fixed - a[F] * np.sign(w[F])
    if nb:
        M[nf, nf + nb :] = -1.0
        rhs[nf] = lam_fixed.sum()
        M[nf + nb :, nf] = 1.0
    M[nf + nb :, :nf] = X[np.ix_(E, F)]
    rhs[nf + nb :] = y[E]
    u, *_ = np.linalg.lstsq(M, rhs, rcond=None)
    if not np.all(np.isfinite(u)):
        return None
    w_new = np.zeros(p)
    w_new[F] = u[:nf]
    b_new = float(u[nf]) if nb else 0.0
    lam = lam_fixed.copy()
    lam[E] = u[nf + nb :]
    return w_new, b_new, lam


def quadratic_program_map(
    model: RegressionModel, *, tol: float = 1e-10, sigma: float | None = None
) -> LinearProgramSolution:
    """The MAP of ``model`` at a fixed sigma by the QP above (module docstring).

    Parameters
    ----------
    model : RegressionModel
        A piecewise-linear likelihood (``Likelihood.linear_pieces``) and an elastic-form prior
        with a positive L2 part on every coefficient (``Prior.elastic_coefs(sigma)``, c > 0).
    tol : float, default 1e-10
        Relative KKT tolerance of the certificate.
    sigma : float, optional
        The noise scale to solve at (default: the likelihood's known sigma); ``map_estimate``
        passes it when sigma is estimated.

    Returns
    -------
    LinearProgramSolution
        The same record as the LP's (coefficients, intercept, QP iterations, certified KKT
        residual, its target, constraint violation, HiGHS' status).
    """
    sigma = float(model.likelihood.fixed_sigma if sigma is None else sigma)
    a, c = model.prior.elastic_coefs(sigma)
    n, p = model.n, model.p
    X, y = model.X, model.y
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), (p,)).copy()
    c = np.broadcast_to(np.asarray(c, dtype=np.float64), (p,)).copy()
    pieces = model.likelihood.linear_pieces(sigma)
    x, lam, status, n_iter = _solve_highs(X, y, a, c, pieces, model.fit_intercept)
    nb = 1 if model.fit_intercept else 0
    scale = float(np.max(np.abs(X).sum(axis=0))) * max(pieces) if p else 0.0
    target = tol * max(1.0, scale)
    if x.size != 2 * p + nb + 2 * n or not np.all(np.isfinite(x)):
        nan = np.full(p, np.nan)
        return LinearProgramSolution(nan, np.nan, n_iter, np.inf, target, np.inf, status)
    w, b = x[:p] - x[p : 2 * p], (float(x[2 * p]) if nb else 0.0)
    best = _scored(model, w, b, lam, pieces, sigma)
    polished = _polish(X, y, a, c, pieces, model.fit_intercept, w, b, 1e-6)
    if polished is not None:
        candidate = _scored(model, *polished, pieces, sigma)
        if candidate[0] < best[0] and np.isfinite(candidate[1]):
            best = candidate
    resid, infeas, w, b = best
    return LinearProgramSolution(w, b, n_iter, resid, target, infeas, status)


def _scored(model, w, b, lam, pieces, sigma):
    """(certified KKT residual, constraint violation, w, b) of a candidate (w, b, lambda)."""
    r = model.y - model.X @ w - b
    r_pos, r_neg = np.maximum(r, 0.0), np.maximum(-r, 0.0)
    # the split r = r+ - r- holds by construction: the violation is rounding of the products
    infeas = float(np.max(np.abs(model.X @ w + b + r_pos - r_neg - model.y), initial=0.0))
    # a residual within rounding of zero is a fitted row: its multiplier is free in the box
    tiny = 1e-12 * max(1.0, float(np.max(np.abs(model.y), initial=0.0)))
    r_pos = np.where(r_pos > tiny, r_pos, 0.0)
    r_neg = np.where(r_neg > tiny, r_neg, 0.0)
    resid = certificate(model, w, b, r_pos, r_neg, lam, pieces, sigma)
    return resid, infeas, w, b
