"""Per-coefficient prior scales: ``Gaussian(scale=vector)``, ``Laplace(scale=vector)`` and
``ElasticNet(scale=vector)`` everywhere one scale works (issue 13, item 1).

Every check is against an independent reference: scipy's densities, finite differences, the
normal equations, scikit-learn on rescaled columns, a generic optimizer, the exact conjugate
posterior.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.linear_model import Lasso

import bayesreg as br
from bayesreg import _fastlogp
from bayesreg.conventions import penalty_to_prior, prior_to_penalty
from bayesreg.diagnostics import ess_bulk
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import ElasticNet, Gaussian, Horseshoe, Laplace
from bayesreg.sampling.exact import conjugate_posterior
from bayesreg.solvers.descent import gradient_descent

SCALES = np.array([0.3, 1.0, 2.0, 5.0, 0.05])
SIGMA = 1.3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, p = 80, 5
    X = rng.normal(size=(n, p)) * [1.0, 2.0, 0.5, 1.0, 3.0] + 0.4
    w = np.array([1.0, -2.0, 0.0, 0.5, 0.0])
    y = X @ w + 0.7 + SIGMA * rng.normal(size=n)
    yb = (X @ w + rng.logistic(size=n) > 0).astype(float)
    return X, y, yb


# -- the priors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prior", "reference"),
    [
        (Gaussian(SCALES), stats.norm(0.0, SCALES)),
        (Laplace(SCALES), stats.laplace(0.0, SCALES)),
    ],
    ids=["gaussian", "laplace"],
)
def test_logpdf_is_scipys_sum_of_per_coefficient_densities(prior, reference):
    w = np.array([0.3, -1.2, 2.5, 0.0, 0.04])
    assert prior.logpdf(w) == pytest.approx(reference.logpdf(w).sum(), rel=1e-13)


@pytest.mark.parametrize(
    "prior",
    [Gaussian(SCALES), Laplace(SCALES), ElasticNet(SCALES, 0.3)],
    ids=["gaussian", "laplace", "elasticnet"],
)
def test_vector_prior_is_the_product_of_scalar_priors(prior):
    """logpdf, penalty, its gradient and the prox coordinate by coordinate (the scalar priors
    are tested against scipy and generic optimizers in test_priors.py)."""
    w = np.array([0.3, -1.2, 2.5, -0.7, 0.04])
    singles = [prior.with_scale(float(s)) for s in SCALES]
    logpdf = sum(q.logpdf(w[[j]]) for j, q in enumerate(singles))
    assert prior.logpdf(w) == pytest.approx(logpdf, rel=1e-13)
    assert prior.penalty(w) == pytest.approx(sum(q.penalty(w[[j]]) for j, q in enumerate(singles)))
    grad = np.concatenate([q.penalty_grad(w[[j]]) for j, q in enumerate(singles)])
    np.testing.assert_allclose(prior.penalty_grad(w), grad, rtol=1e-14)
    prox = np.concatenate([q.prox(w[[j]], 0.4) for j, q in enumerate(singles)])
    np.testing.assert_allclose(prior.prox(w, 0.4), prox, rtol=1e-14)
    # the penalty's gradient by central differences where it is smooth (no w_j at 0)
    h = 1e-6
    fd = [(prior.penalty(w + h * e) - prior.penalty(w - h * e)) / (2 * h) for e in np.eye(5)]
    np.testing.assert_allclose(prior.penalty_grad(w), fd, rtol=1e-7)


def test_scale_validation_and_no_live_reference():
    given = SCALES.copy()
    prior = Gaussian(given)
    given[0] = 100.0  # the caller's array changes; the prior does not
    assert prior.scale[0] == 0.3 and not prior.scale.flags.writeable
    assert Gaussian(SCALES) == Gaussian(SCALES.copy()) != Gaussian(0.3)
    assert hash(Gaussian(SCALES)) == hash(Gaussian(SCALES.copy()))
    with pytest.raises(ValueError, match=r"'scale' parameter of Gaussian.*-1.0 at index 1"):
        Gaussian([1.0, -1.0])
    with pytest.raises(ValueError, match=r"'scale' parameter of Laplace.*1-D"):
        Laplace(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Horseshoe must be one float.*offered by"):
        Horseshoe(SCALES)
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"has 5 entries .* X has 3 coefficients"):
        RegressionModel(X, X[:, 0], Gaussian(SCALES))


# -- MAP ----------------------------------------------------------------------------------------
def _ridge_reference(X, y, tau, sigma):
    """Normal equations on centred data: (Xc'Xc + diag(sigma^2 / tau^2)) w = Xc'yc."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + np.diag(sigma**2 / tau**2), Xc.T @ yc)
    return w, y.mean() - X.mean(axis=0) @ w


@pytest.mark.parametrize(
    ("method", "evaluator"),
    [("auto", "graph"), ("auto", "numpy"), ("lbfgs", "numpy"), ("closed_form", "numpy"),
     ("fista", "numpy")],
)  # fmt: skip
def test_gaussian_vector_map_is_the_per_feature_ridge(data, method, evaluator):
    X, y, _ = data
    model = RegressionModel(X, y, Gaussian(SCALES), GaussianLikelihood(sigma=SIGMA))
    est = br.map_estimate(model, method=method, evaluator=evaluator)
    w, b = _ridge_reference(X, y, SCALES, SIGMA)
    # the KKT tolerance 1e-10 (relative) bounds the error far below 1e-9 on this
    # well-conditioned problem (measured ~1e-15)
    np.testing.assert_allclose(est.coef, w, atol=1e-9)
    assert est.intercept == pytest.approx(b, abs=1e-9)


def test_gaussian_vector_scale_by_sigma_map_with_estimated_sigma(data):
    """tau_j = s_j sigma: the w-block minimizer does not depend on sigma (ridge with
    alpha_j = 1 / s_j^2), and sigma solves its own stationarity equation."""
    X, y, _ = data
    est = br.map_estimate(RegressionModel(X, y, Gaussian(SCALES, scale_by_sigma=True)))
    w, _ = _ridge_reference(X, y, SCALES, 1.0)
    np.testing.assert_allclose(est.coef, w, atol=1e-8)
    assert est.converged and est.sigma > 0


@pytest.mark.parametrize("evaluator", ["numpy", "graph"])
def test_laplace_vector_map_is_lasso_on_rescaled_columns(data, evaluator):
    """sum_j |w_j| / b_j with w_j = b_j v_j is sum_j |v_j|: Lasso on X * b (zeros included)."""
    X, y, _ = data
    b = np.array([0.3, 1.0, 0.004, 5.0, 0.01])  # small scales on 2 and 4 force exact zeros
    est = br.map_estimate(
        RegressionModel(X, y, Laplace(b), GaussianLikelihood(sigma=SIGMA)), evaluator=evaluator
    )
    n = X.shape[0]
    lasso = Lasso(alpha=SIGMA**2 / n, tol=1e-14, max_iter=1_000_000).fit(X * b, y)
    w_ref = lasso.coef_ * b
    assert np.sum(w_ref == 0) >= 1
    np.testing.assert_array_equal(est.coef == 0, w_ref == 0)
    np.testing.assert_allclose(est.coef, w_ref, atol=1e-9)  # both solvers at tol 1e-10..1e-14


@pytest.mark.parametrize("prior", [Gaussian(SCALES), Laplace(SCALES)], ids=["gaussian", "laplace"])
def test_logistic_vector_map_against_a_generic_optimizer(data, prior):
    """L-BFGS-B on the split form w = u - v (u, v >= 0), which is smooth for the L1 part."""
    X, _, yb = data
    est = br.map_estimate(RegressionModel(X, yb, prior, BernoulliLikelihood()))
    p = X.shape[1]
    a, c = (np.broadcast_to(v, (p,)) for v in prior.elastic_coefs(1.0))

    def fg(theta):
        u, v, b0 = theta[:p], theta[p : 2 * p], theta[-1]
        w = u - v
        eta = X @ w + b0
        prob = 1.0 / (1.0 + np.exp(-eta))
        f = np.sum(np.logaddexp(0.0, eta) - yb * eta) + a @ (u + v) + 0.5 * c @ w**2
        r = prob - yb
        gw = X.T @ r + c * w
        return f, np.concatenate([gw + a, -gw + a, [r.sum()]])

    bounds = [(0, None)] * (2 * p) + [(None, None)]
    res = optimize.minimize(
        fg, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 100000},
    )  # fmt: skip
    w_ref = res.x[:p] - res.x[p : 2 * p]
    # L-BFGS-B's projected-gradient tolerance 1e-12 on a problem with curvature ~1..30 gives
    # coefficients to ~1e-7 (measured 1e-9)
    np.testing.assert_allclose(est.coef, w_ref, atol=1e-6)
    assert est.intercept == pytest.approx(res.x[-1], abs=1e-6)


def test_weight_decay_descent_reaches_the_per_feature_map(data):
    X, y, _ = data
    model = RegressionModel(X, y, Gaussian(SCALES), GaussianLikelihood(sigma=SIGMA))
    res = gradient_descent(model, method="weight_decay", max_iter=200000, tol=1e-9)
    w, _ = _ridge_reference(X, y, SCALES, SIGMA)
    assert res.converged
    np.testing.assert_allclose(res.coef, w, atol=1e-6)  # KKT 1e-9 relative


# -- conventions and verify ----------------------------------------------------------------------
def test_conventions_round_trip_per_coefficient_strengths():
    lam = np.array([0.5, 2.0, 8.0])
    for conv, cls in [("sklearn_ridge", Gaussian), ("sklearn_lasso", Laplace)]:
        prior = penalty_to_prior(conv, lam, sigma=2.0, n=50)
        assert isinstance(prior, cls) and prior.scale.shape == (3,)
        np.testing.assert_allclose(prior_to_penalty(prior, conv, sigma=2.0, n=50), lam, rtol=1e-14)
    # ridge: tau_j = sigma / sqrt(alpha_j)
    np.testing.assert_allclose(
        penalty_to_prior("sklearn_ridge", lam, sigma=2.0).scale, 2 / lam**0.5
    )


@pytest.mark.parametrize("prior", [Gaussian(SCALES), Laplace(SCALES)], ids=["gaussian", "laplace"])
def test_verify_rows_agree_with_per_coefficient_scales(data, prior):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = br.verify(
            RegressionModel(X, y, prior, GaussianLikelihood(sigma=SIGMA)),
            rows=("map_alt", "closed_form", "sklearn", "fista"),
        )
    names = [r.method for r in report.rows]
    assert any(name.startswith("sklearn") for name in names), names
    assert "scikit-learn" not in report.not_applicable
    assert report.passed
    assert all(r.agrees for r in report.rows if r.expected_to_agree)


def test_verify_says_why_sklearn_cannot_check_a_per_coefficient_elastic_net(data):
    X, y, _ = data
    report = br.verify(
        RegressionModel(X, y, ElasticNet(SCALES, 0.5), GaussianLikelihood(sigma=SIGMA)),
        rows=("sklearn",),
    )
    assert [r.note for r in report.rows] == ["the reference"]
    assert "one penalty strength" in report.not_applicable["scikit-learn"]


# -- sampling ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prior",
    [
        Gaussian(SCALES),
        Laplace(SCALES),
        ElasticNet(SCALES, 0.4),
        Gaussian(SCALES, scale_by_sigma=True),
    ],
    ids=["gaussian", "laplace", "elasticnet", "gaussian_sbs"],
)
@pytest.mark.parametrize("sigma", [None, SIGMA], ids=["sigma_estimated", "sigma_known"])
def test_static_kernel_equals_the_compiled_graph(data, prior, sigma):
    X, y, _ = data
    model = RegressionModel(X, y, prior, GaussianLikelihood(sigma=sigma))
    buf = _fastlogp.KernelData(model, model.layout.names).buffer()
    graph = model.logp_dlogp_function()
    rng = np.random.default_rng(1)
    for _ in range(3):
        theta = rng.normal(size=model.layout.size)
        lp, g = _fastlogp.logp_dlogp(theta, buf)
        lp_ref, g_ref = graph(theta)
        # PyTensor's erfcx (ElasticNet's normalizer) differs from scipy's by ~1e-9 absolute
        assert lp == pytest.approx(lp_ref, abs=1e-7)
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-10)


def test_bernoulli_kernel_with_per_coefficient_scales(data):
    X, _, yb = data
    model = RegressionModel(X, yb, Laplace(SCALES), BernoulliLikelihood())
    buf = _fastlogp.KernelData(model, model.layout.names).buffer()
    theta = np.random.default_rng(2).normal(size=model.layout.size)
    lp, g = _fastlogp.logp_dlogp(theta, buf)
    lp_ref, g_ref = model.logp_dlogp_function()(theta)
    assert lp == pytest.approx(lp_ref, rel=1e-12)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-10)


def test_exact_posterior_with_per_coefficient_scales(data):
    """The conjugate posterior: precision X'X / sigma^2 + diag(1 / tau_j^2), flat intercept."""
    X, y, _ = data
    post = conjugate_posterior(
        RegressionModel(X, y, Gaussian(SCALES), GaussianLikelihood(sigma=SIGMA))
    )
    Z = np.column_stack([X, np.ones(len(y))])
    A = Z.T @ Z / SIGMA**2 + np.diag(np.append(1.0 / SCALES**2, 0.0))
    np.testing.assert_allclose(post.mean, np.linalg.solve(A, Z.T @ y / SIGMA**2), rtol=1e-10)


def test_nuts_kernel_matches_the_exact_posterior_and_rescaling_never_recompiles(data):
    X, y, _ = data
    model = RegressionModel(X, y, Gaussian(SCALES), GaussianLikelihood(sigma=SIGMA))
    idata = br.sample_posterior(
        model, draws=1000, tune=500, chains=2, random_seed=3, progressbar=False
    )
    exact = conjugate_posterior(model)
    w = idata.posterior["w"].values.reshape(-1, 5)
    sd = np.sqrt(np.diag(exact.cov(SIGMA))[:5])
    se = sd / np.sqrt(ess_bulk(idata.posterior["w"].values).min())
    # means within 4 Monte Carlo standard errors (the ESS-based se of each coefficient)
    assert np.all(np.abs(w.mean(axis=0) - exact.mean[:5]) < 4 * se)
    np.testing.assert_allclose(w.std(axis=0), sd, rtol=0.1)  # sd of an sd estimate ~ 1/sqrt(2 ESS)
    np.testing.assert_array_equal(idata.constant_data["prior_scale"].values, SCALES)
    assert idata.constant_data["prior_scale"].dims == ("feature",)
    assert idata.posterior.attrs["prior_scale"] == SCALES.tolist()
    # a new vector of scales: the same graph (shape (p,)), no rebuild
    pm_model = model.pymc_model
    model.set_prior_scale(SCALES * 2)
    assert model.pymc_model is pm_model
    np.testing.assert_array_equal(pm_model["prior_scale"].get_value(), SCALES * 2)
    other = model.with_prior_scale(SCALES / 2)
    assert other.pymc_model is pm_model
    np.testing.assert_array_equal(pm_model["prior_scale"].get_value(), SCALES / 2)
    with pytest.raises(ValueError, match=r"'prior_scale'.*shape of the model's prior scale"):
        model.with_prior_scale(1.0)


# -- dropout = a per-coefficient Gaussian prior --------------------------------------------------
@pytest.mark.parametrize("sigma", [None, 0.7], ids=["scaled_by_sigma", "fixed_sigma"])
@pytest.mark.parametrize("lik_sigma", [None, 0.7], ids=["sigma_estimated", "sigma_known"])
def test_map_of_the_dropout_prior_is_the_dropout_solution(data, sigma, lik_sigma):
    """``map_estimate(RegressionModel(X, y, dropout_prior(X, q)))`` = ``dropout_map`` (the
    minimizer of E_masks[SSE], tested against all 2^p masks in test_regularizers.py)."""
    X, y, _ = data
    if sigma is not None and lik_sigma is None:
        pytest.skip("a fixed-sigma prior with an estimated sigma is a different model")
    q = 0.3
    est = br.map_estimate(
        RegressionModel(
            X, y, br.dropout_prior(X, q, sigma=sigma), GaussianLikelihood(sigma=lik_sigma)
        )
    )
    w, b = br.dropout_map(X, y, q)
    np.testing.assert_allclose(est.coef, w, atol=1e-9)
    assert est.intercept == pytest.approx(b, abs=1e-9)


def test_dropout_prior_scales_and_errors(data):
    X, _, _ = data
    q = 0.25
    prior = br.dropout_prior(X, q, sigma=2.0)
    # 1 / tau_j^2 = q ||x_j||^2 / ((1 - q) sigma^2), with the uncentred columns
    np.testing.assert_allclose(1 / prior.scale**2, q * np.sum(X**2, axis=0) / (0.75 * 4.0))
    assert br.dropout_prior(X, q).scale_by_sigma
    with pytest.raises(ValueError, match="rate=0 penalizes nothing"):
        br.dropout_prior(X, 0.0)
    X0 = X.copy()
    X0[:, 2] = 0.0
    with pytest.raises(ValueError, match="column 2 of X is all zeros"):
        br.dropout_prior(X0, q)
    with pytest.raises(ValueError, match="'rate' parameter of dropout_prior"):
        br.dropout_prior(X, 1.0)
