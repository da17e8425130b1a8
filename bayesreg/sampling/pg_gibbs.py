"""The Polya-Gamma Gibbs backend (``backend="gibbs"``): exact conditional draws for a logistic
model with an elastic-form prior (Gaussian, Laplace, elastic net), no gradients and no tuning.

The sweep is :func:`bayesreg.gibbs.logistic_pg_gibbs`; this adapter reads the model's data and
prior coefficients, runs it and gives the draws the common layout (``w``, ``intercept``;
``sample_stats.lp``, the unnormalized log posterior of each draw). ``tune`` is the number of
burn-in sweeps discarded. Needs the optional ``polyagamma`` package (the ``fast`` extra).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg._capabilities import BERNOULLI_LIKELIHOOD, ELASTIC_PENALTY, explain
from bayesreg.gibbs import LogisticProblem, logistic_pg_gibbs
from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import Backend
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.settings import SamplerSettings

__all__ = ["PolyaGammaGibbsBackend", "pg_gibbs_problem"]

_NEEDS = (BERNOULLI_LIKELIHOOD, ELASTIC_PENALTY)


def pg_gibbs_problem(model: RegressionModel) -> str | None:
    """Why the ``"gibbs"`` backend cannot sample ``model`` (a full sentence), or None."""
    reason = explain("The 'gibbs' backend", _NEEDS, model.prior, model.likelihood)
    if reason is None:
        return None
    return (
        f"{reason}. It draws a logistic model with a Gaussian, Laplace or elastic-net prior by "
        "Polya-Gamma Gibbs, and a horseshoe or regularized horseshoe prior (Gaussian or "
        "Bernoulli likelihood) by blocked Gibbs; use backend='auto' (NUTS) for this model."
    )


def logistic_problem(model: RegressionModel) -> LogisticProblem:
    """The sweep's data and prior coefficients for ``model`` (at its current prior scale)."""
    a, c = model.prior.elastic_coefs(1.0)  # no noise scale: sigma = 1
    return LogisticProblem.build(model.X, model.y, a, c, model.fit_intercept)


class PolyaGammaGibbsBackend(Backend):
    """``draws`` exact Gibbs sweeps per chain after ``tune`` burn-in sweeps."""

    name = "gibbs"
    packages = ("polyagamma",)

    def problem(self, model: RegressionModel) -> str | None:
        return pg_gibbs_problem(model)

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        with Stopwatch() as watch:
            prob = logistic_problem(model)
            theta = logistic_pg_gibbs(
                prob, draws=settings.draws, tune=settings.tune, chains=settings.chains,
                random_seed=settings.random_seed,
            )  # fmt: skip
            idata = _draws_to_idata(model, prob, theta)
        return Run(idata, watch.seconds, attrs={"sampler": "polya_gamma_gibbs"})


def _draws_to_idata(model: RegressionModel, prob: LogisticProblem, theta: np.ndarray):
    chains, draws, _ = theta.shape
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(draws),
        "feature": list(model.feature_names),
    }
    post = {"w": (("chain", "draw", "feature"), theta[..., : model.p])}
    if model.fit_intercept:
        post["intercept"] = (("chain", "draw"), theta[..., model.p])
    stats = {"lp": (("chain", "draw"), prob.log_posterior(theta))}
    return az.InferenceData(
        posterior=xr.Dataset(post, coords=coords),
        sample_stats=xr.Dataset(stats, coords={k: coords[k] for k in ("chain", "draw")}),
    )
