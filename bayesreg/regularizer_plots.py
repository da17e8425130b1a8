"""Figures for :mod:`bayesreg.regularizers`. Each takes ``axes=None`` and returns the Axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bayesreg._validation import check_positive_int, check_X_y
from bayesreg.regularizers.early_stopping import (
    early_stopping_path,
    early_stopping_ridge_lambda,
    ridge_path,
)

__all__ = ["plot_early_stopping_vs_ridge"]


def _draw_paths(ax: Any, x: np.ndarray, coefs: np.ndarray, names, title: str) -> None:
    for j, name in enumerate(names):
        ax.plot(x, coefs[:, j], color=f"C{j % 10}", label=str(name))
    ax.set_xscale("log")
    ax.set_xlabel("lr t  (= 1 / lam)")
    ax.set_title(title)


def plot_early_stopping_vs_ridge(
    X: object,
    y: object,
    lr: float,
    max_iter: int = 1000,
    axes: Any = None,
    *,
    n_points: int = 60,
    feature_names: Sequence[str] | None = None,
) -> Any:
    """Coefficient paths side by side: gradient descent over t, ridge over lam = 1/(lr t).

    Left: the iterates ``w_t`` of gradient descent on ``SSE / 2`` from 0 (closed form,
    :func:`~bayesreg.regularizers.early_stopping_path`). Right: the ridge solutions
    ``argmin SSE/2 + lam ||w||^2 / 2`` at ``lam = 1 / (lr t)`` for the same t. Both share the
    x axis ``lr t`` (= 1/lam, log scale), so equal x means Ali et al.'s matched pair.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    lr : float
        Step size, below 2 / d_max^2.
    max_iter : int, default 1000
        Largest t shown; t runs over ``n_points`` log-spaced integers in [1, max_iter].
    axes : sequence of two matplotlib Axes, optional
        Default: a new 1 x 2 figure.
    n_points : int, default 60
    feature_names : sequence of str, optional
        Legend labels (default ``x0 .. x{p-1}``).

    Returns
    -------
    ndarray of two Axes
    """
    import matplotlib.pyplot as plt

    X, y = check_X_y(X, y)
    max_iter = check_positive_int(max_iter, "max_iter", "plot_early_stopping_vs_ridge")
    n_points = check_positive_int(n_points, "n_points", "plot_early_stopping_vs_ridge")
    steps = np.unique(np.geomspace(1, max_iter, n_points).astype(int))
    gd, _ = early_stopping_path(X, y, lr, steps)
    lams = np.array([early_stopping_ridge_lambda(lr, int(t)) for t in steps])
    ridge, _ = ridge_path(X, y, lams)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.0, 4.0), sharey=True)
    axes = np.asarray(axes).ravel()
    if axes.size != 2:
        raise ValueError(f"axes must hold two Axes; got {axes.size}.")
    names = [f"x{j}" for j in range(X.shape[1])] if feature_names is None else feature_names
    if len(names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(names)} names but X has {X.shape[1]} columns.")
    x = lr * steps
    _draw_paths(axes[0], x, gd, names, "gradient descent from 0, t steps")
    _draw_paths(axes[1], x, ridge, names, "ridge at lam = 1 / (lr t)")
    axes[0].set_ylabel("coefficient")
    axes[1].legend(fontsize="small", loc="best")
    return axes
