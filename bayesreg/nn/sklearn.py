"""scikit-learn's ``MLPRegressor`` / ``MLPClassifier`` ``alpha`` as a Gaussian prior scale.

scikit-learn (``sklearn/neural_network/_multilayer_perceptron.py``, ``_backprop``; the losses
in ``_base.py``) minimizes, with n samples and biases not penalized::

    regressor:  L(theta) = (1/n) sum_i (y_i - eta_i)^2 / 2  +  alpha/(2n) sum_l ||W_l||_F^2
    classifier: L(theta) = (1/n) sum_i CE_i                 +  alpha/(2n) sum_l ||W_l||_F^2

(``squared_loss`` is ``0.5 * mean(r^2)``; binary ``log_loss`` is the mean cross-entropy
with a logistic output). Our negative log posterior with a Gaussian likelihood (sd sigma) and
prior ``W ~ N(0, tau^2)`` is ``F = sum_i r_i^2 / (2 sigma^2) + sum_l ||W_l||^2 / (2 tau^2)``.
Multiplying L by ``n / sigma^2``::

    (n / sigma^2) L = sum_i r_i^2 / (2 sigma^2) + (alpha / sigma^2) sum_l ||W_l||^2 / 2

so ``F = (n / sigma^2) L`` exactly when ``1 / tau^2 = alpha / sigma^2``: **tau = sigma /
sqrt(alpha)**. For the classifier ``F = sum_i CE_i + sum_l ||W_l||^2 / (2 tau^2) = n L`` when
**tau = 1 / sqrt(alpha)** (sigma = 1). The factors are positive constants, so the two
objectives have the same stationary points and minimizers: a converged scikit-learn fit is a
MAP of the matching :class:`MLPModel` (flat biases).
"""

from __future__ import annotations

import numpy as np

from bayesreg._capabilities import SKLEARN_LOSS, require
from bayesreg._validation import check_positive
from bayesreg.likelihoods import Likelihood
from bayesreg.nn.map import MLPMapResult

__all__ = ["alpha_to_prior_scale", "prior_scale_to_alpha", "to_sklearn_layout"]


def _sigma_of(likelihood: Likelihood, sigma: float | None, owner: str) -> float:
    require(owner, (SKLEARN_LOSS,), None, likelihood)  # a likelihood-only need
    if not likelihood.has_sigma:
        return 1.0
    sigma = likelihood.fixed_sigma if sigma is None else sigma
    if sigma is None:
        raise ValueError(
            f"{owner} needs the noise sd: {likelihood!r} estimates sigma; pass sigma= "
            "(tau = sigma / sqrt(alpha) depends on it)."
        )
    return check_positive(sigma, "sigma", owner)


def alpha_to_prior_scale(alpha: float, likelihood: Likelihood, sigma: float | None = None) -> float:
    """tau of the Gaussian weight prior equal to scikit-learn's ``alpha``.

    ``tau = sigma / sqrt(alpha)`` (Gaussian likelihood, noise sd sigma) and
    ``tau = 1 / sqrt(alpha)`` (Bernoulli); see the module docstring for the derivation.
    """
    alpha = check_positive(alpha, "alpha", "alpha_to_prior_scale")
    return _sigma_of(likelihood, sigma, "alpha_to_prior_scale") / np.sqrt(alpha)


def prior_scale_to_alpha(tau: float, likelihood: Likelihood, sigma: float | None = None) -> float:
    """Inverse of :func:`alpha_to_prior_scale`: ``alpha = sigma^2 / tau^2``."""
    tau = check_positive(tau, "tau", "prior_scale_to_alpha")
    return (_sigma_of(likelihood, sigma, "prior_scale_to_alpha") / tau) ** 2


def to_sklearn_layout(result: MLPMapResult) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(coefs_, intercepts_)`` as scikit-learn stores them (copies)."""
    return [W.copy() for W in result.weights], [b.copy() for b in result.biases]
