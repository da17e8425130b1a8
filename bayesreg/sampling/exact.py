"""The exact posterior of a conjugate model, and the backend that draws from it (no MCMC)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import xarray as xr
from scipy import linalg

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg._capabilities import GAUSSIAN_PENALTY, QUADRATIC_LIKELIHOOD, unmet
from bayesreg._linalg import centre_xy
from bayesreg._results import Result
from bayesreg.likelihoods import Likelihood
from bayesreg.model import RegressionModel, check_model
from bayesreg.priors import Prior
from bayesreg.sampling.backend import Backend
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.settings import SamplerSettings

__all__ = [
    "ConjugatePosterior",
    "ExactBackend",
    "conjugate_from_gram",
    "conjugate_posterior",
    "conjugate_problem",
    "exact_draws",
    "exact_problem",
    "uncentred",
]


@dataclass(frozen=True)
class ConjugatePosterior(Result):
    """The exact posterior of a Gaussian-prior, Gaussian-likelihood regression.

    With ``theta = (w, intercept)`` (intercept only when fitted; its prior is flat),
    ``Z = [X, 1]`` and ``D = diag(1, ..., 1, 0)`` (the intercept is not penalized):

    * known sigma: ``theta | y ~ N(mean, cov)`` with ``A = Z'Z / sigma^2 + D / tau^2``,
      ``cov = A^-1``, ``mean = A^-1 Z'y / sigma^2``. Its ``w`` part is the ridge solution at
      ``alpha = sigma^2 / tau^2``.
    * sigma estimated and ``Gaussian(c, scale_by_sigma=True)`` (tau = c sigma): with
      ``A0 = Z'Z + D / c^2``, ``theta | sigma, y ~ N(mean, sigma^2 A0^-1)``,
      ``mean = A0^-1 Z'y`` for every sigma, and sigma's marginal posterior is
      ``p(sigma | y) ∝ HalfNormal(sigma; h) sigma^-(n - k_b) exp(-Q / (2 sigma^2))`` with
      ``Q = y'y - mean' A0 mean`` and k_b = 1 with an intercept (else 0). In v = sigma^2 that is
      ``InvGamma(v; a=(n - k_b - 1)/2, b=Q/2) * exp(-v / (2 h^2))``: sampled exactly by
      rejection from the inverse gamma (the acceptance probability is the half-normal factor).

    With an intercept, :func:`conjugate_posterior` works in centred coordinates
    ``theta_c = (w, b_c)``, ``b_c = b - ybar + xbar'w``, where the Gram matrix of ``[Xc, 1]``
    is block diagonal: a column mean of 1e6 then costs no digits (the uncentred ``Z'Z`` has a
    condition number near 1e13 there: it put the mean of w 0.045 sd off and its covariance
    2e-3 off, tests/test_sampling.py::test_conjugate_posterior_keeps_its_digits_on_offset_data).
    ``theta = T theta_c + o`` with ``T = [[I, 0], [-xbar', 1]]``, ``o = (0, ..., ybar)``:
    ``mean`` is already mapped back; ``cov`` and ``sample`` apply T.

    Attributes
    ----------
    names : tuple of str
        ``("w[feature]", ..., "intercept")``: the order of ``mean`` and ``cov``.
    mean : ndarray of shape (k,)
        Posterior mean of theta (k = p, plus 1 with an intercept).
    cov_chol : ndarray of shape (k, k)
        Lower Cholesky factor L of the precision of ``theta_c`` (A = L L', the precision of
        theta itself when ``x_shift`` is None) at sigma = 1 when sigma is estimated, or of A
        itself when sigma is known.
    sigma : float or None
        The known sigma, or None when sigma is estimated.
    ig_shape, ig_rate : float
        The inverse-gamma proposal for sigma^2 (sigma estimated only).
    sigma_prior_scale : float
        h, the half-normal scale of sigma's prior (sigma estimated only).
    x_shift : ndarray of shape (p,) or None
        xbar when ``cov_chol`` is the precision of the centred coordinates, else None.
    """

    names: tuple[str, ...]
    mean: np.ndarray
    cov_chol: np.ndarray
    sigma: float | None
    p: int
    fit_intercept: bool
    ig_shape: float = np.nan
    ig_rate: float = np.nan
    sigma_prior_scale: float = np.nan
    x_shift: np.ndarray | None = None

    def _centred_to_theta(self, dev: np.ndarray) -> np.ndarray:
        """``T dev`` for each row of ``dev`` (size, k): a deviation of theta_c as one of theta."""
        if self.x_shift is None:
            return dev
        out = dev.copy()
        out[:, self.p] -= dev[:, : self.p] @ self.x_shift
        return out

    def cov(self, sigma: float = 1.0) -> np.ndarray:
        """Posterior covariance of theta (given sigma when sigma is estimated), shape (k, k)."""
        k = self.mean.size
        inv = linalg.cho_solve((self.cov_chol, True), np.eye(k))
        inv = self._centred_to_theta(self._centred_to_theta(inv).T)  # T inv T'
        return inv if self.sigma is not None else sigma**2 * inv

    def sigma_log_density(self, sigma: np.ndarray) -> np.ndarray:
        """Unnormalized log p(sigma | y) (sigma estimated only), for quadrature checks."""
        s = np.asarray(sigma, dtype=np.float64)
        n_eff = 2.0 * self.ig_shape + 1.0  # n - k_b
        return (
            -0.5 * (s / self.sigma_prior_scale) ** 2
            - n_eff * np.log(s)
            - self.ig_rate / s**2  # ig_rate = Q / 2
        )

    def sample(self, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``size`` independent draws: ``theta`` (size, k) and ``sigma`` (size,)."""
        k = self.mean.size
        if self.sigma is not None:
            sigma = np.full(size, self.sigma)
        else:
            sigma = np.sqrt(self._sample_sigma2(size, rng))
        z = rng.standard_normal((size, k))
        # theta = mean + L^-T z has covariance (L L')^-1 = A^-1
        dev = linalg.solve_triangular(self.cov_chol, z.T, lower=True, trans="T").T
        dev = self._centred_to_theta(dev)
        scale = 1.0 if self.sigma is not None else sigma[:, None]
        return {"theta": self.mean + scale * dev, "sigma": sigma}

    def _sample_sigma2(self, size: int, rng: np.random.Generator) -> np.ndarray:
        out = np.empty(0)
        proposals = 0
        while out.size < size:
            batch = max(2 * (size - out.size), 64)
            # v ~ InvGamma(a, b) as b / Gamma(a, 1)
            v = self.ig_rate / rng.gamma(self.ig_shape, 1.0, size=batch)
            accept = rng.uniform(size=batch) < np.exp(-v / (2.0 * self.sigma_prior_scale**2))
            out = np.concatenate([out, v[accept]])
            proposals += batch
            if proposals > 1000 * size + 10_000 and out.size < size:
                raise RuntimeError(
                    "The exact sampler's rejection step for sigma accepts almost nothing: the "
                    "half-normal prior on sigma (scale "
                    f"{self.sigma_prior_scale:g}) conflicts with the data. Use backend='pymc'."
                )
        return out[:size]


def exact_problem(model: RegressionModel) -> str | None:
    """Why ``model`` has no exact sampler, as the full error message (None when it has one)."""
    return conjugate_problem(model.prior, model.likelihood)


def conjugate_problem(prior: Prior, lik: Likelihood) -> str | None:
    """Why (prior, likelihood) is not conjugate, as the full error message (None when it is)."""
    need = unmet((GAUSSIAN_PENALTY, QUADRATIC_LIKELIHOOD), prior, lik)
    if need is GAUSSIAN_PENALTY:
        why = f"the prior is {prior!r}, not Gaussian (it needs {need.description})"
    elif need is QUADRATIC_LIKELIHOOD:
        why = f"the likelihood is {lik!r}, not Gaussian (it needs {need.description})"
    elif lik.estimates_sigma and not prior.scale_by_sigma:
        why = (
            "sigma is estimated but the prior's scale does not scale with sigma; use "
            "Gaussian(..., scale_by_sigma=True) (the Normal-Inverse-Gamma-type case) or a known "
            "sigma, GaussianLikelihood(sigma=...)"
        )
    else:
        return None
    return (
        "The 'exact' backend needs a conjugate model: a Gaussian prior with "
        "GaussianLikelihood(sigma=<known>), or Gaussian(scale, scale_by_sigma=True) with sigma "
        f"estimated. Here {why}. Use backend='pymc' (NUTS) for this model."
    )


def _penalized_and_names(model: RegressionModel) -> tuple[np.ndarray, tuple[str, ...]]:
    """Which coefficients of theta = (w, intercept) the prior penalizes (1; 0 for the
    flat-prior intercept, last), and their names."""
    pen = np.ones(model.p + (1 if model.fit_intercept else 0))
    if model.fit_intercept:
        pen[-1] = 0.0
    names = tuple(
        [f"w[{f}]" for f in model.feature_names] + (["intercept"] if model.fit_intercept else [])
    )
    return pen, names


def _with_intercept(c: float | np.ndarray, p: int, fit_intercept: bool) -> np.ndarray:
    """The prior precisions c_j of the p weights, then (with an intercept) a placeholder 1
    that the zero entry of ``pen`` removes."""
    c = np.broadcast_to(np.asarray(c, dtype=np.float64), (p,))
    return np.append(c, 1.0) if fit_intercept else c


def conjugate_posterior(model: RegressionModel) -> ConjugatePosterior:
    """The exact posterior of a conjugate model (see :class:`ConjugatePosterior`).

    Parameters
    ----------
    model : RegressionModel
        A Gaussian prior with ``GaussianLikelihood(sigma=...)`` (known sigma), or
        ``Gaussian(c, scale_by_sigma=True)`` with sigma estimated. Uses the model's current
        prior scale.

    Raises
    ------
    ValueError
        For any other model, saying why.
    """
    check_model(model, "conjugate_posterior")
    problem = exact_problem(model)
    if problem is not None:
        raise ValueError(problem)
    lik = model.likelihood
    h = lik.resolved_sigma_prior_scale(model.y) if lik.fixed_sigma is None else np.nan
    Xc, yc, x_mean, y_mean = centre_xy(model.X, model.y, model.fit_intercept)
    pen, names = _penalized_and_names(model)
    G, q = Xc.T @ Xc, Xc.T @ yc
    if model.fit_intercept:  # theta_c = (w, b_c): Gram block diagonal, 1'yc = 0
        G, q = linalg.block_diag(G, np.array([[float(model.n)]])), np.append(q, 0.0)
    post = conjugate_from_gram(
        G, q, float(yc @ yc), model.n, pen, names, model.prior, lik, sigma_prior_scale=h
    )
    return uncentred(post, x_mean, y_mean) if model.fit_intercept else post


def uncentred(post: ConjugatePosterior, x_mean: np.ndarray, y_mean: float) -> ConjugatePosterior:
    """The posterior of theta from ``post``, the posterior of the centred coordinates
    ``theta_c = (w, b_c)`` (an intercept fitted): ``theta = T theta_c + o``
    (:class:`ConjugatePosterior`). Shared by :func:`conjugate_posterior` and the moments."""
    p = post.p
    mean = post.mean.copy()
    mean[p] += y_mean - mean[:p] @ x_mean
    return replace(post, mean=mean, x_shift=np.array(x_mean, dtype=np.float64))


def conjugate_from_gram(
    ZtZ: np.ndarray,
    Zty: np.ndarray,
    yty: float,
    n: int,
    pen: np.ndarray,
    names: tuple[str, ...],
    prior: Prior,
    lik: Likelihood,
    *,
    sigma_prior_scale: float = np.nan,
) -> ConjugatePosterior:
    """The conjugate posterior from the Gram matrix of a design: all it reads of the data.

    Parameters
    ----------
    ZtZ : ndarray of shape (k, k)
        ``Z'Z`` with ``Z = [X, 1]`` (an intercept is the last column) or X.
    Zty : ndarray of shape (k,)
    yty : float
        ``y'y``.
    n : int
        Number of observations.
    pen : ndarray of shape (k,)
        1 for penalized coefficients, 0 for the intercept (last, when ``pen[-1] == 0``).
    names : tuple of str
    prior, lik : Prior, Likelihood
        A conjugate pair (:func:`conjugate_problem` returns None).
    sigma_prior_scale : float
        h, the half-normal scale of sigma's prior (sigma estimated only).

    Returns
    -------
    ConjugatePosterior
    """
    fit_intercept = bool(pen.size and pen[-1] == 0.0)
    p = pen.size - (1 if fit_intercept else 0)
    sigma = lik.fixed_sigma
    if sigma is not None:
        _, c = prior.elastic_coefs(sigma)  # c = 1 / tau^2 (one per coefficient or a float)
        A = ZtZ / sigma**2 + np.diag(pen * _with_intercept(c, p, fit_intercept))
        L = linalg.cholesky(A, lower=True)
        mean = linalg.cho_solve((L, True), Zty / sigma**2)
        return ConjugatePosterior(names, mean, L, float(sigma), p, fit_intercept)
    _, c = prior.elastic_coefs(1.0)  # tau = scale * sigma: c = 1 / scale^2 at sigma = 1
    A0 = ZtZ + np.diag(pen * _with_intercept(c, p, fit_intercept))
    L0 = linalg.cholesky(A0, lower=True)
    mean = linalg.cho_solve((L0, True), Zty)
    Q = float(yty - mean @ A0 @ mean)
    n_eff = n - (1 if fit_intercept else 0)
    if n_eff < 2:
        raise ValueError(
            f"The exact sampler needs at least 2 observations beyond the intercept; n={n}."
        )
    return ConjugatePosterior(
        names, mean, L0, None, p, fit_intercept,
        ig_shape=(n_eff - 1) / 2.0, ig_rate=max(Q, 0.0) / 2.0,
        sigma_prior_scale=float(sigma_prior_scale),
    )  # fmt: skip


class ExactBackend(Backend):
    """Independent draws from :func:`conjugate_posterior` (``draws * chains`` of them)."""

    name = "exact"

    def problem(self, model: RegressionModel) -> str | None:
        return exact_problem(model)

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        post = conjugate_posterior(model)
        rng = np.random.default_rng(settings.random_seed)
        with Stopwatch() as watch:
            idata = exact_draws(
                post,
                rng,
                chains=settings.chains,
                draws=settings.draws,
                feature_names=model.feature_names,
                sigma_estimated=model.likelihood.fixed_sigma is None,
            )
        return Run(idata, watch.seconds)


def exact_draws(
    post: Any,
    rng: np.random.Generator,
    *,
    chains: int,
    draws: int,
    feature_names: Sequence[str],
    sigma_estimated: bool,
) -> az.InferenceData:
    """``chains * draws`` independent draws of ``post`` as an InferenceData ``posterior`` group:
    ``w`` (chain, draw, feature), ``intercept`` (when fitted), ``sigma`` (when estimated).

    ``post`` is a :class:`ConjugatePosterior`, or any object whose ``sample(size, rng)``
    returns ``{"theta": (size, p [+ 1 intercept]), "sigma": (size,)}`` in the same layout
    (:class:`bayesreg.moments.MomentsPosterior`).
    """
    p = len(feature_names)
    d = post.sample(draws * chains, rng)
    theta = d["theta"].reshape(chains, draws, -1)
    coords = {"chain": np.arange(chains), "draw": np.arange(draws), "feature": list(feature_names)}
    data = {"w": (("chain", "draw", "feature"), theta[..., :p])}
    if theta.shape[-1] > p:
        data["intercept"] = (("chain", "draw"), theta[..., p])
    if sigma_estimated:
        data["sigma"] = (("chain", "draw"), d["sigma"].reshape(chains, draws))
    return az.InferenceData(posterior=xr.Dataset(data, coords=coords))
