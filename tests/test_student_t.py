"""StudentTLikelihood through every consumer, with no code of its own outside likelihoods.py.

The architecture issue's proof that a likelihood is one class: its MAP (Gaussian and Laplace
priors, sigma known and estimated) equals a tight generic optimizer's argmin of the same
objective, NUTS samples it on the graph backends, verify runs the rows that apply and says why
the others do not, the estimators take it by name, and on data with gross outliers it is
closer to the truth than the Gaussian likelihood.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from bayesreg import (
    BayesianLinearRegression,
    Gaussian,
    GaussianLikelihood,
    Laplace,
    RegressionModel,
    map_estimate,
    sample_posterior,
    verify,
)
from bayesreg.likelihoods import StudentTLikelihood

TRUE_W = np.array([2.0, -1.0, 0.0, 0.5])


@pytest.fixture(scope="module")
def outliers():
    """n = 200, 5% gross outliers (+-20 sd) in y."""
    rng = np.random.default_rng(12)
    X = rng.normal(size=(200, 4))
    y = X @ TRUE_W + 1.0 + 0.5 * rng.normal(size=200)
    bad = rng.choice(200, size=10, replace=False)
    y[bad] += rng.choice([-1.0, 1.0], size=10) * 10.0
    return X, y


def _objective(lik, prior, X, y, sigma_prior=None):
    """-log posterior in (w, b[, log sigma]) written with scipy.stats only (no bayesreg)."""

    def f(theta):
        w, b = theta[:4], theta[4]
        if sigma_prior is None:
            sigma, extra = lik.sigma, 0.0
        else:
            sigma = np.exp(theta[5])
            extra = -stats.halfnorm.logpdf(sigma, scale=sigma_prior)
        ll = stats.t.logpdf(y, df=lik.nu, loc=X @ w + b, scale=sigma).sum()
        return -ll + prior.penalty(w) + extra

    return f


@pytest.mark.parametrize("sigma", [0.5, None], ids=["sigma known", "sigma estimated"])
def test_map_with_a_gaussian_prior_is_the_generic_argmin(outliers, sigma):
    X, y = outliers
    lik = StudentTLikelihood(nu=4.0, sigma=sigma)
    prior = Gaussian(2.0)
    fit = map_estimate(RegressionModel(X, y, prior, lik))
    s = None if sigma is not None else lik.resolved_sigma_prior_scale(y)
    x0 = (
        np.r_[fit.coef, fit.intercept] if sigma is not None else np.r_[fit.coef, fit.intercept, 0.0]
    )
    ref = optimize.minimize(_objective(lik, prior, X, y, s), x0 * 0 + 0.1, method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 10_000})  # fmt: skip
    assert fit.converged
    # BFGS at gtol 1e-10 on a problem with curvature ~ n: arguments agree to ~1e-9
    np.testing.assert_allclose(fit.coef, ref.x[:4], rtol=1e-6, atol=1e-7)
    assert fit.intercept == pytest.approx(ref.x[4], abs=1e-7)
    if sigma is None:
        assert fit.sigma == pytest.approx(np.exp(ref.x[5]), rel=1e-6)


def test_map_with_a_laplace_prior_is_the_generic_argmin(outliers):
    """The L1 penalty made smooth by the split w = u - v, u, v >= 0 (L-BFGS-B with bounds):
    exact zeros at the bound, the same minimizer."""
    X, y = outliers
    lik, prior = StudentTLikelihood(nu=4.0, sigma=0.5), Laplace(0.05)
    fit = map_estimate(RegressionModel(X, y, prior, lik))

    def split(x):
        u, v, b = x[:4], x[4:8], x[8]
        r = y - X @ (u - v) - b
        val = lik.loss(X @ (u - v) + b, y, 0.5) + (u + v).sum() / prior.scale
        g_eta = lik.loss_grad(X @ (u - v) + b, y, 0.5)
        gw = X.T @ g_eta
        return val, np.r_[gw + 1 / prior.scale, -gw + 1 / prior.scale, g_eta.sum()] + 0 * r[0]

    x0 = np.r_[np.zeros(8), np.median(y)]
    bounds = [(0, None)] * 8 + [(None, None)]
    ref = optimize.minimize(split, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 0, "gtol": 1e-12, "maxiter": 50_000})  # fmt: skip
    w_ref = ref.x[:4] - ref.x[4:8]
    assert fit.converged
    np.testing.assert_allclose(fit.coef, w_ref, atol=1e-6)  # L-BFGS-B's projected-gradient tol
    assert np.array_equal(fit.coef == 0, np.abs(w_ref) < 1e-7)


def test_robust_to_gross_outliers(outliers):
    X, y = outliers
    err = {}
    for name, lik in {"t": StudentTLikelihood(nu=4.0), "gauss": GaussianLikelihood()}.items():
        fit = map_estimate(RegressionModel(X, y, Gaussian(10.0), lik))
        err[name] = float(np.linalg.norm(fit.coef - TRUE_W))
    # 10 points moved by 20 noise sd: least squares is pulled (~0.1 here), Student-t is not
    assert err["t"] < 0.5 * err["gauss"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["auto", "pymc"])
def test_nuts_samples_it_on_the_graph_backends(outliers, backend):
    X, y = outliers
    model = RegressionModel(X, y, Gaussian(2.0), StudentTLikelihood(nu=4.0))
    idata = sample_posterior(model, draws=400, tune=400, chains=2, random_seed=5, backend=backend)
    assert idata.posterior.attrs["likelihood"] == repr(model.likelihood)
    mean = idata.posterior["w"].mean(("chain", "draw")).values
    sd = idata.posterior["w"].std(("chain", "draw")).values
    # the posterior mean sits within a few posterior sd of the truth (n = 200, robust noise)
    np.testing.assert_array_less(np.abs(mean - TRUE_W), 4 * sd)
    assert idata.log_likelihood["y_obs"].shape == (2, 400, 200)


def test_verify_runs_the_rows_that_apply(outliers):
    X, y = outliers
    model = RegressionModel(X, y, Gaussian(2.0), StudentTLikelihood(nu=4.0, sigma=0.5))
    report = verify(model, include_find_map=False)
    assert report.passed, str(report)
    ran = {r.method for r in report.rows}
    assert {"GD weight_decay", "GD ista", "GD fista"} <= ran
    # no scikit-learn twin and not quadratic: said, not run
    assert "scikit-learn" in report.not_applicable
    assert "sklearn_loss" in report.not_applicable["scikit-learn"]
    assert "quadratic" in report.not_applicable["closed form"]


def test_estimators_take_it_by_name(outliers):
    X, y = outliers
    est = BayesianLinearRegression(likelihood="student_t", prior_scale=10.0).fit(X, y)
    direct = map_estimate(RegressionModel(X, y, Gaussian(10.0), StudentTLikelihood()))
    np.testing.assert_allclose(est.coef_, direct.coef, rtol=1e-8)
