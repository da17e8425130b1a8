"""Shrinkage factors, degrees of freedom, kappa / m_eff and the sparsity summary vs closed forms."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import special
from sklearn.linear_model import Lasso, LinearRegression, Ridge

from bayesreg import Gaussian, GaussianLikelihood, Laplace, RegressionModel
from bayesreg.sampling import sample_posterior
from bayesreg.shrinkage import (
    effective_degrees_of_freedom,
    effective_nonzeros,
    posterior_shrinkage,
    prior_effective_nonzeros,
    reference_estimate,
    ridge_shrinkage_factors,
    scale_mixture_kappa,
    sparsity_summary,
)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_dof_is_trace_of_hat_matrix(diabetes, fit_intercept):
    X = diabetes.X.to_numpy()
    n = X.shape[0]
    Xc = X - X.mean(0) if fit_intercept else X
    for alpha in (0.0, 0.01, 1.0, 100.0):
        H = Xc @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T)
        if fit_intercept:
            H = H + np.ones((n, n)) / n  # the unpenalized intercept's projection
        df = effective_degrees_of_freedom(X, alpha, fit_intercept=fit_intercept)
        np.testing.assert_allclose(df + fit_intercept, np.trace(H), rtol=1e-10)
    np.testing.assert_allclose(
        effective_degrees_of_freedom(X, 0.0), np.linalg.matrix_rank(Xc), rtol=1e-12
    )
    arr = effective_degrees_of_freedom(X, np.array([0.1, 10.0]), fit_intercept=fit_intercept)
    assert arr.shape == (2,) and arr[0] > arr[1]


def test_ridge_shrinks_principal_directions(diabetes):
    """Centred ridge fit = sum_j u_j f_j u_j'y with f_j the shrinkage factors."""
    X, y = diabetes.X.to_numpy(), diabetes.y
    alpha = 0.3
    fit = Ridge(alpha=alpha, solver="svd").fit(X, y)
    Xc = X - X.mean(0)
    U, d, _ = np.linalg.svd(Xc, full_matrices=False)
    f = ridge_shrinkage_factors(X, alpha)
    np.testing.assert_allclose(f, d**2 / (d**2 + alpha), rtol=1e-12)
    np.testing.assert_allclose(
        Xc @ fit.coef_, U @ (f * (U.T @ (y - y.mean()))), rtol=1e-8, atol=1e-8
    )
    with pytest.raises(ValueError, match="'alpha' parameter"):
        ridge_shrinkage_factors(X, -1.0)


def test_kappa_matches_ridge_on_orthogonal_design(rng):
    n, p = 60, 5
    G = rng.normal(size=(n, p))
    Q, _ = np.linalg.qr(G - G.mean(0))  # orthonormal columns in the span of centred ones
    X = Q * np.array([1.0, 2.0, 3.0, 5.0, 8.0])
    sigma, tau = 1.5, 0.4
    kappa = scale_mixture_kappa(X, sigma, tau)
    alpha = sigma**2 / tau**2
    # orthogonal columns: the principal directions are the columns, d_j^2 = n s_j^2
    np.testing.assert_allclose(
        np.sort(1 - kappa), np.sort(ridge_shrinkage_factors(X, alpha)), rtol=1e-10
    )
    np.testing.assert_allclose(
        effective_nonzeros(X, sigma, tau), effective_degrees_of_freedom(X, alpha), rtol=1e-10
    )
    draws = scale_mixture_kappa(X, np.array([sigma, sigma]), np.array([tau, 2 * tau]))
    assert draws.shape == (2, p)
    np.testing.assert_allclose(draws[0], kappa)
    assert np.all(draws[1] < draws[0])  # larger tau, less shrinkage


def test_laplace_prior_meff_matches_closed_form(sparse_regression):
    """Laplace(b) = N(0, lam^2) with lam^2 ~ Exp(mean 2b^2): E[1 - kappa_j] = 1 - E1(1/c) e^(1/c) / c."""
    d = sparse_regression
    sigma, b = 1.0, 0.2
    m = RegressionModel(d.X, d.y, Laplace(b), GaussianLikelihood(sigma=sigma))
    draws = prior_effective_nonzeros(m, size=200_000, random_seed=0)
    Xc = m.X - m.X.mean(0)
    c = m.n * np.mean(Xc**2, 0) / sigma**2 * 2 * b**2  # n s_j^2 sigma^-2 E[lam^2]
    expected = np.sum(1 - special.exp1(1 / c) * np.exp(1 / c) / c)
    se = draws.std() / np.sqrt(draws.size)
    assert abs(draws.mean() - expected) < 4 * se
    g = RegressionModel(d.X, d.y, Gaussian(0.3), GaussianLikelihood(sigma=sigma))
    np.testing.assert_allclose(
        prior_effective_nonzeros(g, size=3), effective_nonzeros(d.X, sigma, 0.3)
    )


def test_posterior_shrinkage_conjugate(sparse_regression):
    d = sparse_regression
    tau = 0.2
    m = RegressionModel(d.X, d.y, Gaussian(tau), GaussianLikelihood(sigma=1.0))
    idata = sample_posterior(m, draws=20_000, chains=2, backend="exact", random_seed=1)
    res = posterior_shrinkage(idata, m)
    ols = LinearRegression().fit(d.X, d.y).coef_
    ridge = Ridge(alpha=1.0 / tau**2, solver="cholesky").fit(d.X, d.y).coef_
    assert res.reference_kind == "least_squares"
    np.testing.assert_allclose(res.table["reference"], ols, rtol=1e-9, atol=1e-12)
    sd = res.table["post_sd"].to_numpy()
    mcse = sd / np.sqrt(40_000)  # i.i.d. draws
    assert np.all(np.abs(res.table["post_mean"] - ridge) < 4 * mcse)
    shrink = 1 - ridge / ols
    assert np.all(np.abs(res.table["shrinkage_mean"] - shrink) < 4 * mcse / np.abs(ols))
    json.dumps(res.to_dict())
    assert list(res.to_dataframe()["feature"]) == m.feature_names


def test_reference_estimate_bernoulli(sparse_classification):
    from sklearn.linear_model import LogisticRegression

    from bayesreg import BernoulliLikelihood

    d = sparse_classification
    m = RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())
    coef, kind = reference_estimate(m, weak_scale=10.0)
    # weak Gaussian prior tau = 10 is LogisticRegression's L2 with C = tau^2
    sk = LogisticRegression(C=100.0, l1_ratio=0, tol=1e-12, max_iter=10_000).fit(d.X, d.y)
    assert kind == "weak_prior_map"
    np.testing.assert_allclose(coef, sk.coef_[0], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_laplace_map_sparse_posterior_not(sparse_regression):
    d = sparse_regression
    sigma, b = 1.0, 0.02
    m = RegressionModel(d.X, d.y, Laplace(b), GaussianLikelihood(sigma=sigma))
    idata = sample_posterior(
        m, draws=500, tune=500, chains=2, random_seed=2, progressbar=False, cores=1
    )
    # scikit-learn's Lasso at the matching alpha = sigma^2 / (n b) is the MAP
    lasso = Lasso(alpha=sigma**2 / (m.n * b), tol=1e-12, max_iter=100_000).fit(d.X, d.y)
    s = sparsity_summary(idata, m, map_coef=lasso.coef_, eps=0.05)
    assert s.n_map_zeros >= 3
    assert s.n_mean_zeros == 0 and s.n_median_zeros == 0
    assert "not sparse" in s.statement and "MAP" in s.statement
    W = idata.posterior["w"].values.reshape(-1, m.p)
    np.testing.assert_allclose(s.table["p_near_zero"], np.mean(np.abs(W) < 0.05, axis=0))
    zeros = s.table["map_is_zero"].to_numpy()
    assert np.all(s.table["ci_contains_zero"].to_numpy()[zeros])  # MAP zeros: 0 is credible
    assert np.all(s.table["p_near_zero"].to_numpy()[zeros] < 1)  # ... but not certain
    out = s.to_dict()
    json.dumps(out)
    assert out["n_map_zeros"] == s.n_map_zeros
    # default MAP comes from the proximal solver and reproduces the zero pattern
    s2 = sparsity_summary(idata, m)
    np.testing.assert_array_equal(s2.table["map_is_zero"], zeros)
