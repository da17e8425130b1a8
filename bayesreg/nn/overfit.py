"""The lesson's overfitting picture on a network: weaker weight decay, lower training error,
higher validation error; the prior scale chosen by a validation grid and by k-fold CV.

For each prior scale tau (weight decay lam = sigma^2 / tau^2) the MAP minimizes
``J0 + sum_l ||W_l||^2 / (2 tau^2)`` (:func:`~bayesreg.nn.map.map_mlp`, the same seeded start
for every scale); the error is the mean squared error for a quadratic likelihood, else the
mean log loss. One compiled model serves every scale (``with_prior_scale``) and every fold
(the folds' data are written into its ``pm.Data`` containers, then restored).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from bayesreg._results import Result
from bayesreg._validation import check_positive_int, check_random_seed, check_X_y
from bayesreg.nn.map import map_mlp
from bayesreg.nn.model import MLPModel, check_mlp

__all__ = ["OverfittingCurve", "overfitting_curve", "plot_overfitting"]


@dataclass(frozen=True)
class OverfittingCurve(Result):
    """Training, validation and k-fold errors over a grid of prior scales.

    ``chosen_scale`` minimizes the validation error, ``chosen_scale_kfold`` the k-fold error.
    """

    scales: np.ndarray
    train_error: np.ndarray
    validation_error: np.ndarray
    kfold_error: np.ndarray
    chosen_scale: float
    chosen_scale_kfold: float
    error: str


def _error(model: MLPModel, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """MSE (quadratic likelihood) or mean log loss of the network at theta on (X, y)."""
    eta = model.predict_eta(theta, X)
    if model.likelihood.quadratic:
        return float(np.mean((y - eta) ** 2))
    return float(np.mean(np.logaddexp(0.0, eta) - y * eta))


@contextmanager
def _data(model: MLPModel, X: np.ndarray, y: np.ndarray) -> Iterator[None]:
    """Write (X, y) into the compiled model's data containers; restore on exit."""
    m = model.pymc_model
    old = m["X"].get_value(), m["y"].get_value()
    m["X"].set_value(X)
    m["y"].set_value(y.astype(old[1].dtype))
    try:
        yield
    finally:
        m["X"].set_value(old[0])
        m["y"].set_value(old[1])


def _fit_errors(model, scales, start, X_eval, y_eval, tol) -> tuple[np.ndarray, np.ndarray]:
    """Training and evaluation errors of the MAP at each scale."""
    train, held = [], []
    for s in scales:
        theta = map_mlp(model.with_prior_scale(s), init=start, tol=tol).theta
        train.append(
            _error(
                model, theta, model.pymc_model["X"].get_value(), model.pymc_model["y"].get_value()
            )
        )
        held.append(_error(model, theta, X_eval, y_eval))
    return np.asarray(train), np.asarray(held)


def overfitting_curve(
    model: MLPModel,
    X_val: object,
    y_val: object,
    scales: Sequence[float],
    *,
    k: int = 5,
    random_seed: object = 0,
    tol: float = 1e-6,
) -> OverfittingCurve:
    """Errors of the MAP network over prior scales, and the scale each method chooses.

    Parameters
    ----------
    model : MLPModel
        Training data, architecture, prior family and likelihood (its scale is ignored).
    X_val, y_val : array-like
        The validation set (the lesson's grid search on a validation set).
    scales : sequence of float
        Prior scales tau (increasing = weaker decay).
    k : int, default 5
        Folds of the k-fold estimate (on the training data, folds by a seeded permutation).
    random_seed : seed of the common Glorot start and of the folds.
    tol : float
        :func:`map_mlp` tolerance.

    Returns
    -------
    OverfittingCurve
    """
    check_mlp(model, "overfitting_curve")
    X_val, y_val = check_X_y(X_val, y_val)
    k = check_positive_int(k, "k", "overfitting_curve")
    scales = np.asarray([model.with_prior_scale(s).prior.scale for s in scales])
    seed = check_random_seed(random_seed, "random_seed", "overfitting_curve")
    start = model.glorot_init(seed)
    train, val = _fit_errors(model, scales, start, X_val, y_val, tol)
    folds = np.array_split(np.random.default_rng(seed).permutation(model.n), k)
    cv = np.zeros(scales.size)
    for f in folds:
        keep = np.setdiff1d(np.arange(model.n), f)
        with _data(model, model.X[keep], model.y[keep]):
            cv += _fit_errors(model, scales, start, model.X[f], model.y[f], tol)[1] / k
    return OverfittingCurve(
        scales,
        train,
        val,
        cv,
        float(scales[np.argmin(val)]),
        float(scales[np.argmin(cv)]),
        "mse" if model.likelihood.quadratic else "log_loss",
    )


def plot_overfitting(curve: OverfittingCurve, ax=None):
    """Training, validation and k-fold error against the prior scale, the chosen scales marked.
    Returns the Axes."""
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    ax.semilogx(curve.scales, curve.train_error, "o-", label="training")
    ax.semilogx(curve.scales, curve.validation_error, "s-", label="validation")
    ax.semilogx(curve.scales, curve.kfold_error, "^--", label="k-fold CV")
    ax.axvline(
        curve.chosen_scale, color="C1", ls=":", label=f"validation: tau={curve.chosen_scale:.3g}"
    )
    ax.axvline(
        curve.chosen_scale_kfold,
        color="C2",
        ls=":",
        label=f"k-fold: tau={curve.chosen_scale_kfold:.3g}",
    )
    ax.set_xlabel("prior scale tau (weaker weight decay ->)")
    ax.set_ylabel(curve.error)
    ax.legend()
    return ax
