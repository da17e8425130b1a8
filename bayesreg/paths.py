"""Posterior paths: the posterior along a grid of prior scales, beside the MAP path.

This layer sits above ``bayesreg.sampling`` and ``bayesreg.solvers`` (it uses both, and
``bayesreg.diagnostics`` for the summaries); neither imports it. The caller's model is never
changed: each scale is sampled on ``model.with_prior_scale(s)``, a copy that shares every
compiled function, so the whole path costs one compilation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesreg._results import Result
from bayesreg._validation import (
    check_choice,
    check_finite_array,
    check_positive,
    check_probability,
    check_random_seed,
)
from bayesreg.conventions import CONVENTIONS, penalty_to_prior
from bayesreg.diagnostics import hdi_bounds, rhat_ess_bulk
from bayesreg.model import RegressionModel, check_model
from bayesreg.sampling import sample_posterior
from bayesreg.solvers import map_path

__all__ = ["PosteriorPath", "posterior_path"]


@dataclass(frozen=True)
class PosteriorPath(Result):
    """Posterior summaries along a grid of prior scales, beside the MAP (the penalized path).

    Attributes
    ----------
    scales : ndarray of shape (k,)
        Prior scales (larger = weaker penalty).
    median, lower, upper : ndarray of shape (k, p)
        Posterior median of each coefficient and its ``hdi_prob`` highest-density interval.
    mean : ndarray of shape (k, p)
        Posterior mean.
    map_coef : ndarray of shape (k, p)
        The MAP coefficients (= the penalized solution) at each scale (NaN when not computed).
    feature_names : list of str
    hdi_prob : float
    strengths : ndarray of shape (k,) or None
        The penalty strengths the scales came from (when a ``convention`` was given).
    convention : str or None
    min_ess_bulk, max_rhat : ndarray of shape (k,)
        Worst bulk ESS and R-hat over the coefficients at each scale (NaN for "exact").
    seconds : ndarray of shape (k,)
        Seconds of sampling per scale.
    """

    scales: np.ndarray
    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    mean: np.ndarray
    map_coef: np.ndarray
    feature_names: list[str]
    hdi_prob: float
    strengths: np.ndarray | None = None
    convention: str | None = None
    min_ess_bulk: np.ndarray = field(default_factory=lambda: np.empty(0))
    max_rhat: np.ndarray = field(default_factory=lambda: np.empty(0))
    seconds: np.ndarray = field(default_factory=lambda: np.empty(0))

    def to_dataframe(self) -> pd.DataFrame:
        """Long format: one row per (scale, feature)."""
        k, p = self.median.shape
        df = pd.DataFrame(
            {
                "scale": np.repeat(self.scales, p),
                "feature": np.tile(np.asarray(self.feature_names, dtype=object), k),
                "mean": self.mean.ravel(),
                "median": self.median.ravel(),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
                "map": self.map_coef.ravel(),
            }
        )
        if self.strengths is not None:
            df.insert(1, "strength", np.repeat(self.strengths, p))
        return df


def _path_scales(
    model: RegressionModel, values: np.ndarray, convention: str | None
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """(prior scales, strengths or None, convention): strengths converted when a convention
    is given (at the model's known sigma, or sigma = 1)."""
    strengths = None
    if convention is not None:
        convention = check_choice(convention, "convention", CONVENTIONS)
        strengths = values
        sigma = model.likelihood.fixed_sigma
        kw: dict[str, Any] = {
            "sigma": 1.0 if sigma is None else sigma,
            "n": model.n,
            "scale_by_sigma": model.prior.scale_by_sigma,
        }
        l1 = getattr(model.prior, "l1_ratio", None)
        if l1 is not None:
            kw["l1_ratio"] = l1
        values = np.asarray([penalty_to_prior(convention, float(s), **kw).scale for s in values])
    for s in values:
        check_positive(float(s), "scales", "posterior_path")
    return values, strengths, convention


def _summarize(wv: np.ndarray, hdi_prob: float, mcmc: bool) -> dict[str, Any]:
    """Median, mean, HDI and (for MCMC) the worst bulk ESS and R-hat of draws (chain, draw, p).

    All coefficients at once (bayesreg.diagnostics, equal to ArviZ's hdi / ess / rhat to
    rounding): ArviZ loops over the p coefficients, which costs more than a fast fit.
    """
    bounds = hdi_bounds(wv, hdi_prob)
    out = {
        "median": np.median(wv, axis=(0, 1)),
        "mean": wv.mean(axis=(0, 1)),
        "lower": bounds[:, 0],
        "upper": bounds[:, 1],
        "ess": np.nan,
        "rhat": np.nan,
    }
    if mcmc:
        rhat, ess = rhat_ess_bulk(wv)
        # fmin / fmax skip NaN (R-hat is NaN with one chain), as xarray's min / max did
        out["ess"] = float(np.fmin.reduce(ess))
        out["rhat"] = float(np.fmax.reduce(rhat))
    return out


def posterior_path(
    model: RegressionModel,
    scales: Sequence[float] | np.ndarray,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    backend: str = "auto",
    random_seed: int | np.random.Generator | None = None,
    progressbar: bool = True,
    hdi_prob: float = 0.9,
    convention: str | None = None,
    include_map: bool = True,
    **kwargs: Any,
) -> PosteriorPath:
    """Sample the posterior at each prior scale of a grid, reusing one compiled sampler.

    Parameters
    ----------
    model : RegressionModel
        Not changed: each scale is sampled on ``model.with_prior_scale(s)``, which shares
        every compiled function (one compilation for the whole path).
    scales : sequence of float, shape (k,)
        Prior scales; or penalty strengths when ``convention`` is given.
    draws, tune, chains, backend, random_seed, **kwargs
        As in :func:`bayesreg.sampling.sample_posterior` (the same seed at every scale; a
        Generator is consumed once).
    progressbar : bool
        One progress bar over the scales (the sampler's own bar is off).
    hdi_prob : float, default 0.9
        Probability mass of the highest-density intervals, in (0, 1).
    convention : str, optional
        A name in ``bayesreg.conventions.CONVENTIONS``: ``scales`` are then penalty strengths
        in that convention, converted with ``penalty_to_prior`` (at the model's known sigma,
        or sigma = 1).
    include_map : bool, default True
        Compute the MAP at each scale (``bayesreg.solvers.map_path``).

    Returns
    -------
    PosteriorPath
    """
    check_model(model, "posterior_path")
    values = check_finite_array(scales, "scales", ndim=1)
    hdi_prob = check_probability(hdi_prob, "hdi_prob", "posterior_path")
    if not 0.0 < hdi_prob < 1.0:
        raise ValueError(
            f"The 'hdi_prob' parameter of posterior_path must be in (0, 1). Got {hdi_prob!r} instead."
        )
    values, strengths, convention = _path_scales(model, values, convention)
    seed = check_random_seed(random_seed, "random_seed", "posterior_path")
    iterator: Any = range(values.size)
    if progressbar:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="posterior path", unit="scale")
    rows, seconds = [], np.zeros(values.size)
    for i in iterator:
        idata = sample_posterior(
            model.with_prior_scale(float(values[i])), draws=draws, tune=tune, chains=chains,
            backend=backend, random_seed=seed, progressbar=False, log_likelihood=False, **kwargs,
        )  # fmt: skip
        wv = idata.posterior["w"].transpose("chain", "draw", "feature").values
        rows.append(_summarize(wv, hdi_prob, mcmc=backend != "exact"))
        seconds[i] = idata.posterior.attrs["sampling_time"]
    stack = {key: np.asarray([r[key] for r in rows]) for key in rows[0]}
    map_coef = np.full((values.size, model.p), np.nan)
    if include_map:
        map_coef = np.asarray(map_path(model, values).coefs, dtype=np.float64)
    return PosteriorPath(
        scales=values, median=stack["median"], lower=stack["lower"], upper=stack["upper"],
        mean=stack["mean"], map_coef=map_coef, feature_names=list(model.feature_names),
        hdi_prob=hdi_prob, strengths=strengths, convention=convention,
        min_ess_bulk=stack["ess"], max_rhat=stack["rhat"], seconds=seconds,
    )  # fmt: skip
