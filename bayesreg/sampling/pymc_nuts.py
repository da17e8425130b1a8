"""PyMC's NUTS on a log-density target: the model's sampling graph, or the collapsed graph.

The step method (which holds the compiled log-density and gradient) is built once per target
and settings and cached with the model's structure: the prior scale is a shared variable, so a
new scale runs the same compiled function. Each call restarts the step from a pristine copy of
its state, so the same seed gives the same draws whatever ran before. PyMC's
``ValueGradFunction`` and ``sampling_state`` are used here and nowhere else.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np

from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import NutsBackend, cached
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.settings import SamplerSettings
from bayesreg.sampling.target import LogDensityTarget, model_target

__all__ = ["PM_SAMPLE_SETS", "PymcBackend", "pm_sample_keywords"]

#: the ``pm.sample`` arguments the PyMC-based backends set themselves
PM_SAMPLE_SETS = frozenset(
    {"draws", "tune", "chains", "step", "model", "random_seed", "progressbar"}
)


def pm_sample_keywords(exclude: frozenset[str]) -> frozenset[str]:
    """``pm.sample``'s named parameters, less those a backend sets itself."""
    from pymc.sampling.mcmc import sample  # pm.sample, by its home (pm.sample may be wrapped)

    params = set(inspect.signature(sample).parameters) - {"kwargs"}
    return frozenset(params - exclude)


def _value_grad(target: LogDensityTarget) -> Any:
    """PyMC's value-and-gradient function on the target's own graph (``pymc_logp``)."""
    from pymc.model.core import ValueGradFunction

    m = target.pymc_model
    func = ValueGradFunction(
        [target.pymc_logp()], m.continuous_value_vars, {}, model=m,
        initial_point=m.initial_point(), ravel_inputs=True,
    )  # fmt: skip
    # PyMC's leapfrog passes float64 vectors of the right size: skip PyTensor's input checks
    func._pytensor_function.trust_input = True
    return func


def _build_step(target: LogDensityTarget, target_accept: float, max_treedepth: int) -> tuple:
    import pymc as pm
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiagAdapt

    base = target.initial_theta
    # as PyMC's default init ("jitter+adapt_diag"): unit diagonal, weight 10, centred at start
    potential = QuadPotentialDiagAdapt(base.size, base, np.ones(base.size), 10)
    extra = {} if target.pymc_logp is None else {"logp_dlogp_func": _value_grad(target)}
    step = pm.NUTS(
        model=target.pymc_model, target_accept=target_accept, max_treedepth=max_treedepth,
        potential=potential, **extra,
    )  # fmt: skip
    return step, step.sampling_state


class PymcBackend(NutsBackend):
    """PyMC's NUTS (``backend="pymc"``) on the model's sampling graph."""

    name = "pymc"

    def keywords(self) -> frozenset[str]:
        return pm_sample_keywords(PM_SAMPLE_SETS | {"nuts_sampler"}) | self.NUTS_KEYWORDS

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        return self.run_target(model_target(model), settings, self.target_accept(model, settings))

    def run_target(
        self, target: LogDensityTarget, settings: SamplerSettings, target_accept: float
    ) -> Run:
        """NUTS on ``target``; attrs ``max_treedepth`` and ``target_accept``."""
        import pymc as pm

        depth = settings.max_treedepth
        key = ("pymc", float(target_accept), int(depth))
        (step, pristine), compile_seconds = cached(
            target.cache, key, lambda: _build_step(target, target_accept, depth)
        )
        # restart from the state the step had when it was built: what an earlier call adapted
        # (mass matrix, step size) must not leak into this one, so a seed fixes the draws
        step.sampling_state = pristine
        options = dict(settings.options)
        options.setdefault("initvals", target.initvals(settings.chains, settings.random_seed))
        options.setdefault("compute_convergence_checks", False)  # diagnose() does it, with advice
        with Stopwatch() as watch, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*initvals.*")
            idata = pm.sample(
                draws=settings.draws, tune=settings.tune, chains=settings.chains, step=step,
                model=target.pymc_model, random_seed=settings.random_seed,
                progressbar=settings.progressbar, **options,
            )  # fmt: skip
        attrs = {"max_treedepth": int(depth), "target_accept": float(target_accept)}
        return Run(idata, watch.seconds, compile_seconds, attrs)
