"""Early stopping is (nearly) ridge: both are spectral filters on the singular directions.

Objective and iteration. Gradient descent on ``f(w) = ||yc - Xc w||^2 / 2`` (SSE/2; with an
intercept X and y are centred and ``b = mean(y) - mean(X) @ w`` at every step, which is what
descent on ``||y - X w - b||^2 / 2`` gives once b has taken its exact step; the intercept is not
regularized), started at ``w = 0`` with step ``lr``::

    w_{t+1} = w_t + lr Xc' (yc - Xc w_t).

With the thin SVD ``Xc = U diag(d) V'`` and ``z = U' yc`` this is, in closed form,
``w_t = V diag(f_j / d_j) z`` with the filter ``f_j = 1 - (1 - lr d_j^2)^t``
(:func:`early_stopping_iterate`). Ridge, ``argmin ||yc - Xc w||^2 / 2 + lam ||w||^2 / 2``
(scikit-learn ``Ridge(alpha=lam)``; a Gaussian prior with ``lam = sigma^2 / tau^2``), is the
same formula with ``f_j = d_j^2 / (d_j^2 + lam)``. Gradient flow (lr -> 0 with ``lr t = s``
fixed) has ``f_j = 1 - exp(-s d_j^2)``.

Which lam matches step t? Two answers:

* ``lam = 1 / (lr t)`` (:func:`early_stopping_ridge_lambda`): the gradient-flow match of Ali,
  Kolter & Tibshirani (2019), whose Theorem 1 says the estimation risk of gradient flow at time
  s is at most 1.6862 times that of ridge at ``lam = 1/s``, for every design, true weights and
  noise level (:func:`gradient_flow_risk`, :func:`ridge_risk`, :data:`ALI_BOUND`).
* the lam with the same effective degrees of freedom, ``sum_j f_j(t) = sum_j d_j^2 / (d_j^2 +
  lam)`` (:func:`early_stopping_df_lambda`, a root finder).

References
----------
Ali, Kolter & Tibshirani (2019). A continuous-time view of early stopping for least squares
regression. AISTATS, PMLR 89.
Hastie, Tibshirani & Friedman (2009). The Elements of Statistical Learning, sec. 3.4.1
(effective degrees of freedom of ridge).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import optimize

from bayesreg._linalg import centre_xy
from bayesreg._validation import (
    check_finite_array,
    check_nonnegative,
    check_positive,
    check_X_y,
)

__all__ = [
    "ALI_BOUND",
    "ali_constant",
    "early_stopping_df",
    "early_stopping_df_lambda",
    "early_stopping_iterate",
    "early_stopping_path",
    "early_stopping_ridge_lambda",
    "gradient_flow_risk",
    "ridge_path",
    "ridge_risk",
]

#: Ali, Kolter & Tibshirani (2019), Theorem 1: risk(gradient flow, s) <= 1.6862 risk(ridge, 1/s)
ALI_BOUND = 1.6862
#: singular values below this fraction of the largest are treated as 0 (rank deficiency)
_RANK_RTOL = 1e-12


class _Spectral(NamedTuple):
    d: np.ndarray  # (r,) positive singular values of the (centred) design
    Vt: np.ndarray  # (r, p)
    z: np.ndarray  # (r,) U' yc
    x_mean: np.ndarray
    y_mean: float


def _spectral(X: np.ndarray, y: np.ndarray, fit_intercept: bool) -> _Spectral:
    Xc, yc, x_mean, y_mean = centre_xy(X, y, fit_intercept)
    U, d, Vt = np.linalg.svd(Xc, full_matrices=False)
    keep = d > _RANK_RTOL * (d[0] if d.size else 0.0)
    return _Spectral(d[keep], Vt[keep], U[:, keep].T @ yc, x_mean, y_mean)


def _check_steps(t: object, name: str = "t") -> int:
    if isinstance(t, bool) or not isinstance(t, int | np.integer) or t < 0:
        raise ValueError(
            f"The '{name}' parameter must be an int in the range [0, inf). Got {t!r} instead."
        )
    return int(t)


def _check_lr(lr: object, d: np.ndarray, owner: str) -> float:
    lr = check_positive(lr, "lr", owner)
    top = float(d[0] ** 2) if d.size else 0.0
    if lr * top >= 2.0:
        raise ValueError(
            f"The 'lr' parameter of {owner} must be below 2 / d_max^2 = {2.0 / top:.4g} (d_max "
            f"the largest singular value of the centred X), or gradient descent diverges. "
            f"Got {lr!r} instead."
        )
    return lr


def _coef(sp: _Spectral, f: np.ndarray) -> np.ndarray:
    """Coefficients ``V diag(f / d) z`` of the filter(s) f, shape (..., r) -> (..., p)."""
    return (f * sp.z / sp.d) @ sp.Vt


def early_stopping_iterate(
    X: object, y: object, lr: float, t: int, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """The t-th gradient-descent iterate on ``SSE / 2`` from ``w = 0``, in closed form.

    ``w_t = V diag((1 - (1 - lr d_j^2)^t) / d_j) U' yc`` (module docstring), equal to t steps of
    ``w <- w + lr Xc'(yc - Xc w)``.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    lr : float in (0, 2 / d_max^2)
        Step size (d_max: largest singular value of the centred X).
    t : int >= 0
        Number of steps.
    fit_intercept : bool, default True
        Centre X and y; the intercept is ``mean(y) - mean(X) @ w_t``.

    Returns
    -------
    coef : ndarray of shape (p,)
    intercept : float
    """
    coefs, intercepts = early_stopping_path(X, y, lr, [_check_steps(t)], fit_intercept)
    return coefs[0], float(intercepts[0])


def early_stopping_path(
    X: object, y: object, lr: float, steps: object, fit_intercept: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient-descent iterates at the given step counts (closed form; see
    :func:`early_stopping_iterate`).

    Returns
    -------
    coefs : ndarray of shape (len(steps), p)
    intercepts : ndarray of shape (len(steps),)
    """
    X, y = check_X_y(X, y)
    sp = _spectral(X, y, fit_intercept)
    lr = _check_lr(lr, sp.d, "early_stopping_path")
    ts = np.array([_check_steps(t, "steps") for t in np.atleast_1d(steps)], dtype=float)
    f = 1.0 - (1.0 - lr * sp.d**2)[None, :] ** ts[:, None]
    coefs = _coef(sp, f)
    return coefs, sp.y_mean - coefs @ sp.x_mean


def ridge_path(
    X: object, y: object, lams: object, fit_intercept: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge solutions ``argmin SSE/2 + lam ||w||^2 / 2`` (= ``Ridge(alpha=lam)``) by the SVD.

    Returns
    -------
    coefs : ndarray of shape (len(lams), p)
    intercepts : ndarray of shape (len(lams),)
    """
    X, y = check_X_y(X, y)
    lams = np.array([check_nonnegative(v, "lams", "ridge_path") for v in np.atleast_1d(lams)])
    sp = _spectral(X, y, fit_intercept)
    d2 = sp.d**2
    coefs = _coef(sp, d2[None, :] / (d2[None, :] + lams[:, None]))
    return coefs, sp.y_mean - coefs @ sp.x_mean


def early_stopping_ridge_lambda(lr: float, t: int) -> float:
    """``lam = 1 / (lr t)``: the ridge strength Ali et al. (2019) match to gradient flow at
    time ``lr t``. ``t = 0`` gives ``inf`` (w = 0)."""
    lr = check_positive(lr, "lr", "early_stopping_ridge_lambda")
    t = _check_steps(t)
    return float("inf") if t == 0 else 1.0 / (lr * t)


def early_stopping_df(X: object, lr: float, t: int, fit_intercept: bool = True) -> float:
    """Effective degrees of freedom ``sum_j 1 - (1 - lr d_j^2)^t`` of the t-th iterate (the
    trace of the linear map from yc to the fitted values)."""
    X = check_finite_array(X, "X", ndim=2)
    sp = _spectral(X, np.zeros(X.shape[0]), fit_intercept)
    lr = _check_lr(lr, sp.d, "early_stopping_df")
    return float(np.sum(1.0 - (1.0 - lr * sp.d**2) ** _check_steps(t)))


def early_stopping_df_lambda(X: object, lr: float, t: int, fit_intercept: bool = True) -> float:
    """The ridge lam with the degrees of freedom of the t-th iterate.

    Solves ``sum_j d_j^2 / (d_j^2 + lam) = early_stopping_df(X, lr, t)``, written as the
    equivalent ``sum_j lam / (d_j^2 + lam) = R = sum_j (1 - lr d_j^2)^t`` (no cancellation when
    R is tiny), by Brent's method in log lam on the bracket
    ``[R / sum_j d_j^-2, R d_max^2 / (r - R)]`` that contains the root (r = rank). ``t = 0``
    gives ``inf``; ``R`` underflowing to 0 (GD converged to least squares) gives 0. Raises
    ValueError when ``R < 0`` (possible only for ``lr d_j^2 > 1``, where the filter overshoots
    1 and no ridge matches).
    """
    X = check_finite_array(X, "X", ndim=2)
    d2 = _spectral(X, np.zeros(X.shape[0]), fit_intercept).d ** 2
    lr = _check_lr(lr, np.sqrt(d2), "early_stopping_df_lambda")
    if _check_steps(t) == 0:
        return float("inf")
    R = float(np.sum((1.0 - lr * d2) ** t))
    if R == 0.0:  # (1 - lr d^2)^t underflowed: the iterate is least squares, df = rank
        return 0.0
    if R < 0.0:
        raise ValueError(
            f"The iterate's degrees of freedom {d2.size - R:.6g} are not below the rank "
            f"{d2.size}: the filter overshoots (lr * d_max^2 > 1) and no ridge lam matches. "
            "Use lr <= 1 / d_max^2."
        )

    def gap(log_lam: float) -> float:
        lam = np.exp(log_lam)
        return float(np.sum(lam / (d2 + lam))) / R - 1.0

    lo = np.log(R / np.sum(1.0 / d2))
    hi = np.log(R * d2.max() / (d2.size - R))
    if gap(lo) >= 0.0:  # all d_j equal: the bracket is a point
        return float(np.exp(lo))
    return float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-14, rtol=1e-15)))


def _risk(X: object, coef: object, sigma: float, filt, owner: str) -> np.ndarray:
    """Exact ``E ||w_hat - w||^2`` of the spectral estimators with filters ``filt(d)`` (k, r)."""
    X = check_finite_array(X, "X", ndim=2)
    w = check_finite_array(coef, "coef", ndim=1)
    if w.size != X.shape[1]:
        raise ValueError(f"coef has {w.size} entries but X has {X.shape[1]} columns.")
    sigma = check_positive(sigma, "sigma", owner)
    sp = _spectral(X, np.zeros(X.shape[0]), fit_intercept=False)
    f = filt(sp.d)
    a = sp.Vt @ w  # coordinates of w on the row space; the rest is never estimated
    null = max(float(w @ w - a @ a), 0.0)
    bias2 = np.sum((1.0 - f) ** 2 * a**2, axis=1) + null
    return bias2 + sigma**2 * np.sum(f**2 / sp.d**2, axis=1)


def _nonnegative_grid(values: object, name: str, owner: str) -> np.ndarray:
    grid = np.atleast_1d(np.asarray(values, dtype=np.float64))
    for v in grid:
        check_nonnegative(v, name, owner)
    return grid


def gradient_flow_risk(X: object, coef: object, sigma: float, time: object) -> np.ndarray | float:
    """Exact estimation risk ``E ||w(s) - w||^2`` of gradient flow at time(s) s (no intercept).

    Model ``y = X w + e``, ``e ~ N(0, sigma^2 I)``, X fixed (Ali et al.'s setting); the
    estimator ``w(s)`` has filter ``f_j = 1 - exp(-s d_j^2)``; risk = bias^2 + variance =
    ``sum_j (1 - f_j)^2 (v_j'w)^2 + ||P_null w||^2 + sigma^2 sum_j f_j^2 / d_j^2``.

    Parameters
    ----------
    X : array-like of shape (n, p)
    coef : array-like of shape (p,)
        The true weights w.
    sigma : float > 0
    time : float >= 0 or array-like of shape (k,)

    Returns
    -------
    float, or ndarray of shape (k,) for an array of times
    """
    s = _nonnegative_grid(time, "time", "gradient_flow_risk")
    risk = _risk(X, coef, sigma, lambda d: -np.expm1(-np.outer(s, d**2)), "gradient_flow_risk")
    return risk if np.ndim(time) else float(risk[0])


def ridge_risk(X: object, coef: object, sigma: float, lam: object) -> np.ndarray | float:
    """Exact estimation risk of ridge ``argmin ||y - X w||^2/2 + lam ||w||^2/2`` (no
    intercept; filter ``d_j^2 / (d_j^2 + lam)``; see :func:`gradient_flow_risk`).
    ``lam`` may be an array (k,); returns the matching float or ndarray."""
    lams = _nonnegative_grid(lam, "lam", "ridge_risk")

    def filt(d: np.ndarray) -> np.ndarray:
        return d[None, :] ** 2 / (d[None, :] ** 2 + lams[:, None])

    risk = _risk(X, coef, sigma, filt, "ridge_risk")
    return risk if np.ndim(lam) else float(risk[0])


def ali_constant() -> float:
    """``max_{x > 0} ((1 - e^-x)(1 + x) / x)^2 = 1.68591...`` (at x ~ 1.79), which Ali et al.
    (2019) round up to 1.6862 (:data:`ALI_BOUND`): the worst ratio of the variance
    terms of gradient flow and ridge along one direction (x = s d^2), which bounds the risk
    ratio because the bias ratio ``((1 + x) e^-x)^2`` never exceeds 1."""
    res = optimize.minimize_scalar(
        lambda x: -(((-np.expm1(-x)) * (1.0 + x) / x) ** 2),
        bounds=(1e-3, 20.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(-res.fun)
