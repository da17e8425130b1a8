"""Ridge regression in closed form (the MAP of a Gaussian prior with a Gaussian likelihood).

Objective (scikit-learn's ``Ridge``), intercept b unpenalized::

    ||y - X w - b||^2 + alpha ||w||^2

With ``fit_intercept`` the columns and y are centred, which removes b exactly
(``b = mean(y) - mean(X) @ w``). The remaining normal equations
``(Xc'Xc + alpha I) w = Xc'yc`` are solved after scaling each column to unit root-mean-square
(so a column in the thousands does not ruin the conditioning), in the primal form when
p <= n and in the dual form ``w = Xc' (Xc Xc' + alpha I)^-1 yc`` when p > n: the one ridge
solve of the package, :meth:`bayesreg.solvers._problem.ProblemData.ridge_z`.
"""

from __future__ import annotations

import numpy as np

from bayesreg._validation import check_nonnegative, check_X_y
from bayesreg.solvers._problem import ProblemData

__all__ = ["ridge_closed_form"]


def ridge_closed_form(
    X: object, y: object, alpha: float | np.ndarray, *, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """Exact minimizer of ``||y - X w - b||^2 + sum_j alpha_j w_j^2`` (b unpenalized).

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    alpha : float >= 0, or array of shape (p,) of such
        One strength, or one per feature (a Gaussian prior with a scale per coefficient:
        dropout, :func:`bayesreg.regularizers.dropout_prior_scales`).
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
    if np.ndim(alpha) == 0:
        alpha = check_nonnegative(alpha, "alpha", "ridge_closed_form")
    else:
        alpha = np.array(alpha, dtype=np.float64)
        if alpha.shape != (X.shape[1],) or not np.all(np.isfinite(alpha) & (alpha >= 0)):
            raise ValueError(
                "The 'alpha' parameter of ridge_closed_form must be a float >= 0 or an array "
                f"of {X.shape[1]} such (one per feature). Got shape {alpha.shape}."
            )
    data = ProblemData(X, y, fit_intercept)
    return data.wb_from_z(data.ridge_z(alpha))
