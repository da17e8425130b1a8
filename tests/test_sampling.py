"""Posterior sampling: the exact conjugate sampler, NUTS against it, compile-once, paths."""

from __future__ import annotations

import json
from unittest import mock

import arviz as az
import numpy as np
import pymc as pm
import pytest
from scipy import integrate, stats
from sklearn.linear_model import Ridge

from bayesreg import (
    BernoulliLikelihood,
    Gaussian,
    GaussianLikelihood,
    Laplace,
    RegressionModel,
)
from bayesreg.sampling import (
    _pointwise_loglik,
    conjugate_posterior,
    model_target,
    sample_posterior,
)

SIGMA = 1.0  # the sparse_regression fixture's noise sd


@pytest.fixture(scope="module")
def known_sigma_model(sparse_regression):
    return RegressionModel(
        sparse_regression.X, sparse_regression.y, Gaussian(0.5), GaussianLikelihood(sigma=SIGMA)
    )


# ---------------------------------------------------------------------------------------------
# the exact sampler
# ---------------------------------------------------------------------------------------------
def test_conjugate_mean_is_ridge(known_sigma_model):
    m = known_sigma_model
    post = conjugate_posterior(m)
    ridge = Ridge(alpha=SIGMA**2 / 0.5**2, fit_intercept=True, solver="cholesky", tol=1e-12)
    ridge.fit(m.X, m.y)
    # both are the solution of the same well-conditioned linear system: agree to rounding
    np.testing.assert_allclose(post.mean[: m.p], ridge.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(post.mean[m.p], ridge.intercept_, rtol=1e-9, atol=1e-11)
    # covariance: the inverse of A = Z'Z/sigma^2 + D/tau^2, written out directly
    Z = np.column_stack([m.X, np.ones(m.n)])
    A = Z.T @ Z / SIGMA**2 + np.diag(np.r_[np.full(m.p, 1 / 0.5**2), 0.0])
    np.testing.assert_allclose(post.cov(), np.linalg.inv(A), rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("estimate_sigma", [False, True])
def test_conjugate_posterior_keeps_its_digits_on_offset_data(estimate_sigma):
    """Columns with mean 1e6 and y with mean 3e6: the posterior of w is that of the unshifted
    data, and the intercept moves by 3e6 - 1e6 * sum(w) (an exact reparametrization)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = 1.0 + X @ np.array([1.0, 0.0, -1.0, 2.0]) + rng.normal(size=300)
    if estimate_sigma:
        prior, lik = Gaussian(0.7, scale_by_sigma=True), GaussianLikelihood()
    else:
        prior, lik = Gaussian(0.7), GaussianLikelihood(sigma=1.1)
    ref = conjugate_posterior(RegressionModel(X, y, prior, lik))
    post = conjugate_posterior(RegressionModel(X + 1e6, y + 3e6, prior, lik))
    T = np.eye(5)
    T[4, :4] = -1e6  # theta_shifted = T theta + (0, ..., 3e6)
    # centring the shifted columns rounds at 1e6 * eps ~ 1e-10 of a unit spread; the
    # uncentred Gram matrix (cond ~ 1e13) lost 4.5e-2 sd in the mean and 2e-3 in the cov
    sd = np.sqrt(np.diag(ref.cov(0.9)))
    np.testing.assert_allclose(post.mean[:4], ref.mean[:4], rtol=0, atol=1e-8 * sd[:4].min())
    expected_b = ref.mean[4] + 3e6 - 1e6 * ref.mean[:4].sum()
    assert abs(post.mean[4] - expected_b) < 1e-8 * np.sqrt(post.cov(0.9)[4, 4])
    np.testing.assert_allclose(post.cov(0.9), T @ ref.cov(0.9) @ T.T, rtol=1e-8)
    if estimate_sigma:
        assert post.ig_rate == pytest.approx(ref.ig_rate, rel=1e-10)
    draws = post.sample(4000, np.random.default_rng(1))["theta"]
    # independent draws: mean of w within 4 MCSE of the closed form
    assert np.all(np.abs(draws[:, :4].mean(0) - ref.mean[:4]) < 4 * draws[:, :4].std(0) / 63.2)


def test_exact_draws_match_closed_form(known_sigma_model):
    m = known_sigma_model
    post = conjugate_posterior(m)
    idata = sample_posterior(m, draws=10_000, chains=2, backend="exact", random_seed=3)
    W = idata.posterior["w"].values.reshape(-1, m.p)
    sd = np.sqrt(np.diag(post.cov()))[: m.p]
    N = W.shape[0]
    # i.i.d. draws: MCSE of a mean is sd / sqrt(N); of an sd about sd / sqrt(2N)
    assert np.all(np.abs(W.mean(0) - post.mean[: m.p]) < 4 * sd / np.sqrt(N))
    assert np.all(np.abs(W.std(0, ddof=1) - sd) < 4 * sd / np.sqrt(2 * N))
    b = idata.posterior["intercept"].values.ravel()
    assert abs(b.mean() - post.mean[m.p]) < 4 * np.sqrt(post.cov()[-1, -1] / N)
    assert "sigma" not in idata.posterior
    assert list(idata.posterior["feature"].values) == m.feature_names
    again = sample_posterior(m, draws=10_000, chains=2, backend="exact", random_seed=3)
    np.testing.assert_array_equal(again.posterior["w"].values, idata.posterior["w"].values)


def test_exact_nig_case_matches_quadrature(sparse_regression):
    """sigma estimated, w | sigma ~ N(0, (c sigma)^2): sigma's marginal checked by quadrature."""
    d = sparse_regression
    m = RegressionModel(d.X, d.y, Gaussian(0.7, scale_by_sigma=True), GaussianLikelihood())
    post = conjugate_posterior(m)
    idata = sample_posterior(m, draws=10_000, chains=2, backend="exact", random_seed=11)
    s = idata.posterior["sigma"].values.ravel()
    # independent reference: E[sigma], E[sigma^2] by quadrature of the unnormalized log density
    grid_max = 10 * float(np.std(d.y))
    logf = post.sigma_log_density
    shift = logf(np.array([np.median(s)]))[0]
    f = lambda x, k: x**k * np.exp(logf(np.array([x]))[0] - shift)  # noqa: E731
    Z = integrate.quad(f, 1e-6, grid_max, args=(0,), limit=200, points=[np.median(s)])[0]
    e1 = integrate.quad(f, 1e-6, grid_max, args=(1,), limit=200, points=[np.median(s)])[0] / Z
    e2 = integrate.quad(f, 1e-6, grid_max, args=(2,), limit=200, points=[np.median(s)])[0] / Z
    sd = np.sqrt(e2 - e1**2)
    assert abs(s.mean() - e1) < 4 * sd / np.sqrt(s.size)
    assert abs(s.std() - sd) < 4 * sd / np.sqrt(2 * s.size)
    # w's mean does not depend on sigma: ridge at alpha = 1/c^2 (sigma cancels)
    ridge = Ridge(alpha=1 / 0.7**2, solver="cholesky").fit(d.X, d.y)
    np.testing.assert_allclose(post.mean[: m.p], ridge.coef_, rtol=1e-9, atol=1e-11)
    W = idata.posterior["w"].values.reshape(-1, m.p)
    sd_w = np.sqrt(e2 * np.diag(post.cov(1.0))[: m.p])  # Var(w) = E[sigma^2] A0^-1
    assert np.all(np.abs(W.mean(0) - ridge.coef_) < 4 * sd_w / np.sqrt(W.shape[0]))


@pytest.mark.parametrize(
    ("prior", "likelihood", "match"),
    [
        (Laplace(1.0), GaussianLikelihood(sigma=1.0), "not Gaussian"),
        (Gaussian(1.0), GaussianLikelihood(), "scale_by_sigma=True"),
    ],
)
def test_exact_refuses_non_conjugate(sparse_regression, prior, likelihood, match):
    m = RegressionModel(sparse_regression.X, sparse_regression.y, prior, likelihood)
    with pytest.raises(ValueError, match=match) as info:
        sample_posterior(m, backend="exact")
    assert "backend='pymc'" in str(info.value)


def test_exact_refuses_bernoulli(sparse_classification):
    d = sparse_classification
    m = RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())
    with pytest.raises(ValueError, match="likelihood is BernoulliLikelihood"):
        sample_posterior(m, backend="exact")


def test_bad_arguments(known_sigma_model):
    with pytest.raises(
        ValueError, match=r"'hmc' is not a supported sampling backend\. Must be one of"
    ):
        sample_posterior(known_sigma_model, backend="hmc")
    with pytest.raises(ValueError, match="'draws' parameter"):
        sample_posterior(known_sigma_model, draws=0, backend="exact")
    with pytest.raises(ValueError, match="'random_seed'"):
        sample_posterior(known_sigma_model, random_seed=-1, backend="exact")
    with pytest.raises(TypeError, match="RegressionModel"):
        sample_posterior("model")


@pytest.mark.parametrize("value", [1.5, -3, 0.0, 1.0, float("nan"), "0.9", True])
def test_target_accept_must_lie_in_the_open_unit_interval(known_sigma_model, value):
    # issue 11: 1.5, -3 and 0.0 were accepted and gave draws 14-15 sd off the posterior
    message = (
        "The 'target_accept' parameter of sample_posterior must be a float in the range (0, 1). "
        f"Got {value!r} instead."
    )
    for backend in ("auto", "pymc", "nutpie", "numpyro"):
        with pytest.raises(ValueError) as info:
            sample_posterior(known_sigma_model, backend=backend, target_accept=value)
        assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_treedepth": 0}, r"'max_treedepth' parameter of sample_posterior must be an int in "
         r"the range \[1, inf\)\. Got 0 instead"),
        ({"max_treedepth": 2.5}, r"'max_treedepth' .* Got 2\.5 instead"),
        ({"maxdepth": -1}, r"'max_treedepth' .* Got -1 instead"),
        ({"tune": -1}, r"'tune' parameter of sample_posterior must be an int in the range "
         r"\[0, inf\)\. Got -1 instead"),
        ({"tune": 1.5}, r"'tune' .* Got 1\.5 instead"),
        ({"draws": -5}, r"'draws' parameter of sample_posterior must be an int in the range "
         r"\[1, inf\)"),
        ({"chains": 0}, r"'chains' parameter of sample_posterior .* Got 0 instead"),
        ({"chains": "2"}, r"'chains' parameter of sample_posterior .* Got '2' instead"),
        ({"random_seed": 2**64}, r"'random_seed' parameter of sample_posterior must be None, "
         r"an int in the range \[0, 2\*\*32\) or a numpy\.random\.Generator"),
        ({"random_seed": 1.5}, r"'random_seed' .* Got 1\.5 instead"),
        ({"nutpie_backend": "cuda"}, r"'cuda' is not a supported nutpie backend"),
    ],
)  # fmt: skip
def test_sampler_settings_are_validated_before_sampling(known_sigma_model, kwargs, match):
    with mock.patch.object(pm, "sample", side_effect=AssertionError("sampled")):
        with pytest.raises(ValueError, match=match):
            sample_posterior(known_sigma_model, **kwargs)


def test_misspelt_keyword_lists_the_valid_ones(known_sigma_model):
    # issue 11: 'target_acept' used to get PyMC's step_kwargs message
    with mock.patch.object(pm, "sample", side_effect=AssertionError("sampled")):
        with pytest.raises(TypeError) as info:
            sample_posterior(known_sigma_model, target_acept=0.9)
    text = str(info.value)
    assert "unexpected keyword argument(s) ['target_acept'] for backend 'pymc'" in text
    assert "Did you mean 'target_accept'?" in text
    assert "'max_treedepth'" in text and "'cores'" in text  # the valid keywords are listed
    with pytest.raises(TypeError, match=r"backend 'exact'.*none \(it takes no sampler options"):
        sample_posterior(known_sigma_model, backend="exact", target_accept=0.9)
    pytest.importorskip("nutpie")
    with pytest.raises(TypeError, match=r"\['initvals'\] for backend 'nutpie'"):
        sample_posterior(known_sigma_model, backend="nutpie", initvals={})


def test_random_seed_generator_and_the_callers_kwargs(known_sigma_model):
    kw = dict(draws=50, chains=2, backend="exact")
    a = sample_posterior(known_sigma_model, random_seed=np.random.default_rng(4), **kw)
    b = sample_posterior(known_sigma_model, random_seed=np.random.default_rng(4), **kw)
    np.testing.assert_array_equal(a.posterior["w"].values, b.posterior["w"].values)
    # the caller's keyword dict is read, never changed (collapse used to pop from it)
    options = {"nutpie_backend": "pytensor", "target_accept": 0.9, "max_treedepth": 8}
    before = dict(options)
    with pytest.raises(ValueError):
        sample_posterior(known_sigma_model, collapse=True, **options)
    assert options == before


def test_sample_posterior_settings_are_keyword_only(known_sigma_model):
    with pytest.raises(TypeError):
        sample_posterior(known_sigma_model, 100)  # draws passed by position


def test_missing_fast_extra_names_it(known_sigma_model):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name in ("nutpie", "numpyro"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for backend in ("nutpie", "numpyro"):
        with mock.patch.object(builtins, "__import__", fake_import):
            with pytest.raises(ImportError, match=r"fast.*pip install -e \"\.\[fast\]\""):
                sample_posterior(known_sigma_model, backend=backend)


def test_pointwise_loglik_matches_scipy(known_sigma_model, sparse_classification, rng):
    import xarray as xr

    m = known_sigma_model
    w = rng.normal(size=(2, 3, m.p))
    b = rng.normal(size=(2, 3))
    post = xr.Dataset({"w": (("chain", "draw", "feature"), w), "intercept": (("chain", "draw"), b)})
    ll = _pointwise_loglik(m, post)
    ref = stats.norm.logpdf(m.y, m.X @ w[1, 2] + b[1, 2], SIGMA)
    np.testing.assert_allclose(ll[1, 2], ref, rtol=1e-12)
    d = sparse_classification
    mb = RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())
    wb = rng.normal(size=(1, 2, mb.p))
    post = xr.Dataset(
        {
            "w": (("chain", "draw", "feature"), wb),
            "intercept": (("chain", "draw"), np.zeros((1, 2))),
        }
    )
    p = 1 / (1 + np.exp(-(mb.X @ wb[0, 1])))
    np.testing.assert_allclose(
        _pointwise_loglik(mb, post)[0, 1], stats.bernoulli.logpmf(mb.y, p), rtol=1e-10
    )


# ---------------------------------------------------------------------------------------------
# NUTS
# ---------------------------------------------------------------------------------------------
def _check_against_exact(idata, model):
    post = conjugate_posterior(model)
    sd = np.sqrt(np.diag(post.cov()))
    summ = az.summary(idata, var_names=["w", "intercept"], round_to="none")
    names = [f"w[{f}]" for f in model.feature_names] + ["intercept"]
    summ = summ.loc[names]
    z = (summ["mean"].values - post.mean) / summ["mcse_mean"].values
    assert np.all(np.abs(z) < 4), z
    np.testing.assert_allclose(summ["sd"].values, sd, rtol=0.10)
    assert summ["r_hat"].max() <= 1.01


@pytest.mark.slow
def test_nuts_matches_conjugate_posterior(known_sigma_model):
    m = known_sigma_model
    idata = sample_posterior(
        m, draws=1000, tune=500, chains=2, random_seed=42, progressbar=False, cores=1,
        backend="pymc",
    )  # fmt: skip
    _check_against_exact(idata, m)
    assert idata.log_likelihood["y_obs"].shape == (2, 1000, m.n)
    assert {"diverging", "energy", "tree_depth", "reached_max_treedepth"} <= set(
        idata.sample_stats.data_vars
    )
    assert idata.posterior.attrs["backend"] == "pymc"


@pytest.mark.slow
def test_compile_once_and_reproducible(sparse_regression):
    d = sparse_regression
    m = RegressionModel(d.X, d.y, Gaussian(1.0), GaussianLikelihood())
    kw = dict(
        draws=200, tune=200, chains=2, random_seed=5, progressbar=False, cores=1, backend="pymc"
    )
    first = sample_posterior(m, **kw)
    assert first.posterior.attrs["compile_time"] > 0
    from bayesreg.sampling import _model_cache

    step_before = _model_cache(m)[("pymc", 0.8, 10)][0]
    m.set_prior_scale(0.01)
    # a second call must not compile the model's log-density again
    with mock.patch.object(
        pm.Model, "logp_dlogp_function", side_effect=AssertionError("recompiled")
    ):
        tight = sample_posterior(m, **kw)
        m.set_prior_scale(1.0)
        again = sample_posterior(m, **kw)
    assert _model_cache(m)[("pymc", 0.8, 10)][0] is step_before
    assert tight.posterior.attrs["compile_time"] == 0.0
    # the new scale took effect: N(0, 0.01^2) prior pins w near 0
    assert np.abs(tight.posterior["w"].mean(("chain", "draw"))).max() < 0.05
    assert np.abs(first.posterior["w"].mean(("chain", "draw"))).max() > 1.0
    # same seed, same scale -> identical draws, whatever ran in between
    np.testing.assert_array_equal(first.posterior["w"].values, again.posterior["w"].values)
    np.testing.assert_array_equal(first.posterior["sigma"].values, again.posterior["sigma"].values)


@pytest.mark.slow
def test_nutpie_backend(known_sigma_model):
    pytest.importorskip("nutpie")
    from bayesreg.sampling import _model_cache

    m = known_sigma_model
    kw = dict(draws=1000, tune=500, chains=2, backend="nutpie", random_seed=7, progressbar=False)
    idata = sample_posterior(m, **kw)
    _check_against_exact(idata, m)
    assert {"diverging", "energy", "tree_depth", "reached_max_treedepth"} <= set(
        idata.sample_stats.data_vars
    )
    compiled = _model_cache(m)[("nutpie", "numba")]
    m.set_prior_scale(0.01)
    try:
        tight = sample_posterior(m, **kw)
    finally:
        m.set_prior_scale(0.5)
    assert _model_cache(m)[("nutpie", "numba")] is compiled
    assert tight.posterior.attrs["compile_time"] == 0.0
    assert np.abs(tight.posterior["w"].mean(("chain", "draw"))).max() < 0.05
    again = sample_posterior(m, **kw)
    np.testing.assert_array_equal(idata.posterior["w"].values, again.posterior["w"].values)


@pytest.mark.slow
def test_numpyro_backend(known_sigma_model):
    pytest.importorskip("numpyro")
    pytest.importorskip("jax")
    m = known_sigma_model
    idata = sample_posterior(
        m, draws=1000, tune=500, chains=2, backend="numpyro", random_seed=3, progressbar=False
    )
    _check_against_exact(idata, m)
    assert "diverging" in idata.sample_stats
    # one call only: this backend re-traces JAX at every call (~15 s here); seeding is PyMC's


@pytest.mark.slow
def test_numpyro_bernoulli_at_larger_n_without_pointwise_loglik():
    """The large-n Bernoulli path (benchmarks/bench_numpyro_large_n.py at n = 10^6 on a GPU):
    numpyro's NUTS with log_likelihood=False (no (chain, draw, n) array), against the exact
    Polya-Gamma Gibbs sweeps, an independent sampler, on n = 20,000 rows."""
    pytest.importorskip("numpyro")
    pytest.importorskip("polyagamma")
    rng = np.random.default_rng(7)
    n, p = 20_000, 3
    X = rng.standard_normal((n, p))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ np.array([0.5, -0.3, 0.0]) + 0.2)))) * 1.0
    m = RegressionModel(X, y, Gaussian(1.0), BernoulliLikelihood())
    kw = {"draws": 1000, "tune": 500, "chains": 2, "progressbar": False, "log_likelihood": False}
    nuts = sample_posterior(m, backend="numpyro", random_seed=1, **kw)
    gibbs = sample_posterior(m, backend="gibbs", random_seed=2, **kw)
    assert "log_likelihood" not in nuts.groups()
    # the constant data is the model's own read-only X, not a copy (800 MB at n = 10^6)
    assert np.shares_memory(nuts.constant_data["X"].values, m.X)
    for name in ("w", "intercept"):
        a, b = nuts.posterior[[name]], gibbs.posterior[[name]]
        mcse = np.hypot(az.mcse(a)[name], az.mcse(b)[name])
        diff = a[name].mean(("chain", "draw")) - b[name].mean(("chain", "draw"))
        # 4 combined Monte Carlo standard errors: a wrong posterior (or a wrong data copy)
        # fails it; two correct samplers pass with probability > 0.999 per coordinate
        assert np.all(np.abs(diff) < 4.0 * mcse), (name, diff.values, mcse.values)


def test_scipy_openblas_flags_compile_and_run():
    """The flags link a ddot_ call to scipy's OpenBLAS (PyTensor's own BLAS probe program)."""
    import shlex

    from pytensor.link.c.cmodule import try_blas_flag

    from bayesreg._blas import _user_set_blas_flags, scipy_openblas_ldflags

    flags = scipy_openblas_ldflags()
    if not flags:
        pytest.skip("this scipy wheel ships no OpenBLAS")
    assert "-Ddgemm_=scipy_dgemm_" in flags and "-Dddot_=scipy_ddot_" in flags
    assert try_blas_flag(shlex.split(flags)) == flags
    with mock.patch.dict("os.environ", {"PYTENSOR_FLAGS": "blas__ldflags=-lblas"}):
        assert _user_set_blas_flags()


# ---------------------------------------------------------------------------------------------
# the sampling graph (sufficient statistics) and the default backend
# ---------------------------------------------------------------------------------------------
def _sampling_cases(d):
    X, y = d.X, d.y
    return [
        ("laplace, sigma estimated", RegressionModel(X, y, Laplace(0.3))),
        (
            "gaussian, known sigma, no intercept",
            RegressionModel(X, y, Gaussian(0.5), GaussianLikelihood(sigma=1.0), False),
        ),
        (
            "gaussian scale_by_sigma, y far from 0",
            RegressionModel(X, np.asarray(y) + 1e4, Gaussian(0.5, scale_by_sigma=True)),
        ),
        ("p >= n: the model's own graph", RegressionModel(X[:6], y[:6], Laplace(0.3))),
    ]


def test_sampling_logp_equals_model_logp(sparse_regression, sparse_classification, rng):
    """The sufficient-statistics log posterior and gradient == the model's, at random points."""
    cases = _sampling_cases(sparse_regression)
    d = sparse_classification
    cases.append(("bernoulli", RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())))
    for label, m in cases:
        assert m.uses_sufficient_statistics == (label.startswith(("laplace", "gaussian"))), label
        ref, fast = m.logp_dlogp_function(), m.sampling_logp_dlogp_function()
        for _ in range(5):
            theta = m.initial_point() + rng.normal(scale=0.5, size=m.layout.size)
            if "y far" in label:
                theta[m.layout.slices["intercept"]] += 1e4
            v_ref, g_ref = ref(theta)
            v, g = fast(theta)
            # Same quantity, two float64 evaluation orders: the anchored form's rounding error
            # is ~1e-16 of the SSE/sigma^2 terms (|logp| <= ~1e5 here), so 1e-10 relative is
            # tight yet far above rounding; an unanchored y'y - 2w'X'y + w'X'Xw with y ~ 1e4
            # loses ~1e-16 * y'y / sigma^2 ~ 1e-3 absolute and would fail the y-far case.
            np.testing.assert_allclose(v, v_ref, rtol=1e-10, atol=1e-9, err_msg=label)
            np.testing.assert_allclose(
                g, g_ref, rtol=1e-9, atol=1e-10 * np.abs(g_ref).max(), err_msg=label
            )


def test_sampling_graph_follows_prior_scale(sparse_regression, rng):
    m = RegressionModel(sparse_regression.X, sparse_regression.y, Laplace(0.3))
    ref, fast = m.logp_dlogp_function(), m.sampling_logp_dlogp_function()
    theta = m.initial_point() + rng.normal(scale=0.5, size=m.layout.size)
    before = fast(theta)[0]
    m.set_prior_scale(0.05)
    # the compiled function reads the shared prior scale: no rebuild, new value
    assert fast is m.sampling_logp_dlogp_function()
    assert fast(theta)[0] != before
    np.testing.assert_allclose(fast(theta)[0], ref(theta)[0], rtol=1e-10)


def test_auto_backend_resolution(known_sigma_model):
    from bayesreg import sampling

    pytest.importorskip("nutpie")
    assert sampling._nutpie_accepts({"cores": 1, "target_accept": 0.9, "max_treedepth": 8})
    # a pm.sample-only option sends "auto" to PyMC, which understands it
    assert not sampling._nutpie_accepts({"initvals": {}})
    kw = dict(draws=20, tune=20, chains=1, random_seed=0, progressbar=False)
    with mock.patch.object(sampling.resolve, "_has", return_value=False):
        idata = sample_posterior(known_sigma_model, **kw)
    assert idata.posterior.attrs["backend"] == "pymc"
    with pytest.raises(ValueError, match=r"'cuda' is not a supported nutpie backend"):
        sample_posterior(known_sigma_model, backend="nutpie", nutpie_backend="cuda", **kw)
    # tune=0 (no adaptation, e.g. to show a failing run) goes to PyMC: nutpie needs tune >= 1
    untuned = sample_posterior(known_sigma_model, **{**kw, "tune": 0})
    assert untuned.posterior.attrs["backend"] == "pymc"


@pytest.mark.slow
def test_default_backend_matches_conjugate_and_compiles_once(known_sigma_model):
    """nutpie's NUTS on the C-compiled sampling graph (the default for models the static
    kernels of tests/test_fast_sampling.py do not cover), checked like NUTS above."""
    pytest.importorskip("nutpie")
    import pytensor

    from bayesreg.sampling import _model_cache

    m = known_sigma_model
    kw = dict(draws=1000, tune=500, chains=2, random_seed=9, progressbar=False)
    kw.update(backend="nutpie", nutpie_backend="pytensor")
    idata = sample_posterior(m, **kw)
    assert idata.posterior.attrs["backend"] == "nutpie"
    assert idata.posterior.attrs["nutpie_backend"] == "pytensor"
    _check_against_exact(idata, m)
    assert list(idata.posterior["feature"].values) == m.feature_names
    assert {"diverging", "energy", "tree_depth", "reached_max_treedepth"} <= set(
        idata.sample_stats.data_vars
    )
    assert idata.log_likelihood["y_obs"].shape == (2, 1000, m.n)
    compiled = _model_cache(m)[("nutpie", "pytensor")]
    # a new prior scale and a second call compile nothing: the graph reads the shared scale
    m.set_prior_scale(0.01)
    try:
        with mock.patch.object(pytensor, "function", side_effect=AssertionError("recompiled")):
            tight = sample_posterior(m, **kw)
    finally:
        m.set_prior_scale(0.5)
    assert _model_cache(m)[("nutpie", "pytensor")] is compiled
    assert tight.posterior.attrs["compile_time"] == 0.0
    assert np.abs(tight.posterior["w"].mean(("chain", "draw"))).max() < 0.05
    again = sample_posterior(m, **kw)
    np.testing.assert_array_equal(idata.posterior["w"].values, again.posterior["w"].values)


@pytest.mark.slow
def test_default_backend_estimates_sigma(sparse_regression):
    """sigma estimated (log-transformed): the expansion returns sigma > 0 that fits the noise."""
    pytest.importorskip("nutpie")
    d = sparse_regression
    m = RegressionModel(d.X, d.y, Gaussian(1.0))
    idata = sample_posterior(m, draws=300, tune=300, chains=2, random_seed=4, progressbar=False)
    sigma = idata.posterior["sigma"].values
    assert sigma.shape == (2, 300) and np.all(sigma > 0)
    # noise sd 1 (the fixture); n = 100 gives sigma's posterior sd ~ 0.07
    assert abs(float(sigma.mean()) - 1.0) < 0.3
    assert set(idata.posterior.data_vars) == {"w", "intercept", "sigma"}


def test_expander_general_branch_matches_pymc(sparse_regression, rng):
    """Deterministics (a non-centred w) go through the model's own graph."""
    from bayesreg import priors

    if not hasattr(priors, "Horseshoe"):
        pytest.skip("no prior with a deterministic w in this tree")
    d = sparse_regression
    m = RegressionModel(d.X, d.y, priors.Horseshoe.from_expected_nonzeros(3, d.X.shape[1], 100))
    ex = model_target(m).expansion()
    expand, names, shapes = ex.expand, ex.names, ex.shapes
    theta = m.initial_point() + rng.normal(scale=0.3, size=m.layout.size)
    out = expand(theta)
    pm_model = m.pymc_model
    point = m.layout.unpack(theta)
    # PyMC's own trace expansion: value variables -> free variables and deterministics
    recorded = {v.name: v for v in pm_model.unobserved_value_vars}
    ref = pm_model.compile_fn(
        [recorded[n] for n in names],
        inputs=pm_model.value_vars,
        point_fn=True,
        on_unused_input="ignore",
    )(point)
    for name, shape, r in zip(names, shapes, ref, strict=True):
        assert out[name].shape == shape == np.shape(r)
        np.testing.assert_allclose(out[name], r, rtol=1e-12, err_msg=name)


# ---------------------------------------------------------------------------------------------
# BLAS linking: opt-out and the cached probe
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def fresh_blas(monkeypatch, tmp_path):
    """bayesreg._blas with no link done, a temp verdict file and no global side effect."""
    from bayesreg import _blas

    if not _blas.scipy_openblas_ldflags():
        pytest.skip("this scipy wheel ships no OpenBLAS")
    monkeypatch.setattr(_blas, "_linked", None)
    monkeypatch.setattr(_blas, "_probe_path", lambda: str(tmp_path / "probe.json"))
    monkeypatch.setattr(_blas, "_user_set_blas_flags", lambda: False)
    monkeypatch.delenv("BAYESREG_NO_BLAS", raising=False)
    set_to = []
    monkeypatch.setattr(_blas, "_set_flags", set_to.append)
    probes = []

    def probe(flags):
        probes.append(flags)
        return True

    monkeypatch.setattr(_blas, "_probe", probe)
    return _blas, probes, set_to, tmp_path / "probe.json"


def test_blas_opt_out(fresh_blas, monkeypatch):
    blas, probes, set_to, _ = fresh_blas
    for value in ("1", "true", "YES"):
        monkeypatch.setenv("BAYESREG_NO_BLAS", value)
        assert blas.configure_blas() is False
    assert probes == [] and set_to == []
    monkeypatch.setenv("BAYESREG_NO_BLAS", "0")  # "0" means: do link
    assert blas.configure_blas() is True


def test_blas_probe_verdict_is_cached(fresh_blas, monkeypatch):
    import pytensor

    blas, probes, set_to, path = fresh_blas
    assert blas.configure_blas() is True
    assert len(probes) == 1 and set_to == probes and blas.linked_blas_flags() == probes[0]
    verdicts = json.loads(path.read_text())
    assert list(verdicts.values()) == [True]
    # a new process (no link yet) reads the verdict instead of compiling the probe
    monkeypatch.setattr(blas, "_linked", None)
    assert blas.configure_blas() is True and len(probes) == 1
    # use_cache=False probes again; a new PyTensor version is a new key, so it probes too
    monkeypatch.setattr(blas, "_linked", None)
    assert blas.configure_blas(use_cache=False) is True and len(probes) == 2
    monkeypatch.setattr(blas, "_linked", None)
    monkeypatch.setattr(pytensor, "__version__", "0.0.test")
    assert blas.configure_blas() is True and len(probes) == 3
    assert len(json.loads(path.read_text())) == 2
    # a cached failure is believed: no probe, no flags
    key = blas._probe_key(probes[0])
    path.write_text(json.dumps({key: False}))
    monkeypatch.setattr(blas, "_linked", None)
    n_set = len(set_to)
    assert blas.configure_blas() is False and len(probes) == 3 and len(set_to) == n_set


def test_blas_respects_user_flags(fresh_blas, monkeypatch):
    blas, _probes, set_to, _ = fresh_blas
    monkeypatch.setattr(blas, "_user_set_blas_flags", lambda: True)
    assert blas.configure_blas() is False and set_to == []
    assert blas.configure_blas(force=True) is True and len(set_to) == 1
