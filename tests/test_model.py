"""The compiled PyMC graph equals the numpy math, for every prior x likelihood pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bayesreg import (
    BernoulliLikelihood,
    ElasticNet,
    Gaussian,
    GaussianLikelihood,
    Laplace,
    RegressionModel,
)

PRIORS = [
    Gaussian(0.9),
    Laplace(0.5),
    ElasticNet(0.7, 0.4),
    Gaussian(0.5, scale_by_sigma=True),
    Laplace(0.3, scale_by_sigma=True),
]
LIKELIHOODS = [GaussianLikelihood(sigma=1.3), GaussianLikelihood(), BernoulliLikelihood()]


def _data(rng, bernoulli):
    X = rng.normal(size=(25, 3))
    eta = X @ np.array([1.0, 0.0, -0.5]) + 0.2
    y = (
        (rng.uniform(size=25) < 1 / (1 + np.exp(-eta))).astype(float)
        if bernoulli
        else eta + rng.normal(size=25)
    )
    return X, y


def _numpy_logp(model, theta, jacobian):
    """Independent log posterior from the numpy priors/likelihoods and scipy."""
    par = model.params_from_theta(theta)
    w, b, sigma = par["w"], par["intercept"], par["sigma"]
    eta = model.X @ w + b
    total = model.likelihood.logpdf(eta, model.y, sigma) + model.prior.logpdf(w, sigma)
    if model.likelihood.estimates_sigma:
        total += stats.halfnorm.logpdf(
            sigma, scale=model.likelihood.resolved_sigma_prior_scale(model.y)
        )
        if jacobian:
            total += np.log(sigma)  # d sigma / d log sigma
    return total  # the flat intercept prior contributes 0


# scale_by_sigma needs a Gaussian likelihood (tested to raise in test_validation.py)
PAIRS = [
    (prior, lik)
    for prior in PRIORS
    for lik in LIKELIHOODS
    if not (prior.scale_by_sigma and lik.name == "bernoulli")
]


@pytest.mark.parametrize(("prior", "lik"), PAIRS, ids=repr)
def test_compiled_logp_equals_numpy_math(prior, lik, rng):
    X, y = _data(rng, lik.name == "bernoulli")
    model = RegressionModel(X, y, prior, lik)
    for _ in range(3):
        theta = model.initial_point() + rng.normal(scale=0.5, size=model.layout.size)
        for jacobian in (False, True):
            got, grad = model.logp_dlogp_function(jacobian=jacobian)(theta)
            # both sides are exact formulas; PyTensor's erfcx (elastic net) is good to ~1e-9
            np.testing.assert_allclose(got, _numpy_logp(model, theta, jacobian), rtol=1e-8)
        # the gradient (jacobian=True) of the same compiled graph vs central finite differences of the numpy math
        h = 1e-6
        fd = [
            (_numpy_logp(model, theta + h * e, True) - _numpy_logp(model, theta - h * e, True))
            / (2 * h)
            for e in np.eye(theta.size)
        ]
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_terms_split_the_log_posterior(rng):
    X, y = _data(rng, False)
    model = RegressionModel(X, y, Laplace(0.5), GaussianLikelihood())
    theta = model.initial_point() + 0.3
    par = model.params_from_theta(theta)
    data = model.logp_function(terms=("data",))(theta)
    prior = model.logp_function(terms=("prior",))(theta)
    other = model.logp_function(terms=("other",), jacobian=False)(theta)
    eta = model.linear_predictor(par["w"], par["intercept"])
    np.testing.assert_allclose(data, stats.norm.logpdf(y, eta, par["sigma"]).sum(), rtol=1e-12)
    np.testing.assert_allclose(prior, stats.laplace.logpdf(par["w"], 0, 0.5).sum(), rtol=1e-12)
    np.testing.assert_allclose(
        other, stats.halfnorm.logpdf(par["sigma"], scale=2.5 * np.std(y)), rtol=1e-12
    )
    total = model.logp_function(jacobian=False)(theta)
    np.testing.assert_allclose(total, data + prior + other, rtol=1e-12)
    with pytest.raises(ValueError, match=r"not supported logp terms\. Must be among"):
        model.logp_function(terms=("penalty",))


def test_set_prior_scale_reuses_the_compiled_function(rng):
    X, y = _data(rng, False)
    model = RegressionModel(X, y, Gaussian(1.0), GaussianLikelihood(sigma=1.0))
    f = model.logp_dlogp_function()
    compiled = f.compiled
    n_cached = len(model._functions)
    theta = model.initial_point() + 0.4
    before = f(theta)[0]
    model.set_prior_scale(0.25)
    after, _ = f(theta)  # the same Python object, the same compiled PyTensor function
    assert model.logp_dlogp_function() is f and f.compiled is compiled
    assert len(model._functions) == n_cached
    assert model.prior_scale == 0.25 and model.pymc_model["prior_scale"].get_value() == 0.25
    w = model.params_from_theta(theta)["w"]
    expected_change = stats.norm.logpdf(w, 0, 0.25).sum() - stats.norm.logpdf(w, 0, 1.0).sum()
    np.testing.assert_allclose(after - before, expected_change, rtol=1e-10)
    with pytest.raises(ValueError, match=r"'prior_scale' parameter .* Got -2"):
        model.set_prior_scale(-2)


def test_pymc_model_structure_and_feature_names(rng):
    X = pd.DataFrame(rng.normal(size=(30, 3)), columns=["age", "bmi", "bp"])
    y = rng.normal(size=30)
    model = RegressionModel(X, y, Laplace(1.0))
    m = model.pymc_model
    assert list(m.coords["feature"]) == ["age", "bmi", "bp"]
    assert model.feature_names == ["age", "bmi", "bp"]
    assert {"X", "y", "prior_scale"} <= set(m.named_vars)
    assert {rv.name for rv in m.free_RVs} == {"w", "intercept", "sigma"}
    assert m.named_vars_to_dims["w"] == ("feature",)
    no_intercept = RegressionModel(
        X, y, Gaussian(1.0), GaussianLikelihood(sigma=2.0), fit_intercept=False
    )
    assert {rv.name for rv in no_intercept.pymc_model.free_RVs} == {"w"}
    assert "noise_sigma" in no_intercept.pymc_model.named_vars
    named = RegressionModel(X.to_numpy(), y, Gaussian(1.0), feature_names=["a", "b", "c"])
    assert list(named.pymc_model.coords["feature"]) == ["a", "b", "c"]


def test_params_round_trip(rng):
    X, y = _data(rng, False)
    model = RegressionModel(X, y, Gaussian(1.0))
    theta = model.theta_from_params(np.array([1.0, 2.0, 3.0]), 0.5, sigma=2.0)
    par = model.params_from_theta(theta)
    np.testing.assert_allclose(par["w"], [1.0, 2.0, 3.0])
    assert par["intercept"] == 0.5 and par["sigma"] == pytest.approx(2.0)


def test_with_prior_scale_shares_compiled_functions_and_leaves_the_model_alone(rng):
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=30)
    model = RegressionModel(X, y, Gaussian(1.0), GaussianLikelihood(sigma=1.0))
    theta = model.initial_point() + 0.3
    f = model.logp_dlogp_function()
    other = model.with_prior_scale(0.1)
    g = other.logp_dlogp_function()
    assert g.compiled is f.compiled  # one compilation for both scales
    assert model.prior.scale == 1.0 and other.prior.scale == 0.1
    # alternate calls: each runs at its own scale (no stale shared value)
    for _ in range(2):
        lp_f, lp_g = f(theta)[0], g(theta)[0]
        w = theta[model.layout.slices["w"]]
        # the prior term differs by -||w||^2/2 (1/0.1^2 - 1) - p log(0.1)
        expected = -0.5 * np.sum(w**2) * (1 / 0.1**2 - 1.0) - 3 * np.log(0.1)
        np.testing.assert_allclose(lp_g - lp_f, expected, rtol=1e-12)


def test_model_pickles_and_rebuilds_its_functions(rng):
    import pickle

    X = rng.normal(size=(20, 2))
    y = X[:, 0] + rng.normal(size=20)
    model = RegressionModel(X, y, Laplace(0.7))
    theta = model.initial_point() + 0.2
    before = model.logp_dlogp_function()(theta)
    clone = pickle.loads(pickle.dumps(model))
    after = clone.logp_dlogp_function()(theta)
    assert after[0] == pytest.approx(before[0], rel=1e-14)
    np.testing.assert_allclose(after[1], before[1], rtol=1e-14)
    assert clone.prior == model.prior and clone.feature_names == model.feature_names
