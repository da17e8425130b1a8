"""Posterior sampling: NUTS on the model's compiled graph, and the exact conjugate sampler.

``sample_posterior(model, backend=...)`` returns an ``arviz.InferenceData`` with the same layout
for every backend:

* ``posterior``: ``w`` (chain, draw, feature) with the model's feature names, ``intercept``
  (when fitted) and ``sigma`` (when estimated); transformed helpers such as ``sigma_log__``
  are dropped;
* ``log_likelihood``: ``y_obs`` (chain, draw, obs), the pointwise log-likelihood that PSIS-LOO
  needs, computed in numpy from the draws (so no backend compiles an extra function for it);
* ``observed_data``: ``y_obs``;
* ``sample_stats`` (NUTS backends): ``diverging``, ``energy``, ``tree_depth``,
  ``reached_max_treedepth``, ... under the same names whatever the backend;
* ``attrs``: ``backend``, ``prior``, ``prior_scale``, ``sampling_time`` and ``compile_time``
  (seconds spent compiling during this call: 0 when a compiled sampler was reused), and for
  NUTS backends ``target_accept`` (the prior's ``default_target_accept`` unless the caller
  passed one: 0.995 for horseshoe priors).

Backends
--------
``"auto"`` (the default)
    nutpie's Rust NUTS when nutpie is installed (the ``fast`` extra), else ``"pymc"``. For a
    ``Gaussian``, ``Laplace`` or ``ElasticNet`` prior with a Gaussian or Bernoulli likelihood
    (``nutpie_backend="kernel"``), nutpie calls the static numba C callbacks of
    ``bayesreg._fastlogp`` directly: no Python per gradient, and no per-model compilation (the
    callbacks are compiled once per environment and loaded from numba's disk cache; the model
    is a data buffer). For any other model (``nutpie_backend="pytensor"``), nutpie calls the
    model's C-compiled sampling graph (``RegressionModel.sampling_logp``) through a Python
    callback; PyTensor's disk cache serves its C code to every model. Both evaluate the model's
    own log posterior (tested to 1e-10 at random points); with a Gaussian likelihood and
    p < n both write the data term with sufficient statistics (O(p^2) per gradient instead of
    O(n p)). Measured by ``benchmarks/bench_sampling.py``.
``"pymc"``
    PyMC's NUTS on the same sampling graph. The step method (which holds the compiled
    log-density and gradient) is built once per model and reused: the prior scale is a shared
    variable, so ``set_prior_scale`` and sampling again runs the same compiled function. Each
    call restarts the step from a pristine copy of its state, so the same seed gives the same
    draws whatever ran before.
``"nutpie"``
    nutpie's Rust NUTS. ``nutpie_backend="numba"`` (the default for this name) or ``"jax"``:
    nutpie compiles the PyMC model itself (``nutpie.compile_pymc_model``, once per model; new
    prior scales go in through ``compiled.with_data``); ``"kernel"`` and ``"pytensor"``: what
    ``"auto"`` runs (``"kernel"`` raises a ValueError saying why for a model it does not
    cover). Needs the ``fast`` extra.
``"numpyro"``
    NumPyro's NUTS through PyMC's JAX bridge. PyMC freezes shared data into the JAX graph, so this
    backend re-traces (recompiles) at every call. Needs the ``fast`` extra.
``"exact"``
    Independent draws from the conjugate posterior (no MCMC), for a Gaussian prior with a
    Gaussian likelihood: see :func:`conjugate_posterior`.

Horseshoe priors with a Gaussian likelihood (``"auto"`` and ``"pymc"``): NUTS runs on the
collapsed graph of ``bayesreg.collapsed`` (w and the intercept integrated out, then drawn exactly
from their Gaussian conditional), at ``target_accept = COLLAPSED_TARGET_ACCEPT`` (0.9) unless the
caller passes one; ``attrs["sampling_graph"] = "collapsed"``. ``collapse=False`` opts out.

Why the default is faster than a plain ``pm.sample`` (``benchmarks/bench_sampling.py``, n=1000,
p=100): per leapfrog step a plain ``pm.sample`` spends its time in the O(n p) matrix-vector
products of the log-density gradient and in PyMC's Python tree building; the sufficient
statistics remove the first and nutpie's Rust sampler the second. Through a Python callback
each gradient still costs ~20 us of callback overhead plus ~20 us of PyTensor per-node dispatch
around ~2 us of arithmetic; the static kernels remove both (a few us per gradient).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import threading
import time
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy import linalg

from bayesreg._validation import (
    check_choice,
    check_finite_array,
    check_positive,
    check_positive_int,
    check_probability,
)
from bayesreg.collapsed import COLLAPSED_TARGET_ACCEPT, MAX_FEATURES, can_collapse, sample_collapsed
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel, check_model, jittered_start
from bayesreg.priors import Gaussian

__all__ = [
    "BACKENDS",
    "NUTPIE_BACKENDS",
    "ConjugatePosterior",
    "PosteriorPath",
    "conjugate_posterior",
    "posterior_path",
    "sample_posterior",
]

#: the supported values of ``backend``
BACKENDS = ("pymc", "nutpie", "numpyro", "exact", "auto")

_FAST_EXTRA = 'pip install -e ".[fast]"  (or: pip install "bayesreg[fast]")'

# Per-model compiled samplers. Weak keys: a model that goes away takes its samplers with it.
_CACHE: weakref.WeakKeyDictionary[RegressionModel, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _model_cache(model: RegressionModel) -> dict[Any, Any]:
    cache = _CACHE.get(model)
    if cache is None:
        cache = {}
        _CACHE[model] = cache
    return cache


def _check_seed(random_seed: object) -> int | None:
    if random_seed is None:
        return None
    if isinstance(random_seed, bool) or not isinstance(random_seed, Integral) or random_seed < 0:
        raise ValueError(
            "The 'random_seed' parameter of sample_posterior must be None or an int in the "
            f"range [0, 2**32). Got {random_seed!r} instead."
        )
    return int(random_seed)


def _require(package: str, backend: str) -> Any:
    """Import an optional package or raise an ImportError that names the ``fast`` extra."""
    try:
        return __import__(package)
    except ImportError as exc:
        raise ImportError(
            f"The {backend!r} backend needs the optional package {package!r}, which is not "
            f"installed. Install the 'fast' extra: {_FAST_EXTRA}. Or use backend='pymc'."
        ) from exc


def _has(package: str) -> bool:
    try:
        __import__(package)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# the exact conjugate posterior
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConjugatePosterior:
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

    Attributes
    ----------
    names : tuple of str
        ``("w[feature]", ..., "intercept")``: the order of ``mean`` and ``cov``.
    mean : ndarray of shape (k,)
        Posterior mean of theta (k = p, plus 1 with an intercept).
    cov_chol : ndarray of shape (k, k)
        Lower Cholesky factor L of the precision (A = L L') at sigma = 1 when sigma is
        estimated, or of A itself when sigma is known.
    sigma : float or None
        The known sigma, or None when sigma is estimated.
    ig_shape, ig_rate : float
        The inverse-gamma proposal for sigma^2 (sigma estimated only).
    sigma_prior_scale : float
        h, the half-normal scale of sigma's prior (sigma estimated only).
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

    def cov(self, sigma: float = 1.0) -> np.ndarray:
        """Posterior covariance of theta (given sigma when sigma is estimated), shape (k, k)."""
        k = self.mean.size
        inv = linalg.cho_solve((self.cov_chol, True), np.eye(k))
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


def _conjugate_problem(model: RegressionModel) -> str | None:
    """Why ``model`` has no exact sampler (None when it has one)."""
    lik, prior = model.likelihood, model.prior
    if type(prior) is not Gaussian:
        return f"the prior is {prior!r}, not Gaussian"
    if not isinstance(lik, GaussianLikelihood):
        return f"the likelihood is {lik!r}, not Gaussian"
    if lik.sigma is None and not prior.scale_by_sigma:
        return (
            "sigma is estimated but the prior's scale does not scale with sigma; use "
            "Gaussian(..., scale_by_sigma=True) (the Normal-Inverse-Gamma-type case) or a known "
            "sigma, GaussianLikelihood(sigma=...)"
        )
    return None


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
    if not isinstance(model, RegressionModel):
        raise TypeError(f"conjugate_posterior needs a RegressionModel; got {model!r}.")
    problem = _conjugate_problem(model)
    if problem is not None:
        raise ValueError(
            "The 'exact' backend needs a conjugate model: a Gaussian prior with "
            "GaussianLikelihood(sigma=<known>), or Gaussian(scale, scale_by_sigma=True) with sigma "
            f"estimated. Here {problem}. Use backend='pymc' (NUTS) for this model."
        )
    X, y = model.X, model.y
    n, p = X.shape
    Z = np.column_stack([X, np.ones(n)]) if model.fit_intercept else X
    k = Z.shape[1]
    pen = np.ones(k)
    if model.fit_intercept:
        pen[-1] = 0.0  # flat prior on the intercept
    names = tuple(
        [f"w[{f}]" for f in model.feature_names] + (["intercept"] if model.fit_intercept else [])
    )
    ZtZ, Zty = Z.T @ Z, Z.T @ y
    sigma = model.sigma_known
    if sigma is not None:
        tau = model.prior.effective_scale(sigma)
        A = ZtZ / sigma**2 + np.diag(pen / tau**2)
        L = linalg.cholesky(A, lower=True)
        mean = linalg.cho_solve((L, True), Zty / sigma**2)
        return ConjugatePosterior(names, mean, L, float(sigma), p, model.fit_intercept)
    c = model.prior.scale
    A0 = ZtZ + np.diag(pen / c**2)
    L0 = linalg.cholesky(A0, lower=True)
    mean = linalg.cho_solve((L0, True), Zty)
    Q = float(y @ y - mean @ A0 @ mean)
    n_eff = n - (1 if model.fit_intercept else 0)
    if n_eff < 2:
        raise ValueError(
            f"The exact sampler needs at least 2 observations beyond the intercept; n={n}."
        )
    h = model.likelihood.resolved_sigma_prior_scale(y)
    return ConjugatePosterior(
        names, mean, L0, None, p, model.fit_intercept,
        ig_shape=(n_eff - 1) / 2.0, ig_rate=max(Q, 0.0) / 2.0, sigma_prior_scale=h,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# InferenceData assembly
# ---------------------------------------------------------------------------------------------
def _pointwise_loglik(model: RegressionModel, post: xr.Dataset) -> np.ndarray:
    """log p(y_i | draw) of shape (chain, draw, n), in numpy (no extra compiled function)."""
    w = post["w"].transpose("chain", "draw", "feature").values
    c, d, p = w.shape
    eta = (w.reshape(c * d, p) @ model.X.T).reshape(c, d, model.n)  # BLAS: 20x np.einsum
    if "intercept" in post:
        eta += post["intercept"].values[..., None]
    y = model.y
    if isinstance(model.likelihood, BernoulliLikelihood):
        # log p = y eta - log(1 + e^eta), stable through logaddexp
        return y * eta - np.logaddexp(0.0, eta)
    sigma = post["sigma"].values[..., None] if "sigma" in post else model.sigma_known
    return -0.5 * ((y - eta) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2.0 * np.pi)


_STAT_RENAMES = {"depth": "tree_depth", "maxdepth_reached": "reached_max_treedepth"}


def _finalize(
    idata: az.InferenceData,
    model: RegressionModel,
    backend: str,
    sampling_time: float,
    compile_time: float,
    log_likelihood: bool,
    extra_attrs: dict[str, Any] | None = None,
) -> az.InferenceData:
    """Give every backend's output the same layout (module docstring)."""
    post = idata.posterior
    drop = [v for v in post.data_vars if str(v).endswith("__")]
    post = post.drop_vars(drop)
    if "feature" in post["w"].dims:
        post = post.assign_coords(feature=list(model.feature_names))
    groups: dict[str, xr.Dataset] = {"posterior": post}
    if "sample_stats" in idata.groups():
        stats = idata.sample_stats
        stats = stats.rename(
            {k: v for k, v in _STAT_RENAMES.items() if k in stats and v not in stats}
        )
        groups["sample_stats"] = stats
    if log_likelihood:
        ll = _pointwise_loglik(model, post)
        groups["log_likelihood"] = xr.Dataset(
            {"y_obs": (("chain", "draw", "obs"), ll)},
            coords={
                "chain": post.chain.values,
                "draw": post.draw.values,
                "obs": np.arange(model.n),
            },
        )
    groups["observed_data"] = xr.Dataset(
        {"y_obs": (("obs",), np.array(model.y))}, coords={"obs": np.arange(model.n)}
    )
    out = az.InferenceData(**groups)
    attrs = {
        "backend": backend,
        "prior": repr(model.prior),
        "likelihood": repr(model.likelihood),
        "prior_scale": float(model.prior.scale),
        "sampling_time": float(sampling_time),
        "compile_time": float(compile_time),
    }
    attrs.update(extra_attrs or {})
    for name in out.groups():
        out[name].attrs.update(attrs)
    return out


# ---------------------------------------------------------------------------------------------
# backends
# ---------------------------------------------------------------------------------------------
def _sample_exact(model, draws, chains, random_seed):
    post = conjugate_posterior(model)
    rng = np.random.default_rng(random_seed)
    t0 = time.perf_counter()
    d = post.sample(draws * chains, rng)
    theta = d["theta"].reshape(chains, draws, -1)
    coords = {
        "chain": np.arange(chains),
        "draw": np.arange(draws),
        "feature": list(model.feature_names),
    }
    data = {"w": (("chain", "draw", "feature"), theta[..., : model.p])}
    if model.fit_intercept:
        data["intercept"] = (("chain", "draw"), theta[..., model.p])
    if model.sigma_known is None:
        data["sigma"] = (("chain", "draw"), d["sigma"].reshape(chains, draws))
    idata = az.InferenceData(posterior=xr.Dataset(data, coords=coords))
    return idata, time.perf_counter() - t0, 0.0


def _jittered_initvals(
    model: RegressionModel, base: dict, chains: int, seed: int | None
) -> list[dict]:
    """PyMC-style U(-1, 1) jitter of the unconstrained start, returned on the constrained scale."""
    rng = np.random.default_rng(None if seed is None else [seed, 7])  # stream apart from NUTS's
    out = []
    m = model.pymc_model
    for _ in range(chains):
        point = {}
        for rv in m.free_RVs:
            value_name = m.rvs_to_values[rv].name
            v = np.asarray(base[value_name], dtype=np.float64)
            v = v + rng.uniform(-1.0, 1.0, size=v.shape)
            if value_name.endswith("_log__"):
                v = np.exp(v)
            elif value_name != rv.name:  # another transform: keep PyMC's own start
                continue
            point[rv.name] = v
        out.append(point)
    return out


def _pymc_logp_dlogp_func(model: RegressionModel, base: dict) -> Any:
    """PyMC's value-and-gradient function, on the model's sampling graph.

    ``model.sampling_logp()`` equals the model's log posterior (tested at random points) but
    writes a Gaussian data term with sufficient statistics: O(p^2) per gradient, not O(n p).
    """
    from pymc.model.core import ValueGradFunction

    m = model.pymc_model
    func = ValueGradFunction(
        [model.sampling_logp()], m.continuous_value_vars, {}, model=m, initial_point=base,
        ravel_inputs=True,
    )  # fmt: skip
    # PyMC's leapfrog passes float64 vectors of the right size: skip PyTensor's input checks
    func._pytensor_function.trust_input = True
    return func


def _pymc_step(model: RegressionModel, target_accept: float, max_treedepth: int):
    """The cached NUTS step for ``model`` and its pristine state; built (compiled) once."""
    import pymc as pm
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiagAdapt

    cache = _model_cache(model)
    key = ("pymc", float(target_accept), int(max_treedepth))
    compile_time = 0.0
    if key not in cache:
        t0 = time.perf_counter()
        m = model.pymc_model
        base = cache.get("initial_point")
        if base is None:
            base = cache["initial_point"] = m.initial_point()
        mean = np.concatenate([np.ravel(base[v.name]) for v in m.continuous_value_vars])
        # as PyMC's default init ("jitter+adapt_diag"): unit diagonal, weight 10, centred at start
        potential = QuadPotentialDiagAdapt(mean.size, mean, np.ones(mean.size), 10)
        step = pm.NUTS(
            model=m, target_accept=target_accept, max_treedepth=max_treedepth, potential=potential,
            logp_dlogp_func=_pymc_logp_dlogp_func(model, base),
        )  # fmt: skip
        cache[key] = (step, step.sampling_state)
        compile_time = time.perf_counter() - t0
    step, pristine = cache[key]
    return step, pristine, cache["initial_point"], compile_time


def _sample_pymc(model, draws, tune, chains, random_seed, progressbar, kwargs):
    import pymc as pm

    target_accept = check_probability(
        kwargs.pop("target_accept", 0.8), "target_accept", "sample_posterior"
    )
    max_treedepth = check_positive_int(
        kwargs.pop("max_treedepth", 10), "max_treedepth", "sample_posterior"
    )
    step, pristine, base, compile_time = _pymc_step(model, target_accept, max_treedepth)
    # Restart from the state the step had when it was built: what an earlier call adapted
    # (mass matrix, step size) must not leak into this one, so a seed fixes the draws.
    step.sampling_state = pristine
    kwargs.setdefault("initvals", _jittered_initvals(model, base, chains, random_seed))
    kwargs.setdefault("compute_convergence_checks", False)  # diagnose() does it, with advice
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*initvals.*")
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            step=step,
            model=model.pymc_model,
            random_seed=random_seed,
            progressbar=progressbar,
            **kwargs,
        )
    return idata, time.perf_counter() - t0, compile_time, {"max_treedepth": max_treedepth}


#: what ``nutpie_backend`` may be: nutpie's own compilation of the PyMC model (numba, JAX);
#: "pytensor": nutpie's NUTS driving the model's C-compiled sampling graph through a Python
#: callback (no numba/JAX compile); "kernel": nutpie calling ``bayesreg._fastlogp``'s static,
#: disk-cached numba C callbacks directly (no Python in the loop, no per-model compile)
NUTPIE_BACKENDS = ("numba", "jax", "pytensor", "kernel")


def _expander(model: RegressionModel):
    """theta -> {name: value} for every free variable and deterministic, and their shapes.

    Plain value variables are slices of theta and log-transformed ones exponentiated, in
    numpy; anything else (deterministics such as a non-centred ``w``, other transforms) goes
    through one compiled PyTensor function of the model's own graph.
    """
    import pytensor
    import pytensor.tensor as pt
    from pytensor.graph.replace import graph_replace

    m, lay = model.pymc_model, model.layout
    rvs = list(m.free_RVs) + list(m.deterministics)
    simple: dict[str, tuple[slice, tuple[int, ...], bool]] = {}
    for rv in m.free_RVs:
        value_name = m.rvs_to_values[rv].name
        if value_name == rv.name or value_name == f"{rv.name}_log__":
            simple[rv.name] = (
                lay.slices[value_name],
                lay.shapes[value_name],
                value_name != rv.name,
            )
    if len(simple) == len(rvs):

        def expand(x: np.ndarray) -> dict[str, np.ndarray]:
            out = {}
            for name, (sl, shape, log) in simple.items():
                v = np.array(x[sl]).reshape(shape)
                # an ndarray even for 0-d values: nutpie rejects numpy scalars
                out[name] = np.asarray(np.exp(v) if log else v)
            return out

        shapes = [simple[rv.name][1] for rv in rvs]
    else:
        theta = pt.dvector("theta")
        replacements = {
            v: theta[lay.slices[v.name]].reshape(lay.shapes[v.name]) for v in m.value_vars
        }
        outs = graph_replace(m.replace_rvs_by_values(rvs), replacements, strict=False)
        fn = pytensor.function([theta], outs, on_unused_input="ignore")
        names = [rv.name for rv in rvs]

        def expand(x: np.ndarray) -> dict[str, np.ndarray]:
            values = fn(np.asarray(x, dtype=np.float64))
            return {n: np.array(v, dtype=np.float64) for n, v in zip(names, values, strict=True)}

        shapes = [tuple(np.shape(v)) for v in expand(model.initial_point()).values()]
    return expand, [rv.name for rv in rvs], shapes


def _nutpie_pytensor_model(model: RegressionModel) -> Any:
    """nutpie's Rust NUTS on ``model.sampling_logp_dlogp_function()`` (PyTensor's C backend).

    No numba or JAX compilation: the C code of the sampling graph does not depend on the data,
    so PyTensor's disk cache serves it to every model. The prior scale is a shared variable
    that the compiled function reads at each call, so ``set_prior_scale`` needs no rebuild.
    """
    from nutpie.compiled_pyfunc import from_pyfunc

    m = model.pymc_model
    fn = model.sampling_logp_dlogp_function().compiled
    expand, names, shapes = _expander(model)
    # one compiled function (and its buffers) serves every chain: one call at a time
    lock = threading.Lock()

    def make_logp_fn():
        def logp(x: np.ndarray, **_: Any) -> tuple[float, np.ndarray]:
            with lock:
                value, grad = fn(x)
            return float(value), grad

        return logp

    def make_expand_fn(seed1: int, seed2: int, chain: int):
        def expand_draw(x: np.ndarray, **_: Any) -> dict[str, np.ndarray]:
            with lock:
                return expand(x)

        return expand_draw

    base = model.initial_point()

    initial_point = jittered_start(base)

    dims = {n: tuple(m.named_vars_to_dims[n]) for n in names if m.named_vars_to_dims.get(n)}
    used = {d for ds in dims.values() for d in ds}
    coords = {d: list(m.coords[d]) for d in used}
    return from_pyfunc(
        ndim=model.layout.size, make_logp_fn=make_logp_fn, make_expand_fn=make_expand_fn,
        expanded_dtypes=[np.dtype("float64")] * len(names), expanded_shapes=shapes,
        expanded_names=names, coords=coords, dims=dims, make_initial_point_fn=initial_point,
    )  # fmt: skip


def _nutpie_kernel_model(model: RegressionModel) -> tuple[Any, Any]:
    """nutpie's Rust NUTS calling the static numba kernels of ``bayesreg._fastlogp``.

    The kernels are compiled once per environment (numba's disk cache) and know nothing about
    the model: a float64 buffer passed as nutpie's ``user_data`` does (data, prior scale, noise
    sd, layout). Returns the compiled nutpie model (with the buffer of the build's prior scale)
    and the ``KernelData`` that makes a buffer at the model's current scale for each call.
    """
    from nutpie.compile_pymc import CompiledPyMCModel

    from bayesreg import _fastlogp

    logp_c, expand_c = _fastlogp.cfuncs()
    m = model.pymc_model
    _, names, shapes = _expander(model)  # the simple branch: kernel_problem() allows no other
    data = _fastlogp.KernelData(model, names)
    slices, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=int))
        slices.append(slice(start, start + size))
        start += size
    base = model.initial_point()

    initial_point = jittered_start(base)

    dims = {n: tuple(m.named_vars_to_dims[n]) for n in names if m.named_vars_to_dims.get(n)}
    used = {d for ds in dims.values() for d in ds}
    compiled = CompiledPyMCModel(
        dims=dims, _n_dim=model.layout.size, _coords={d: pd.Index(m.coords[d]) for d in used},
        _shapes=dict(zip(names, shapes, strict=True)), compiled_logp_func=logp_c,
        compiled_expand_func=expand_c, initial_point_func=initial_point, shared_data={},
        user_data=data.buffer(), n_expanded=data.n_expanded, shape_info=(names, slices, shapes),
        logp_func=None, expand_func=None,
    )  # fmt: skip
    return compiled, data


def _sample_nutpie(model, draws, tune, chains, random_seed, progressbar, kwargs, default="numba"):
    nutpie = _require("nutpie", "nutpie")
    cache = _model_cache(model)
    nutpie_backend = check_choice(
        kwargs.pop("nutpie_backend", default), "nutpie backend", NUTPIE_BACKENDS
    )
    key = ("nutpie", nutpie_backend)
    compile_time = 0.0
    if key not in cache:
        t0 = time.perf_counter()
        if nutpie_backend == "pytensor":
            cache[key] = _nutpie_pytensor_model(model)
        elif nutpie_backend == "kernel":
            problem = _kernel_problem(model)
            if problem is not None:
                raise ValueError(
                    f"nutpie_backend='kernel' does not apply here: {problem}. Use "
                    "nutpie_backend='pytensor' (or backend='auto', which chooses it)."
                )
            cache[key] = _nutpie_kernel_model(model)
        else:
            cache[key] = nutpie.compile_pymc_model(model.pymc_model, backend=nutpie_backend)
        compile_time = time.perf_counter() - t0
    compiled = cache[key]
    if nutpie_backend == "kernel":
        # a fresh buffer at the current prior scale / noise sd: the C code stays the same
        compiled, data = compiled
        compiled = dataclasses.replace(compiled, user_data=data.buffer())
    elif nutpie_backend != "pytensor":
        # nutpie's own compilation copies shared data at compile time: pass the current values
        m = model.pymc_model
        compiled = compiled.with_data(**{k: m[k].get_value() for k in compiled.shared_data})
    maxdepth = kwargs.pop("max_treedepth", kwargs.pop("maxdepth", 10))
    kwargs.setdefault("cores", 1)
    t0 = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=random_seed,
        progress_bar=progressbar,
        save_warmup=False,
        maxdepth=maxdepth,
        **kwargs,
    )
    extra = {"max_treedepth": int(maxdepth), "nutpie_backend": nutpie_backend}
    return idata, time.perf_counter() - t0, compile_time, extra


def _kernel_problem(model: RegressionModel) -> str | None:
    """Why ``nutpie_backend="kernel"`` does not apply to ``model`` (None when it does)."""
    if not _has("numba"):
        return "numba is not installed"
    from bayesreg._fastlogp import kernel_problem

    return kernel_problem(model)


def _nutpie_accepts(kwargs: dict[str, Any]) -> bool:
    """Whether every option in ``kwargs`` means something to ``nutpie.sample``."""
    import nutpie
    from nutpie import _lib

    known = set(inspect.signature(nutpie.sample).parameters) - {"kwargs"}
    known |= {a for a in dir(_lib.PyNutsSettings.Diag(0)) if not a.startswith("_")}
    known |= {"max_treedepth", "nutpie_backend"}
    return set(kwargs) <= known


def _sample_numpyro(model, draws, tune, chains, random_seed, progressbar, kwargs):
    _require("numpyro", "numpyro")
    _require("jax", "numpyro")
    import pymc as pm

    target_accept = kwargs.pop("target_accept", 0.8)
    max_treedepth = kwargs.pop("max_treedepth", 10)
    jax_kwargs = dict(kwargs.pop("nuts_sampler_kwargs", {}))
    # one CPU device: "vectorized" runs the chains in one vmapped XLA program
    jax_kwargs.setdefault("chain_method", "vectorized")
    jax_kwargs.setdefault("nuts_kwargs", {}).setdefault("max_tree_depth", int(max_treedepth))
    t0 = time.perf_counter()
    idata = pm.sample(
        draws=draws,
        tune=tune,
        chains=chains,
        model=model.pymc_model,
        random_seed=random_seed,
        progressbar=progressbar,
        nuts_sampler="numpyro",
        target_accept=target_accept,
        nuts_sampler_kwargs=jax_kwargs,
        idata_kwargs={"log_likelihood": False},
        compute_convergence_checks=False,
        **kwargs,
    )
    # JAX tracing and XLA compilation happen inside pm.sample: reported as sampling time
    return idata, time.perf_counter() - t0, float("nan"), {"max_treedepth": int(max_treedepth)}


def sample_posterior(
    model: RegressionModel,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    backend: str = "auto",
    random_seed: int | None = None,
    progressbar: bool = True,
    *,
    log_likelihood: bool = True,
    collapse: bool | None = None,
    **kwargs: Any,
) -> az.InferenceData:
    """Draw from the posterior of ``model`` at its current prior scale.

    Parameters
    ----------
    model : RegressionModel
        The model; its compiled sampler is cached and reused by later calls.
    draws, tune : int
        Draws kept per chain, and warm-up iterations per chain (ignored by ``"exact"``).
    chains : int
        Number of chains (``"exact"``: the i.i.d. draws are split into this many "chains").
    backend : {"auto", "pymc", "nutpie", "numpyro", "exact"}, default "auto"
        See the module docstring. ``"auto"``: nutpie's NUTS when nutpie is installed and every
        option in ``kwargs`` is one nutpie understands (``nutpie_backend="kernel"`` where the
        static kernels cover the model, else ``"pytensor"``), else ``"pymc"``.
    random_seed : int or None
        Same seed, same model, same scale -> identical draws (for every backend).
    progressbar : bool
        Show the backend's progress bar.
    log_likelihood : bool, default True
        Store the pointwise log-likelihood (chain, draw, n) for PSIS-LOO.
    collapse : bool or None, default None
        Horseshoe priors with a Gaussian likelihood (``bayesreg.collapsed``): NUTS samples the
        hyperparameters with w and the intercept integrated out, then each draw of (w, b) comes
        exactly from its Gaussian conditional. No funnel, so no divergences from it, and
        shallower trees. None: collapse whenever possible with the ``"auto"`` or ``"pymc"``
        backend (``target_accept`` then defaults to ``COLLAPSED_TARGET_ACCEPT``, 0.9);
        False: sample the non-centred model; True: collapse or raise.
    **kwargs
        Passed to the backend: ``target_accept`` and ``max_treedepth`` for all NUTS backends;
        ``target_accept`` defaults to the prior's ``default_target_accept`` when it declares one
        (0.995 for ``Horseshoe`` and ``RegularizedHorseshoe``; brms and rstanarm recommend 0.99+ for
        horseshoe priors), else to 0.8; the value used is stored in ``attrs["target_accept"]``;
        ``cores`` for ``"pymc"`` and ``"nutpie"``; other ``pm.sample`` arguments for
        ``"pymc"``; ``nutpie.sample`` settings and ``nutpie_backend`` ("numba", "jax", "pytensor" or
        "kernel"; default "numba") for ``"nutpie"``.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior`` (``w`` (chain, draw, feature), ``intercept``, ``sigma``),
        ``log_likelihood`` (``y_obs``), ``observed_data``, and ``sample_stats`` for NUTS.

    Raises
    ------
    ValueError
        Unknown backend, or ``"exact"`` on a model without a conjugate posterior.
    ImportError
        ``"nutpie"`` / ``"numpyro"`` without the ``fast`` extra (the message says how to install).
    """
    check_model(model, "sample_posterior")
    backend = check_choice(backend, "sampling backend", BACKENDS)
    draws = check_positive_int(draws, "draws", "sample_posterior")
    chains = check_positive_int(chains, "chains", "sample_posterior")
    if isinstance(tune, bool) or not isinstance(tune, Integral) or tune < 0:
        raise ValueError(
            f"The 'tune' parameter of sample_posterior must be an int in the range [0, inf). Got {tune!r} instead."
        )
    tune = int(tune)
    random_seed = _check_seed(random_seed)
    kwargs = dict(kwargs)
    if collapse is not None and not isinstance(collapse, bool):
        raise TypeError(
            f"The 'collapse' parameter of sample_posterior must be True, False or None. "
            f"Got {collapse!r} instead."
        )
    if collapse and not can_collapse(model):
        raise ValueError(
            f"collapse=True needs a horseshoe prior, a Gaussian likelihood and "
            f"p <= {MAX_FEATURES}; got {model.prior!r}, {model.likelihood!r}, p={model.p}."
        )
    engine = _collapsed_engine(model, backend, tune, kwargs) if collapse is not False else None
    if collapse and engine is None:
        raise ValueError(
            f"collapse=True runs on the 'auto', 'pymc' or 'nutpie' (nutpie_backend='pytensor') "
            f"backend: nutpie's or PyMC's NUTS on the collapsed graph; got backend={backend!r} "
            f"with options {sorted(kwargs)}."
        )
    if engine is not None:
        kwargs.setdefault("target_accept", COLLAPSED_TARGET_ACCEPT)
        target_accept = check_probability(
            kwargs["target_accept"], "target_accept", "sample_posterior"
        )
        idata, t_sample, t_compile, extra = sample_collapsed(
            model, _model_cache(model), engine, draws, tune, chains, random_seed, progressbar,
            kwargs,
        )  # fmt: skip
        backend = "nutpie" if engine == "nutpie" else "pymc"
        extra = {**extra, "target_accept": target_accept}
        return _finalize(idata, model, backend, t_sample, t_compile, log_likelihood, extra)
    # a prior may declare the NUTS step-size target it needs (the horseshoe's funnel-like
    # geometry needs small steps): used for every NUTS backend unless the caller chose one
    prior_target = getattr(model.prior, "default_target_accept", None)
    if backend != "exact" and prior_target is not None:
        kwargs.setdefault("target_accept", float(prior_target))
    nutpie_default = "numba"
    if backend == "auto":
        use_nutpie = _auto_uses_nutpie(tune, kwargs)
        backend = "nutpie" if use_nutpie else "pymc"
        # the static numba kernels where they apply (no Python per gradient), else the
        # C-compiled sampling graph through a Python callback
        nutpie_default = "kernel" if use_nutpie and _kernel_problem(model) is None else "pytensor"
    if backend == "exact":
        if kwargs:
            raise TypeError(f"The 'exact' backend takes no sampler options; got {sorted(kwargs)}.")
        idata, t_sample, t_compile = _sample_exact(model, draws, chains, random_seed)
        extra: dict[str, Any] = {}
    else:
        runner = {"pymc": _sample_pymc, "nutpie": _sample_nutpie, "numpyro": _sample_numpyro}[
            backend
        ]
        if backend == "nutpie":
            runner = functools.partial(_sample_nutpie, default=nutpie_default)
        target_accept = float(kwargs.get("target_accept", 0.8))  # 0.8: every backend's default
        idata, t_sample, t_compile, extra = runner(
            model, draws, tune, chains, random_seed, progressbar, kwargs
        )
        extra = {**extra, "target_accept": target_accept}
    return _finalize(idata, model, backend, t_sample, t_compile, log_likelihood, extra)


def _auto_uses_nutpie(tune: int, kwargs: dict[str, Any]) -> bool:
    """Whether ``backend="auto"`` runs nutpie (else PyMC) for these settings."""
    # nutpie's adaptation needs at least one tuning step (tune=0 panics in its Rust core)
    return tune >= 1 and _has("nutpie") and _nutpie_accepts(kwargs)


def _collapsed_engine(model: RegressionModel, backend: str, tune: int, kwargs) -> str | None:
    """The NUTS engine for the collapsed graph ("nutpie" or "pymc"), or None: do not collapse."""
    if not can_collapse(model):
        return None
    if backend == "auto":
        if _auto_uses_nutpie(tune, kwargs):
            if kwargs.get("nutpie_backend", "pytensor") == "pytensor":
                kwargs.pop("nutpie_backend", None)
                return "nutpie"
            return None
        return "pymc"
    if backend == "nutpie" and kwargs.get("nutpie_backend") == "pytensor":
        kwargs.pop("nutpie_backend")
        return "nutpie"
    return "pymc" if backend == "pymc" else None


# ---------------------------------------------------------------------------------------------
# posterior path
# ---------------------------------------------------------------------------------------------
@dataclass
class PosteriorPath:
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
        The MAP coefficients (= the penalized solution) at each scale.
    feature_names : list of str
    hdi_prob : float
    strengths : ndarray of shape (k,) or None
        The penalty strengths the scales came from (when a ``convention`` was given).
    convention : str or None
    min_ess_bulk, max_rhat : ndarray of shape (k,)
        Worst bulk ESS and R-hat over the coefficients at each scale (NaN for "exact").
    sampling_time : ndarray of shape (k,)
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
    sampling_time: np.ndarray = field(default_factory=lambda: np.empty(0))

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable dict (lists of floats)."""
        return {
            "scales": self.scales.tolist(),
            "strengths": None if self.strengths is None else self.strengths.tolist(),
            "convention": self.convention,
            "feature_names": list(self.feature_names),
            "hdi_prob": self.hdi_prob,
            "mean": self.mean.tolist(),
            "median": self.median.tolist(),
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
            "map_coef": self.map_coef.tolist(),
            "min_ess_bulk": self.min_ess_bulk.tolist(),
            "max_rhat": self.max_rhat.tolist(),
        }


def _map_coefs(model: RegressionModel, scales: np.ndarray) -> np.ndarray:
    """MAP coefficients (k, p) along ``scales``: one warm-started path, scale restored."""
    from bayesreg.solvers import map_path  # lazy: solvers import this package too

    return np.asarray(map_path(model, scales).coefs, dtype=np.float64)


def posterior_path(
    model: RegressionModel,
    scales: Sequence[float] | np.ndarray,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    backend: str = "auto",
    random_seed: int | None = None,
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
        Its prior scale is changed in place (``set_prior_scale``, no recompilation) and restored
        at the end, even after an error.
    scales : sequence of float, shape (k,)
        Prior scales; or penalty strengths when ``convention`` is given.
    draws, tune, chains, backend, random_seed, **kwargs
        As in :func:`sample_posterior` (the same seed is used at every scale).
    progressbar : bool
        One progress bar over the scales (the sampler's own bar is off).
    hdi_prob : float, default 0.9
        Probability mass of the highest-density intervals.
    convention : str, optional
        A name in ``bayesreg.conventions.CONVENTIONS``: ``scales`` are then penalty strengths
        in that convention, converted with ``penalty_to_prior`` (at the model's known sigma,
        or sigma = 1).
    include_map : bool, default True
        Compute the MAP at each scale (``bayesreg.solvers.map_estimate``).

    Returns
    -------
    PosteriorPath
    """
    from bayesreg.conventions import CONVENTIONS, penalty_to_prior
    from bayesreg.diagnostics import hdi_bounds, rhat_ess_bulk

    check_model(model, "posterior_path")
    values = check_finite_array(scales, "scales", ndim=1)
    hdi_prob = check_probability(hdi_prob, "hdi_prob", "posterior_path")
    if not 0.0 < hdi_prob < 1.0:
        raise ValueError(
            f"The 'hdi_prob' parameter of posterior_path must be in (0, 1). Got {hdi_prob!r} instead."
        )
    strengths = None
    if convention is not None:
        convention = check_choice(convention, "convention", CONVENTIONS)
        strengths = values
        sigma = model.sigma_known if model.sigma_known is not None else 1.0
        l1 = getattr(model.prior, "l1_ratio", None)
        vals = []
        for s in strengths:
            kw: dict[str, Any] = {
                "sigma": sigma,
                "n": model.n,
                "scale_by_sigma": model.prior.scale_by_sigma,
            }
            if l1 is not None:
                kw["l1_ratio"] = l1
            vals.append(penalty_to_prior(convention, float(s), **kw).scale)
        values = np.asarray(vals)
    for s in values:
        check_positive(float(s), "scales", "posterior_path")

    k, p = values.size, model.p
    out = {name: np.full((k, p), np.nan) for name in ("median", "lower", "upper", "mean", "map")}
    min_ess, max_rhat, t_sample = np.full(k, np.nan), np.full(k, np.nan), np.zeros(k)
    original = model.prior.scale
    iterator: Any = range(k)
    if progressbar:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="posterior path", unit="scale")
    try:
        for i in iterator:
            model.set_prior_scale(float(values[i]))
            idata = sample_posterior(
                model, draws=draws, tune=tune, chains=chains, backend=backend,
                random_seed=random_seed, progressbar=False, log_likelihood=False, **kwargs,
            )  # fmt: skip
            # all coefficients at once (bayesreg.diagnostics, equal to ArviZ's hdi / ess / rhat to
            # rounding): ArviZ loops over the p coefficients, which cost more than a fast fit
            wv = idata.posterior["w"].transpose("chain", "draw", "feature").values
            out["median"][i] = np.median(wv, axis=(0, 1))
            out["mean"][i] = wv.mean(axis=(0, 1))
            bounds = hdi_bounds(wv, hdi_prob)
            out["lower"][i], out["upper"][i] = bounds[:, 0], bounds[:, 1]
            t_sample[i] = idata.posterior.attrs["sampling_time"]
            if backend != "exact":
                rhat, ess = rhat_ess_bulk(wv)
                # fmin / fmax skip NaN (R-hat is NaN with one chain), as xarray's min / max did
                min_ess[i] = float(np.fmin.reduce(ess))
                max_rhat[i] = float(np.fmax.reduce(rhat))
    finally:
        model.set_prior_scale(original)
    if include_map:
        out["map"] = _map_coefs(model, values)
    return PosteriorPath(
        scales=values, median=out["median"], lower=out["lower"], upper=out["upper"], mean=out["mean"],
        map_coef=out["map"], feature_names=list(model.feature_names), hdi_prob=hdi_prob,
        strengths=strengths, convention=convention, min_ess_bulk=min_ess, max_rhat=max_rhat,
        sampling_time=t_sample,
    )  # fmt: skip
