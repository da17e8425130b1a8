"""Rows beyond memory (bayesreg.moments): moments in one pass over chunks, and fits from them.

References are independent of the module: the two-pass centred products of the full arrays in
memory, ``bayesreg.map_estimate`` / ``conjugate_posterior`` on the full data, and the closed
form of the conjugate posterior written out here with numpy.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

import bayesreg as br
from bayesreg.moments import (
    Moments,
    compute_moments,
    moments_horseshoe,
    moments_map,
    moments_posterior,
    moments_sample,
)

da = pytest.importorskip("dask.array")


def _data(n=1500, p=6, *, x_mean=0.0, y_offset=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = x_mean + rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, p)
    w = np.zeros(p)
    w[:3] = [1.5, -2.0, 0.7]
    y = y_offset + X @ w + rng.normal(scale=1.3, size=n)
    return X, y


def _reference(X, y):
    """Two-pass centred moments of arrays in memory (the textbook stable formula)."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    return Xc.T @ Xc, Xc.T @ yc, float(yc @ yc)


def _close(a, b, rtol):
    """Normwise relative error ||a - b|| / ||b|| <= rtol (entries of xy may be near 0)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(b), np.linalg.norm(a - b)


def _uneven_chunks(X, y, sizes=(1, 377, 2, 500, 91)):
    i, k = 0, 0
    while i < X.shape[0]:
        m = sizes[k % len(sizes)]
        yield X[i : i + m], y[i : i + m]
        i, k = i + m, k + 1


def _assert_moments(m, X, y, rtol=1e-12):
    xx, xy, yy = _reference(X, y)
    assert m.n == X.shape[0] and m.p == X.shape[1]
    _close(m.x_mean, X.mean(axis=0), rtol)
    assert m.y_mean == pytest.approx(float(y.mean()), rel=rtol, abs=rtol)
    _close(m.xx, xx, rtol)
    _close(m.xy, xy, rtol)
    assert m.yy == pytest.approx(yy, rel=rtol)


@pytest.mark.parametrize("x_mean", [0.0, 1e6])
def test_numpy_chunks_equal_in_memory(x_mean):
    # 1e-12 relative: the moments are sums of O(n) products, each rounded to eps = 2.2e-16
    X, y = _data(x_mean=x_mean, y_offset=3 * x_mean)
    X0, y0 = X.copy(), y.copy()
    _assert_moments(Moments.from_chunks(_uneven_chunks(X, y)), X, y)
    _assert_moments(Moments.from_arrays(X, y), X, y)
    np.testing.assert_array_equal(X, X0)  # the caller's arrays are not modified
    np.testing.assert_array_equal(y, y0)


def test_naive_formula_fails_where_the_shifted_merge_does_not():
    # mean 1e6, sd 1: X'X - n xbar xbar' cancels 12 of 16 digits; the test above would fail it
    X, y = _data(x_mean=1e6)
    n, xbar = X.shape[0], X.mean(axis=0)
    naive = X.T @ X - n * np.outer(xbar, xbar)
    xx, _, _ = _reference(X, y)
    assert np.linalg.norm(naive - xx) > 1e-6 * np.linalg.norm(xx)
    _close(Moments.from_chunks(_uneven_chunks(X, y)).xx, xx, 1e-12)


@pytest.mark.parametrize("x_mean", [0.0, 1e6])
def test_dask_uneven_chunks_equal_in_memory(x_mean):
    X, y = _data(n=2003, x_mean=x_mean, y_offset=-x_mean)
    Xd = da.from_array(X, chunks=((1000, 3, 700, 300), (2, 4)))  # column blocks too
    yd = da.from_array(y, chunks=411)  # not aligned with X's row blocks
    m = compute_moments(Xd, yd, feature_names=[f"f{j}" for j in range(6)])
    _assert_moments(m, X, y)
    assert m.feature_names == tuple(f"f{j}" for j in range(6))


def test_dask_computes_each_block_once():
    # X and y sliced from one generated array: each generated block is computed once, not
    # once for X and once for y (what optimizing their graphs apart would do)
    calls = []

    def gen(block_id=None):
        calls.append(block_id[0])
        return np.random.default_rng(block_id[0]).standard_normal((100, 4))

    V = da.map_blocks(gen, chunks=((100,) * 5, (4,)), dtype=float)
    m = Moments.from_dask(V[:, :3], V[:, 3])
    assert sorted(calls) == [0, 1, 2, 3, 4]
    full = np.vstack([gen((k,)) for k in range(5)])
    _assert_moments(m, full[:, :3], full[:, 3])


def test_merge_is_the_union():
    X, y = _data(x_mean=1e3)
    a = Moments.from_arrays(X[:400], y[:400])
    b = Moments.from_chunks(_uneven_chunks(X[400:], y[400:]))
    _assert_moments(a.merge(b), X, y)
    assert set(a.to_dict()) >= {"n", "x_mean", "xx", "xy", "yy", "feature_names", "p"}


def test_dataframe_column_names_are_the_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data(n=40, p=3)
    m = compute_moments(pd.DataFrame(X, columns=["a", "b", "c"]), pd.Series(y))
    assert m.feature_names == ("a", "b", "c")
    _assert_moments(m, X, y)


def test_empty_chunks_add_nothing():
    X, y = _data(n=60, x_mean=50.0)
    chunks = [(X[:0], y[:0]), (X[:25], y[:25]), (X[25:25], y[25:25]), (X[25:], y[25:])]
    _assert_moments(Moments.from_chunks(chunks), X, y)
    Xd = da.from_array(X, chunks=((0, 30, 0, 30), (3, 3)))
    _assert_moments(Moments.from_dask(Xd, da.from_array(y, chunks=20)), X, y)


def test_bad_chunks_are_named():
    X, y = _data(n=50)
    bad = X.copy()
    bad[30, 2] = np.nan
    with pytest.raises(ValueError, match=r"X \(chunk 1\) contains NaN"):
        Moments.from_chunks([(X[:20], y[:20]), (bad[20:], y[20:])])
    with pytest.raises(ValueError, match=r"first chunk had 6"):
        Moments.from_chunks([(X[:20], y[:20]), (X[20:, :5], y[20:])])
    with pytest.raises(ValueError, match=r"y \(chunk 0\) must have shape \(20,\)"):
        Moments.from_chunks([(X[:20], y[:21])])
    with pytest.raises(ValueError, match="no chunks"):
        Moments.from_chunks([])
    with pytest.raises(ValueError, match="needs y"):
        compute_moments(X)
    with pytest.raises(ValueError, match="6 unique names"):
        Moments.from_arrays(X, y, feature_names=["a"])


def _strong_convexity(X, sigma, prior, fit_intercept):
    """The smallest eigenvalue of the smooth part's Hessian in w (the intercept profiled), on
    the columns that vary (a constant column's weight is 0 at both optima, checked apart)."""
    Xt = X - X.mean(axis=0) if fit_intercept else X
    Xt = Xt[:, np.ptp(X, axis=0) > 0]
    _, c = prior.elastic_coefs(sigma)
    return float(np.linalg.eigvalsh(Xt.T @ Xt / sigma**2)[0]) + c


MAP_CASES = [
    (br.Gaussian(0.3), True, 0.0),
    (br.Laplace(0.02), True, 0.0),
    (br.ElasticNet(0.05, 0.5), True, 0.0),
    (br.Laplace(0.02), True, 1e6),  # badly centred: mean 1e6, sd O(1)
    (br.Gaussian(0.3), False, 0.0),
    (br.Laplace(0.02), False, 0.0),
    (br.Laplace(0.02), True, "constant"),  # a constant column: no information, weight 0
    (br.ElasticNet(0.05, 0.5), True, "p>n"),  # more features than rows
]


@pytest.mark.parametrize(("prior", "fit_intercept", "x_mean"), MAP_CASES)
def test_map_from_moments_equals_map_estimate(prior, fit_intercept, x_mean):
    if x_mean == "constant":
        X, y = _data(seed=3)
        X[:, 4] = 7.0
    elif x_mean == "p>n":
        X, y = _data(n=40, p=60, seed=3)
    else:
        X, y = _data(x_mean=x_mean, y_offset=2.0 + 5 * x_mean, seed=3)
    lik = br.GaussianLikelihood(sigma=1.3)
    ref = br.map_estimate(br.RegressionModel(X, y, prior=prior, likelihood=lik,
                                             fit_intercept=fit_intercept))  # fmt: skip
    m = Moments.from_chunks(_uneven_chunks(X, y))
    est = moments_map(m, prior, lik, fit_intercept=fit_intercept)
    assert est.converged and ref.converged
    assert est.evaluator == "moments" and est.sigma is None
    # both are KKT points to their reported residuals of a mu-strongly convex objective, so
    # ||w - w*||_2 <= sqrt(p) * optimality / mu for each; plus rounding of the data products
    mu = _strong_convexity(X, 1.3, prior, fit_intercept)
    bound = np.sqrt(X.shape[1]) * (est.optimality + ref.optimality) / mu
    assert np.linalg.norm(est.coef - ref.coef) <= bound + 1e-12 * np.linalg.norm(ref.coef)
    np.testing.assert_array_equal(est.coef == 0.0, ref.coef == 0.0)  # the same zeros
    assert np.all(est.coef[np.ptp(X, axis=0) == 0] == 0.0)
    assert np.isfinite(bound)
    scale = max(1.0, abs(ref.intercept))
    assert abs(est.intercept - ref.intercept) <= 1e-11 * scale + np.abs(X.mean(0)) @ np.abs(
        est.coef - ref.coef
    )
    assert est.objective == pytest.approx(ref.objective, rel=1e-11)


SIGMA_MAP_CASES = [
    (br.Laplace(0.02), True, 0.0),
    (br.Laplace(0.05, scale_by_sigma=True), True, 0.0),  # the prior's scale moves with sigma
    (br.Gaussian(0.3), False, 0.0),
    (br.ElasticNet(0.05, 0.5), True, 1e6),  # badly centred: mean 1e6, sd O(1)
    (br.Laplace(0.5, scale_by_sigma=True), False, 3.0),
]


@pytest.mark.parametrize(("prior", "fit_intercept", "x_mean"), SIGMA_MAP_CASES)
def test_map_from_moments_estimates_sigma_as_map_estimate(prior, fit_intercept, x_mean):
    """The joint MAP over (w, b, sigma) from the moments equals ``map_estimate``'s (an
    independent solver on the rows) to its tolerance, zeros included."""
    X, y = _data(n=400, x_mean=x_mean, y_offset=2.0 + 5 * x_mean, seed=5)
    lik = br.GaussianLikelihood()
    model = br.RegressionModel(X, y, prior=prior, likelihood=lik, fit_intercept=fit_intercept)
    ref = br.map_estimate(model)
    est = moments_map(Moments.from_chunks(_uneven_chunks(X, y)), prior, lik,
                      fit_intercept=fit_intercept)  # fmt: skip
    assert est.converged and ref.converged
    # both stop at a relative KKT residual 1e-10 of a smooth, strongly convex problem in
    # (u, log sigma): the estimates agree to ~1e-10 relative (measured: 1e-14 to 1e-11)
    assert est.sigma == pytest.approx(ref.sigma, rel=1e-8)
    scale = np.abs(ref.coef).max()
    np.testing.assert_allclose(est.coef, ref.coef, rtol=0, atol=1e-8 * scale)
    np.testing.assert_array_equal(est.coef == 0.0, ref.coef == 0.0)
    assert est.objective == pytest.approx(ref.objective, rel=1e-10)
    # optimality of the whole problem: the sigma coordinate's derivative vanishes too (by
    # central differences of the objective in log sigma, w held at the estimate)
    h, log_sigma = 1e-5, np.log(est.sigma)
    f = [_objective_at(model, est, log_sigma + d) for d in (-h, h)]
    assert abs(f[1] - f[0]) / (2 * h) <= 1e-4 * max(1.0, abs(est.objective))
    assert _objective_at(model, est, log_sigma) == pytest.approx(est.objective, rel=1e-10)


def _objective_at(model, est, log_sigma):
    """-log posterior (no Jacobian) of ``model`` at (w, b) = est and sigma = e^log_sigma, by
    scipy.stats: an evaluation independent of both solvers."""
    from scipy import stats

    sigma = float(np.exp(log_sigma))
    eta = model.X @ est.coef + est.intercept
    h = model.likelihood.resolved_sigma_prior_scale(model.y)
    value = -stats.norm.logpdf(model.y, eta, sigma).sum() - stats.halfnorm.logpdf(sigma, scale=h)
    return value - model.prior.logpdf(est.coef, sigma)


def test_map_from_moments_says_when_sigma_collapses():
    """p > n and a weak penalty: y is fitted exactly, F -> -inf as sigma -> 0, no joint MAP."""
    X, y = _data(n=20, p=40, seed=2)
    with pytest.warns(br.ConvergenceWarning, match="noise sd collapsed"):
        est = moments_map(Moments.from_arrays(X, y), br.Laplace(100.0), br.GaussianLikelihood())
    assert not est.converged


def test_map_from_moments_refuses_what_it_cannot_fit():
    m = Moments.from_arrays(*_data(n=100))
    with pytest.raises(ValueError, match="quadratic"):
        moments_map(m, br.Laplace(1.0), br.BernoulliLikelihood())
    with pytest.raises(br.MapUndefinedError):
        moments_map(m, br.Horseshoe(1.0), br.GaussianLikelihood(sigma=1.0))
    with pytest.raises(TypeError, match="'moments' parameter of moments_map"):
        moments_map(np.eye(3), br.Laplace(1.0), br.GaussianLikelihood(sigma=1.0))
    with pytest.raises(ValueError, match="'exact' backend needs a conjugate model"):
        moments_posterior(m, br.Laplace(1.0), br.GaussianLikelihood(sigma=1.0))


def _closed_form(X, y, sigma, tau):
    """theta = (w, b) | y ~ N(A^-1 Z'y / sigma^2, A^-1), A = Z'Z / sigma^2 + D / tau^2 with
    Z = [Xc, 1] for the centred data, mapped back to b = b_c + ybar - xbar'w (exact algebra;
    centring first keeps every digit when the columns are far from 0)."""
    xbar, ybar = X.mean(axis=0), y.mean()
    n, p = X.shape
    Z = np.column_stack([X - xbar, np.ones(n)])
    D = np.diag(np.append(np.ones(p), 0.0))
    cov_c = np.linalg.inv(Z.T @ Z / sigma**2 + D / tau**2)
    mean_c = cov_c @ Z.T @ (y - ybar) / sigma**2
    T = np.eye(p + 1)
    T[p, :p] = -xbar
    return T @ mean_c + np.append(np.zeros(p), ybar), T @ cov_c @ T.T


@pytest.mark.parametrize("x_mean", [0.0, 1e6])
def test_exact_posterior_from_moments_equals_closed_form(x_mean):
    X, y = _data(x_mean=x_mean, y_offset=1.0 - x_mean, seed=4)
    sigma, tau = 1.3, 0.4
    prior, lik = br.Gaussian(tau), br.GaussianLikelihood(sigma=sigma)
    post = moments_posterior(Moments.from_chunks(_uneven_chunks(X, y)), prior, lik)
    mean, cov = _closed_form(X, y, sigma, tau)
    # 1e-9: the inverse of a matrix of condition ~ (n / sigma^2) / (1 / tau^2) ~ 1e3 loses
    # ~3 digits of the 1e-12 of the moments; the intercept carries xbar'w (x 1e6)
    _close(post.mean, mean, 1e-9)
    _close(post.cov(), cov, 1e-9)
    assert post.names[-1] == "intercept" and post.sigma == sigma
    if x_mean == 0.0:  # the model's own (uncentred) closed form agrees on well-centred data
        ref = br.conjugate_posterior(br.RegressionModel(X, y, prior=prior, likelihood=lik))
        _close(post.mean, ref.mean, 1e-9)
        _close(post.cov(), ref.cov(), 1e-9)
    idata = post.sample_idata(draws=50, chains=2, random_seed=3)
    assert idata.posterior["w"].shape == (2, 50, 6) and "sigma" not in idata.posterior
    assert list(idata.posterior["feature"].values) == [f"x{j}" for j in range(6)]
    # independent draws: means within 4 MCSE (sd / sqrt(N)), variances within 5 SE
    # (var * sqrt(2 / N)) of the closed form
    N = 20_000
    draws = post.sample(N, np.random.default_rng(0))["theta"]
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(draws.mean(axis=0) - mean) <= 4 * sd / np.sqrt(N))
    assert np.all(np.abs(draws.var(axis=0) / sd**2 - 1) <= 5 * np.sqrt(2 / N))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_posterior_with_estimated_sigma_equals_full_data(fit_intercept):
    X, y = _data(seed=5, x_mean=2.0, y_offset=4.0)
    prior, lik = br.Gaussian(0.5, scale_by_sigma=True), br.GaussianLikelihood()
    model = br.RegressionModel(X, y, prior=prior, likelihood=lik, fit_intercept=fit_intercept)
    ref = br.conjugate_posterior(model)
    post = moments_posterior(Moments.from_arrays(X, y), prior, lik, fit_intercept=fit_intercept)
    # 1e-9: the same posterior through the centred (moments) and uncentred (model) Gram
    # matrices, which differ by the rounding of the data products times the condition number
    _close(post.mean, ref.mean, 1e-9)
    _close(post.cov(0.7), ref.cov(0.7), 1e-9)
    c = post.centred
    assert c.ig_shape == ref.ig_shape
    assert c.ig_rate == pytest.approx(ref.ig_rate, rel=1e-9)
    assert c.sigma_prior_scale == pytest.approx(ref.sigma_prior_scale, rel=1e-12)
    idata = post.sample_idata(draws=10, chains=1, random_seed=0)
    assert idata.posterior["sigma"].shape == (1, 10)
    assert ("intercept" in idata.posterior) == fit_intercept
    d = post.sample(4000, np.random.default_rng(1))
    assert d["sigma"].shape == (4000,) and d["theta"].shape == (4000, post.mean.size)
    # E[theta] = mean for every sigma: within 4 MCSE of it (sd from the draws)
    sd = d["theta"].std(axis=0)
    assert np.all(np.abs(d["theta"].mean(axis=0) - post.mean) <= 4 * sd / np.sqrt(4000))


KERNEL_CASES = [
    (br.Laplace(0.3), br.GaussianLikelihood(), True, 0.0),
    (br.Laplace(0.3, scale_by_sigma=True), br.GaussianLikelihood(), False, 0.0),
    (br.ElasticNet(0.4, 0.5), br.GaussianLikelihood(sigma_prior_scale=2.0), True, 1e3),
    (br.Gaussian(0.5), br.GaussianLikelihood(sigma=1.2), True, 0.0),
    (br.Gaussian(0.5, scale_by_sigma=True), br.GaussianLikelihood(sigma=1.2), False, 2.0),
]


@pytest.mark.parametrize(("prior", "lik", "fit_intercept", "x_mean"), KERNEL_CASES)
def test_kernel_from_moments_is_the_models_log_posterior(prior, lik, fit_intercept, x_mean):
    """The kernel buffer built from the moments evaluates the log posterior of the model on
    the rows: value and gradient equal PyMC's own compiled logp at random points (relative
    to the size of the SSE term: the anchored form keeps every term on that scale)."""
    from bayesreg import _fastlogp as fl

    X, y = _data(n=400, x_mean=x_mean, y_offset=3.0 + x_mean, seed=8)
    model = br.RegressionModel(X, y, prior=prior, likelihood=lik, fit_intercept=fit_intercept)
    m = Moments.from_chunks(_uneven_chunks(X, y))
    G, q, r = m.quadratic(fit_intercept)
    zeros = np.zeros(m.p)
    st = fl.statistics_from_quadratic(G, q, r, m.x_mean if fit_intercept else zeros,
                                      m.y_mean if fit_intercept else 0.0)  # fmt: skip
    data, slices = fl.KernelData.from_statistics(
        st, m.n, prior, lik, float(np.sqrt(m.yy / m.n)), fit_intercept
    )
    assert {k: (v.start, v.stop - v.start) for k, v in model.layout.slices.items()} == slices
    reference = model.logp_dlogp_function()
    rng = np.random.default_rng(1)
    for _ in range(5):
        theta = model.initial_point() + 0.3 * rng.standard_normal(model.layout.size)
        if fit_intercept:  # near the data: b around its fitted value
            theta[slices["intercept"][0]] = float(y.mean() - X.mean(0) @ rng.normal(0, 1, m.p))
        v, g = fl.logp_dlogp(theta, data.buffer())
        v_ref, g_ref = reference(theta)
        assert v == pytest.approx(v_ref, rel=1e-10)
        np.testing.assert_allclose(g, g_ref, rtol=1e-8, atol=1e-8 * np.abs(g_ref).max())


def test_nuts_from_moments_samples_the_conjugate_posterior():
    """A Gaussian prior with known sigma: NUTS from the moments against the exact posterior
    (means within 4 MCSE, sds within 10%, R-hat <= 1.01)."""
    import arviz as az

    X, y = _data(n=2000, p=6, x_mean=50.0, y_offset=10.0, seed=4)
    prior, lik = br.Gaussian(0.5), br.GaussianLikelihood(sigma=1.3)
    m = Moments.from_chunks(_uneven_chunks(X, y))
    idata = moments_sample(m, prior, lik, draws=1000, tune=500, chains=2, random_seed=3)
    exact = br.conjugate_posterior(br.RegressionModel(X, y, prior=prior, likelihood=lik))
    summ = az.summary(idata, var_names=["w", "intercept"], round_to="none")
    z = (summ["mean"].values - exact.mean) / summ["mcse_mean"].values
    assert np.all(np.abs(z) < 4), z
    np.testing.assert_allclose(summ["sd"].values, np.sqrt(np.diag(exact.cov())), rtol=0.10)
    assert summ["r_hat"].max() <= 1.01
    post = idata.posterior
    assert list(post["feature"].values) == list(m.feature_names) and "log_likelihood" not in idata
    assert post.attrs["backend"] == "nutpie" and post.attrs["nutpie_backend"] == "kernel"


def test_nuts_from_moments_matches_the_rows_with_sigma_estimated():
    """Laplace prior, sigma estimated (no closed form): against the default sampler on the
    rows, two independent MCMC estimates (|difference| < 4 sd of it, sds within 15%)."""
    import arviz as az

    X, y = _data(n=500, p=6, seed=6)
    prior, lik = br.Laplace(0.2), br.GaussianLikelihood()
    kw = dict(draws=1000, tune=500, chains=2)
    a = moments_sample(Moments.from_arrays(X, y), prior, lik, random_seed=1, **kw)
    model = br.RegressionModel(X, y, prior=prior, likelihood=lik)
    b = br.sample_posterior(model, random_seed=2, progressbar=False, **kw)
    names = ["w", "intercept", "sigma"]
    sa = az.summary(a, var_names=names, round_to="none")
    sb = az.summary(b, var_names=names, round_to="none")
    z = (sa["mean"] - sb["mean"]) / np.hypot(sa["mcse_mean"], sb["mcse_mean"])
    assert np.all(np.abs(z) < 4), z
    np.testing.assert_allclose(sa["sd"], sb["sd"], rtol=0.15)


def test_nuts_from_moments_refuses_what_it_cannot_sample():
    m = Moments.from_arrays(*_data(n=100))
    with pytest.raises(ValueError, match=r"use bayesreg\.moments_horseshoe"):
        moments_sample(m, br.Horseshoe(1.0), br.GaussianLikelihood())
    with pytest.raises(ValueError, match="No static kernel for these moments"):
        moments_sample(m, br.GroupLaplace(1.0, groups=[0, 0, 1, 1, 2, 2]), br.GaussianLikelihood())
    with pytest.raises(ValueError, match="No static kernel for these moments"):
        moments_sample(m, br.Laplace(1.0), br.BernoulliLikelihood())
    with pytest.raises(TypeError, match="not_a_keyword"):
        moments_sample(m, br.Laplace(1.0), br.GaussianLikelihood(), not_a_keyword=1)
    with pytest.raises(ValueError, match="draws"):
        moments_sample(m, br.Laplace(1.0), br.GaussianLikelihood(), draws=0)


def test_moments_do_not_import_dask():
    # the numpy path in a fresh interpreter: neither dask nor ArviZ / PyMC gets loaded
    code = (
        "import sys, numpy as np, bayesreg as br\n"
        "from bayesreg.moments import Moments, moments_map\n"
        "X = np.random.default_rng(0).normal(size=(100, 3)); y = X[:, 0]\n"
        "m = Moments.from_chunks([(X[:50], y[:50]), (X[50:], y[50:])])\n"
        "moments_map(m, br.Laplace(1.0), br.GaussianLikelihood(sigma=1.0))\n"
        "heavy = ('dask', 'distributed', 'arviz', 'pymc', 'pytensor')\n"
        "assert not [k for k in sys.modules if k.split('.')[0] in heavy], 'heavy import'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_only_the_moments_module_imports_dask():
    # static: no module of the package imports dask / distributed, except inside functions
    # of bayesreg/moments.py (the scale extra is optional)
    root = pathlib.Path(br.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("dask", "distributed") for n in names):
                assert path.name == "moments.py" and id(node) not in top, path


# -- slow tier: the collapsed horseshoe (PyTensor compiles) and 10^7 rows -------------------


def _horseshoe_data():
    X, y = _data(n=200, x_mean=3.0, y_offset=1.0, seed=7)
    return X, y, br.Horseshoe(0.5), br.GaussianLikelihood()


@pytest.mark.slow
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_collapsed_horseshoe_from_moments_is_the_full_data_one(fit_intercept):
    from bayesreg.sampling.collapsed import CollapsedHorseshoe, CollapsedStatistics

    X, y, prior, lik = _horseshoe_data()
    full = CollapsedHorseshoe(br.RegressionModel(X, y, prior, lik, fit_intercept=fit_intercept))
    m = Moments.from_chunks(_uneven_chunks(X, y))
    G, q, r = m.quadratic(fit_intercept)
    means = (m.x_mean, m.y_mean) if fit_intercept else (np.zeros(m.p), 0.0)
    stats = CollapsedStatistics(m.n, fit_intercept, *means, G, q, r, float(np.sqrt(m.yy / m.n)))
    ours = CollapsedHorseshoe.from_statistics(prior, lik, stats, m.feature_names)
    f, g = full.logp_dlogp_function(), ours.logp_dlogp_function()
    rng = np.random.default_rng(0)
    for _ in range(5):
        theta = full.initial_theta + rng.normal(size=full.ndim)
        (v1, g1), (v2, g2) = f(theta), g(theta)
        # the same log density: the statistics agree to ~1e-14 relative, the log density is a
        # sum of O(n) terms of size O(1)
        assert v2 == pytest.approx(v1, rel=1e-11, abs=1e-9)
        np.testing.assert_allclose(g2, g1, rtol=1e-9, atol=1e-9)


@pytest.mark.slow
def test_moments_horseshoe_samples_the_full_data_posterior():
    from bayesreg import _arviz as az

    X, y, prior, lik = _horseshoe_data()
    kw = {"draws": 500, "tune": 500, "chains": 2, "random_seed": 1}
    ours = moments_horseshoe(Moments.from_arrays(X, y), prior, lik, **kw)
    ref = br.sample_posterior(br.RegressionModel(X, y, prior, lik), backend="pymc", **kw)
    assert ours.attrs["sampling_graph"] == "collapsed"
    assert set(ours.posterior.data_vars) >= {"w", "intercept", "sigma", "w_tau"}
    a = az.summary(ours, var_names=["w", "intercept", "sigma"])
    b = az.summary(ref, var_names=["w", "intercept", "sigma"])
    # two chains of the same posterior: means within 5 combined MCSE
    mcse = np.hypot(a["mcse_mean"].to_numpy(), b["mcse_mean"].to_numpy())
    assert np.all(np.abs(a["mean"].to_numpy() - b["mean"].to_numpy()) <= 5 * mcse)


# -- 10^7 x 50, generated block by block, on a 2-worker LocalCluster --------------

N_ROWS, N_FEATURES, BLOCK_ROWS = 10_000_000, 50, 250_000
TRUE_W = np.linspace(-1.0, 1.0, N_FEATURES) * (np.arange(N_FEATURES) % 3 == 0)
SIGMA = 2.0


def _generated_block(block_id=None):
    """Rows [k B, (k + 1) B) of V = [X, y]: X ~ 100 + N(0, 1), y = 5 + X w + N(0, sigma^2),
    from a generator seeded by the block index (so no block depends on another)."""
    rng = np.random.default_rng([2026, block_id[0]])
    X = 100.0 + rng.standard_normal((BLOCK_ROWS, N_FEATURES))
    y = 5.0 + X @ TRUE_W + SIGMA * rng.standard_normal(BLOCK_ROWS)
    return np.column_stack([X, y])


@pytest.mark.slow
def test_ten_million_rows_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    from threadpoolctl import threadpool_limits

    n_blocks = N_ROWS // BLOCK_ROWS
    V = da.map_blocks(
        _generated_block, chunks=((BLOCK_ROWS,) * n_blocks, (N_FEATURES + 1,)), dtype=float
    )  # never in memory at once: each 100 MB block lives in one task
    start = time.perf_counter()
    with (
        threadpool_limits(1, user_api="blas"),  # one BLAS thread per worker thread
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        m = compute_moments(V[:, :N_FEATURES], V[:, N_FEATURES])
    seconds = time.perf_counter() - start
    print(f"moments of {N_ROWS} x {N_FEATURES} on 2 workers: {seconds:.1f} s")
    assert m.n == N_ROWS and m.p == N_FEATURES
    # the column means of 10^7 N(100, 1) draws: within 5 sd (1 / sqrt(n)) of 100
    assert np.all(np.abs(m.x_mean - 100.0) <= 5.0 / np.sqrt(N_ROWS))
    lik = br.GaussianLikelihood(sigma=SIGMA)
    post = moments_posterior(m, br.Gaussian(10.0), lik)
    sd = np.sqrt(np.diag(post.cov()))
    # the posterior (tau = 10: nearly flat) contains the true weights: |z| <= 5 for all 50
    assert np.all(np.abs(post.mean[:N_FEATURES] - TRUE_W) <= 5 * sd[:N_FEATURES])
    est = moments_map(m, br.Laplace(0.01), lik)
    assert est.converged and est.seconds < 5.0
    # the Laplace MAP is the least-squares fit shifted by about a sigma^2 / (n var(x_j)) =
    # 100 * 4 / 10^7 = 4e-5 per coefficient (nearly uncorrelated columns of sd 1): within
    # 5 posterior sd of the truth plus that shift
    assert np.all(np.abs(est.coef - TRUE_W) <= 5 * sd[:N_FEATURES] + 1e-4)
