"""Dropout is an adaptive Gaussian prior: exact for linear regression, approximate for logistic.

Setting. Dropout multiplies every input ``x_ij`` by ``delta_ij = m_ij / (1 - q)`` with
``m_ij ~ Bernoulli(1 - q)`` independent (q = ``rate``, the probability of dropping an input;
the kept ones are scaled by 1/(1-q), "inverted dropout", so ``E[delta] = 1`` and
``Var[delta] = q / (1 - q)``). The intercept b is never dropped and never penalized. X is taken
as given: ``x_j`` below is the j-th column exactly as it is dropped, *not centred* (centre X
first if you want ``||x_j||^2 = n var(x_j)``).

Linear regression (exact). Row i's residual under the mask is
``r_i - sum_j (delta_ij - 1) x_ij w_j`` with ``r_i = y_i - b - x_i w``. The masks have mean 0
around 1 and are independent across j, so the cross terms vanish in expectation and::

    E_masks[SSE] = SSE(w, b) + q / (1 - q) * sum_j ||x_j||^2 w_j^2 .

(The same holds for one mask shared by all rows: only independence across features is used.)
Dividing by ``2 sigma^2``, dropout training minimizes in expectation::

    SSE(w, b) / (2 sigma^2) + sum_j w_j^2 / (2 tau_j^2),   1/tau_j^2 = q ||x_j||^2 / ((1-q) sigma^2)

the negative log posterior of a Gaussian prior ``w_j ~ N(0, tau_j^2)`` with a per-feature,
data-dependent scale (:func:`dropout_prior_scales`). Its MAP (:func:`dropout_map`) is the
ridge solution with penalty ``q/(1-q) ||x_j||^2`` on coefficient j; sigma cancels. The
intercept is profiled out by centring X and y in the normal equations (only there: the
penalty keeps the uncentred norms of the dropped columns).

Logistic regression (approximate). The expected cross-entropy over the masks has no closed
form. Wager, Wang & Liang (2013) expand it to second order around the mask mean::

    E_masks[J0] ~ J0(w, b) + q / (2 (1 - q)) * sum_j w_j^2 sum_i p_i (1 - p_i) x_ij^2

with ``p_i = sigmoid(b + x_i w)`` (:func:`dropout_logistic_quadratic`). It is an
approximation: the exact expectation, computed by enumerating the 2^p masks of each row
(:func:`dropout_logistic_exact`), has a different minimizer, and the tests measure the gap.

References
----------
Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov (2014). Dropout: a simple way to
prevent neural networks from overfitting. JMLR 15.
Wager, Wang & Liang (2013). Dropout training as adaptive regularization. NeurIPS 26.
Polyak & Juditsky (1992). Acceleration of stochastic approximation by averaging. SIAM J.
Control Optim. 30(4).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from bayesreg._results import Result
from bayesreg._validation import (
    check_binary_labels,
    check_choice,
    check_finite_array,
    check_positive,
    check_positive_int,
    check_random_seed,
    check_X_y,
)
from bayesreg.priors import Gaussian
from bayesreg.regularizers._common import check_rate, per_feature_ridge

__all__ = [
    "DropoutTraining",
    "dropout_expected_loss",
    "dropout_logistic_exact",
    "dropout_logistic_quadratic",
    "dropout_map",
    "dropout_penalty_weights",
    "dropout_prior_scales",
    "dropout_sgd",
]

#: losses of :func:`dropout_sgd` and :func:`dropout_expected_loss`
DROPOUT_LOSSES = ("squared", "logistic")
#: enumerating 2^p masks per row is exact but exponential: refuse beyond this p
_MAX_ENUMERATED_P = 16


def dropout_penalty_weights(X: object, rate: float) -> np.ndarray:
    """``q / (1 - q) * ||x_j||^2``, the penalty weight of ``w_j^2`` added to SSE by dropout.

    Parameters
    ----------
    X : array-like of shape (n, p)
        The inputs as they are dropped (not centred here).
    rate : float in [0, 1)
        Dropout probability q.

    Returns
    -------
    ndarray of shape (p,)
    """
    X = check_finite_array(X, "X", ndim=2)
    q = check_rate(rate, "dropout_penalty_weights")
    return q / (1.0 - q) * np.sum(X**2, axis=0)


def dropout_prior_scales(X: object, rate: float, sigma: float = 1.0) -> np.ndarray:
    """Per-feature Gaussian prior scales tau_j equivalent to dropout in linear regression.

    ``1 / tau_j^2 = q ||x_j||^2 / ((1 - q) sigma^2)``, so that
    ``E_masks[SSE] / (2 sigma^2) = SSE / (2 sigma^2) + sum_j w_j^2 / (2 tau_j^2)`` (module
    docstring). A column of zeros, or q = 0, gives ``tau_j = inf`` (no penalty).

    Parameters
    ----------
    X : array-like of shape (n, p)
        The inputs as they are dropped (not centred).
    rate : float in [0, 1)
        Dropout probability q.
    sigma : float > 0, default 1.0
        Noise sd of the Gaussian likelihood.

    Returns
    -------
    tau : ndarray of shape (p,)
    """
    sigma = check_positive(sigma, "sigma", "dropout_prior_scales")
    weights = dropout_penalty_weights(X, rate)
    with np.errstate(divide="ignore"):
        return sigma / np.sqrt(weights)


def dropout_prior(X: object, rate: float, sigma: float | None = None) -> Gaussian:
    """The Gaussian prior, one scale per coefficient, whose MAP is dropout's solution.

    ``w_j ~ N(0, tau_j^2)`` with ``1 / tau_j^2 = q ||x_j||^2 / ((1 - q) sigma^2)``
    (:func:`dropout_prior_scales`; ``x_j`` the column as it is dropped, not centred). With
    ``sigma=None`` the prior is written ``scale_by_sigma=True`` with
    ``scale_j = sqrt((1 - q) / (q ||x_j||^2))``, so ``tau_j = scale_j * sigma`` follows the
    model's sigma (known or estimated) and the penalty ``sum_j w_j^2 / (2 tau_j^2)`` added to
    ``SSE / (2 sigma^2)`` is ``E_masks[SSE] / (2 sigma^2)`` for every sigma. Then
    ``map_estimate(RegressionModel(X, y, dropout_prior(X, q)))`` equals :func:`dropout_map`.

    Parameters
    ----------
    X : array-like of shape (n, p)
        The inputs as they are dropped (not centred).
    rate : float in (0, 1)
        Dropout probability q (q = 0 is no penalty: a flat prior, which is not a Gaussian).
    sigma : float > 0, optional
        A fixed noise sd (the prior then has fixed scales ``tau_j``); None: scaled by the
        model's sigma.

    Returns
    -------
    Gaussian
        With ``scale`` of shape (p,).

    Raises
    ------
    ValueError
        For rate = 0 or a column of zeros (never dropped, never penalized: tau_j = inf).
    """
    q = check_rate(rate, "dropout_prior")
    if sigma is not None:
        sigma = check_positive(sigma, "sigma", "dropout_prior")
    weights = dropout_penalty_weights(X, q)
    if q == 0.0 or not np.all(weights > 0):
        why = (
            "rate=0 penalizes nothing"
            if q == 0.0
            else (
                f"column {int(np.flatnonzero(weights <= 0)[0])} of X is all zeros, so dropout does "
                "not penalize its coefficient"
            )
        )
        raise ValueError(
            f"dropout_prior has no Gaussian prior here: {why} (tau = inf, a flat prior). "
            "Use a rate in (0, 1) and drop all-zero columns."
        )
    if sigma is None:
        return Gaussian(1.0 / np.sqrt(weights), scale_by_sigma=True)
    return Gaussian(dropout_prior_scales(X, rate, sigma))


def dropout_map(
    X: object, y: object, rate: float, fit_intercept: bool = True
) -> tuple[np.ndarray, float]:
    """MAP of the dropout prior: minimizer of ``E_masks[SSE]`` for linear regression.

    Minimizes ``SSE(w, b) + q/(1-q) sum_j ||x_j||^2 w_j^2`` (b unpenalized; centred normal
    equations). Equals the MAP of ``SSE/(2 sigma^2) + sum_j w_j^2/(2 tau_j^2)`` with tau from
    :func:`dropout_prior_scales` for every sigma.

    Returns
    -------
    coef : ndarray of shape (p,)
    intercept : float
    """
    X, y = check_X_y(X, y)
    return per_feature_ridge(X, y, dropout_penalty_weights(X, rate), fit_intercept)


def _masks(p: int, q: float) -> tuple[np.ndarray, np.ndarray]:
    """All 2^p keep-masks (rows of 0/1) and their probabilities under Bernoulli(1 - q)."""
    if p > _MAX_ENUMERATED_P:
        raise ValueError(
            f"Enumerating the 2^p dropout masks needs p <= {_MAX_ENUMERATED_P}; got p = {p}."
        )
    M = np.array(list(itertools.product((0.0, 1.0), repeat=p)))
    kept = M.sum(axis=1)
    return M, (1.0 - q) ** kept * q ** (p - kept)


def _enumerated_eta(X: np.ndarray, coef: np.ndarray, intercept: float, q: float):
    """Linear predictors ``(n, 2^p)`` of every row under every mask, and the masks' weights."""
    M, prob = _masks(X.shape[1], q)
    return intercept + X @ (M * coef).T / (1.0 - q), M, prob


def dropout_expected_loss(
    X: object,
    y: object,
    coef: object,
    intercept: float = 0.0,
    rate: float = 0.5,
    loss: str = "squared",
) -> float:
    """``sum_i E_masks[loss_i]`` exactly, by enumerating the 2^p masks of each row.

    ``loss="squared"``: ``(y_i - b - x~_i w)^2`` (so the sum is E[SSE]); ``"logistic"``: the
    cross-entropy ``log(1 + e^eta) - y eta`` with ``eta = b + x~_i w``; ``x~_ij = delta_ij x_ij``.
    Cost O(n p 2^p): a brute-force reference for small p (<= 16).
    """
    X, y = check_X_y(X, y)
    check_choice(loss, "dropout loss", DROPOUT_LOSSES)
    coef = check_finite_array(coef, "coef", ndim=1)
    q = check_rate(rate, "dropout_expected_loss")
    eta, _, prob = _enumerated_eta(X, coef, float(intercept), q)
    if loss == "squared":
        per = (y[:, None] - eta) ** 2
    else:
        per = np.logaddexp(0.0, eta) - y[:, None] * eta
    return float(np.sum(per @ prob))


def _exact_logistic_fg(theta: np.ndarray, X: np.ndarray, y: np.ndarray, q: float):
    """Enumerated expected cross-entropy and its gradient in ``theta = (w, b)``."""
    coef, b = theta[:-1], float(theta[-1])
    eta, M, prob = _enumerated_eta(X, coef, b, q)
    f = float(np.sum((np.logaddexp(0.0, eta) - y[:, None] * eta) @ prob))
    G = (special.expit(eta) - y[:, None]) * prob  # (n, 2^p): d/d eta, weighted
    g_w = np.einsum("ij,im,mj->j", X, G, M) / (1.0 - q)
    return f, np.append(g_w, G.sum())


def _minimize(fg, p: int, what: str) -> tuple[np.ndarray, float]:
    res = optimize.minimize(
        fg,
        np.zeros(p + 1),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-10, "ftol": 0.0, "maxiter": 10000},
    )
    g = res.jac
    if not np.all(np.isfinite(res.x)) or np.max(np.abs(g)) > 1e-6 * max(1.0, abs(res.fun)):
        raise RuntimeError(f"{what}: L-BFGS did not converge ({res.message}).")
    return res.x[:-1], float(res.x[-1])


def dropout_logistic_exact(X: object, y: object, rate: float) -> tuple[np.ndarray, float]:
    """Minimizer of the exact expected cross-entropy under dropout (what dropout training
    converges to), by enumeration of the masks (p <= 16) and L-BFGS.

    Objective ``sum_i E_masks[log(1 + e^eta_i) - y_i eta_i]``, ``eta_i = b + sum_j delta_ij
    x_ij w_j``: convex (an average of convex functions). ``rate = 0`` is the plain maximum
    likelihood fit (labels must not be separable).

    Returns
    -------
    coef : ndarray of shape (p,)
    intercept : float
    """
    X, y = check_X_y(X, y)
    check_binary_labels(y)
    q = check_rate(rate, "dropout_logistic_exact")
    return _minimize(lambda t: _exact_logistic_fg(t, X, y, q), X.shape[1], "dropout_logistic_exact")


def _quadratic_logistic_fg(theta: np.ndarray, X: np.ndarray, y: np.ndarray, q: float):
    """Cross-entropy + Wager et al.'s penalty, and the gradient in ``theta = (w, b)``."""
    coef, b = theta[:-1], float(theta[-1])
    eta = b + X @ coef
    pr = special.expit(eta)
    v = pr * (1.0 - pr)
    c = q / (2.0 * (1.0 - q))
    s = (X**2) @ (coef**2)  # s_i = sum_j x_ij^2 w_j^2
    f = float(np.sum(np.logaddexp(0.0, eta) - y * eta) + c * v @ s)
    d_eta = (pr - y) + c * v * (1.0 - 2.0 * pr) * s  # d/d eta_i of everything but s
    g_w = X.T @ d_eta + 2.0 * c * coef * ((X**2).T @ v)
    return f, np.append(g_w, d_eta.sum())


def dropout_logistic_quadratic(X: object, y: object, rate: float) -> tuple[np.ndarray, float]:
    """Wager, Wang & Liang (2013)'s quadratic approximation to dropout logistic regression.

    Minimizes ``J0(w, b) + q/(2(1-q)) sum_j w_j^2 sum_i p_i (1 - p_i) x_ij^2`` with
    ``J0 = sum_i [log(1 + e^eta_i) - y_i eta_i]``, ``p_i = sigmoid(b + x_i w)`` (the weights
    p_i(1-p_i) move with w: an adaptive, data-dependent ridge). L-BFGS from 0. It is a
    second-order approximation of :func:`dropout_logistic_exact`, not equal to it.

    Returns
    -------
    coef : ndarray of shape (p,)
    intercept : float
    """
    X, y = check_X_y(X, y)
    check_binary_labels(y)
    q = check_rate(rate, "dropout_logistic_quadratic")
    return _minimize(
        lambda t: _quadratic_logistic_fg(t, X, y, q), X.shape[1], "dropout_logistic_quadratic"
    )


@dataclass(frozen=True)
class DropoutTraining(Result):
    """The outcome of :func:`dropout_sgd`.

    Attributes
    ----------
    coef : ndarray (p,)
        Polyak-Ruppert average of the iterates over the second half of the epochs.
    intercept : float
    coef_se : ndarray (p,)
        Monte Carlo standard error of ``coef``: the diagonal of the averaged-SGD sandwich
        ``H^-1 S H^-1 / T`` (H: mean stochastic Hessian, S: covariance of the stochastic
        gradients, T: number of averaged steps; all measured along the averaging phase).
        Conservative for epoch-wise sampling: visiting each row once per epoch cancels the
        row-sampling part of S over an epoch, which the i.i.d. formula still counts (the
        mask noise is counted exactly).
    intercept_se : float
    n_iter : int
    learning_rate : float
        Initial step; step k is ``learning_rate / (1 + k / decay)^0.6``, decay = a tenth of
        the total number of steps.
    """

    coef: np.ndarray
    intercept: float
    coef_se: np.ndarray
    intercept_se: float
    n_iter: int
    learning_rate: float


def _loss_derivatives(loss: str, eta: np.ndarray, y: np.ndarray, sigma: float):
    """First and second derivatives in eta of ``(y - eta)^2 / (2 sigma^2)`` or the
    cross-entropy ``log(1 + e^eta) - y eta``."""
    if loss == "squared":
        return (eta - y) / sigma**2, np.full(eta.shape, 1.0 / sigma**2)
    pr = special.expit(eta)
    return pr - y, pr * (1.0 - pr)


class _Averager:
    """Polyak-Ruppert average of the iterates, with the sandwich standard error."""

    def __init__(self, d: int) -> None:
        self.k, self.theta, self.g = 0, np.zeros(d), np.zeros(d)
        self.gg, self.H = np.zeros((d, d)), np.zeros((d, d))

    def add(self, theta: np.ndarray, g: np.ndarray, H: np.ndarray) -> None:
        self.k += 1
        self.theta += theta
        self.g += g
        self.gg += np.outer(g, g)
        self.H += H

    def mean_and_se(self) -> tuple[np.ndarray, np.ndarray]:
        k = self.k
        S = self.gg / k - np.outer(self.g / k, self.g / k)
        Hinv = np.linalg.inv(self.H / k)
        return self.theta / k, np.sqrt(np.diag(Hinv @ S @ Hinv.T) / k)


def _dropout_step(theta, X, y, rows, q, loss, sigma, rng):
    """Stochastic gradient (scaled to the full objective) and Hessian at theta, fresh masks."""
    n, p = X.shape
    keep = rng.random((rows.size, p)) >= q
    Xt = np.ones((rows.size, p + 1))
    Xt[:, :p] = X[rows] * keep / (1.0 - q)
    d1, d2 = _loss_derivatives(loss, Xt @ theta, y[rows], sigma)
    factor = n / rows.size
    return factor * (Xt.T @ d1), factor * (Xt.T @ (d2[:, None] * Xt))


def _run_sgd(X, y, q, loss, sigma, n_epochs, m, lr, rng) -> tuple[_Averager, int]:
    """The SGD loop of :func:`dropout_sgd`; returns the averager and the number of steps."""
    n, p = X.shape
    n_batches = -(-n // m)
    decay = max(1.0, n_epochs * n_batches / 10.0)
    theta, avg, k = np.zeros(p + 1), _Averager(p + 1), 0
    for epoch in range(n_epochs):
        for rows in np.array_split(rng.permutation(n), n_batches):
            g, H = _dropout_step(theta, X, y, rows, q, loss, sigma, rng)
            if 2 * epoch >= n_epochs:
                avg.add(theta, g, H)  # g, H are measured at this iterate
            theta = theta - lr / (1.0 + k / decay) ** 0.6 * g
            k += 1
    return avg, k


def dropout_sgd(
    X: object,
    y: object,
    rate: float,
    loss: str = "squared",
    *,
    n_epochs: int = 2000,
    batch_size: int = 10,
    learning_rate: float | None = None,
    sigma: float = 1.0,
    random_seed: int | np.random.Generator | None = None,
) -> DropoutTraining:
    """Real dropout training: minibatch SGD with fresh masks for every row at every step.

    Each epoch visits the rows in a random order in batches; every visited input is dropped
    with probability q (kept ones scaled by 1/(1-q)), the intercept never. The stochastic
    gradient of ``sum_i loss(y_i, b + x~_i w)`` (``loss="squared"``: ``(y - eta)^2/(2 sigma^2)``;
    ``"logistic"``: cross-entropy) is unbiased for the gradient of ``E_masks[objective]``, so
    with the decreasing step ``lr_k = learning_rate / (1 + k/decay)^0.6`` (decay = a tenth of
    the steps) and averaging over the second half, the average converges to its minimizer:
    :func:`dropout_map` (squared) or :func:`dropout_logistic_exact` (logistic).

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    rate : float in [0, 1)
    loss : {"squared", "logistic"}
    n_epochs : int, default 2000
    batch_size : int, default 10
    learning_rate : float, optional
        Default ``1 / L``, L a sure bound on the norm of the stochastic Hessian
        (``n * curvature * max_i (||x_i||^2 / (1-q)^2 + 1)``).
    sigma : float > 0, default 1.0
        Noise sd (squared loss only).
    random_seed : int, Generator or None

    Returns
    -------
    DropoutTraining
    """
    owner = "dropout_sgd"
    X, y = check_X_y(X, y)
    check_choice(loss, "dropout loss", DROPOUT_LOSSES)
    if loss == "logistic":
        check_binary_labels(y)
    q = check_rate(rate, owner)
    n_epochs = check_positive_int(n_epochs, "n_epochs", owner)
    m = min(check_positive_int(batch_size, "batch_size", owner), X.shape[0])
    sigma = check_positive(sigma, "sigma", owner)
    rng = np.random.default_rng(check_random_seed(random_seed, "random_seed", owner))
    if learning_rate is None:
        curv = 1.0 / sigma**2 if loss == "squared" else 0.25
        row_norm = float(np.max(np.sum(X**2, axis=1))) / (1.0 - q) ** 2 + 1.0
        learning_rate = 1.0 / (curv * X.shape[0] * row_norm)
    lr = check_positive(learning_rate, "learning_rate", owner)
    avg, k = _run_sgd(X, y, q, loss, sigma, n_epochs, m, lr, rng)
    mean, se = avg.mean_and_se()
    p = X.shape[1]
    return DropoutTraining(mean[:p], float(mean[p]), se[:p], float(se[p]), k, float(lr))
