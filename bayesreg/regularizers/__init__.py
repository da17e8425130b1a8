"""The other regularizers of the lesson, each read as a prior (issue 13 items 2-4).

* :mod:`~bayesreg.regularizers.dropout`: dropout = an adaptive, per-feature Gaussian prior
  (exact for linear regression; Wager et al.'s quadratic approximation for logistic).
* :mod:`~bayesreg.regularizers.noise`: Gaussian input noise (data augmentation) = ridge with
  ``alpha = n s^2`` (Bishop, 1995).
* :mod:`~bayesreg.regularizers.early_stopping`: gradient descent stopped at step t = a spectral
  filter close to ridge at ``lam = 1/(lr t)`` (Ali, Kolter & Tibshirani, 2019).
* :func:`regularizer_equivalences`: every claim above as a check with its measured error.

Conventions: the intercept is never dropped, noised or penalized; Gaussian likelihood with noise
sd sigma, so a penalty ``P(w)`` added to ``SSE / (2 sigma^2)`` is the prior ``-log p(w)``.
"""

from bayesreg.regularizers.dropout import (
    DropoutTraining,
    dropout_expected_loss,
    dropout_logistic_exact,
    dropout_logistic_quadratic,
    dropout_map,
    dropout_penalty_weights,
    dropout_prior,
    dropout_prior_scales,
    dropout_sgd,
)
from bayesreg.regularizers.early_stopping import (
    ALI_BOUND,
    ali_constant,
    early_stopping_df,
    early_stopping_df_lambda,
    early_stopping_iterate,
    early_stopping_path,
    early_stopping_ridge_lambda,
    gradient_flow_risk,
    ridge_path,
    ridge_risk,
)
from bayesreg.regularizers.equivalences import EquivalenceRow, regularizer_equivalences
from bayesreg.regularizers.noise import noise_prior_scale, noise_ridge_alpha, noisy_copies_fit

__all__ = [
    "ALI_BOUND",
    "DropoutTraining",
    "EquivalenceRow",
    "ali_constant",
    "dropout_expected_loss",
    "dropout_logistic_exact",
    "dropout_logistic_quadratic",
    "dropout_map",
    "dropout_penalty_weights",
    "dropout_prior",
    "dropout_prior_scales",
    "dropout_sgd",
    "early_stopping_df",
    "early_stopping_df_lambda",
    "early_stopping_iterate",
    "early_stopping_path",
    "early_stopping_ridge_lambda",
    "gradient_flow_risk",
    "noise_prior_scale",
    "noise_ridge_alpha",
    "noisy_copies_fit",
    "regularizer_equivalences",
    "ridge_path",
    "ridge_risk",
]
