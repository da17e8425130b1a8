"""Shrinkage and sparsity, measured.

* Ridge (Gaussian prior) shrinks the j-th principal direction of the centred design by
  ``d_j^2 / (d_j^2 + alpha)`` (d_j the singular values of centred X, alpha = sigma^2 / tau^2),
  and its effective degrees of freedom are ``df(alpha) = sum_j d_j^2 / (d_j^2 + alpha)``
  (= the trace of the hat matrix of the penalized part; add 1 for the intercept).
* Each coefficient's posterior shrinkage relative to the least-squares (or weak-prior) estimate.
* Scale-mixture priors w_j ~ N(0, tau^2 lambda_j^2): the shrinkage factor
  ``kappa_j = 1 / (1 + n sigma^-2 s_j^2 tau^2 lambda_j^2)`` (s_j^2 the variance of column j) and
  the effective number of non-zeros ``m_eff = sum_j (1 - kappa_j)`` (Piironen & Vehtari 2017,
  "Sparsity information and regularization in the horseshoe and other shrinkage priors").
  The Gaussian prior is the case lambda_j = 1; the Laplace prior Laplace(0, b) is
  lambda_j^2 ~ Exponential(mean 2 b^2) with tau = 1.
* A sparsity summary that puts side by side the MAP's exact zeros, the posterior mass near zero
  and the credible intervals that contain zero. The Laplace MAP is sparse (the penalty's kink at
  zero catches the optimum); the Laplace posterior mean and median are not: the posterior
  averages over values on both sides of zero, and puts zero mass on exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg._capabilities import GAUSSIAN_PENALTY, L1_PART, unmet
from bayesreg._linalg import centre
from bayesreg._results import Result
from bayesreg._validation import check_finite_array, check_positive, check_probability
from bayesreg.model import RegressionModel
from bayesreg.priors import prior_from_name
from bayesreg.solvers import map_estimate

__all__ = [
    "ShrinkageSummary",
    "SparsitySummary",
    "effective_degrees_of_freedom",
    "effective_nonzeros",
    "posterior_shrinkage",
    "prior_effective_nonzeros",
    "reference_estimate",
    "ridge_shrinkage_factors",
    "scale_mixture_kappa",
    "sparsity_summary",
]


def _design(X: object, fit_intercept: bool) -> np.ndarray:
    Xa = check_finite_array(X, "X", ndim=2)
    return centre(Xa, fit_intercept)[0]


def _alphas(alpha: object) -> tuple[np.ndarray, bool]:
    a = np.asarray(alpha, dtype=np.float64)
    scalar = a.ndim == 0
    a = np.atleast_1d(a)
    if a.ndim != 1 or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(
            f"The 'alpha' parameter must be a float (or 1D array) in the range [0, inf). Got {alpha!r} instead."
        )
    return a, scalar


def ridge_shrinkage_factors(
    X: object, alpha: float | np.ndarray, *, fit_intercept: bool = True
) -> np.ndarray:
    """Ridge's shrinkage of each principal direction: ``d_j^2 / (d_j^2 + alpha)``.

    Ridge (``||y - Xw - b||^2 + alpha ||w||^2``) fits ``sum_j u_j [d_j^2 / (d_j^2 + alpha)] u_j' y``:
    least squares shrunk by that factor along each left singular vector u_j of the centred X.

    Parameters
    ----------
    X : array-like of shape (n, p)
    alpha : float or array of shape (k,)
        Ridge strength, ``alpha = sigma^2 / tau^2`` for a Gaussian prior N(0, tau^2).
    fit_intercept : bool, default True
        Centre X first (the unpenalized intercept absorbs the column means).

    Returns
    -------
    ndarray of shape (min(n, p),), or (k, min(n, p)) for an array ``alpha``
        Factors in [0, 1], in the order of decreasing singular value.
    """
    d = np.linalg.svd(_design(X, fit_intercept), compute_uv=False)
    a, scalar = _alphas(alpha)
    d2 = d**2
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(d2[None, :] > 0, d2[None, :] / (d2[None, :] + a[:, None]), 0.0)
    return f[0] if scalar else f


def effective_degrees_of_freedom(
    X: object, alpha: float | np.ndarray, *, fit_intercept: bool = True
) -> float | np.ndarray:
    """Ridge's effective degrees of freedom ``df(alpha) = sum_j d_j^2 / (d_j^2 + alpha)``.

    Equals ``trace(Xc (Xc'Xc + alpha I)^-1 Xc')`` (Xc the centred X): the trace of the hat
    matrix of the penalized coefficients. The full hat matrix with an intercept has trace
    ``1 + df(alpha)``. ``df(0) = rank(X)``; df decreases to 0 as alpha grows.

    Returns
    -------
    float, or ndarray of shape (k,) for an array ``alpha``
    """
    f = ridge_shrinkage_factors(X, alpha, fit_intercept=fit_intercept)
    return float(f.sum()) if f.ndim == 1 else f.sum(axis=1)


# ---------------------------------------------------------------------------------------------
# scale mixtures: kappa_j and m_eff
# ---------------------------------------------------------------------------------------------
def scale_mixture_kappa(
    X: object,
    sigma: float | np.ndarray,
    tau: float | np.ndarray,
    lambdas: np.ndarray | None = None,
    *,
    fit_intercept: bool = True,
) -> np.ndarray:
    """Shrinkage factors ``kappa_j = 1 / (1 + n sigma^-2 s_j^2 tau^2 lambda_j^2)``.

    For w_j ~ N(0, tau^2 lambda_j^2) and uncorrelated predictors the posterior mean is
    ``(1 - kappa_j)`` times the least-squares estimate: kappa_j = 1 is full shrinkage to zero,
    kappa_j = 0 none (Piironen & Vehtari 2017, eq. 3).

    Parameters
    ----------
    X : array-like of shape (n, p)
    sigma : float or array of shape (S,)
        Noise sd (or S posterior / prior draws of it).
    tau : float or array of shape (S,)
        Global scale.
    lambdas : array of shape (p,) or (S, p), optional
        Local scales (default 1: the Gaussian prior).
    fit_intercept : bool, default True
        s_j^2 is the variance of the centred column (else its raw second moment).

    Returns
    -------
    ndarray of shape (p,), or (S, p) when any input has draws
    """
    Xc = _design(X, fit_intercept)
    n = Xc.shape[0]
    s2 = np.mean(Xc**2, axis=0)  # (p,)
    sig = np.asarray(sigma, dtype=np.float64)
    ta = np.asarray(tau, dtype=np.float64)
    if np.any(~np.isfinite(sig)) or np.any(sig <= 0):
        raise ValueError(f"The 'sigma' parameter must be > 0. Got {sigma!r} instead.")
    if np.any(~np.isfinite(ta)) or np.any(ta < 0):
        raise ValueError(f"The 'tau' parameter must be >= 0. Got {tau!r} instead.")
    lam = np.ones_like(s2) if lambdas is None else np.asarray(lambdas, dtype=np.float64)
    if lam.shape[-1] != s2.size:
        raise ValueError(
            f"lambdas must have p={s2.size} entries in its last axis; got shape {lam.shape}."
        )
    ratio = (ta[..., None] / sig[..., None]) ** 2 if (sig.ndim or ta.ndim) else (ta / sig) ** 2
    return 1.0 / (1.0 + n * s2 * ratio * lam**2)


def effective_nonzeros(
    X: object,
    sigma: float | np.ndarray,
    tau: float | np.ndarray,
    lambdas: np.ndarray | None = None,
    *,
    fit_intercept: bool = True,
) -> float | np.ndarray:
    """Effective number of non-zero coefficients ``m_eff = sum_j (1 - kappa_j)``.

    Same inputs as :func:`scale_mixture_kappa`. For a Gaussian prior with orthogonal centred
    columns it equals ridge's :func:`effective_degrees_of_freedom` at alpha = sigma^2 / tau^2.

    Returns
    -------
    float, or ndarray of shape (S,) with draws
    """
    kappa = scale_mixture_kappa(X, sigma, tau, lambdas, fit_intercept=fit_intercept)
    m = np.sum(1.0 - kappa, axis=-1)
    return float(m) if np.ndim(m) == 0 else m


def prior_effective_nonzeros(
    model: RegressionModel,
    *,
    size: int = 4000,
    random_seed: int | None = None,
    sigma: float | None = None,
) -> np.ndarray:
    """Draws of m_eff implied by the model's prior (what the prior says about sparsity).

    Gaussian(tau): lambda_j = 1, so m_eff is one number (repeated). Laplace(b): the scale
    mixture w_j | lambda_j ~ N(0, lambda_j^2), lambda_j^2 ~ Exponential(mean 2 b^2), tau = 1.
    sigma: the model's known sigma, else ``sigma`` (default: sd of y, a rough noise level).

    Returns
    -------
    ndarray of shape (size,)
    """
    lik = model.likelihood
    if sigma is None:
        sigma = lik.fixed_sigma if lik.fixed_sigma is not None else float(np.std(model.y))
        if not lik.has_sigma:
            sigma = 1.0  # P&V use a pseudo-variance; the conventions' sigma = 1
    sigma = check_positive(sigma, "sigma", "prior_effective_nonzeros")
    # the scale-mixture form follows from the penalty a ||w||_1 + c ||w||^2 / 2
    coefs = model.prior.elastic_coefs(sigma)
    if coefs is not None and np.all(np.asarray(coefs[0]) == 0.0):
        # Gaussian(tau): c = 1 / tau^2; one scale: tau with lambda_j = 1, else lambda_j = tau_j
        if np.ndim(coefs[1]) == 0:
            tau = 1.0 / np.sqrt(coefs[1])
            m = effective_nonzeros(model.X, sigma, tau, fit_intercept=model.fit_intercept)
            return np.full(size, m)
        lam = np.broadcast_to(1.0 / np.sqrt(coefs[1]), (size, model.p))
        return effective_nonzeros(
            model.X, np.full(size, sigma), np.ones(size), lam, fit_intercept=model.fit_intercept
        )
    if coefs is not None and np.all(np.asarray(coefs[1]) == 0.0):  # Laplace(b): a = 1 / b
        b = 1.0 / np.asarray(coefs[0])
        lam2 = np.random.default_rng(random_seed).exponential(2.0 * b**2, size=(size, model.p))
        return effective_nonzeros(
            model.X,
            np.full(size, sigma),
            np.ones(size),
            np.sqrt(lam2),
            fit_intercept=model.fit_intercept,
        )
    raise ValueError(
        "prior_effective_nonzeros knows the scale-mixture form of a pure L2 or pure L1 penalty "
        f"(Gaussian, Laplace); got {model.prior!r}."
    )


# ---------------------------------------------------------------------------------------------
# posterior shrinkage per coefficient
# ---------------------------------------------------------------------------------------------
def reference_estimate(
    model: RegressionModel, *, weak_scale: float = 1e3
) -> tuple[np.ndarray, str]:
    """The unshrunk estimate each coefficient is compared with.

    Gaussian likelihood: least squares (``lstsq`` on [X, 1]; minimum-norm when X is rank
    deficient or p > n, which is the limit of ridge as alpha -> 0). Bernoulli likelihood: the
    weak-prior MAP, cross-entropy + ||w||^2 / (2 weak_scale^2) (the unpenalized MLE does not
    exist under separation); other likelihoods the same with their loss, and with
    ``||w||_1 / weak_scale`` for a likelihood that is not smooth (least absolute deviations).

    Returns
    -------
    coef : ndarray of shape (p,)
    kind : str
        ``"least_squares"``, ``"min_norm_least_squares"`` or ``"weak_prior_map"``.
    """
    X, y, lik = model.X, model.y, model.likelihood
    n, p = X.shape
    if lik.quadratic:
        Z = np.column_stack([X, np.ones(n)]) if model.fit_intercept else X
        coef, _, rank, _ = np.linalg.lstsq(Z, y, rcond=None)
        kind = "least_squares" if rank == Z.shape[1] else "min_norm_least_squares"
        return coef[:p], kind
    # a likelihood that is not smooth has its exact MAP (a linear program) with an L1 prior only
    weak_prior = prior_from_name("gaussian" if lik.is_smooth else "laplace", weak_scale)
    weak = RegressionModel(X, y, weak_prior, lik, model.fit_intercept)
    return map_estimate(weak, warn=False).coef, "weak_prior_map"


def _draws(idata: az.InferenceData, model: RegressionModel) -> np.ndarray:
    if (
        not isinstance(idata, az.InferenceData)
        or "posterior" not in idata.groups()
        or "w" not in idata.posterior
    ):
        raise TypeError(
            "idata must be an arviz.InferenceData whose posterior has 'w' (from sample_posterior)."
        )
    w = idata.posterior["w"]
    if w.sizes.get("feature") != model.p:
        raise ValueError(
            f"idata's w has {w.sizes.get('feature')} features; the model has p={model.p}."
        )
    return w.transpose("chain", "draw", "feature").values.reshape(-1, model.p)


class _TableResult(Result):
    """A result whose ``table`` serializes as the list of its rows, under "coefficients"."""

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["coefficients"] = out.pop("table")
        return out

    def to_dataframe(self) -> pd.DataFrame:
        return self.table.copy()


@dataclass(frozen=True)
class ShrinkageSummary(_TableResult):
    """Per-coefficient posterior shrinkage (see :func:`posterior_shrinkage`)."""

    table: pd.DataFrame
    reference_kind: str


def posterior_shrinkage(
    idata: az.InferenceData, model: RegressionModel, *, reference: np.ndarray | None = None
) -> ShrinkageSummary:
    """How far the posterior pulls each coefficient toward 0 from the unshrunk estimate.

    ``shrinkage_j = 1 - posterior_mean_j / reference_j`` (0: none, 1: all the way to 0, < 0:
    pushed away from 0, which correlated predictors can do), and the same with the median.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior draws of ``w`` (from ``sample_posterior``).
    model : RegressionModel
    reference : array of shape (p,), optional
        Default :func:`reference_estimate` (least squares, or weak-prior MAP for Bernoulli).

    Returns
    -------
    ShrinkageSummary
        Columns: feature, reference, post_mean, post_median, post_sd, shrinkage_mean,
        shrinkage_median.
    """
    W = _draws(idata, model)
    if reference is None:
        ref, kind = reference_estimate(model)
    else:
        ref, kind = check_finite_array(reference, "reference", ndim=1), "given"
        if ref.size != model.p:
            raise ValueError(f"reference must have p={model.p} entries; got {ref.size}.")
    mean, median = W.mean(axis=0), np.median(W, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sh_mean = np.where(ref != 0, 1.0 - mean / ref, np.nan)
        sh_median = np.where(ref != 0, 1.0 - median / ref, np.nan)
    table = pd.DataFrame(
        {
            "feature": list(model.feature_names),
            "reference": ref,
            "post_mean": mean,
            "post_median": median,
            "post_sd": W.std(axis=0, ddof=1),
            "shrinkage_mean": sh_mean,
            "shrinkage_median": sh_median,
        }
    )
    return ShrinkageSummary(table=table, reference_kind=kind)


# ---------------------------------------------------------------------------------------------
# sparsity: MAP zeros vs posterior
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SparsitySummary(_TableResult):
    """MAP exact zeros beside the posterior's view of zero (see :func:`sparsity_summary`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per coefficient: feature, map, map_is_zero, post_mean, post_median, eps,
        p_near_zero (P(|w_j| < eps)), lower, upper (the ``hdi_prob`` HDI), ci_contains_zero,
        mean_is_zero, median_is_zero.
    n_map_zeros, n_mean_zeros, n_median_zeros, n_ci_contain_zero : int
    hdi_prob : float
    statement : str
        The plain-words conclusion.
    """

    table: pd.DataFrame
    n_map_zeros: int
    n_mean_zeros: int
    n_median_zeros: int
    n_ci_contain_zero: int
    hdi_prob: float
    prior: str
    statement: str

    def __str__(self) -> str:
        return self.statement


def sparsity_summary(
    idata: az.InferenceData,
    model: RegressionModel,
    *,
    map_coef: np.ndarray | None = None,
    eps: float | np.ndarray | None = None,
    hdi_prob: float = 0.9,
) -> SparsitySummary:
    """Put side by side: MAP exact zeros, posterior mass near zero, intervals containing zero.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior draws of ``w`` at the same prior scale as the MAP.
    model : RegressionModel
    map_coef : array of shape (p,), optional
        The MAP (= penalized solution). Default ``bayesreg.solvers.map_estimate(model).coef``
        (a proximal solver, so L1 zeros are exact).
    eps : float or array of shape (p,), optional
        "Near zero" threshold. Default: 5% of the largest |posterior mean|, i.e. an effect
        negligible beside the largest one.
    hdi_prob : float, default 0.9
        Probability of the highest-density intervals.

    Returns
    -------
    SparsitySummary
    """
    W = _draws(idata, model)
    hdi_prob = check_probability(hdi_prob, "hdi_prob", "sparsity_summary")
    if map_coef is None:
        map_coef = map_estimate(model).coef
    mc = check_finite_array(map_coef, "map_coef", ndim=1)
    if mc.size != model.p:
        raise ValueError(f"map_coef must have p={model.p} entries; got {mc.size}.")
    mean = W.mean(axis=0)
    if eps is None:
        eps_arr = np.full(model.p, 0.05 * float(np.max(np.abs(mean))))
    else:
        eps_arr = np.broadcast_to(check_finite_array(eps, "eps"), (model.p,)).astype(np.float64)
        if np.any(eps_arr <= 0):
            raise ValueError(f"The 'eps' parameter must be > 0. Got {eps!r} instead.")
    table = _sparsity_table(W, mc, eps_arr, hdi_prob, list(model.feature_names))
    counts = {
        "n_map_zeros": int(table["map_is_zero"].sum()),
        "n_mean_zeros": int(table["mean_is_zero"].sum()),
        "n_median_zeros": int(table["median_is_zero"].sum()),
        "n_ci_contain_zero": int(table["ci_contains_zero"].sum()),
    }
    return SparsitySummary(
        table=table,
        **counts,
        hdi_prob=hdi_prob,
        prior=repr(model.prior),
        statement=_sparsity_statement(table, counts, hdi_prob, model.prior, model.likelihood),
    )


def _sparsity_table(W, mc, eps_arr, hdi_prob, names) -> pd.DataFrame:
    """One row per coefficient: the MAP, posterior summaries, mass near 0 and the HDI."""
    mean, median = W.mean(axis=0), np.median(W, axis=0)
    hdi = az.hdi(W[None, :, :], hdi_prob=hdi_prob)  # (p, 2)
    lower, upper = hdi[:, 0], hdi[:, 1]
    return pd.DataFrame(
        {
            "feature": names,
            "map": mc,
            "map_is_zero": mc == 0.0,
            "post_mean": mean,
            "post_median": median,
            "eps": eps_arr,
            "p_near_zero": np.mean(np.abs(W) < eps_arr, axis=0),
            "lower": lower,
            "upper": upper,
            "ci_contains_zero": (lower <= 0.0) & (upper >= 0.0),
            "mean_is_zero": mean == 0.0,
            "median_is_zero": median == 0.0,
        }
    )


def _sparsity_statement(table, counts, hdi_prob, prior, likelihood) -> str:
    """The plain-words conclusion of :func:`sparsity_summary`."""
    p = len(table)
    zeros = table["map_is_zero"].to_numpy()
    median = np.abs(table["post_median"].to_numpy()[zeros])
    p_near = table["p_near_zero"].to_numpy()[zeros]
    parts = [
        f"{prior!r}: the MAP (the penalized solution) sets {counts['n_map_zeros']} of {p} "
        f"coefficients exactly to zero; the posterior mean sets {counts['n_mean_zeros']} and the "
        f"posterior median {counts['n_median_zeros']}."
    ]
    if zeros.any():
        parts.append(
            f"For the {int(zeros.sum())} MAP zeros, |posterior median| ranges from "
            f"{np.min(median):.3g} to {np.max(median):.3g}, and the posterior mass within ±eps "
            f"of zero is {np.min(p_near):.2f} to {np.max(p_near):.2f}."
        )
    parts.append(
        f"{counts['n_ci_contain_zero']} of {p} {round(100 * hdi_prob)}% credible intervals "
        "contain 0."
    )
    if unmet([L1_PART], prior, likelihood) is None:
        parts.append(
            "The Laplace posterior mean and median are not sparse even when the MAP is: the MAP's "
            "zeros come from the kink of |w| at 0 catching the optimum, while the posterior "
            "averages over values on both sides of zero and puts no mass on exactly 0. Read "
            "sparsity from the MAP (or from the intervals), not from posterior summaries."
        )
    elif unmet([GAUSSIAN_PENALTY], prior, likelihood) is None:
        parts.append(
            "A Gaussian (L2) prior has no kink at 0: neither its MAP nor its posterior mean or "
            "median sets coefficients exactly to zero; it shrinks all of them."
        )
    else:
        parts.append("Read sparsity from the intervals and the posterior mass near 0.")
    return " ".join(parts)
