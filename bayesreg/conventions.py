"""Penalty strength <-> prior scale, exactly, for each library's convention.

Every convention below writes an objective whose minimizer is the MAP of the model
``-log posterior = J0(w) / sigma^2 + penalty_prior(w) + const`` where, for a Gaussian likelihood,
``J0 = SSE / 2`` (SSE = ||y - X w - b||^2) and, for a Bernoulli likelihood, ``J0`` is the
cross-entropy and sigma = 1. Multiply the negative log posterior by a positive constant and it
becomes each library's objective; that constant fixes the conversion. With rho = ``l1_ratio``:

==========================  =======================================================================
convention                  objective (minimized over w, intercept b unpenalized)
==========================  =======================================================================
``"seed_sum"``              J0 + lam * [rho ||w||_1 + (1-rho)/2 ||w||_2^2]   (the seed: rho = 0)
``"seed_mean"``             J0 / n + lam * [rho ||w||_1 + (1-rho)/2 ||w||_2^2]
``"sklearn_ridge"``         ||y - Xw - b||^2 + alpha ||w||_2^2               (``Ridge(alpha)``)
``"sklearn_lasso"``         ||y - Xw - b||^2 / (2n) + alpha ||w||_1           (``Lasso(alpha)``)
``"sklearn_elasticnet"``    ||y - Xw - b||^2 / (2n) + alpha [rho ||w||_1 + (1-rho)/2 ||w||_2^2]
``"sklearn_logistic"``      C * CE(w, b) + rho ||w||_1 + (1-rho)/2 ||w||_2^2 (``LogisticRegression(C, l1_ratio)``)
``"glmnet"``                -loglik / n + lambda [alpha ||w||_1 + (1-alpha)/2 ||w||_2^2]
                            (Gaussian family: ||y - Xw - b||^2 / (2n); glmnet's alpha = rho)
``"sklearn_poisson"``       (1/n) sum [y log(y/mu) - y + mu] + alpha/2 ||w||_2^2 (``PoissonRegressor``;
                            Poisson likelihood, mu = exp(Xw + b): the half mean deviance is
                            J0 / n + const with J0 = sum [mu - y eta])
``"sklearn_quantile"``      (1/n) sum |y - Xw - b| / 2 + alpha ||w||_1  (``QuantileRegressor(quantile=
                            0.5)``; Laplace likelihood with scale sigma, J0 = sum |r| / sigma)
``"weight_decay"``          the fixed point of ``w <- (1 - lr*lam) w - lr grad J0_mean(w)`` with the
                            mean loss ``J0_mean = J0 / n`` (deep-learning frameworks average the
                            loss over the batch): grad J0 / n + lam w = 0. L2 only.
==========================  =======================================================================

Resulting priors, with s2 = sigma^2 (1 for Bernoulli):

* rho = 0 (L2): ``Gaussian(tau)`` with ``tau^2 = s2 / lam_sum`` where ``lam_sum`` is the strength in
  the seed_sum form: ``lam`` (seed_sum), ``n lam`` (seed_mean, glmnet, weight_decay), ``alpha``
  (Ridge), ``n alpha`` (ElasticNet), ``1 / C`` (LogisticRegression).
  So Ridge ``alpha = sigma^2 / tau^2``; LogisticRegression ``C = tau^2``.
* rho = 1 (L1): ``Laplace(b)`` with ``b = s2 / lam_sum``: Lasso ``alpha = sigma^2 / (n b)``;
  LogisticRegression ``C = b``.
* 0 < rho < 1: ``ElasticNet(scale = s2 / lam_sum, l1_ratio = rho)``.
* PoissonRegressor (no sigma, s2 = 1): times n it is ``J0 + n alpha ||w||^2 / 2``, so
  ``lam_sum = n alpha``: ``Gaussian(tau)`` with ``alpha = 1 / (n tau^2)``.
* QuantileRegressor(0.5): the Laplace likelihood's ``-log posterior = sum |r| / sigma +
  ||w||_1 / b`` times **sigma** (not sigma^2: its loss is linear in |r|) is ``sum |r| +
  (sigma / b) ||w||_1``, and the library's objective times 2n is ``sum |r| + 2 n alpha
  ||w||_1``: ``lam_sum = 2 n alpha`` and ``Laplace(b)`` with ``alpha = sigma / (2 n b)``.

A prior with ``scale_by_sigma=True`` has effective scale ``scale * sigma``; the conversions use
the effective scale, so pass the noise sd ``sigma`` for it.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from bayesreg._validation import (
    check_choice,
    check_positive,
    check_positive_vector,
    check_probability,
)
from bayesreg.priors import ElasticNet, Gaussian, Laplace, Prior

__all__ = ["CONVENTIONS", "penalty_to_prior", "prior_to_penalty"]

#: convention name -> (how the strength relates to lam_sum, default l1_ratio or None if free)
CONVENTIONS: dict[str, str] = {
    "seed_sum": "J0 + lam [rho |w|_1 + (1-rho)/2 |w|^2]",
    "seed_mean": "J0/n + lam [rho |w|_1 + (1-rho)/2 |w|^2]",
    "sklearn_ridge": "|y - Xw|^2 + alpha |w|^2",
    "sklearn_lasso": "|y - Xw|^2/(2n) + alpha |w|_1",
    "sklearn_elasticnet": "|y - Xw|^2/(2n) + alpha [rho |w|_1 + (1-rho)/2 |w|^2]",
    "sklearn_logistic": "C CE + rho |w|_1 + (1-rho)/2 |w|^2",
    "glmnet": "-loglik/n + lambda [alpha |w|_1 + (1-alpha)/2 |w|^2]",
    "weight_decay": "w <- (1 - lr lam) w - lr grad(J0/n)",
    "sklearn_poisson": "(1/n) sum half-deviance + alpha/2 |w|^2",
    "sklearn_quantile": "(1/n) sum |y - Xw|/2 + alpha |w|_1",
}

_NEEDS_N = {
    "seed_mean",
    "sklearn_lasso",
    "sklearn_elasticnet",
    "glmnet",
    "weight_decay",
    "sklearn_poisson",
    "sklearn_quantile",
}
_FIXED_RHO = {
    "sklearn_ridge": 0.0,
    "sklearn_lasso": 1.0,
    "weight_decay": 0.0,
    "sklearn_poisson": 0.0,
    "sklearn_quantile": 1.0,
}
#: the power of sigma that makes the negative log posterior the library's loss: 2 for losses
#: quadratic in the residual (J0 = SSE / (2 sigma^2)), 1 for the absolute error (|r| / sigma)
_SIGMA_POWER = {"sklearn_quantile": 1.0}


def _check_n(convention: str, n: int | None) -> float:
    if convention not in _NEEDS_N:
        return 1.0
    if (
        not isinstance(n, Integral | float | np.floating)
        or isinstance(n, bool)
        or not float(n).is_integer()
        or n < 1
    ):
        raise ValueError(
            f"The {convention!r} convention averages the loss over the n samples: pass n "
            f"(an int >= 1). Got n={n!r} instead."
        )
    return float(n)


def _multiplier(convention: str, n: float) -> float:
    """lam_sum = multiplier * strength, except for LogisticRegression (lam_sum = 1 / C)."""
    return {
        "seed_sum": 1.0,
        "seed_mean": n,
        "sklearn_ridge": 1.0,
        "sklearn_lasso": n,
        "sklearn_elasticnet": n,
        "glmnet": n,
        "weight_decay": n,
        "sklearn_poisson": n,
        "sklearn_quantile": 2.0 * n,
    }[convention]


def _resolve_rho(convention: str, l1_ratio: float | None) -> float:
    if convention in _FIXED_RHO:
        fixed = _FIXED_RHO[convention]
        if l1_ratio is not None and float(l1_ratio) != fixed:
            raise ValueError(
                f"The {convention!r} convention has a fixed l1_ratio of {fixed}; got "
                f"l1_ratio={l1_ratio!r}. Use 'sklearn_elasticnet' or 'glmnet' to mix L1 and L2."
            )
        return fixed
    if l1_ratio is None:
        return 0.0 if convention in ("seed_sum", "seed_mean", "sklearn_logistic") else 0.5
    return check_probability(l1_ratio, "l1_ratio", "penalty_to_prior")


def penalty_to_prior(
    convention: str,
    strength: float,
    *,
    sigma: float = 1.0,
    n: int | None = None,
    l1_ratio: float | None = None,
    scale_by_sigma: bool = False,
) -> Prior:
    """The prior whose MAP is the minimizer of a library's penalized objective.

    Parameters
    ----------
    convention : str
        One of :data:`CONVENTIONS` (see the module docstring for each objective).
    strength : float or array of shape (p,)
        The library's penalty parameter: lam, alpha, lambda, or C for ``sklearn_logistic``; an
        array gives one strength per coefficient (glmnet's ``penalty.factor`` times lambda) and
        a prior with per-coefficient scales.
    sigma : float, default 1.0
        Noise sd of the Gaussian likelihood (1 for Bernoulli and Poisson; the Laplace
        likelihood's scale for ``sklearn_quantile``).
    n : int, optional
        Number of samples; required by conventions that average the loss.
    l1_ratio : float in [0, 1], optional
        rho, the L1 share. Defaults: 0 for seed_* and sklearn_logistic (the L2 case), 0.5 for
        sklearn_elasticnet and glmnet; fixed for ridge (0), lasso (1) and weight_decay (0).
    scale_by_sigma : bool, default False
        Return the prior in its sigma-scaled form (``scale * sigma`` is the effective scale).

    Returns
    -------
    Prior
        ``Gaussian`` (rho = 0), ``Laplace`` (rho = 1) or ``ElasticNet``.
    """
    check_choice(convention, "convention", CONVENTIONS)
    strength = check_positive_vector(strength, "strength", "penalty_to_prior")
    sigma = check_positive(sigma, "sigma", "penalty_to_prior")
    nf = _check_n(convention, n)
    rho = _resolve_rho(convention, l1_ratio)
    if convention == "sklearn_logistic":
        lam_sum = 1.0 / strength
    else:
        lam_sum = _multiplier(convention, nf) * strength
    s2 = sigma ** _SIGMA_POWER.get(convention, 2.0)
    if rho == 0.0:
        eff = np.sqrt(s2 / lam_sum)
        cls = Gaussian
    elif rho == 1.0:
        eff = s2 / lam_sum
        cls = Laplace
    else:
        if scale_by_sigma:
            raise ValueError("ElasticNet priors do not support scale_by_sigma=True.")
        return ElasticNet(s2 / lam_sum, rho)
    if scale_by_sigma:
        return cls(eff / sigma, scale_by_sigma=True)
    return cls(eff)


def prior_to_penalty(
    prior: Prior, convention: str, *, sigma: float = 1.0, n: int | None = None
) -> float | np.ndarray:
    """The library's penalty strength whose minimizer is this prior's MAP.

    A float, or an array of shape (p,) (one strength per coefficient) for a prior with
    per-coefficient scales: a library with a single strength then needs its columns rescaled
    (``X_j * s_j`` with ``s_j`` proportional to ``1 / strength_j`` for an L1 penalty).

    The inverse of :func:`penalty_to_prior`: ``prior_to_penalty(penalty_to_prior(c, a, ...), c,
    ...) == a``. Any prior whose penalty is ``a ||w||_1 + c ||w||^2 / 2``
    (:meth:`~bayesreg.priors.Prior.elastic_coefs`) converts; the library's l1_ratio is then
    ``a / (a + c)`` (``prior.l1_ratio`` for ``ElasticNet``).

    Raises
    ------
    ValueError
        When the convention cannot express the prior (e.g. a Laplace prior as Ridge alpha).
    """
    check_choice(convention, "convention", CONVENTIONS)
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a bayesreg Prior; got {prior!r}.")
    sigma = check_positive(sigma, "sigma", "prior_to_penalty")
    nf = _check_n(convention, n)
    coefs = prior.elastic_coefs(sigma)
    if coefs is None:
        raise ValueError(f"{prior!r} is not a penalty that any library convention expresses.")
    # -log posterior * sigma^2 = J0 + sigma^2 (a ||w||_1 + c ||w||^2 / 2)
    #                          = J0 + lam_sum (rho ||w||_1 + (1 - rho) / 2 ||w||^2)
    # (sigma^1 for the absolute-error conventions: see _SIGMA_POWER)
    a, c = coefs
    lam_sum = sigma ** _SIGMA_POWER.get(convention, 2.0) * (np.asarray(a) + np.asarray(c))
    rho = _common_l1_ratio(np.asarray(a) / (np.asarray(a) + np.asarray(c)), prior)
    fixed = _FIXED_RHO.get(convention)
    if fixed is not None and rho != fixed:
        raise ValueError(
            f"The {convention!r} convention expresses only l1_ratio={fixed} penalties; "
            f"{prior!r} has l1_ratio={rho}."
        )
    out = (
        1.0 / lam_sum if convention == "sklearn_logistic" else lam_sum / _multiplier(convention, nf)
    )
    return float(out) if np.ndim(out) == 0 else out


def _common_l1_ratio(rho: np.ndarray, prior: Prior) -> float:
    """The one L1 share of a (possibly per-coefficient) elastic penalty: conventions have one
    l1_ratio, so a prior whose coefficients mix L1 and L2 differently has no convention."""
    values = np.unique(np.ravel(rho))
    if values.size > 1 and np.ptp(values) > 1e-12:
        raise ValueError(
            f"{prior!r} mixes L1 and L2 differently across coefficients (l1_ratio from "
            f"{values.min():.3g} to {values.max():.3g}); a library convention has one l1_ratio."
        )
    return float(values[0])
