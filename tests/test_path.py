"""MAP regularization paths (map_path) vs scikit-learn's paths and per-point solves (tier 2)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.linear_model import Lasso, enet_path, lasso_path

from bayesreg.conventions import penalty_to_prior, prior_to_penalty
from bayesreg.likelihoods import GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Gaussian, Laplace
from bayesreg.solvers import (
    ConvergenceWarning,
    MapPath,
    map_estimate,
    map_path,
    ridge_closed_form,
)

SIGMA = 54.0


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def _alpha_max(X, y):
    return float(np.max(np.abs((X - X.mean(0)).T @ (y - y.mean())))) / len(y)


def test_lasso_path_matches_sklearn_on_diabetes(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    alphas = _alpha_max(X, y) * np.geomspace(0.9, 1e-3, 20)
    model = RegressionModel(X, y, Laplace(100.0), GaussianLikelihood(SIGMA))
    map_estimate(model)
    compiled = dict(model._functions)
    # scales in a scrambled order: results must come back in the caller's order
    perm = np.random.default_rng(0).permutation(alphas.size)
    scales = SIGMA**2 / (n * alphas[perm])
    path = map_path(model, scales)
    assert isinstance(path, MapPath) and path.method == "fista"
    assert path.converged.all() and path.coefs.shape == (alphas.size, X.shape[1])
    np.testing.assert_array_equal(path.scales, scales)
    # coordinate descent stopped on a duality gap of 1e-14 ||y||^2 / n: far below 1e-6
    _, ref, _ = lasso_path(X - X.mean(0), y - y.mean(), alphas=alphas, tol=1e-14, max_iter=10**6)
    ref = ref.T[perm]
    for k in range(alphas.size):
        np.testing.assert_array_equal(path.coefs[k] == 0, ref[k] == 0)
        assert _rel(path.coefs[k], ref[k]) < 1e-6
    assert path.n_nonzero.min() < path.n_nonzero.max()  # the path really moves
    intercepts = y.mean() - path.coefs @ X.mean(0)
    np.testing.assert_allclose(path.intercepts, intercepts, rtol=1e-9)
    # one compiled graph for the whole path, and the model's own scale is back
    assert model.prior_scale == 100.0
    assert all(model._functions[k] is compiled[k] for k in compiled)
    df = path.to_dataframe()
    assert df.shape == (alphas.size * X.shape[1], 3)
    assert json.loads(json.dumps(path.to_dict()))["n_nonzero"] == path.n_nonzero.tolist()


def test_lasso_path_p_greater_than_n_matches_pointwise_solves(p_greater_than_n):
    X, y = p_greater_than_n
    n = X.shape[0]
    alphas = _alpha_max(X, y) * np.geomspace(1.0, 5e-3, 15)
    model = RegressionModel(
        X, y, penalty_to_prior("sklearn_lasso", 0.1, sigma=1.0, n=n), GaussianLikelihood(1.0)
    )
    path = map_path(model, 1.0 / (n * alphas))
    assert path.converged.all()
    assert path.n_nonzero[-1] > 20  # deep into the p > n regime
    for k, alpha in enumerate(alphas):
        ref = Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
        np.testing.assert_array_equal(path.coefs[k] == 0, ref.coef_ == 0)
        if ref.coef_.any():
            assert _rel(path.coefs[k], ref.coef_) < 1e-6
    # the last point equals the cold-started MAP: warm starts change the route, not the answer
    cold = map_estimate(
        RegressionModel(X, y, Laplace(1.0 / (n * alphas[-1])), GaussianLikelihood(1.0))
    )
    assert _rel(path.coefs[-1], cold.coef) < 1e-9
    np.testing.assert_array_equal(path.coefs[-1] == 0, cold.coef == 0)


def test_elastic_net_path_matches_sklearn(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    n, rho = len(y), 0.6
    alphas = _alpha_max(X, y) / rho * np.geomspace(0.5, 1e-3, 8)
    prior = penalty_to_prior("sklearn_elasticnet", 0.01, sigma=SIGMA, n=n, l1_ratio=rho)
    model = RegressionModel(X, y, prior, GaussianLikelihood(SIGMA))
    scales = [
        penalty_to_prior("sklearn_elasticnet", a, sigma=SIGMA, n=n, l1_ratio=rho).scale
        for a in alphas
    ]
    path = map_path(model, scales)
    _, ref, _ = enet_path(
        X - X.mean(0), y - y.mean(), l1_ratio=rho, alphas=alphas, tol=1e-14, max_iter=10**6
    )
    for k in range(alphas.size):
        np.testing.assert_array_equal(path.coefs[k] == 0, ref[:, k] == 0)
        assert _rel(path.coefs[k], ref[:, k]) < 1e-6


def test_ridge_path_equals_closed_form(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    model = RegressionModel(X, y, Gaussian(10.0), GaussianLikelihood(SIGMA))
    scales = np.geomspace(1.0, 1e3, 6)
    path = map_path(model, scales)
    assert path.method == "closed_form" and path.sigmas is None
    for k, tau in enumerate(scales):
        coef, b = ridge_closed_form(X, y, SIGMA**2 / tau**2)
        assert _rel(path.coefs[k], coef) < 1e-10  # both exact up to rounding
        assert abs(path.intercepts[k] - b) < 1e-10 * abs(b)


def test_estimated_sigma_path_matches_cold_solves(diabetes):
    """Laplace(b * sigma), sigma estimated: each point is the joint MAP, as a cold solve finds."""
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    model = RegressionModel(X, y, Laplace(1.0, scale_by_sigma=True))
    scales = [0.1, 0.5, 2.0]
    path = map_path(model, scales)
    assert path.sigmas is not None and path.converged.all()
    for k, b in enumerate(scales):
        model.set_prior_scale(b)
        cold = map_estimate(model)
        if cold.coef.any():
            assert _rel(path.coefs[k], cold.coef) < 1e-8
        np.testing.assert_array_equal(path.coefs[k] == 0, cold.coef == 0)
        assert path.sigmas[k] == pytest.approx(cold.sigma, rel=1e-8)
        # and it is the lasso at the converted alpha for that sigma
        alpha = prior_to_penalty(model.prior, "sklearn_lasso", sigma=cold.sigma, n=n)
        ref = Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X, y)
        np.testing.assert_array_equal(path.coefs[k] == 0, ref.coef_ == 0)


def test_warm_starts_reduce_work_along_a_path(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    alphas = _alpha_max(X, y) * np.geomspace(0.9, 1e-3, 30)
    scales = SIGMA**2 / (n * alphas)
    model = RegressionModel(X, y, Laplace(100.0), GaussianLikelihood(SIGMA))
    path = map_path(model, scales)
    cold = []
    for s in scales:
        model.set_prior_scale(s)
        cold.append(map_estimate(model).n_iter)
    assert path.n_iter.sum() < np.sum(cold)


def test_map_path_errors_and_restores_scale(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    model = RegressionModel(X, y, Laplace(100.0), GaussianLikelihood(SIGMA))
    with pytest.raises(ValueError, match=r"'scales' parameter of map_path must contain floats"):
        map_path(model, [1.0, -2.0])
    with pytest.raises(ValueError, match="Expected a 1D array for scales"):
        map_path(model, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="contains NaN"):
        map_path(model, [1.0, np.nan])
    with pytest.raises(TypeError, match="must be a RegressionModel"):
        map_path("model", [1.0])
    with pytest.raises(ValueError, match="not a supported MAP method"):
        map_path(model, [1.0, 2.0], method="newton")
    assert model.prior_scale == 100.0  # restored even though the solve raised
    with pytest.warns(ConvergenceWarning, match="map_path: the MAP did not converge"):
        out = map_path(model, [50.0, 100.0], method="ista", max_iter=2)
    assert not out.converged.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        map_path(model, [50.0], method="ista", max_iter=2, warn=False)
    assert model.prior_scale == 100.0
