"""Helpers shared by the regularizer modules: the per-feature ridge and the dropout-rate check."""

from __future__ import annotations

import numpy as np

from bayesreg._validation import check_probability


def per_feature_ridge(
    X: np.ndarray, y: np.ndarray, alphas: np.ndarray, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """Exact minimizer of ``||y - X w - b||^2 + sum_j alphas_j w_j^2`` (b unpenalized): the
    package's one ridge solve (:func:`bayesreg.solvers.ridge_closed_form`) with one alpha per
    feature; with a Gaussian prior ``w_j ~ N(0, tau_j^2)``, ``alphas_j = sigma^2 / tau_j^2``."""
    from bayesreg.solvers import ridge_closed_form

    return ridge_closed_form(
        X, y, np.asarray(alphas, dtype=np.float64), fit_intercept=fit_intercept
    )


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
