"""Horseshoe priors: exact densities by quadrature, the model they build, no MAP, sampling."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
from scipy import integrate, stats

from bayesreg.model import RegressionModel
from bayesreg.priors import (
    Horseshoe,
    MapUndefinedError,
    RegularizedHorseshoe,
    horseshoe_conditional_logpdf,
)


@pytest.mark.parametrize("w", [0.01, 0.5, 3.0, 40.0, 1e3])
@pytest.mark.parametrize("tau", [0.05, 0.7])
def test_conditional_density_matches_quadrature(w, tau):
    # p(w | tau) = int N(w | 0, lambda^2 tau^2) C+(lambda | 0, 1) dlambda, written in
    # s = log lambda with a break point at the peak s = log(|w| / tau); quad reaches ~1e-12
    def integrand(s):
        lam = np.exp(s)
        return stats.norm.pdf(w, 0, lam * tau) * stats.halfcauchy.pdf(lam) * lam

    peak = np.log(w / tau)
    ref, _ = integrate.quad(
        integrand, -60, 60, points=[peak - 1, peak, peak + 1], limit=500, epsabs=0, epsrel=1e-12
    )
    np.testing.assert_allclose(np.exp(horseshoe_conditional_logpdf(w, tau)), ref, rtol=1e-9)


def test_horseshoe_marginal_matches_quadrature_and_is_normalized():
    prior = Horseshoe(0.3)
    w = np.array([0.2, -1.5])

    def integrand(t):
        return np.exp(horseshoe_conditional_logpdf(w, 0.3 * t).sum()) * stats.halfcauchy.pdf(t)

    ref, _ = integrate.quad(integrand, 0, np.inf, limit=500, epsabs=0, epsrel=1e-12)
    np.testing.assert_allclose(prior.logpdf(w), np.log(ref), rtol=0, atol=1e-10)
    total, _ = integrate.quad(
        lambda x: np.exp(prior.logpdf(np.array([x]))), -np.inf, np.inf, limit=500
    )
    assert abs(total - 1.0) < 1e-8
    assert prior.logpdf(np.array([0.0, 1.0])) == np.inf  # the pole at 0


def test_scale_by_sigma_scales_tau0():
    w = np.array([0.4, -2.0])
    np.testing.assert_allclose(
        Horseshoe(0.2, scale_by_sigma=True).logpdf(w, sigma=3.0),
        Horseshoe(0.6).logpdf(w),
        rtol=1e-12,
    )


def test_regularized_horseshoe_density():
    w1 = np.array([0.8])
    prior = RegularizedHorseshoe(0.3, slab_scale=1.0, slab_df=2.0)
    # Monte Carlo reference: p(w) = E[N(w | 0, v)] over the hyperpriors; N(w|0, v) <= 1/(|w|
    # sqrt(2 pi e)) is bounded, so the estimate has a finite variance
    rng = np.random.default_rng(0)
    m = 1_000_000
    tau = 0.3 * np.abs(rng.standard_cauchy(m))
    lam = np.abs(rng.standard_cauchy(m))
    c2 = stats.invgamma.rvs(1.0, scale=1.0, size=m, random_state=rng)
    dens = stats.norm.pdf(w1[0], 0, np.sqrt(1 / (1 / (tau * lam) ** 2 + 1 / c2)))
    se = dens.std() / dens.mean() / np.sqrt(m)
    assert abs(prior.logpdf(w1) - np.log(dens.mean())) < 4 * se
    # an infinitely wide slab is the plain horseshoe (a 1e4 slab moves the density by ~2e-7)
    w = np.array([0.2, -1.5])
    np.testing.assert_allclose(
        RegularizedHorseshoe(0.3, slab_scale=1e4).logpdf(w), Horseshoe(0.3).logpdf(w), atol=1e-5
    )


def test_global_scale_from_expected_nonzeros():
    # Piironen & Vehtari eq. 3.12: tau0 = p0 / (p - p0) * sigma / sqrt(n)
    np.testing.assert_allclose(
        Horseshoe.global_scale(10, 100, 1000, sigma=2.0), 10 / 90 * 2 / np.sqrt(1000)
    )
    prior = RegularizedHorseshoe.from_expected_nonzeros(10, 100, 1000)
    assert prior.scale_by_sigma and prior.effective_scale(2.0) == pytest.approx(
        10 / 90 * 2 / np.sqrt(1000)
    )
    logit = Horseshoe.from_expected_nonzeros(3, 30, 400, pseudo_sigma=2.0)
    assert not logit.scale_by_sigma and logit.scale == pytest.approx(3 / 27 * 2 / 20)
    with pytest.raises(ValueError, match="'n_nonzero' parameter must be"):
        Horseshoe.global_scale(100, 100, 10)
    with pytest.raises(ValueError, match="'slab_scale' parameter of RegularizedHorseshoe"):
        RegularizedHorseshoe(1.0, slab_scale=-2.0)


def test_no_map_operations_raise():
    prior = RegularizedHorseshoe(0.1)
    for call in (lambda: prior.prox(np.ones(3), 0.1), lambda: prior.penalty_grad(np.ones(3))):
        with pytest.raises(MapUndefinedError, match="unbounded at w = 0"):
            call()
    assert not Horseshoe.has_map and not RegularizedHorseshoe.has_map


@pytest.mark.parametrize("cls", [Horseshoe, RegularizedHorseshoe])
def test_model_builds_non_centred_with_deterministic_w(sparse_regression, cls):
    X, y = sparse_regression.X, sparse_regression.y
    model = RegressionModel(X, y, cls.from_expected_nonzeros(3, X.shape[1], len(y)))
    m = model.pymc_model
    assert "w" in {d.name for d in m.deterministics}
    free = {rv.name for rv in m.free_RVs}
    assert {"w_z", "w_lambda", "w_tau_raw", "sigma", "intercept"} <= free
    assert "w_tau" in {d.name for d in m.deterministics}
    assert ("w_c2_aux" in free) == (cls is RegularizedHorseshoe)
    # the auxiliary variables are the prior's term of the log posterior
    assert {rv.name for rv in model._term_rvs["prior"]} == free - {"sigma", "intercept"}
    # logp at the initial point is finite, and set_prior_scale changes it without a rebuild
    f = model.logp_function()
    theta = model.initial_point() + 0.3  # z != 0, so w depends on the global scale
    before = f(theta)
    model.set_prior_scale(0.5)
    assert np.isfinite(before) and f(theta) != before


@pytest.mark.slow
def test_regularized_horseshoe_samples_without_divergences():
    """Issue 6's problem at the package's default settings: 0 divergences, R-hat, ESS."""
    from bayesreg.datasets import make_sparse_regression
    from bayesreg.sampling import sample_posterior
    from bayesreg.sampling.collapsed import COLLAPSED_TARGET_ACCEPT

    data = make_sparse_regression(n_samples=1000, n_features=100, n_nonzero=10, random_state=2024)
    X, y = data.X, data.y
    model = RegressionModel(X, y, RegularizedHorseshoe.from_expected_nonzeros(10, 100, 1000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # default settings (2 chains of 500 to keep CI short; benchmarks/bench_horseshoe.py runs
        # 4 x 1000): the collapsed graph (w integrated out) at COLLAPSED_TARGET_ACCEPT
        idata = sample_posterior(
            model, draws=500, tune=500, chains=2, random_seed=11, progressbar=False
        )
    assert idata.posterior.attrs["sampling_graph"] == "collapsed"
    assert idata.posterior.attrs["target_accept"] == COLLAPSED_TARGET_ACCEPT
    assert int(idata.sample_stats["diverging"].sum()) == 0
    w_all = idata.posterior["w"]
    assert float(az.rhat(w_all)["w"].max()) <= 1.01
    assert float(az.ess(w_all, method="bulk")["w"].min()) >= 400
    w = idata.posterior["w"].mean(("chain", "draw")).values
    truth = data.coef
    # the ten real effects are recovered (noise sd 1, n=1000: posterior sd ~0.03); the 90
    # nulls are shrunk to near 0
    big = np.abs(truth) > 0
    np.testing.assert_allclose(w[big], truth[big], atol=0.15)
    assert np.all(np.abs(w[~big]) < 0.05)


@pytest.mark.parametrize("backend", ["auto", "pymc"])
def test_prior_declares_the_default_target_accept(sparse_regression, backend):
    from bayesreg.priors import Gaussian
    from bayesreg.sampling import sample_posterior
    from bayesreg.sampling.collapsed import COLLAPSED_TARGET_ACCEPT

    X, y = sparse_regression.X, sparse_regression.y
    assert Horseshoe.default_target_accept == RegularizedHorseshoe.default_target_accept == 0.995
    assert getattr(Gaussian(1.0), "default_target_accept", None) is None
    model = RegressionModel(
        X, y, RegularizedHorseshoe.from_expected_nonzeros(3, X.shape[1], len(y))
    )
    kw = dict(draws=5, tune=5, chains=1, random_seed=0, progressbar=False, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collapsed = sample_posterior(model, **kw)
        default = sample_posterior(model, collapse=False, **kw)
        chosen = sample_posterior(model, collapse=False, target_accept=0.85, **kw)
        gauss = sample_posterior(RegressionModel(X, y, Gaussian(1.0)), **kw)
    # the prior's default is for its non-centred graph; the collapsed graph has its own
    assert collapsed.posterior.attrs["target_accept"] == COLLAPSED_TARGET_ACCEPT
    assert default.posterior.attrs["target_accept"] == 0.995
    assert chosen.posterior.attrs["target_accept"] == 0.85  # the caller's choice wins
    assert gauss.posterior.attrs["target_accept"] == 0.8  # priors without a default: 0.8
