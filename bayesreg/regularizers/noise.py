"""Noise injection (data augmentation with Gaussian input noise) is ridge regression.

Adding independent ``e_ij ~ N(0, s^2)`` to every input (never to the intercept's column)
changes row i's residual to ``r_i - e_i w`` with ``r_i = y_i - b - x_i w``; since ``E[e_i] = 0``
and ``E[(e_i w)^2] = s^2 ||w||^2``::

    E_noise[SSE] = SSE(w, b) + n s^2 ||w||^2 .

So training on noisy inputs minimizes, in expectation, scikit-learn's ``Ridge`` objective
``||y - X w - b||^2 + alpha ||w||^2`` with ``alpha = n s^2`` (:func:`noise_ridge_alpha`); divided
by ``2 sigma^2`` it is the negative log posterior of a Gaussian prior ``w_j ~ N(0, tau^2)`` with
``1/tau^2 = n s^2 / sigma^2``, i.e. ``tau = sigma / (s sqrt(n))`` (:func:`noise_prior_scale`).
Here n is the number of distinct rows: with K noisy copies of each row the augmented SSE is
divided by K, so its expectation is the same. Augmented fits (:func:`noisy_copies_fit`) converge
to that ridge as K grows, with error of order 1/sqrt(K) (the noise's sample moments).

References
----------
Bishop, C. M. (1995). Training with noise is equivalent to Tikhonov regularization. Neural
Computation 7(1), 108-116.
"""

from __future__ import annotations

import numpy as np

from bayesreg._linalg import centre_xy
from bayesreg._validation import (
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_random_seed,
    check_X_y,
)

__all__ = ["noise_prior_scale", "noise_ridge_alpha", "noisy_copies_fit"]


def noise_ridge_alpha(n: int, noise_sd: float) -> float:
    """``alpha = n s^2``: the scikit-learn ``Ridge`` strength of input noise with sd s.

    Parameters
    ----------
    n : int >= 1
        Number of (distinct) training rows.
    noise_sd : float >= 0
        Standard deviation s of the noise added to every input.

    Returns
    -------
    float
    """
    n = check_positive_int(n, "n", "noise_ridge_alpha")
    s = check_nonnegative(noise_sd, "noise_sd", "noise_ridge_alpha")
    return n * s**2


def noise_prior_scale(n: int, noise_sd: float, sigma: float = 1.0) -> float:
    """``tau = sigma / (s sqrt(n))``: the Gaussian prior scale equivalent to input noise.

    The objective ``SSE / (2 sigma^2) + ||w||^2 / (2 tau^2)`` equals ``E_noise[SSE] / (2
    sigma^2)``. Zero noise gives ``tau = inf`` (no penalty).

    Parameters
    ----------
    n : int >= 1
    noise_sd : float >= 0
    sigma : float > 0, default 1.0
        Noise sd of the Gaussian likelihood (of y, not of the injected input noise).

    Returns
    -------
    float
    """
    sigma = check_positive(sigma, "sigma", "noise_prior_scale")
    alpha = noise_ridge_alpha(n, noise_sd)
    return float("inf") if alpha == 0.0 else sigma / float(np.sqrt(alpha))


def noisy_copies_fit(
    X: object,
    y: object,
    noise_sd: float,
    n_copies: int,
    fit_intercept: bool = True,
    random_seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, float]:
    """Least squares on K noisy copies of each row (data augmentation by input noise).

    Minimizes ``(1/K) sum_i sum_k (y_i - b - (x_i + e_ik) w)^2`` with ``e_ik ~ N(0, s^2 I)``,
    b free (the augmented data are centred). As K grows this converges to ``Ridge(alpha =
    n s^2)`` on the original rows.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    noise_sd : float >= 0
    n_copies : int >= 1
        K.
    fit_intercept : bool, default True
    random_seed : int, Generator or None

    Returns
    -------
    coef : ndarray of shape (p,)
    intercept : float
    """
    X, y = check_X_y(X, y)
    s = check_nonnegative(noise_sd, "noise_sd", "noisy_copies_fit")
    K = check_positive_int(n_copies, "n_copies", "noisy_copies_fit")
    rng = np.random.default_rng(check_random_seed(random_seed, "random_seed", "noisy_copies_fit"))
    n, p = X.shape
    Xa = np.repeat(X, K, axis=0) + s * rng.standard_normal((n * K, p))
    Xc, yc, x_mean, y_mean = centre_xy(Xa, np.repeat(y, K), fit_intercept)
    coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    return coef, float(y_mean - x_mean @ coef)
