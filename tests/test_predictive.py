"""Posterior predictive draws (issue 11 item 2): PyMC's and ours agree with the draws."""

from __future__ import annotations

import numpy as np
import pytest

from bayesreg import (
    BernoulliLikelihood,
    Gaussian,
    GaussianLikelihood,
    Laplace,
    RegressionModel,
    posterior_predictive,
    sample_posterior,
)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -0.5, 0.0]) + 2.0 + 0.7 * rng.normal(size=40)
    model = RegressionModel(X, y, Laplace(0.5))  # sigma estimated: w depends on pm.Data
    idata = sample_posterior(model, draws=500, tune=300, chains=2, random_seed=4)
    post = idata.posterior
    w = post["w"].values.reshape(-1, 3)
    eta = w @ X.T + post["intercept"].values.reshape(-1, 1)
    sigma = post["sigma"].values.reshape(-1, 1)
    return model, idata, eta, sigma


def test_pymc_posterior_predictive_uses_the_draws(fitted, caplog):
    import logging

    import pymc as pm

    model, idata, eta, sigma = fitted
    assert "constant_data" in idata.groups()
    with caplog.at_level(logging.INFO, logger="pymc"), model.pymc_model:
        pp = pm.sample_posterior_predictive(idata, random_seed=5, progressbar=False)
    # PyMC logs which variables it draws: only the observations, not w (redrawn from its prior
    # before constant_data was recorded)
    assert "Sampling: [y_obs]" in caplog.text
    y = pp.posterior_predictive["y_obs"].values.reshape(-1, model.n)
    # each observation's predictive mean: Monte Carlo sd ~ sqrt(var(eta) + E sigma^2) / sqrt(N)
    mc = np.sqrt(eta.var(0) + (sigma**2).mean()) / np.sqrt(y.shape[0])
    np.testing.assert_array_less(np.abs(y.mean(0) - eta.mean(0)), 5 * mc)
    # redrawn weights (the bug) would give predictive means spread like the prior's, not the fit's
    assert y.mean(0).std() == pytest.approx(eta.mean(0).std(), rel=0.05)


def test_ours_matches_the_draws_and_takes_new_rows(fitted):
    model, idata, eta, sigma = fitted
    pp = posterior_predictive(model, idata, random_seed=6).posterior_predictive
    np.testing.assert_allclose(pp["mu"].values.reshape(-1, model.n), eta, rtol=1e-12)
    y = pp["y_obs"].values.reshape(-1, model.n)
    resid_sd = (y - eta).std(0)  # y - eta ~ N(0, sigma^2) mixed over draws
    np.testing.assert_allclose(resid_sd, np.sqrt((sigma**2).mean()), rtol=0.1)  # 1000 draws
    new = np.zeros((5, 3))
    out = posterior_predictive(model, idata, X=new, random_seed=6).posterior_predictive
    assert out["y_obs"].shape == (2, 500, 5)
    np.testing.assert_allclose(out["mu"].values[..., 0], idata.posterior["intercept"].values)
    with pytest.raises(ValueError, match="X has 2 features, but the model was fitted with 3"):
        posterior_predictive(model, idata, X=np.zeros((4, 2)))


def test_bernoulli_draws_are_labels_with_the_right_mean():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(float)
    model = RegressionModel(X, y, Gaussian(1.0), BernoulliLikelihood())
    idata = sample_posterior(model, draws=300, tune=300, chains=2, random_seed=9)
    pp = posterior_predictive(model, idata, random_seed=1).posterior_predictive
    labels, mu = pp["y_obs"].values, pp["mu"].values
    assert set(np.unique(labels)) <= {0, 1}
    # 600 Bernoulli draws per row: mean within 5 binomial sd of E[mu]
    sd = np.sqrt(mu.mean((0, 1)) * (1 - mu.mean((0, 1))) / 600)
    np.testing.assert_array_less(np.abs(labels.mean((0, 1)) - mu.mean((0, 1))), 5 * sd + 1e-9)


def test_known_sigma_is_in_constant_data():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 2))
    model = RegressionModel(
        X, X[:, 0] + rng.normal(size=20), Gaussian(1.0), GaussianLikelihood(1.0)
    )
    idata = sample_posterior(model, draws=50, chains=1, backend="exact", random_seed=0)
    cd = idata.constant_data
    assert float(cd["noise_sigma"]) == 1.0 and float(cd["prior_scale"]) == 1.0
    np.testing.assert_array_equal(cd["X"].values, model.X)


def test_prior_predictive_draws_the_prior_with_the_intercept_fixed():
    from bayesreg import prior_predictive

    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] + 5.0 + rng.normal(size=30)
    model = RegressionModel(X, y, Gaussian(2.0), GaussianLikelihood(sigma=0.5))
    idata = prior_predictive(model, draws=4000, random_seed=1)
    w = idata.prior["w"].values.reshape(-1, 2)
    # w ~ N(0, 2^2): the sd of a sd estimate from 4000 draws is ~1.1%; 5%
    np.testing.assert_allclose(w.std(0), 2.0, rtol=0.05)
    yp = idata.prior_predictive["y_obs"].values.reshape(-1, 30)
    expected = y.mean() + X @ np.zeros(2)  # E[y | intercept = mean(y)] = mean(y) (w has mean 0)
    sd = np.sqrt((X**2) @ np.full(2, 4.0) + 0.25)  # Var[x'w + noise] = sum_j x_j^2 4 + sigma^2
    np.testing.assert_array_less(np.abs(yp.mean(0) - expected), 5 * sd / np.sqrt(4000))
    assert "improper" in idata.prior.attrs["intercept"]
