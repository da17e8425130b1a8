"""NumPyro's NUTS through PyMC's JAX bridge (``backend="numpyro"``).

PyMC freezes shared data into the JAX graph, so this backend re-traces (recompiles) at every
call; the model is synced first, so the graph holds its current prior scale.
"""

from __future__ import annotations

from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import NutsBackend
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.pymc_nuts import PM_SAMPLE_SETS, pm_sample_keywords
from bayesreg.sampling.settings import SamplerSettings

__all__ = ["NumpyroBackend"]


class NumpyroBackend(NutsBackend):
    name = "numpyro"
    packages = ("numpyro", "jax")

    def keywords(self) -> frozenset[str]:
        return (
            pm_sample_keywords(
                PM_SAMPLE_SETS | {"nuts_sampler", "idata_kwargs", "compute_convergence_checks"}
            )
            | self.NUTS_KEYWORDS
        )

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        import pymc as pm

        target_accept = self.target_accept(model, settings)
        options = dict(settings.options)
        jax_kwargs = dict(options.pop("nuts_sampler_kwargs", None) or {})
        # one CPU device: "vectorized" runs the chains in one vmapped XLA program
        jax_kwargs.setdefault("chain_method", "vectorized")
        nuts = dict(jax_kwargs.get("nuts_kwargs", {}))
        nuts.setdefault("max_tree_depth", int(settings.max_treedepth))
        jax_kwargs["nuts_kwargs"] = nuts
        with Stopwatch() as watch:
            idata = pm.sample(
                draws=settings.draws, tune=settings.tune, chains=settings.chains,
                model=model.pymc_model, random_seed=settings.random_seed,
                progressbar=settings.progressbar, nuts_sampler="numpyro",
                target_accept=target_accept, nuts_sampler_kwargs=jax_kwargs,
                idata_kwargs={"log_likelihood": False}, compute_convergence_checks=False,
                **options,
            )  # fmt: skip
        # JAX tracing and XLA compilation happen inside pm.sample: reported as sampling time
        attrs = {"max_treedepth": int(settings.max_treedepth), "target_accept": target_accept}
        return Run(idata, watch.seconds, float("nan"), attrs)
