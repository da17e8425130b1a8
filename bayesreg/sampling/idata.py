"""One assembly of the InferenceData that ``sample_posterior`` returns, for every backend.

* ``posterior``: ``w`` (chain, draw, feature) with the model's feature names, ``intercept``
  (when fitted), ``sigma`` (when estimated) and each estimated shape parameter of the
  likelihood (``nu``, ``alpha``); transformed helpers such as ``sigma_log__`` are dropped;
* ``log_likelihood``: ``y_obs`` (chain, draw, obs), computed in numpy from the draws
  (``Likelihood.pointwise_logpdf`` at each draw's sigma and shape parameters), so no backend
  compiles an extra function for it;
* ``observed_data``: ``y_obs``;
* ``constant_data``: every ``pm.Data`` container of the model (``X``, ``y``, ``prior_scale``,
  ``noise_sigma`` when known), so that ``pm.sample_posterior_predictive`` sees the data the
  draws were made with and resamples only ``y_obs`` (without it PyMC treats ``w`` as depending
  on changed data and redraws it from the prior);
* ``sample_stats`` (NUTS backends): ``diverging``, ``energy``, ``tree_depth``,
  ``reached_max_treedepth``, ... under the same names whatever the backend;
* ``attrs`` (on every group): ``backend``, ``prior``, ``likelihood``, ``prior_scale``,
  ``sampling_time``, ``compile_time``, and what the backend adds (``target_accept``,
  ``max_treedepth``, ``nutpie_backend``, ``sampling_graph``, ...).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg.model import RegressionModel
from bayesreg.sampling.predictive import likelihood_at_draws, linear_predictor_draws

__all__ = ["Run", "assemble", "assemble_without_rows", "constant_data", "pointwise_loglik"]


@dataclass
class Run:
    """What a backend returns: its raw InferenceData (``posterior``, maybe ``sample_stats``),
    seconds of sampling and of compiling during this call, and attrs to record."""

    idata: az.InferenceData
    seconds: float
    compile_seconds: float = 0.0
    attrs: dict[str, Any] = field(default_factory=dict)


class Stopwatch:
    """``with Stopwatch() as t: ...``; then ``t.seconds``."""

    seconds = 0.0

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def pointwise_loglik(model: RegressionModel, post: xr.Dataset) -> np.ndarray:
    """log p(y_i | draw) of shape (chain, draw, n), in numpy (no extra compiled function)."""
    eta, sigma = linear_predictor_draws(model, post)  # one BLAS product: 20x np.einsum
    return likelihood_at_draws(model, post).pointwise_logpdf(eta, model.y, sigma)


def constant_data(model: RegressionModel) -> xr.Dataset:
    """The values of the model's ``pm.Data`` containers (names as in ``RegressionModel``)."""
    lik = model.likelihood
    coords = {"obs": np.arange(model.n), "feature": list(model.feature_names)}
    # the model's own read-only copies, not new ones: at n = 10^6, p = 100 a copy of X would
    # be 800 MB more per InferenceData (the caller's arrays were copied once, by the model)
    data = {
        "X": (("obs", "feature"), model.X),
        "y": (("obs",), np.asarray(model.y).astype(lik.observed_dtype)),
        "prior_scale": (
            ("feature",) if np.ndim(model.prior.scale) else (),
            np.array(model.prior.scale, dtype=np.float64),
        ),
    }
    if lik.has_sigma and lik.fixed_sigma is not None:
        data["noise_sigma"] = ((), np.asarray(lik.fixed_sigma, dtype=np.float64))
    return xr.Dataset(data, coords=coords)


_STAT_RENAMES = {"depth": "tree_depth", "maxdepth_reached": "reached_max_treedepth"}


def _draws_and_stats(run: Run, feature_names: Any) -> dict[str, xr.Dataset]:
    """The posterior (transformed value variables dropped, features named) and the sample
    statistics (renamed to ArviZ's names) of a backend's output."""
    idata = run.idata
    post = idata.posterior
    post = post.drop_vars([v for v in post.data_vars if str(v).endswith("__")])
    if "feature" in post["w"].dims:
        post = post.assign_coords(feature=list(feature_names))
    groups: dict[str, xr.Dataset] = {"posterior": post}
    if "sample_stats" in idata.groups():
        stats = idata.sample_stats
        stats = stats.rename(
            {k: v for k, v in _STAT_RENAMES.items() if k in stats and v not in stats}
        )
        groups["sample_stats"] = stats
    return groups


def _with_attrs(groups: dict, run: Run, backend: str, prior: Any, likelihood: Any):
    out = az.InferenceData(**groups)
    attrs = {
        "backend": backend,
        "prior": repr(prior),
        "likelihood": repr(likelihood),
        # a float, or one per coefficient (netCDF attributes hold lists of numbers)
        "prior_scale": np.asarray(prior.scale, dtype=np.float64).tolist(),
        "sampling_time": float(run.seconds),
        "compile_time": float(run.compile_seconds),
        **run.attrs,
    }
    for name in out.groups():
        out[name].attrs.update(attrs)
    return out


def assemble(
    run: Run, model: RegressionModel, backend: str, log_likelihood: bool
) -> az.InferenceData:
    """Give a backend's output the common layout (module docstring)."""
    groups = _draws_and_stats(run, model.feature_names)
    post = groups["posterior"]
    obs = np.arange(model.n)
    if log_likelihood:
        ll = pointwise_loglik(model, post)
        coords = {"chain": post.chain.values, "draw": post.draw.values, "obs": obs}
        groups["log_likelihood"] = xr.Dataset({"y_obs": (("chain", "draw", "obs"), ll)}, coords)
    groups["observed_data"] = xr.Dataset(
        {"y_obs": (("obs",), np.array(model.y))}, coords={"obs": obs}
    )
    groups["constant_data"] = constant_data(model)
    return _with_attrs(groups, run, backend, model.prior, model.likelihood)


def assemble_without_rows(
    run: Run, feature_names: Any, backend: str, prior: Any, likelihood: Any
) -> az.InferenceData:
    """The common layout for a posterior known from the data's moments only: the posterior
    and sample statistics with the usual names and attrs, and no group that needs the rows
    (log_likelihood, observed_data, constant_data)."""
    return _with_attrs(_draws_and_stats(run, feature_names), run, backend, prior, likelihood)
