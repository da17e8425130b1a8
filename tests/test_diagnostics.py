"""diagnose() on healthy, broken and synthetic fits; compare_models and Pareto k."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pymc as pm
import pytest

from bayesreg import Gaussian, GaussianLikelihood, RegressionModel
from bayesreg.diagnostics import ADVICE, compare_models, diagnose
from bayesreg.sampling import sample_posterior


def _idata(posterior, sample_stats=None, log_likelihood=None):
    return az.from_dict(
        posterior=posterior, sample_stats=sample_stats, log_likelihood=log_likelihood
    )


def _healthy_stats(rng, chains=4, draws=500):
    return {
        "diverging": np.zeros((chains, draws), dtype=bool),
        "energy": rng.normal(size=(chains, draws)),  # i.i.d. energy: E-BFMI about 2
        "tree_depth": np.full((chains, draws), 3),
    }


def test_synthetic_healthy_passes(rng):
    idata = _idata({"a": rng.normal(size=(4, 500))}, _healthy_stats(rng))
    d = diagnose(idata)
    assert d.ok, str(d)
    assert d.problems == []
    assert d.stats["n_divergent"] == 0 and d.stats["treedepth_fraction"] == 0.0


def test_each_check_flags_its_failure(rng):
    chains, draws = 4, 500
    x = rng.normal(size=(chains, draws))
    x[0] += 3.0  # one chain elsewhere: R-hat far above 1.01
    ac = np.cumsum(rng.normal(size=(chains, draws)), axis=1)  # a random walk: tiny ESS
    stats = _healthy_stats(rng, chains, draws)
    stats["diverging"][1, [3, 10]] = True
    # a random walk of energies: consecutive differences tiny vs the spread -> E-BFMI << 0.3
    stats["energy"][2] = np.cumsum(rng.normal(size=draws))
    stats["tree_depth"][3, :5] = 10
    d = diagnose(_idata({"a": x, "b": ac}, stats))
    assert not d.ok
    assert set(d.kinds) >= {"rhat", "ess_bulk", "divergences", "ebfmi", "treedepth"}
    by = {p.kind: p for p in d.problems}
    assert "a" in by["rhat"].variables
    assert by["divergences"].variables == ("chain 1",)
    assert "2 divergent" in by["divergences"].message
    assert by["ebfmi"].variables == ("chain 2",)
    assert by["treedepth"].variables == ("chain 3",)
    assert "target_accept" in by["divergences"].advice and "non-centred" in by["divergences"].advice
    assert "reparametrize" in by["ebfmi"].advice.lower()
    for p in d.problems:
        assert p.advice == ADVICE[p.kind] and len(p.advice) > 40
    # the E-BFMI diagnose reports is ArviZ's
    np.testing.assert_allclose(d.stats["ebfmi"], az.bfmi(_idata({"a": x}, stats)))
    out = d.to_dict()
    json.dumps(out)
    assert out["ok"] is False and len(out["problems"]) == len(d.problems)
    assert "advice:" in str(d)


def test_mcse_is_not_rounded(rng):
    # tiny posterior sd: ArviZ's default rounding would print an MCSE of 0.0
    idata = _idata({"a": 1e-6 * rng.normal(size=(4, 500))})
    d = diagnose(idata)
    mcse = float(d.summary.loc["a", "mcse_mean"])
    assert mcse > 0
    np.testing.assert_allclose(mcse, float(az.mcse(idata)["a"]), rtol=1e-12)


def test_single_chain_and_bad_args(rng):
    d = diagnose(_idata({"a": rng.normal(size=(1, 2000))}))
    assert d.kinds == ["chains"]
    with pytest.raises(ValueError, match="var_names"):
        diagnose(_idata({"a": rng.normal(size=(2, 10))}), var_names=["zz"])
    with pytest.raises(TypeError, match="InferenceData"):
        diagnose(np.zeros(3))


@pytest.mark.slow
def test_healthy_nuts_fit_passes(sparse_regression):
    d = sparse_regression
    m = RegressionModel(d.X, d.y, Gaussian(1.0), GaussianLikelihood(sigma=1.0))
    idata = sample_posterior(
        m, draws=500, tune=500, chains=4, random_seed=1, progressbar=False, cores=1
    )
    diag = diagnose(idata)
    assert diag.ok, str(diag)
    assert set(diag.summary.index) >= {"w[x0]", "intercept"}


@pytest.mark.slow
def test_funnel_with_short_tuning_is_flagged():
    """Neal's funnel in the centred form with 20 tuning steps: a deliberately bad fit."""
    with pm.Model() as funnel:
        v = pm.Normal("v", 0.0, 3.0)
        pm.Normal("x", 0.0, pm.math.exp(v / 2), shape=4)
    with funnel:
        idata = pm.sample(
            draws=300, tune=20, chains=2, cores=1, random_seed=3, progressbar=False,
            compute_convergence_checks=False,
        )  # fmt: skip
    d = diagnose(idata)
    assert not d.ok
    assert "divergences" in d.kinds
    assert {"rhat", "ess_bulk"} & set(d.kinds)
    assert all(p.advice for p in d.problems)


def _ll_idata(ll):
    return _idata({"mu": np.zeros(ll.shape[:2])}, log_likelihood={"y": ll})


def test_compare_models_ranks_and_flags_pareto_k(rng):
    n, chains, draws = 50, 2, 500
    good = -0.5 * rng.normal(1.0, 0.05, size=(chains, draws, n)) ** 2
    worse = good - 0.5
    heavy = good.copy()
    # one observation whose log-likelihood varies wildly across draws: importance ratios with
    # a heavy tail, so PSIS's Pareto k is far above 0.7
    heavy[..., 0] = -np.exp(rng.normal(0.0, 4.0, size=(chains, draws)))
    res = compare_models(
        {"good": _ll_idata(good), "worse": _ll_idata(worse), "heavy": _ll_idata(heavy)}
    )
    assert res.best == "good"
    assert list(res.table.index[:1]) == ["good"]
    assert not res.ok
    [prob] = res.problems
    assert (
        prob.kind == "pareto_k" and "heavy" in prob.message and prob.variables == ("heavy: obs 0",)
    )
    assert res.loo["heavy"].pareto_k.values[0] > 0.7
    json.dumps(res.to_dict())
    assert "PSIS-LOO" in str(res)
    with pytest.raises(ValueError, match="at least 2"):
        compare_models({"good": _ll_idata(good)})
    with pytest.raises(ValueError, match="log_likelihood"):
        compare_models({"a": _ll_idata(good), "b": _idata({"mu": np.zeros((2, 10))})})


@pytest.mark.slow
def test_compare_models_on_real_fits(sparse_regression):
    """A sensible prior beats a prior that pins w at 0 (exact draws: fast and i.i.d.)."""
    d = sparse_regression
    fits = {}
    for name, scale in (("sensible", 1.0), ("pinned", 1e-3)):
        m = RegressionModel(d.X, d.y, Gaussian(scale), GaussianLikelihood(sigma=1.0))
        fits[name] = sample_posterior(m, draws=1000, chains=2, backend="exact", random_seed=0)
    res = compare_models(fits)
    assert res.best == "sensible"
    assert res.table.loc["pinned", "elpd_diff"] > 10
