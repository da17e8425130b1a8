"""Posterior paths (bayesreg.paths): the posterior along a grid of prior scales, beside the MAP."""

from __future__ import annotations

import json
from unittest import mock

import numpy as np
import pymc as pm
import pytest
from sklearn.linear_model import Ridge

from bayesreg import Gaussian, GaussianLikelihood, RegressionModel
from bayesreg.paths import PosteriorPath, posterior_path
from bayesreg.sampling import conjugate_posterior, sample_posterior

SIGMA = 1.0  # the sparse_regression fixture's noise sd


@pytest.fixture(scope="module")
def known_sigma_model(sparse_regression):
    return RegressionModel(
        sparse_regression.X, sparse_regression.y, Gaussian(0.5), GaussianLikelihood(sigma=SIGMA)
    )


def test_exact_posterior_path_restores_scale(known_sigma_model):
    m = known_sigma_model
    scales = np.array([0.05, 0.5, 5.0])
    path = posterior_path(
        m, scales, draws=2000, chains=2, backend="exact", random_seed=0, progressbar=False
    )
    assert m.prior.scale == 0.5
    assert float(m.pymc_model["prior_scale"].get_value()) == 0.5
    assert path.median.shape == (3, m.p) and path.map_coef.shape == (3, m.p)
    for i, s in enumerate(scales):
        ridge = Ridge(alpha=SIGMA**2 / s**2, solver="cholesky").fit(m.X, m.y)
        # MAP == posterior mean == ridge for a Gaussian posterior (the MAP solver's KKT tol)
        np.testing.assert_allclose(path.map_coef[i], ridge.coef_, rtol=1e-6, atol=1e-8)
        sd = np.sqrt(np.diag(conjugate_posterior(m).cov()))  # at the restored scale: only a bound
        assert np.all(path.lower[i] < path.median[i]) and np.all(path.median[i] < path.upper[i])
        assert sd.shape == (m.p + 1,)
    # larger prior scale = less shrinkage: |coef| grows along the path
    assert np.all(np.abs(path.median[0]) < np.abs(path.median[2]) + 0.05)
    df = path.to_dataframe()
    assert len(df) == 3 * m.p and set(df.columns) >= {
        "scale",
        "feature",
        "median",
        "lower",
        "upper",
        "map",
    }
    json.dumps(path.to_dict())


def test_posterior_path_from_convention(known_sigma_model):
    m = known_sigma_model
    alphas = np.array([100.0, 1.0])
    path = posterior_path(
        m, alphas, convention="sklearn_ridge", draws=500, chains=1, backend="exact",
        random_seed=0, progressbar=False,
    )  # fmt: skip
    # Ridge alpha = sigma^2 / tau^2
    np.testing.assert_allclose(path.scales, SIGMA / np.sqrt(alphas), rtol=1e-12)
    np.testing.assert_allclose(path.strengths, alphas)


@pytest.mark.slow
def test_posterior_path_pymc_one_compile(known_sigma_model):
    m = known_sigma_model
    kw = dict(random_seed=1, progressbar=False, cores=1, backend="pymc")
    sample_posterior(m, draws=50, tune=50, chains=1, **kw)
    with mock.patch.object(
        pm.Model, "logp_dlogp_function", side_effect=AssertionError("recompiled")
    ):
        path = posterior_path(m, [0.2, 2.0], draws=300, tune=300, chains=2, **kw)
    assert np.all(path.max_rhat < 1.05)
    assert np.all(path.seconds > 0)
    assert m.prior.scale == 0.5


def test_posterior_path_never_changes_the_callers_model(known_sigma_model):
    """Each scale runs on a with_prior_scale copy: the caller's model is never set to another
    scale, and each row equals sample_posterior on that copy with the same seed."""
    m = known_sigma_model
    scales = [0.1, 2.0]
    kw = dict(draws=400, chains=2, backend="exact", random_seed=3)
    with mock.patch.object(
        RegressionModel, "set_prior_scale", side_effect=AssertionError("mutated the model")
    ):
        path = posterior_path(m, scales, progressbar=False, include_map=False, **kw)
    assert m.prior.scale == 0.5
    assert isinstance(path, PosteriorPath)
    for i, s in enumerate(scales):
        idata = sample_posterior(m.with_prior_scale(s), **kw)
        w = idata.posterior["w"].values
        np.testing.assert_array_equal(path.median[i], np.median(w, axis=(0, 1)))
    # include_map=False leaves the MAP rows undefined, not zero
    assert np.all(np.isnan(path.map_coef))
    # a frozen result with the one timing name
    with pytest.raises(AttributeError):
        path.seconds = np.zeros(2)
    assert set(path.to_dict()) >= {"scales", "median", "map_coef", "seconds"}


def test_posterior_path_seed_generator_is_used_once(known_sigma_model):
    """A Generator becomes one integer seed, used at every scale (as an int seed would be)."""
    m = known_sigma_model
    kw = dict(draws=200, chains=1, backend="exact", progressbar=False, include_map=False)
    seed = int(np.random.default_rng(9).integers(2**32))
    from_gen = posterior_path(m, [0.3, 0.3], random_seed=np.random.default_rng(9), **kw)
    from_int = posterior_path(m, [0.3, 0.3], random_seed=seed, **kw)
    np.testing.assert_array_equal(from_gen.median, from_int.median)
    np.testing.assert_array_equal(from_gen.median[0], from_gen.median[1])


def test_posterior_path_arguments_are_keyword_only(known_sigma_model):
    with pytest.raises(TypeError):
        posterior_path(known_sigma_model, [0.5], 100)  # draws passed by position
