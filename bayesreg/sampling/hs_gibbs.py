"""The horseshoe Gibbs backend (``backend="gibbs"`` for a horseshoe-family prior, and
``backend="auto"`` where NUTS is slow: p >> n).

The sweeps are :func:`bayesreg.horseshoe_gibbs.sample_horseshoe_gibbs` (exact blocked Gibbs:
Bhattacharya et al. weight draws in O(n^2 p), the global scale and sigma with w integrated
out, single-site local scales, Polya-Gamma for a Bernoulli likelihood); this adapter runs them
and hands their draws to the common assembly (``w``, ``intercept``, ``sigma`` and the
horseshoe's own ``w_lambda``, ``w_tau``, ... under the NUTS samplers' names; ``sample_stats.lp``).
``tune`` is the number of warm-up sweeps (the global step's slice directions adapt during them
only). Keywords: ``cores`` (worker processes), ``local_update`` ("collapsed" or "slice") and
``local_passes`` (single-site passes per sweep, default 5).

When ``"auto"`` chooses it (:func:`auto_uses_horseshoe_gibbs`): a Gaussian likelihood with
p > ``MAX_FEATURES`` (beyond the collapsed NUTS graph, whose gradient costs O(p^3)), or a
Bernoulli likelihood with p > n. Measured on n = 200, p = 2000 (20 non-zeros, 4 chains of
1000 + 1000, ``benchmarks/bench_horseshoe_pn.py``): 44 s for the sweeps on a 2-core machine
at load ~2 (bulk ESS 290-420 for tau and sigma, 590-710 for w) against 630-780 s for *one* chain of the non-centred NUTS with 11-20 divergences.
"""

from __future__ import annotations

from bayesreg.horseshoe_gibbs import gibbs_unsupported_reason, sample_horseshoe_gibbs
from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import Backend, has_package, require_package
from bayesreg.sampling.defaults import MAX_FEATURES
from bayesreg.sampling.idata import Run
from bayesreg.sampling.settings import SamplerSettings

__all__ = ["HorseshoeGibbsBackend", "auto_uses_horseshoe_gibbs", "horseshoe_gibbs_problem"]


def horseshoe_gibbs_problem(model: RegressionModel) -> str | None:
    """Why the horseshoe Gibbs sweeps cannot sample ``model`` (a full sentence), or None."""
    reason = gibbs_unsupported_reason(model)
    return None if reason is None else reason + "."


def auto_uses_horseshoe_gibbs(model: RegressionModel, settings: SamplerSettings) -> bool:
    """Whether ``backend="auto"`` runs the horseshoe Gibbs sweeps for this model and settings.

    Only where NUTS is the slow choice (p > MAX_FEATURES with a Gaussian likelihood, p > n
    with a Bernoulli one), never when the caller asked for the non-centred (``collapse=False``)
    or collapsed (``collapse=True``) graph or passed a NUTS keyword such as ``target_accept``.
    """
    if settings.collapse is not None or horseshoe_gibbs_problem(model) is not None:
        return False
    if not settings.given <= HorseshoeGibbsBackend().keywords():
        return False
    if model.likelihood.quadratic:
        return model.p > MAX_FEATURES
    return model.p > model.n and has_package("polyagamma")


class HorseshoeGibbsBackend(Backend):
    """``draws`` exact blocked Gibbs sweeps per chain after ``tune`` warm-up sweeps."""

    name = "gibbs"

    def keywords(self) -> frozenset[str]:
        return frozenset({"cores", "local_update", "local_passes"})

    def problem(self, model: RegressionModel) -> str | None:
        return horseshoe_gibbs_problem(model)

    def check(self, model: RegressionModel, settings: SamplerSettings) -> None:
        super().check(model, settings)
        if not model.likelihood.quadratic:  # Polya-Gamma draws for the logistic model
            require_package("polyagamma", self.name)

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        idata = sample_horseshoe_gibbs(
            model, draws=settings.draws, tune=settings.tune, chains=settings.chains,
            random_seed=settings.random_seed, progressbar=settings.progressbar,
            cores=settings.options.get("cores"),
            local_update=settings.options.get("local_update", "collapsed"),
            local_passes=settings.options.get("local_passes", 5),
        )  # fmt: skip
        attrs = {
            "sampler": "horseshoe_gibbs",
            "global_accept": float(idata.attrs["global_accept"]),
        }
        return Run(idata, float(idata.attrs["sampling_time"]), attrs=attrs)
