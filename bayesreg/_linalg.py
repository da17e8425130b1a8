"""The package's one centring: the unpenalized intercept profiled out.

Minimizing a least-squares (or any location-family) objective over a free intercept b gives
``b = mean(y) - mean(X) @ w`` exactly, and the remaining objective in w is the same one written
with the centred ``X - mean(X)`` and ``y - mean(y)``. Without an intercept nothing is centred.
"""

from __future__ import annotations

import numpy as np

__all__ = ["centre", "centre_xy"]


def centre(X: np.ndarray, fit_intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(X - m, m)`` with m the column means (zeros without an intercept); a new array."""
    m = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    return X - m, m


def centre_xy(
    X: np.ndarray, y: np.ndarray, fit_intercept: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(Xc, yc, x_mean, y_mean)``: X and y centred together (see the module docstring)."""
    Xc, x_mean = centre(X, fit_intercept)
    y_mean = float(np.mean(y)) if fit_intercept else 0.0
    return Xc, y - y_mean, x_mean, y_mean
