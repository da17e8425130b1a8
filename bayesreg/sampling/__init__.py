"""Posterior sampling: NUTS on the model's compiled graph, and the exact conjugate sampler.

``sample_posterior(model, backend=...)`` returns an ``arviz.InferenceData`` with the same layout
for every backend:

* ``posterior``: ``w`` (chain, draw, feature) with the model's feature names, ``intercept``
  (when fitted), ``sigma`` (when estimated) and the likelihood's estimated shape parameters
  (``nu``, ``alpha``); transformed helpers such as ``sigma_log__`` are dropped;
* ``log_likelihood``: ``y_obs`` (chain, draw, obs), the pointwise log-likelihood that PSIS-LOO
  needs, computed in numpy from the draws (so no backend compiles an extra function for it);
* ``observed_data``: ``y_obs``;
* ``sample_stats`` (NUTS backends): ``diverging``, ``energy``, ``tree_depth``,
  ``reached_max_treedepth``, ... under the same names whatever the backend;
* ``attrs``: ``backend``, ``prior``, ``likelihood``, ``prior_scale``, ``sampling_time`` and ``compile_time``
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
    O(n p)). For a likelihood that is not quadratic on an ill-conditioned design
    (``nutpie_nuts.low_rank_by_default``) nutpie's low-rank-modified mass matrix is the
    default (``low_rank_modified_mass_matrix=False`` turns it off; ``attrs["mass_matrix"]``
    says which ran). Both sample the intercept of the centred design, ``b + xbar'w`` (the same
    posterior; b is mapped back per draw), so columns far from 0 do not correlate it with w.
    Measured by ``benchmarks/bench_sampling.py``.
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
``"gibbs"``
    Exact Polya-Gamma Gibbs sweeps (Polson, Scott & Windle 2013; ``bayesreg.gibbs``) for a
    Bernoulli likelihood with a Gaussian, Laplace or elastic-net prior: no gradients, no
    tuning (``tune`` burn-in sweeps are discarded), ``sample_stats.lp``. Needs the
    ``polyagamma`` package (the ``fast`` extra). ``"auto"`` does not choose it: on
    standardized breast cancer it gives 0.16x the ESS/s of the default NUTS.
    For a ``Horseshoe`` or ``RegularizedHorseshoe`` prior (Gaussian or Bernoulli likelihood):
    the exact blocked Gibbs sweeps of ``bayesreg.horseshoe_gibbs`` (``bayesreg.sampling.hs_gibbs``;
    keywords ``cores``, ``local_update`` and ``local_passes``). ``"auto"`` chooses them where
    NUTS is slow: a Gaussian likelihood with p > ``MAX_FEATURES`` (400), a Bernoulli one with p > n, unless
    ``collapse`` or a NUTS keyword is given.

Horseshoe priors with a Gaussian likelihood (``"auto"`` and ``"pymc"``): NUTS runs on the
collapsed graph of ``bayesreg.sampling.collapsed`` (w and the intercept integrated out, then drawn exactly
from their Gaussian conditional), at ``target_accept = COLLAPSED_TARGET_ACCEPT`` (0.9) unless the
caller passes one; ``attrs["sampling_graph"] = "collapsed"``. ``collapse=False`` opts out.

The package
-----------
``sample_posterior`` validates the settings once (``settings``), resolves the backend once
(``resolve``), runs it and assembles the InferenceData (``idata``). Each backend is a small
adapter (``exact``, ``pymc_nuts``, ``nutpie_nuts``, ``numpyro_nuts``, ``pg_gibbs``, ``hs_gibbs``,
``collapsed``) on a log-density target (``target``); the defaults are constants in
``defaults``.

Why the default is faster than a plain ``pm.sample`` (``benchmarks/bench_sampling.py``, n=1000,
p=100): per leapfrog step a plain ``pm.sample`` spends its time in the O(n p) matrix-vector
products of the log-density gradient and in PyMC's Python tree building; the sufficient
statistics remove the first and nutpie's Rust sampler the second. Through a Python callback
each gradient still costs ~20 us of callback overhead plus ~20 us of PyTensor per-node dispatch
around ~2 us of arithmetic; the static kernels remove both (a few us per gradient).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg._validation import check_choice
from bayesreg.model import RegressionModel, check_model
from bayesreg.sampling.backend import has_package as _has
from bayesreg.sampling.collapsed import COLLAPSED_TARGET_ACCEPT, MAX_FEATURES, can_collapse
from bayesreg.sampling.defaults import (
    BACKENDS,
    CHAINS,
    DRAWS,
    MAX_TREEDEPTH,
    NUTPIE_BACKENDS,
    TARGET_ACCEPT,
    TUNE,
)
from bayesreg.sampling.exact import ConjugatePosterior, conjugate_posterior
from bayesreg.sampling.idata import assemble
from bayesreg.sampling.idata import pointwise_loglik as _pointwise_loglik
from bayesreg.sampling.nutpie_nuts import nutpie_accepts as _nutpie_accepts
from bayesreg.sampling.predictive import posterior_predictive, prior_predictive
from bayesreg.sampling.resolve import resolve_backend
from bayesreg.sampling.settings import sampler_settings
from bayesreg.sampling.target import LogDensityTarget, model_target

__all__ = [
    "BACKENDS",
    "COLLAPSED_TARGET_ACCEPT",
    "MAX_FEATURES",
    "MAX_TREEDEPTH",
    "NUTPIE_BACKENDS",
    "TARGET_ACCEPT",
    "ConjugatePosterior",
    "LogDensityTarget",
    "can_collapse",
    "conjugate_posterior",
    "model_target",
    "posterior_predictive",
    "prior_predictive",
    "sample_posterior",
]

# kept importable for callers of the former module (tests, benchmarks)
_ = (_has, _nutpie_accepts, _pointwise_loglik)


def _model_cache(model: RegressionModel) -> dict[Hashable, Any]:
    """The per-structure cache where the compiled samplers live (for tests)."""
    return model._functions


def sample_posterior(
    model: RegressionModel,
    *,
    draws: int = DRAWS,
    tune: int = TUNE,
    chains: int = CHAINS,
    backend: str = "auto",
    random_seed: int | Any | None = None,
    progressbar: bool = True,
    log_likelihood: bool = True,
    collapse: bool | None = None,
    **kwargs: Any,
) -> az.InferenceData:
    """Draw from the posterior of ``model`` at its current prior scale.

    Parameters
    ----------
    model : RegressionModel
        The model; its compiled sampler is cached with its structure and reused by later calls
        (and by its ``with_prior_scale`` copies).
    draws, tune : int
        Draws kept per chain (>= 1), and warm-up iterations per chain (>= 0; ignored by
        ``"exact"``).
    chains : int
        Number of chains (``"exact"``: the i.i.d. draws are split into this many "chains").
    backend : {"auto", "pymc", "nutpie", "numpyro", "exact", "gibbs"}, default "auto"
        See the module docstring. ``"auto"``: nutpie's NUTS when nutpie is installed and every
        option in ``kwargs`` is one nutpie understands (``nutpie_backend="kernel"`` where the
        static kernels cover the model, else ``"pytensor"``), else ``"pymc"``.
    random_seed : int, numpy.random.Generator or None
        Same seed, same model, same scale -> identical draws (for every backend). A Generator
        is consumed once (one integer drawn from it).
    progressbar : bool
        Show the backend's progress bar.
    log_likelihood : bool, default True
        Store the pointwise log-likelihood (chain, draw, n) for PSIS-LOO.
    collapse : bool or None, default None
        Horseshoe priors with a Gaussian likelihood (``bayesreg.sampling.collapsed``): NUTS samples the
        hyperparameters with w and the intercept integrated out, then each draw of (w, b) comes
        exactly from its Gaussian conditional. No funnel, so no divergences from it, and
        shallower trees. None: collapse whenever possible with the ``"auto"`` or ``"pymc"``
        backend (``target_accept`` then defaults to ``COLLAPSED_TARGET_ACCEPT``, 0.9);
        False: sample the non-centred model; True: collapse or raise.
    **kwargs
        Passed to the backend: ``target_accept`` (in (0, 1)) and ``max_treedepth`` (int >= 1;
        ``maxdepth`` is nutpie's name for it) for all NUTS backends; ``target_accept`` defaults
        to the prior's ``default_target_accept`` when it declares one (0.995 for ``Horseshoe``
        and ``RegularizedHorseshoe``; brms and rstanarm recommend 0.99+ for horseshoe priors),
        else to ``TARGET_ACCEPT`` (0.8); ``max_treedepth`` to ``MAX_TREEDEPTH`` (10); the values
        used are stored in ``attrs``. ``cores`` for ``"pymc"`` and ``"nutpie"``; other
        ``pm.sample`` arguments for ``"pymc"``; ``nutpie.sample`` settings and
        ``nutpie_backend`` ("numba", "jax", "pytensor" or "kernel"; default "numba") for
        ``"nutpie"``. A keyword the chosen backend does not take raises a TypeError that lists
        the valid ones.

    Returns
    -------
    arviz.InferenceData
        Groups ``posterior`` (``w`` (chain, draw, feature), ``intercept``, ``sigma``),
        ``log_likelihood`` (``y_obs``), ``observed_data``, and ``sample_stats`` for NUTS.

    Raises
    ------
    ValueError
        A setting out of range, an unknown backend, or a backend that cannot run this model
        (``"exact"`` without a conjugate posterior, ``"gibbs"`` outside its two samplers,
        ``nutpie_backend="kernel"`` outside the kernels), saying why.
    TypeError
        A keyword the backend does not take.
    ImportError
        ``"nutpie"`` / ``"numpyro"`` without the ``fast`` extra (the message says how to install).
    """
    check_model(model, "sample_posterior")
    backend = check_choice(backend, "sampling backend", BACKENDS)
    settings = sampler_settings(
        draws, tune, chains, random_seed, progressbar, log_likelihood, collapse, kwargs
    )
    runner = resolve_backend(backend, model, settings)
    runner.check(model, settings)
    model.sync()  # every compiled function and data copy reads this model's prior scale
    run = runner.run(model, settings)
    return assemble(run, model, runner.name, settings.log_likelihood)
