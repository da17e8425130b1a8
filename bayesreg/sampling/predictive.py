"""Posterior predictive draws from the posterior draws, in numpy (no graph, any backend).

For each posterior draw s = (w, b, sigma[, nu]) and each row x of ``X`` (the training design by
default): ``eta_s = x'w_s + b_s`` and ``y_s ~ p(y | eta_s, sigma_s[, nu_s])``
(``Likelihood.draw`` of the likelihood at each draw's shape parameters,
:func:`likelihood_at_draws`). The
result is what ``pm.sample_posterior_predictive`` gives on the same InferenceData (tested), but
it also takes new rows and costs one matrix product.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from bayesreg._validation import check_finite_array, check_random_seed
from bayesreg.likelihoods import Likelihood
from bayesreg.model import RegressionModel, check_model

__all__ = [
    "likelihood_at_draws",
    "linear_predictor_draws",
    "posterior_predictive",
    "prior_predictive",
]


def likelihood_at_draws(model: RegressionModel, posterior: xr.Dataset) -> Likelihood:
    """The model's likelihood at each draw's estimated shape parameters (``nu``, ``alpha``),
    arrays of shape (chain, draw, 1) that broadcast against eta (chain, draw, m); the
    likelihood itself when it estimates none."""
    lik = model.likelihood
    names = [s.name for s in lik.estimated_shapes]
    missing = [n for n in names if n not in posterior]
    if missing:
        raise ValueError(
            f"{lik!r} estimates {names}, but the posterior has no {missing} (its variables: "
            f"{sorted(map(str, posterior.data_vars))}): sample it from this model."
        )
    values = {n: posterior[n].transpose("chain", "draw").values[..., None] for n in names}
    return lik.at(**values) if values else lik


def linear_predictor_draws(
    model: RegressionModel, posterior: xr.Dataset, X: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | float]:
    """eta (chain, draw, m) for rows X (m, p) and sigma (chain, draw, 1) or a float."""
    w = posterior["w"].transpose("chain", "draw", "feature").values
    c, d, p = w.shape
    X = model.X if X is None else X
    eta = (w.reshape(c * d, p) @ X.T).reshape(c, d, X.shape[0])
    if "intercept" in posterior:
        eta += posterior["intercept"].values[..., None]
    lik = model.likelihood
    if "sigma" in posterior:
        sigma: np.ndarray | float = posterior["sigma"].values[..., None]
    else:
        sigma = lik.fixed_sigma if lik.fixed_sigma is not None else 1.0
    return eta, sigma


def _check_rows(model: RegressionModel, X: Any) -> np.ndarray:
    Xa = check_finite_array(X, "X", ndim=2)
    if Xa.shape[1] != model.p:
        raise ValueError(
            f"X has {Xa.shape[1]} features, but the model was fitted with {model.p} features."
        )
    return Xa


def posterior_predictive(
    model: RegressionModel,
    idata: Any,
    *,
    X: Any = None,
    random_seed: int | np.random.Generator | None = None,
) -> Any:
    """Posterior predictive draws of y at the rows ``X`` (default: the training rows).

    Parameters
    ----------
    model : RegressionModel
        The model ``idata`` was sampled from.
    idata : arviz.InferenceData
        The output of :func:`bayesreg.sample_posterior` (needs ``posterior``: ``w``, and
        ``intercept`` / ``sigma`` when the model has them).
    X : array-like of shape (m, p), optional
        New rows; default the training design.
    random_seed : int, numpy.random.Generator or None

    Returns
    -------
    arviz.InferenceData
        Group ``posterior_predictive``: ``y_obs`` (chain, draw, obs) of predictive draws and
        ``mu`` (chain, draw, obs) = E[y | eta] of each posterior draw (the predictive mean's
        draws: their spread is the uncertainty of the regression function alone).
    """
    from bayesreg import _arviz

    check_model(model, "posterior_predictive")
    if not _arviz.is_inference_data(idata, "posterior"):
        raise TypeError(
            "The 'idata' parameter of posterior_predictive must be an InferenceData with a "
            f"posterior group (the output of sample_posterior). Got {type(idata).__name__}."
        )
    rows = None if X is None else _check_rows(model, X)
    rng = np.random.default_rng(
        check_random_seed(random_seed, "random_seed", "posterior_predictive")
    )
    post = idata.posterior
    eta, sigma = linear_predictor_draws(model, post, rows)
    lik = likelihood_at_draws(model, post)
    dims = ("chain", "draw", "obs")
    coords = {"chain": post.chain.values, "draw": post.draw.values, "obs": np.arange(eta.shape[2])}
    group = xr.Dataset(
        {"y_obs": (dims, lik.draw(eta, sigma, rng)), "mu": (dims, lik.mean(eta))}, coords=coords
    )
    return _arviz.inference_data(posterior_predictive=group)


def prior_predictive(
    model: RegressionModel,
    *,
    draws: int = 500,
    random_seed: int | np.random.Generator | None = None,
) -> Any:
    """Prior predictive draws of the weights, sigma and y (``pm.sample_prior_predictive``).

    The intercept's flat prior is improper, so it has no prior draws (and PyMC's own
    ``sample_prior_predictive`` on ``model.pymc_model`` stops there): the intercept is fixed at
    the null model's value, ``Likelihood.null_eta(y)`` (mean(y), or its logit), by a
    ``pm.do`` intervention on a copy of the graph; everything else (w from its prior, sigma
    from its HalfNormal prior, y) is drawn from the model. Recorded in
    ``attrs["intercept"]``.

    Returns
    -------
    arviz.InferenceData
        Groups ``prior`` (``w``, ``sigma`` when estimated, ...) and ``prior_predictive``
        (``y_obs``).
    """
    import pymc as pm

    from bayesreg._validation import check_positive_int

    check_model(model, "prior_predictive")
    draws = check_positive_int(draws, "draws", "prior_predictive")
    seed = check_random_seed(random_seed, "random_seed", "prior_predictive")
    m = model.pymc_model
    graph = m
    intercept = None
    if model.fit_intercept:
        intercept = float(model.likelihood.null_eta(model.y))
        graph = pm.do(m, {"intercept": np.asarray(intercept)})
    with graph:
        idata = pm.sample_prior_predictive(draws=draws, random_seed=seed)
    for name in idata.groups():
        idata[name].attrs["intercept"] = (
            "absent"
            if intercept is None
            else (f"fixed at the null model's {intercept!r} (its flat prior is improper)")
        )
    return idata
