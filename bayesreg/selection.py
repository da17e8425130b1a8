"""Choosing lambda (the prior scale) five ways, side by side.

=======================  =====================================================  ==============
method                   what it optimizes                                      function
=======================  =====================================================  ==============
validation grid/random   held-out error of the MAP (the seed's method)          validation_search
k-fold CV                mean held-out error of the MAP over k folds            kfold_search
PSIS-LOO                 expected log predictive density of the posterior       psis_loo_search
full Bayes               nothing: a hyperprior on lambda, integrated over       full_bayes
empirical Bayes          the marginal likelihood p(y | lambda)                  ridge_evidence,
                                                                                mcem_lambda
=======================  =====================================================  ==============

Each returns a :class:`SelectionResult`: the chosen prior (and its scale), the curve that was
optimized (criterion vs the grid; for full Bayes the posterior density of lambda; for MCEM the
EM path), and the wall time. :func:`compare_selection` runs several on the same data.

Units. For a Gaussian prior the scale is tau (w_j ~ N(0, tau^2)) and scikit-learn's Ridge
``alpha = sigma^2 / tau^2``; for a Laplace prior the scale is b and Lasso's
``alpha = sigma^2 / (n b)``. Park & Casella's lambda (``w_j | sigma ~ Laplace(0, sigma /
lambda)``) is a ``Laplace(1 / lambda, scale_by_sigma=True)`` prior.

Calling convention (one for the whole module): every function takes the data ``X, y`` first,
because the searches refit on folds and splits of them, and everything after ``X, y`` is
keyword-only. ``prior`` is a :class:`~bayesreg.priors.Prior` (its scale is replaced by the
candidates) or a name of :func:`~bayesreg.priors.prior_names`; ``likelihood`` is a
:class:`~bayesreg.likelihoods.Likelihood` or a name of
:func:`~bayesreg.likelihoods.likelihood_names` (``sigma=`` sets a named likelihood's known
noise sd), resolved in one place (``_resolve_likelihood``). Seeds are ``random_seed`` (None, an
int or a numpy Generator). The MAP fits use :func:`bayesreg.solvers.map_estimate` on a
:class:`~bayesreg.model.RegressionModel` per training split (one model per split, compiled
once, its scale set in place: the model is this module's own, never the caller's), the
posterior fits
:func:`bayesreg.sampling.sample_posterior`: selection does not depend on the scikit-learn facade.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayesreg._capabilities import HAS_MAP, require
from bayesreg._results import Result
from bayesreg._validation import (
    check_choice,
    check_positive_int,
    check_random_seed,
    check_X_y,
)
from bayesreg.conventions import prior_to_penalty
from bayesreg.gibbs import GIBBS_PRIORS, bayesian_lasso_gibbs, mcem_lasso_lambda
from bayesreg.likelihoods import Likelihood, likelihood_from_name
from bayesreg.model import RegressionModel
from bayesreg.priors import Prior, prior_from_name
from bayesreg.solvers import MapEstimate, map_estimate

__all__ = [
    "COMPARE_PRIORS",
    "SELECTION_METHODS",
    "SelectionResult",
    "compare_selection",
    "full_bayes",
    "kfold_search",
    "mcem_lambda",
    "psis_loo_search",
    "ridge_evidence",
    "validation_search",
]

SELECTION_METHODS = (
    "validation_grid",
    "validation_random",
    "kfold",
    "psis_loo",
    "full_bayes",
    "evidence",
)


@dataclass(frozen=True)
class SelectionResult(Result):
    """The outcome of one way of choosing the prior scale.

    Attributes
    ----------
    method : str
    prior : Prior
        The chosen prior (its ``scale`` is the chosen value).
    grid : ndarray
        Where the criterion was evaluated (prior scales; lambda for MCEM / full Bayes).
    curve : ndarray
        The criterion on ``grid`` (see ``criterion``).
    criterion : str
        What ``curve`` is, and whether it is minimized or maximized.
    sigma : float or None
        Noise sd used or estimated (None for Bernoulli).
    seconds : float
        Wall time, compilation included.
    n : int
        Number of observations (for converting to per-sample conventions).
    extra : dict
        Method-specific details (standard errors, Pareto k counts, posterior draws, ...).
    """

    method: str
    prior: Prior
    grid: np.ndarray
    curve: np.ndarray
    criterion: str
    sigma: float | None
    seconds: float
    n: int
    extra: dict = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """The chosen prior scale (``prior.scale``)."""
        return float(self.prior.scale)

    @property
    def sklearn_alpha(self) -> float:
        """The chosen strength as scikit-learn's ``alpha``: Ridge for a penalty without an L1
        part (Gaussian), Lasso for one without an L2 part (Laplace), ElasticNet's alpha for a
        mix (at ``sigma``); read from the prior's ``elastic_coefs``."""
        sigma = 1.0 if self.sigma is None else self.sigma
        coefs = self.prior.elastic_coefs(sigma)
        if coefs is None:
            raise ValueError(
                f"{self.prior!r} has no scikit-learn alpha: it is not an elastic penalty."
            )
        a, c = coefs
        conv = "sklearn_ridge" if a == 0 else "sklearn_lasso" if c == 0 else "sklearn_elasticnet"
        return prior_to_penalty(self.prior, conv, sigma=sigma, n=self.n)

    def _extra_dict(self) -> dict:
        return {"scale": self.scale}

    def __repr__(self) -> str:
        sig = "" if self.sigma is None else f", sigma={self.sigma:.4g}"
        return (
            f"SelectionResult(method={self.method!r}, prior={self.prior!r}{sig}, "
            f"seconds={self.seconds:.3g})"
        )


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _make_prior(prior: str | Prior, scale: float) -> Prior:
    """``prior`` at ``scale``: a Prior's copy, or the registry's prior of that name."""
    if isinstance(prior, Prior):
        return prior.with_scale(scale)
    return prior_from_name(prior, scale)


def _resolve_likelihood(likelihood: str | Likelihood, sigma: float | None) -> Likelihood:
    """The one resolution of ``likelihood``: a Likelihood as given, or a registry name (with
    ``sigma`` as its known noise sd when given)."""
    if isinstance(likelihood, Likelihood):
        if sigma is not None:
            raise ValueError(
                f"Pass a known sigma inside the Likelihood ({likelihood!r}) or with a likelihood "
                f"name, not both. Got sigma={sigma!r}."
            )
        return likelihood
    lik = likelihood_from_name(likelihood)
    if sigma is None:
        return lik
    if not lik.has_sigma:
        raise ValueError(
            f"The {likelihood!r} likelihood has no noise scale; sigma must be None. "
            f"Got sigma={sigma!r}."
        )
    return likelihood_from_name(likelihood, sigma=sigma)


def default_scale_grid(X: np.ndarray, y: np.ndarray, num: int = 30) -> np.ndarray:
    """Log-spaced prior scales from ``1e-3`` to ``1e2`` times ``sd(y) / rms(x)``.

    ``sd(y) / rms(x)`` is the size of a coefficient that explains all of y with one average
    column: scales far below it shrink everything to 0, far above it barely shrink.
    """
    Xc = X - X.mean(axis=0)
    rms = float(np.sqrt(np.mean(Xc**2)))
    ref = float(np.std(y)) / rms if rms > 0 and np.std(y) > 0 else 1.0
    return ref * np.logspace(-3, 2, num)


def _check_grid(scales, X, y, name="scales") -> np.ndarray:
    if scales is None:
        return default_scale_grid(X, y)
    grid = np.atleast_1d(np.asarray(scales, dtype=np.float64))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError(
            f"The '{name}' parameter must be a non-empty 1-D sequence of positive finite floats. "
            f"Got {scales!r} instead."
        )
    return grid


def _mse(y: np.ndarray, eta: np.ndarray, lik: Likelihood, sigma: float) -> float:
    return float(np.mean((y - eta) ** 2))


def _log_loss(y: np.ndarray, eta: np.ndarray, lik: Likelihood, sigma: float) -> float:
    return float(np.mean(np.logaddexp(0.0, eta) - y * eta))


def _mean_nll(y: np.ndarray, eta: np.ndarray, lik: Likelihood, sigma: float) -> float:
    return -float(lik.logpdf(eta, y, sigma)) / y.size


#: the held-out loss of the MAP, by the likelihood's scikit-learn loss (its usual score); any
#: other likelihood is scored by its mean negative log-likelihood
_HELDOUT: dict[str | None, tuple[Callable[..., float], str]] = {
    "squared_error": (_mse, "mean squared error"),
    "log_loss": (_log_loss, "mean log loss"),
}
_FALLBACK = (_mean_nll, "mean negative log-likelihood")


def _heldout_loss(est: MapEstimate, X: np.ndarray, y: np.ndarray, lik: Likelihood) -> float:
    """The held-out loss of the MAP ``est`` on (X, y) (see ``_HELDOUT``)."""
    loss, _ = _HELDOUT.get(lik.sklearn_loss, _FALLBACK)
    sigma = est.sigma if est.sigma is not None else (lik.fixed_sigma or 1.0)
    return loss(y, X @ est.coef + est.intercept, lik, sigma)


def _criterion_name(lik: Likelihood, what: str) -> str:
    return f"{what} {_HELDOUT.get(lik.sklearn_loss, _FALLBACK)[1]} (minimized)"


def _scale_losses(
    X: np.ndarray, y: np.ndarray, train, test, base: Prior, lik: Likelihood, grid, fit_intercept
) -> np.ndarray:
    """Held-out loss of the MAP fitted on ``train`` at each scale of ``grid``.

    One model per split, compiled once: this function's own model, so its scale is set in
    place (``set_prior_scale``); nobody else holds it.
    """
    model = RegressionModel(X[train], y[train], base, lik, fit_intercept)
    out = np.empty(grid.size)
    for i, s in enumerate(grid):
        model.set_prior_scale(float(s))
        out[i] = _heldout_loss(map_estimate(model), X[test], y[test], lik)
    return out


def _sigma_of(chosen: Prior, lik: Likelihood, fit_intercept: bool, X, y) -> float | None:
    """The noise sd to report: the known one, the MAP's on all the data, or None (no sigma)."""
    if not lik.has_sigma:
        return None
    if lik.fixed_sigma is not None:
        return float(lik.fixed_sigma)
    return map_estimate(RegressionModel(X, y, chosen, lik, fit_intercept)).sigma


def _setup(who: str, X, y, prior, likelihood, sigma, scales):
    """Validated (Xa, ya, grid, base prior, likelihood) shared by the MAP searches."""
    lik = _resolve_likelihood(likelihood, sigma)
    Xa, ya = check_X_y(X, y)
    grid = _check_grid(scales, Xa, ya)
    base = _make_prior(prior, float(grid[0]))
    require(who, (HAS_MAP,), base, lik)
    return Xa, ya, grid, base, lik


# ---------------------------------------------------------------------------------------------
# 1. the seed's method: grid or random search on a validation set
# ---------------------------------------------------------------------------------------------
def validation_search(
    X: object,
    y: object,
    *,
    prior: str | Prior = "gaussian",
    scales: Sequence[float] | None = None,
    search: str = "grid",
    n_random: int = 20,
    validation_fraction: float = 0.25,
    likelihood: str | Likelihood = "gaussian",
    sigma: float | None = None,
    fit_intercept: bool = True,
    random_seed: int | np.random.Generator | None = 0,
) -> SelectionResult:
    """Choose the prior scale by the MAP's error on a held-out validation set.

    The data are split once (``validation_fraction`` held out, shuffled with
    ``random_seed``); the MAP is fitted on the rest at each candidate scale and the scale with
    the smallest validation error (MSE, or log loss for ``likelihood="bernoulli"``) wins. The
    returned prior is refitted on all the data only to report sigma.

    Parameters
    ----------
    X : array-like (n, p)
    y : array-like (n,)
    prior : str or Prior
        A name of :func:`~bayesreg.priors.prior_names` with a MAP (e.g. "gaussian", "laplace",
        "elasticnet"), or a Prior.
    scales : sequence of float, optional
        The grid (``search="grid"``), or the range ``[min, max]`` sampled log-uniformly
        (``search="random"``). Default :func:`default_scale_grid`.
    search : {"grid", "random"}
    n_random : int
        Number of random candidates.
    validation_fraction : float in (0, 1)
    likelihood : str or Likelihood
        A name of :func:`~bayesreg.likelihoods.likelihood_names` or a Likelihood.
    sigma : float, optional
        Known noise sd of a named likelihood; None estimates it jointly in each MAP.
    random_seed : int, numpy Generator or None
    """
    start = time.perf_counter()
    check_choice(search, "search", ("grid", "random"))
    Xa, ya, grid, base, lik = _setup("validation_search", X, y, prior, likelihood, sigma, scales)
    ok = isinstance(validation_fraction, Real) and not isinstance(validation_fraction, bool)
    if not (ok and 0.0 < float(validation_fraction) < 1.0):
        raise ValueError(
            "The 'validation_fraction' parameter of validation_search must be a float in the "
            f"range (0, 1). Got {validation_fraction!r} instead."
        )
    rng = np.random.default_rng(check_random_seed(random_seed, "random_seed", "validation_search"))
    if search == "random":
        n_random = check_positive_int(n_random, "n_random", "validation_search")
        lo, hi = np.log(grid.min()), np.log(grid.max())
        grid = np.sort(np.exp(rng.uniform(lo, hi, size=n_random)))
    n = len(ya)
    perm = rng.permutation(n)
    n_val = max(1, round(validation_fraction * n))
    val, train = perm[:n_val], perm[n_val:]
    curve = _scale_losses(Xa, ya, train, val, base, lik, grid, fit_intercept)
    chosen = base.with_scale(float(grid[int(np.argmin(curve))]))
    return SelectionResult(
        method=f"validation_{search}",
        prior=chosen,
        grid=grid,
        curve=curve,
        criterion=_criterion_name(lik, "validation"),
        sigma=_sigma_of(chosen, lik, fit_intercept, Xa, ya),
        seconds=time.perf_counter() - start,
        n=n,
        extra={"n_validation": n_val},
    )


# ---------------------------------------------------------------------------------------------
# 2. k-fold cross-validation
# ---------------------------------------------------------------------------------------------
def kfold_search(
    X: object,
    y: object,
    *,
    prior: str | Prior = "gaussian",
    scales: Sequence[float] | None = None,
    cv: object = 5,
    likelihood: str | Likelihood = "gaussian",
    sigma: float | None = None,
    fit_intercept: bool = True,
    one_standard_error: bool = False,
) -> SelectionResult:
    """Choose the prior scale by k-fold cross-validated error of the MAP.

    ``cv`` is anything scikit-learn's ``check_cv`` accepts: an int (KFold, or StratifiedKFold
    for a classification likelihood), a splitter object (``KFold``, ``GroupKFold``,
    ``TimeSeriesSplit``, ...) or an iterable of (train, test) index pairs.
    ``one_standard_error=True`` picks the smallest scale (strongest prior) within one standard
    error of the best mean, glmnet's ``lambda.1se``. ``extra["se"]`` holds the standard error
    of each mean. ``prior``, ``likelihood`` and ``sigma`` as in :func:`validation_search`.
    """
    from sklearn.model_selection import check_cv

    start = time.perf_counter()
    Xa, ya, grid, base, lik = _setup("kfold_search", X, y, prior, likelihood, sigma, scales)
    splitter = check_cv(cv, ya, classifier=lik.sklearn_loss == "log_loss")
    folds = list(splitter.split(Xa, ya))
    losses = np.column_stack(
        [_scale_losses(Xa, ya, tr, te, base, lik, grid, fit_intercept) for tr, te in folds]
    )
    curve = losses.mean(axis=1)
    se = losses.std(axis=1, ddof=1) / np.sqrt(len(folds)) if len(folds) > 1 else np.zeros(grid.size)
    best = int(np.argmin(curve))
    if one_standard_error:
        ok = np.flatnonzero(curve <= curve[best] + se[best])
        best = int(ok[np.argmin(grid[ok])])
    chosen = base.with_scale(float(grid[best]))
    return SelectionResult(
        method="kfold",
        prior=chosen,
        grid=grid,
        curve=curve,
        criterion=_criterion_name(lik, f"{len(folds)}-fold CV"),
        sigma=_sigma_of(chosen, lik, fit_intercept, Xa, ya),
        seconds=time.perf_counter() - start,
        n=len(ya),
        extra={"se": se, "fold_losses": losses},
    )


# ---------------------------------------------------------------------------------------------
# 3. PSIS-LOO over a grid of prior scales (one model, one compiled sampler)
# ---------------------------------------------------------------------------------------------
def _warn_pareto_k(scale: float, k: np.ndarray, n_bad: int, threshold: float) -> None:
    worst = np.argsort(k)[::-1][: min(5, n_bad)]
    warnings.warn(
        f"PSIS-LOO at prior scale {scale:.4g}: {n_bad} of {len(k)} observations have "
        f"Pareto k > {threshold} (max {float(np.max(k)):.2f}; worst at indices "
        f"{worst.tolist()}): their leave-one-out estimates are unreliable. Use k-fold CV "
        "for this scale, or more draws / moment matching.",
        UserWarning,
        stacklevel=3,
    )


def psis_loo_search(
    X: object,
    y: object,
    *,
    prior: str | Prior = "gaussian",
    scales: Sequence[float] | None = None,
    likelihood: str | Likelihood = "gaussian",
    sigma: float | None = None,
    fit_intercept: bool = True,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    backend: str = "auto",
    random_seed: int | np.random.Generator | None = 0,
    progressbar: bool = False,
    pareto_k_threshold: float = 0.7,
) -> SelectionResult:
    """Choose the prior scale by the PSIS-LOO estimate of the expected log predictive density.

    One :class:`~bayesreg.model.RegressionModel` is built (this function's own; the caller
    passes data, not a model); each scale goes in through ``model.set_prior_scale``, so the
    sampler is compiled once and reused (``extra["compile_time"]`` lists each call's compile
    time: non-zero only for the first). At each scale the posterior is sampled and ``az.loo``
    computes elpd_loo and the Pareto k of each observation; observations with
    ``k > pareto_k_threshold`` (0.7, Vehtari et al. 2017) make that scale's estimate
    unreliable: a ``UserWarning`` says how many and where. ``curve`` is elpd_loo (maximized),
    ``extra["se"]`` its standard error. Scale ``i`` is sampled with seed ``random_seed + i``.
    """
    from bayesreg import _arviz
    from bayesreg.sampling import sample_posterior

    start = time.perf_counter()
    lik = _resolve_likelihood(likelihood, sigma)
    seed = check_random_seed(random_seed, "random_seed", "psis_loo_search")
    Xa, ya = check_X_y(X, y)
    grid = _check_grid(scales, Xa, ya)
    model = RegressionModel(Xa, ya, _make_prior(prior, float(grid[0])), lik, fit_intercept)
    elpd, se, max_k = np.empty(grid.size), np.empty(grid.size), np.empty(grid.size)
    n_bad = np.zeros(grid.size, dtype=int)
    sigmas = np.full(grid.size, np.nan)
    compile_times = []
    for i, s in enumerate(grid):
        model.set_prior_scale(float(s))  # our own model: the compiled sampler is reused
        idata = sample_posterior(
            model, draws=draws, tune=tune, chains=chains, backend=backend,
            random_seed=None if seed is None else seed + i, progressbar=progressbar,
        )  # fmt: skip
        compile_times.append(float(idata.posterior.attrs.get("compile_time", np.nan)))
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # az.loo's warning is replaced by ours (names the scale)
            loo = _arviz.loo(idata)
        elpd[i], se[i] = float(loo.elpd_loo), float(loo.se)
        k = np.asarray(loo.pareto_k)
        max_k[i], n_bad[i] = float(np.max(k)), int(np.sum(k > pareto_k_threshold))
        if "sigma" in idata.posterior:
            sigmas[i] = float(idata.posterior["sigma"].median())
        if n_bad[i]:
            _warn_pareto_k(float(s), k, int(n_bad[i]), pareto_k_threshold)
    best = int(np.argmax(elpd))
    known = lik.fixed_sigma
    return SelectionResult(
        method="psis_loo",
        prior=model.prior.with_scale(float(grid[best])),
        grid=grid,
        curve=elpd,
        criterion="elpd_loo (maximized)",
        sigma=(float(known) if known is not None else float(sigmas[best]))
        if lik.has_sigma
        else None,
        seconds=time.perf_counter() - start,
        n=len(ya),
        extra={
            "se": se,
            "n_bad_pareto_k": n_bad,
            "max_pareto_k": max_k,
            "compile_time": compile_times,
        },
    )


# ---------------------------------------------------------------------------------------------
# 4. full Bayes: a hyperprior on lambda (Park & Casella), integrated over by Gibbs sampling
# ---------------------------------------------------------------------------------------------
def full_bayes(
    X: object,
    y: object,
    *,
    prior: str = "laplace",
    lam_prior: tuple[float, float] = (1.0, 1.78),
    draws: int = 2000,
    tune: int = 500,
    chains: int = 2,
    fit_intercept: bool = True,
    random_seed: int | np.random.Generator | None = 0,
) -> SelectionResult:
    """Put a hyperprior on lambda and integrate over it (no lambda is "chosen").

    Park & Casella's sigma-conditional form: ``w_j | sigma, lambda ~ Laplace(0, sigma / lambda)``
    (``prior="laplace"``) or ``N(0, sigma^2 / lambda^2)`` (``prior="gaussian"``), with
    ``lambda^2 ~ Gamma(r, delta)`` (shape, rate) and ``p(sigma^2) ∝ 1 / sigma^2``; sampled
    exactly by Gibbs (:func:`bayesreg.gibbs.bayesian_lasso_gibbs`). The default ``(1, 1.78)`` is
    Park & Casella's choice for the diabetes data. The reported prior is the one at the
    posterior median of lambda (``Laplace(1 / lambda, scale_by_sigma=True)``); ``grid`` /
    ``curve`` are a kernel density estimate of lambda's posterior; ``extra`` has the draws,
    the posterior mean of w (which averages over lambda) and an ``InferenceData``. ``prior``
    is one of :data:`bayesreg.gibbs.GIBBS_PRIORS`.
    """
    start = time.perf_counter()
    check_choice(prior, "prior", GIBBS_PRIORS)
    res = bayesian_lasso_gibbs(
        X,
        y,
        lam_prior=lam_prior,
        prior=prior,
        draws=draws,
        tune=tune,
        chains=chains,
        fit_intercept=fit_intercept,
        random_seed=random_seed,
    )
    lam = res.lam.ravel()
    lam_med = float(np.median(lam))
    grid = np.linspace(lam.min(), lam.max(), 200)
    curve = stats.gaussian_kde(lam)(grid)
    return SelectionResult(
        method="full_bayes",
        prior=prior_from_name(prior, 1.0 / lam_med, scale_by_sigma=True),
        grid=grid,
        curve=curve,
        criterion="posterior density of lambda (integrated over, not optimized)",
        sigma=float(np.median(res.sigma)),
        seconds=time.perf_counter() - start,
        n=int(np.shape(y)[0]),
        extra={
            "lam_draws": res.lam,
            "lam_interval_95": tuple(np.quantile(lam, [0.025, 0.975])),
            "coef_mean": res.coef.mean(axis=(0, 1)),
            "idata": res.to_inference_data(),
        },
    )


# ---------------------------------------------------------------------------------------------
# 5. empirical Bayes: the ridge evidence (closed form) and MCEM for the Bayesian lasso
# ---------------------------------------------------------------------------------------------
def _evidence_parts(X: np.ndarray, y: np.ndarray, fit_intercept: bool, restricted: bool):
    n, p = X.shape
    if fit_intercept:
        X = X - X.mean(axis=0)
        y = y - y.mean()
    # n_eff: scikit-learn's BayesianRidge uses n; integrating the flat intercept out exactly
    # (restricted likelihood) leaves n - 1 dimensions
    n_eff = n - 1 if (fit_intercept and restricted) else n
    U, d, _ = np.linalg.svd(X, full_matrices=False)
    d2 = d**2
    e2 = (U.T @ y) ** 2
    yy = float(y @ y)
    return n_eff, p, d2, e2, yy


def _profile_log_evidence(log_r: np.ndarray, n_eff, p, d2, e2, yy) -> np.ndarray:
    """Log evidence maximized over the noise precision, as a function of r = alpha_ridge.

    With noise precision a = 1/sigma^2 and weight precision l = r a (so r = sigma^2 / tau^2)::

        log p(y) = n/2 log a + p/2 log l - 1/2 log det(l I + a X'X) - a S(r)/2 - n/2 log 2 pi
                 = n/2 log a + p/2 log r - 1/2 sum_i log(r + d_i^2) - a S(r)/2 - n/2 log 2 pi

    with ``S(r) = y'y - sum_i e_i^2 d_i^2 / (d_i^2 + r)`` (d_i the singular values of X,
    e = U'y; singular values beyond rank contribute log r terms via p). The optimal
    a = n / S(r) gives the profile.
    """
    r = np.exp(np.atleast_1d(log_r))[:, None]
    S = yy - np.sum(e2 * d2 / (d2 + r), axis=1)
    # p - rank directions have d = 0: log det contributes (p - rank) log r, cancelling p/2 log r
    rank_terms = np.sum(np.log(r + d2), axis=1) + (p - d2.size) * np.log(r[:, 0])
    a = n_eff / S
    return (
        0.5 * n_eff * np.log(a)
        + 0.5 * p * np.log(r[:, 0])
        - 0.5 * rank_terms
        - 0.5 * a * S
        - 0.5 * n_eff * np.log(2 * np.pi)
    )


def ridge_evidence(
    X: object,
    y: object,
    *,
    fit_intercept: bool = True,
    restricted: bool = False,
    grid: Sequence[float] | None = None,
) -> SelectionResult:
    """Empirical Bayes for the Gaussian prior: maximize the marginal likelihood p(y | tau, sigma).

    Model: ``y = X w + b + e``, ``e ~ N(0, sigma^2 I)``, ``w ~ N(0, tau^2 I)``, b flat
    (handled by centring). The evidence is Gaussian in closed form; profiling out the noise
    precision leaves a 1-D smooth function of ``alpha = sigma^2 / tau^2`` (Ridge's alpha),
    maximized by Brent's method on log alpha and then Newton-polished on the exact profile
    (see ``_profile_log_evidence``). This is the fixed point MacKay's updates (and scikit-learn's
    ``BayesianRidge`` with its Gamma hyperpriors set to 0) converge to.

    Parameters
    ----------
    restricted : bool, default False
        False: the centred data are treated as n observations (BayesianRidge's convention).
        True: the flat intercept is integrated out exactly, leaving n - 1 degrees of freedom.
    grid : sequence of float, optional
        Ridge alphas at which ``curve`` (the profile log evidence) is reported.

    Returns
    -------
    SelectionResult
        ``prior`` is ``Gaussian(tau)``, ``sigma`` the evidence-maximizing noise sd,
        ``extra["alpha"]`` Ridge's alpha, ``extra["log_evidence"]``, ``extra["coef"]`` the
        posterior mean of w at the optimum.
    """
    start = time.perf_counter()
    Xa, ya = check_X_y(X, y)
    n_eff, p, d2, e2, yy = _evidence_parts(Xa, ya, fit_intercept, restricted)
    if yy <= 0:
        raise ValueError("y is constant: the evidence has no maximum (sigma -> 0).")

    def neg(lr):
        return -float(_profile_log_evidence(np.array([lr]), n_eff, p, d2, e2, yy)[0])

    scale = np.log(np.mean(d2)) if np.mean(d2) > 0 else 0.0
    coarse = scale + np.linspace(-25, 25, 201)
    vals = -_profile_log_evidence(coarse, n_eff, p, d2, e2, yy)
    i = int(np.argmin(vals))
    if i in (0, coarse.size - 1):
        raise ValueError(
            "The ridge evidence has no interior maximum: it is largest at alpha -> "
            f"{'0 (no shrinkage)' if i == 0 else 'infinity (w = 0)'}; the data do not support "
            "a finite prior scale."
        )
    res = optimize.minimize_scalar(
        neg, bracket=(coarse[i - 1], coarse[i], coarse[i + 1]), tol=1e-14
    )
    log_r = float(res.x)
    # Newton polish on the profile with central differences: Brent stops at ~sqrt(eps) in x
    for _ in range(5):
        h = 1e-4
        f0, fp, fm = neg(log_r), neg(log_r + h), neg(log_r - h)
        g, hess = (fp - fm) / (2 * h), (fp - 2 * f0 + fm) / h**2
        if hess <= 0 or abs(g / hess) > 0.1:
            break
        log_r -= g / hess
    alpha = float(np.exp(log_r))
    S = yy - float(np.sum(e2 * d2 / (d2 + alpha)))
    sigma2 = S / n_eff
    tau = float(np.sqrt(sigma2 / alpha))
    Xc = Xa - Xa.mean(axis=0) if fit_intercept else Xa
    yc = ya - ya.mean() if fit_intercept else ya
    coef = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(p), Xc.T @ yc)
    grid_arr = (
        np.exp(scale + np.linspace(-10, 10, 101))
        if grid is None
        else _check_grid(grid, Xa, ya, "grid")
    )
    curve = _profile_log_evidence(np.log(grid_arr), n_eff, p, d2, e2, yy)
    return SelectionResult(
        method="evidence",
        prior=prior_from_name("gaussian", tau),
        grid=grid_arr,
        curve=curve,
        criterion="profile log evidence over ridge alpha (maximized)",
        sigma=float(np.sqrt(sigma2)),
        seconds=time.perf_counter() - start,
        n=len(ya),
        extra={
            "alpha": alpha,
            "log_evidence": -neg(log_r),
            "coef": coef,
            "intercept": float(ya.mean() - Xa.mean(axis=0) @ coef) if fit_intercept else 0.0,
        },
    )


def mcem_lambda(
    X: object,
    y: object,
    *,
    n_iter: int = 60,
    draws_per_iter: int = 300,
    average_last: int = 20,
    fit_intercept: bool = True,
    random_seed: int | np.random.Generator | None = 0,
) -> SelectionResult:
    """Empirical Bayes for the Laplace prior: Park & Casella's Monte Carlo EM for lambda.

    See :func:`bayesreg.gibbs.mcem_lasso_lambda`. The chosen prior is
    ``Laplace(1 / lambda, scale_by_sigma=True)`` (``w_j | sigma ~ Laplace(0, sigma / lambda)``);
    ``grid`` is the EM iteration number and ``curve`` lambda along the EM path.
    """
    start = time.perf_counter()
    res = mcem_lasso_lambda(
        X,
        y,
        n_iter=n_iter,
        draws_per_iter=draws_per_iter,
        average_last=average_last,
        fit_intercept=fit_intercept,
        random_seed=random_seed,
    )
    return SelectionResult(
        method="mcem",
        prior=prior_from_name("laplace", 1.0 / res.lam, scale_by_sigma=True),
        grid=np.arange(res.path.size, dtype=float),
        curve=res.path,
        criterion="lambda along the EM path (fixed point = marginal-likelihood maximum)",
        sigma=res.sigma,
        seconds=time.perf_counter() - start,
        n=int(np.shape(y)[0]),
        extra={"lam": res.lam},
    )


# ---------------------------------------------------------------------------------------------
# side by side
# ---------------------------------------------------------------------------------------------
def _evidence(X, y, prior, random_seed) -> SelectionResult:
    """The empirical-Bayes method of ``prior``: ridge evidence or Park & Casella's MCEM."""
    if prior == "gaussian":
        return ridge_evidence(X, y)
    return mcem_lambda(X, y, random_seed=random_seed)


#: priors :func:`compare_selection` accepts: those of the Gibbs sampler (``full_bayes``), each
#: with an empirical-Bayes method in ``_evidence``
COMPARE_PRIORS = GIBBS_PRIORS


def _runners(prior, scales, seed, psis_kwargs) -> dict[str, Callable[..., SelectionResult]]:
    """method name -> f(X, y), every method of :data:`SELECTION_METHODS` with these settings."""

    def kfold(X, y):
        from sklearn.model_selection import KFold

        cv = KFold(5, shuffle=True, random_state=seed)
        return kfold_search(X, y, prior=prior, scales=scales, cv=cv)

    common = {"prior": prior, "scales": scales}
    return {
        "validation_grid": lambda X, y: validation_search(X, y, **common, random_seed=seed),
        "validation_random": lambda X, y: validation_search(
            X, y, **common, search="random", random_seed=seed
        ),
        "kfold": kfold,
        "psis_loo": lambda X, y: psis_loo_search(X, y, **common, **(psis_kwargs or {})),
        "full_bayes": lambda X, y: full_bayes(X, y, prior=prior, random_seed=seed),
        "evidence": lambda X, y: _evidence(X, y, prior, seed),
    }


def compare_selection(
    X: object,
    y: object,
    *,
    prior: str = "gaussian",
    methods: Sequence[str] = (
        "validation_grid",
        "validation_random",
        "kfold",
        "evidence",
        "full_bayes",
    ),
    scales: Sequence[float] | None = None,
    random_seed: int | np.random.Generator | None = 0,
    psis_kwargs: dict | None = None,
) -> tuple[pd.DataFrame, dict[str, SelectionResult]]:
    """Run several ways of choosing the prior scale on the same data (Gaussian likelihood).

    ``prior`` is one of :data:`COMPARE_PRIORS` (``"gaussian"``, ``"laplace"``). ``"evidence"``
    is the ridge evidence for ``prior="gaussian"`` and Park & Casella's MCEM for
    ``prior="laplace"``. ``"psis_loo"`` samples the posterior at every scale: include it
    deliberately (``psis_kwargs`` are passed on, e.g. a short grid and few draws). A Generator
    ``random_seed`` is drawn from once; every method gets that same seed.

    Returns
    -------
    table : pandas.DataFrame
        One row per method: chosen prior, its scale, the scikit-learn alpha at the method's
        sigma, sigma, and the seconds it took.
    results : dict
        method -> :class:`SelectionResult`.
    """
    check_choice(prior, "prior", COMPARE_PRIORS)
    for m in methods:
        check_choice(m, "selection method", SELECTION_METHODS)
    seed = check_random_seed(random_seed, "random_seed", "compare_selection")
    Xa, ya = check_X_y(X, y)
    runners = _runners(prior, scales, seed, psis_kwargs)
    results = {m: runners[m](Xa, ya) for m in methods}
    rows = []
    for m, r in results.items():
        sigma = 1.0 if r.sigma is None else r.sigma
        rows.append(
            {
                "method": m,
                "prior": repr(r.prior),
                "effective_scale": r.prior.effective_scale(sigma),
                "sklearn_alpha": r.sklearn_alpha,
                "sigma": r.sigma,
                "seconds": r.seconds,
                "criterion": r.criterion,
            }
        )
    return pd.DataFrame(rows), results
