"""Ridge regression in closed form (the MAP of a Gaussian prior with a Gaussian likelihood).

Objective (scikit-learn's ``Ridge``), intercept b unpenalized::

    ||y - X w - b||^2 + alpha ||w||^2

With ``fit_intercept`` the columns and y are centred, which removes b exactly
(``b = mean(y) - mean(X) @ w``). The remaining normal equations
``(Xc'Xc + alpha I) w = Xc'yc`` are solved after scaling each column to unit root-mean-square
(so a column in the thousands does not ruin the conditioning), in the primal form when
p <= n and in the dual form ``w = Xc' (Xc Xc' + alpha I)^-1 yc`` when p > n.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from bayesreg._validation import check_nonnegative, check_X_y

__all__ = ["ridge_closed_form"]


def ridge_closed_form(
    X: object, y: object, alpha: float, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """Exact minimizer of ``||y - X w - b||^2 + alpha ||w||^2``.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    alpha : float >= 0
        Ridge strength; for a Gaussian prior N(0, tau^2) and noise sd sigma,
        ``alpha = sigma^2 / tau^2`` (see :mod:`bayesreg.conventions`). ``alpha = 0`` is least
        squares and needs a full-rank design.
    fit_intercept : bool, default True
        Fit an unpenalized intercept b (else b = 0).

    Returns
    -------
    coef : ndarray of shape (p,)
    intercept : float
    """
    X, y = check_X_y(X, y)
    alpha = check_nonnegative(alpha, "alpha", "ridge_closed_form")
    n, p = X.shape
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(p)
    y_mean = float(y.mean()) if fit_intercept else 0.0
    Xc = X - x_mean
    yc = y - y_mean
    s = np.sqrt(np.mean(Xc**2, axis=0))
    s[s == 0.0] = 1.0
    Z = Xc / s
    # In u = s * w: (Z'Z + alpha diag(1/s^2)) u = Z'yc.
    try:
        if p <= n or alpha == 0.0:
            A = Z.T @ Z
            A[np.diag_indices(p)] += alpha / s**2
            u = linalg.solve(A, Z.T @ yc, assume_a="pos")
        else:
            # Dual form: u = D^-1 Z' (Z D^-1 Z' + alpha I)^-1 yc with D = diag(1/s^2)
            ZD = Z * s**2
            K = ZD @ Z.T
            K[np.diag_indices(n)] += alpha
            u = ZD.T @ linalg.solve(K, yc, assume_a="pos")
    except linalg.LinAlgError as exc:
        raise ValueError(
            f"The ridge normal equations are singular for alpha={alpha!r}: use alpha > 0 or a "
            "full-rank design."
        ) from exc
    coef = u / s
    intercept = y_mean - float(x_mean @ coef) if fit_intercept else 0.0
    return coef, intercept
