"""Helpers shared by the regularizer modules: centring, per-feature ridge, result rows."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from bayesreg._validation import check_probability


def centre(
    X: np.ndarray, y: np.ndarray, fit_intercept: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(Xc, yc, x_mean, y_mean)``: the unpenalized intercept profiled out by centring.

    Minimizing over a free intercept b gives ``b = mean(y) - mean(X) @ w`` exactly, and the
    remaining objective in w is the same one written with the centred ``Xc`` and ``yc``.
    """
    p = X.shape[1]
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(p)
    y_mean = float(y.mean()) if fit_intercept else 0.0
    return X - x_mean, y - y_mean, x_mean, y_mean


def per_feature_ridge(
    X: np.ndarray, y: np.ndarray, alphas: np.ndarray, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """Exact minimizer of ``||y - X w - b||^2 + sum_j alphas_j w_j^2`` (b unpenalized).

    The normal equations ``(Xc'Xc + diag(alphas)) w = Xc'yc`` of the centred problem; with a
    Gaussian prior ``w_j ~ N(0, tau_j^2)`` and noise sd sigma, ``alphas_j = sigma^2 / tau_j^2``.
    """
    Xc, yc, x_mean, y_mean = centre(X, y, fit_intercept)
    A = Xc.T @ Xc
    A[np.diag_indices_from(A)] += alphas
    coef = linalg.solve(A, Xc.T @ yc, assume_a="pos")
    return coef, float(y_mean - x_mean @ coef)


def check_rate(rate: object, owner: str) -> float:
    """A dropout rate q in [0, 1): the probability that an input is dropped."""
    q = check_probability(rate, "rate", owner)
    if q >= 1.0:
        raise ValueError(
            f"The 'rate' parameter of {owner} must be a float in the range [0, 1). Got "
            f"{rate!r} instead: with q = 1 every input is dropped and the 1/(1-q) scaling is "
            "undefined."
        )
    return q
