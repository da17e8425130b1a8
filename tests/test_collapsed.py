"""The collapsed horseshoe sampler: marginal likelihood, its gradient, conditional draws, posterior."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, stats

from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Horseshoe, Laplace, RegularizedHorseshoe
from bayesreg.sampling import _model_cache, sample_posterior
from bayesreg.sampling.collapsed import (
    COLLAPSED_TARGET_ACCEPT,
    CollapsedHorseshoe,
    _MarginalLoglikOp,
    can_collapse,
    conditional_weights,
    marginal_loglik,
)


@pytest.fixture(scope="module")
def tiny():
    """n=7, p=3 raw data (column means far from 0, so centring matters) and hyperparameters."""
    rng = np.random.default_rng(5)
    X = rng.normal(2.0, 1.5, size=(7, 3))
    y = X @ np.array([1.0, 0.0, -0.5]) + 3.0 + rng.normal(size=7)
    s = np.array([0.7, 1e-3, 2.0])
    return X, y, s, 0.9


def _centred_stats(X, y):
    Xc, yc = X - X.mean(0), y - y.mean()
    return Xc.T @ Xc, Xc.T @ yc, float(yc @ yc)


def test_marginal_loglik_matches_brute_force(tiny):
    X, y, s, sigma = tiny
    n = len(y)
    # with an intercept: the n x n Gaussian marginal of w, then the flat-prior intercept
    # integrated by quadrature (uncentred X, no centring identity used)
    cov = sigma**2 * np.eye(n) + X @ np.diag(s**2) @ X.T

    def lik(b):
        return stats.multivariate_normal.pdf(y, b * np.ones(n), cov)

    ref, _ = integrate.quad(lik, -50, 50, points=[3.0], epsabs=0, epsrel=1e-12, limit=200)
    G, g, yty = _centred_stats(X, y)
    value, _, _ = marginal_loglik(s, sigma, G, g, yty, n - 1, -0.5 * np.log(n))
    np.testing.assert_allclose(value, np.log(ref), rtol=0, atol=1e-9)  # quad at 1e-12
    # without an intercept: the n-variate normal itself
    value, _, _ = marginal_loglik(s, sigma, X.T @ X, X.T @ y, float(y @ y), n)
    np.testing.assert_allclose(
        value, stats.multivariate_normal.logpdf(y, np.zeros(n), cov), rtol=0, atol=1e-10
    )


def test_marginal_loglik_gradient_matches_finite_differences(tiny):
    X, y, s, sigma = tiny
    G, g, yty = _centred_stats(X, y)
    n_eff = len(y) - 1
    _, d_s, d_sigma = marginal_loglik(s, sigma, G, g, yty, n_eff)
    h = 1e-6
    for k in range(s.size):
        e = np.zeros(s.size)
        e[k] = h
        fd = (
            marginal_loglik(s + e, sigma, G, g, yty, n_eff)[0]
            - marginal_loglik(s - e, sigma, G, g, yty, n_eff)[0]
        ) / (2 * h)
        # central differences: O(h^2) truncation + O(eps/h) rounding, ~1e-8 here
        np.testing.assert_allclose(d_s[k], fd, rtol=1e-6, atol=1e-7)
    fd = (
        marginal_loglik(s, sigma + h, G, g, yty, n_eff)[0]
        - marginal_loglik(s, sigma - h, G, g, yty, n_eff)[0]
    ) / (2 * h)
    np.testing.assert_allclose(d_sigma, fd, rtol=1e-6)


def test_op_gradient_flows_through_pytensor(tiny):
    X, y, s, sigma = tiny
    G, g, yty = _centred_stats(X, y)
    log_s, log_sigma = pt.dvector("log_s"), pt.dscalar("log_sigma")
    value, _, _ = _MarginalLoglikOp(len(y) - 1, 0.0)(pt.exp(log_s), pt.exp(log_sigma), G, g, yty)
    grads = pt.grad(value, [log_s, log_sigma])
    fn = pytensor.function([log_s, log_sigma], [value, *grads])
    v, g_log_s, g_log_sigma = fn(np.log(s), np.log(sigma))
    ref, d_s, d_sigma = marginal_loglik(s, sigma, G, g, yty, len(y) - 1)
    assert v == pytest.approx(ref, rel=1e-14)
    np.testing.assert_allclose(g_log_s, d_s * s, rtol=1e-12)  # chain rule through exp
    assert g_log_sigma == pytest.approx(d_sigma * sigma, rel=1e-12)


def test_conditional_weights_match_the_gaussian_posterior(tiny):
    X, y, s, sigma = tiny
    G, g, _ = _centred_stats(X, y)
    # closed form: w | y, s, sigma ~ N(P^{-1} g / sigma^2, P^{-1}), P = G / sigma^2 + S^{-2}
    P = G / sigma**2 + np.diag(1 / s**2)
    cov = np.linalg.inv(P)
    mean_w = cov @ g / sigma**2
    k = 8000
    rng = np.random.default_rng(0)
    mean_z, z = conditional_weights(np.tile(s, (k, 1)), np.full(k, sigma), G, g, rng)
    np.testing.assert_allclose(mean_z[0] * s, mean_w, rtol=1e-10, atol=1e-14)
    w = z * s
    se = np.sqrt(np.diag(cov) / k)
    assert np.all(np.abs(w.mean(0) - mean_w) < 4 * se)  # 4 Monte Carlo standard errors
    # sample variances: relative se sqrt(2 / k) = 1.6%; 4 se = 6.3%
    np.testing.assert_allclose(w.var(0), np.diag(cov), rtol=0.065)
    assert np.all(conditional_weights(s[None], np.array([sigma]), G, g)[1] == mean_z[:1])


def test_can_collapse(sparse_regression, sparse_classification):
    X, y = sparse_regression.X, sparse_regression.y
    hs = Horseshoe.from_expected_nonzeros(3, X.shape[1], len(y))
    assert can_collapse(RegressionModel(X, y, hs))
    assert can_collapse(RegressionModel(X, y, RegularizedHorseshoe(0.1), GaussianLikelihood(1.0)))
    assert not can_collapse(RegressionModel(X, y, Laplace(1.0)))
    Xc, yc = sparse_classification.X, sparse_classification.y
    assert not can_collapse(RegressionModel(Xc, yc, Horseshoe(0.1), BernoulliLikelihood()))
    with pytest.raises(ValueError, match="collapsed sampler needs a horseshoe prior"):
        CollapsedHorseshoe(RegressionModel(X, y, Laplace(1.0)))


def test_collapse_argument_is_validated(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    with pytest.raises(TypeError, match="'collapse' parameter of sample_posterior"):
        sample_posterior(RegressionModel(X, y, Horseshoe(0.1)), collapse="yes")
    with pytest.raises(ValueError, match="collapse=True needs a horseshoe prior"):
        sample_posterior(RegressionModel(X, y, Laplace(1.0)), collapse=True)
    with pytest.raises(ValueError, match="collapse=True runs on the 'auto', 'pymc' or 'nutpie'"):
        sample_posterior(RegressionModel(X, y, Horseshoe(0.1)), collapse=True, backend="numpyro")


def _summary(idata):
    return az.summary(idata, var_names=["w", "sigma", "intercept"], round_to="none")


@pytest.mark.slow
def test_collapsed_posterior_matches_the_non_centred_one(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    model = RegressionModel(
        X, y, RegularizedHorseshoe.from_expected_nonzeros(3, X.shape[1], len(y))
    )
    kw = dict(draws=600, tune=600, chains=2, random_seed=3, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = sample_posterior(model, **kw)
        full = sample_posterior(model, collapse=False, **kw)
    assert ours.posterior.attrs["sampling_graph"] == "collapsed"
    assert ours.posterior.attrs["target_accept"] == COLLAPSED_TARGET_ACCEPT
    assert "sampling_graph" not in full.posterior.attrs
    # the same variables as the non-centred model, w on the feature coords
    assert set(ours.posterior.data_vars) == set(full.posterior.data_vars)
    assert list(ours.posterior["w"].feature.values) == list(model.feature_names)
    assert ours.log_likelihood["y_obs"].shape == (2, 600, len(y))
    assert int(ours.sample_stats["diverging"].sum()) == 0
    a, b = _summary(ours), _summary(full)
    assert a["r_hat"].max() <= 1.01
    # two independent NUTS runs on two different graphs of one posterior: means within 4
    # combined Monte Carlo standard errors, sds within 4 combined se of an sd (~ sd/sqrt(2 ESS))
    z = (a["mean"] - b["mean"]) / np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert np.all(np.abs(z) < 4), z
    se_sd = np.hypot(a["sd"] / np.sqrt(2 * a["ess_bulk"]), b["sd"] / np.sqrt(2 * b["ess_bulk"]))
    assert np.all(np.abs(a["sd"] - b["sd"]) < 4 * se_sd)


@pytest.mark.slow
def test_collapsed_pymc_engine_seeds_and_reuse(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    model = RegressionModel(X, y, Horseshoe.from_expected_nonzeros(3, X.shape[1], len(y)))
    kw = dict(draws=150, tune=200, chains=2, random_seed=4, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = sample_posterior(model, backend="pymc", **kw)
        cache = _model_cache(model)
        collapsed = cache["collapsed"]
        fn = collapsed.logp_dlogp_function()
        two = sample_posterior(model, backend="pymc", **kw)
        model.set_prior_scale(model.prior.scale * 10)
        wide = sample_posterior(model, backend="pymc", **kw)
    assert one.posterior.attrs["backend"] == "pymc"
    assert one.posterior.attrs["sampling_graph"] == "collapsed"
    np.testing.assert_array_equal(one.posterior["w"].values, two.posterior["w"].values)
    # no rebuild, no recompile: the same collapsed model and compiled function
    assert cache["collapsed"] is collapsed and collapsed.logp_dlogp_function() is fn
    assert wide.posterior.attrs["prior_scale"] == pytest.approx(model.prior.scale)
    # tau = tau0 * t: the global scale follows the new tau0 upward
    assert float(wide.posterior["w_tau"].median()) > float(one.posterior["w_tau"].median())


def test_known_sigma_without_intercept_layout(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    model = RegressionModel(X, y, Horseshoe(0.1), GaussianLikelihood(1.0), fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sample_posterior(
            model, draws=30, tune=30, chains=1, random_seed=0, progressbar=False
        )
    assert idata.posterior.attrs["sampling_graph"] == "collapsed"
    assert set(idata.posterior.data_vars) == {"w", "w_z", "w_lambda", "w_tau", "w_tau_raw"}
    # w = z * tau * lambda, draw by draw
    post = idata.posterior
    np.testing.assert_allclose(
        post["w"].values, post["w_z"] * post["w_tau"] * post["w_lambda"], rtol=1e-12
    )
    # the pointwise log-likelihood uses the known sigma: recompute one draw by hand
    w = post["w"].values[0, 0]
    ll = stats.norm.logpdf(y, np.asarray(X) @ w, 1.0)
    np.testing.assert_allclose(idata.log_likelihood["y_obs"].values[0, 0], ll, rtol=1e-12)
