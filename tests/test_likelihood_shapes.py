"""Estimated likelihood shape parameters: ``StudentTLikelihood(nu=None)`` and
``NegativeBinomialLikelihood(alpha=None)`` through every consumer.

References written with scipy.stats only: the model graph's log posterior at a point (the
Gamma priors and the log-Jacobians included), the numpy pointwise log-likelihood at each
draw's nu / alpha (InferenceData assembly), the predictive draws' per-draw spread, NUTS against
a 1-D quadrature of the exact posterior of nu / alpha on a tiny problem where the prior matters
(eta is fixed at 0 by a design column of 1e-8), and (slow tier) recovery of a known nu / alpha
from n = 2000 simulated observations. The joint MAP over nu equals BFGS on the whole
objective; the negative binomial's (undefined) joint MAP, the static kernels, the estimators'
MAP and the network model refuse them by the capability they lack.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, optimize, stats

from bayesreg import BayesianLinearRegression, Gaussian, RegressionModel, map_estimate
from bayesreg.likelihoods import (
    NegativeBinomialLikelihood,
    ShapeParameter,
    StudentTLikelihood,
    likelihood_from_name,
)
from bayesreg.sampling.idata import pointwise_loglik
from bayesreg.sampling.predictive import posterior_predictive


def _t_logpdf(y, eta, sigma, nu):
    return stats.t.logpdf(y, df=nu, loc=eta, scale=sigma)


def _nb_logpmf(y, eta, sigma, alpha):
    r = 1.0 / alpha
    return stats.nbinom.logpmf(y, r, r / (r + np.exp(eta)))


# one row per estimated-shape likelihood: (likelihood, parameter, a value, its scipy density,
# y drawn at eta, sigma, value, the Gamma prior (shape, rate) in scipy's terms written out)
SHAPE_ROWS = [
    (
        StudentTLikelihood(nu=None, sigma=0.7),
        "nu", 5.0, _t_logpdf,
        lambda rng, eta: eta + 0.7 * rng.standard_t(5.0, size=eta.shape),
        (2.0, 0.1),
    ),
    (
        StudentTLikelihood(nu=None, nu_prior_rate=0.3),
        "nu", 2.5, _t_logpdf,
        lambda rng, eta: eta + 0.7 * rng.standard_t(2.5, size=eta.shape),
        (2.0, 0.3),
    ),
    (
        NegativeBinomialLikelihood(alpha=None),
        "alpha", 0.7, _nb_logpmf,
        lambda rng, eta: rng.negative_binomial(1 / 0.7, 1 / (1 + 0.7 * np.exp(eta))).astype(float),
        (0.5, 0.5),  # sqrt(alpha) ~ HalfNormal(1): alpha ~ chi^2_1 = Gamma(1/2, rate 1/2)
    ),
    (
        NegativeBinomialLikelihood(alpha=None, alpha_prior_scale=0.5),
        "alpha", 0.3, _nb_logpmf,
        lambda rng, eta: rng.negative_binomial(1 / 0.3, 1 / (1 + 0.3 * np.exp(eta))).astype(float),
        (0.5, 2.0),  # sqrt(alpha) ~ HalfNormal(0.5): Gamma(1/2, rate 1 / (2 * 0.25))
    ),
]  # fmt: skip
IDS = [repr(row[0]) for row in SHAPE_ROWS]


def test_prior_half_normal_on_sqrt_alpha_is_the_declared_gamma():
    """The NB prior is stated as sqrt(alpha) ~ HalfNormal(s); the graph uses its Gamma form:
    the change of variables written out, p(alpha) = halfnorm(sqrt(alpha); s) / (2 sqrt(alpha))."""
    alpha = np.array([1e-4, 0.05, 0.7, 3.0, 12.0])
    for s in (1.0, 0.5, 3.0):
        prior = NegativeBinomialLikelihood(alpha=None, alpha_prior_scale=s).estimated_shapes[0]
        ref = stats.halfnorm.logpdf(np.sqrt(alpha), scale=s) - np.log(2 * np.sqrt(alpha))
        np.testing.assert_allclose(prior.logpdf(alpha), ref, rtol=1e-12)
    nu = np.array([0.3, 2.0, 10.0, 80.0])
    prior = StudentTLikelihood(nu=None).estimated_shapes[0]
    assert prior == ShapeParameter("nu", 2.0, 0.1) and str(prior) == "nu ~ Gamma(2, 0.1)"
    np.testing.assert_allclose(prior.logpdf(nu), stats.gamma.logpdf(nu, 2.0, scale=10.0))


@pytest.mark.parametrize("row", SHAPE_ROWS, ids=IDS)
def test_graph_log_posterior_at_a_point_is_scipy_written_out(row, rng):
    lik, name, value, dens, draw_y, (a, b) = row
    n = 25
    X = rng.normal(size=(n, 2))
    w, b0 = np.array([0.4, -0.3]), 0.2
    y = draw_y(rng, X @ w + b0)
    model = RegressionModel(X, y, Gaussian(1.5), lik)
    assert f"{name}_log__" in model.layout.names
    sigma = 0.9 if lik.estimates_sigma else (lik.fixed_sigma or 1.0)
    theta = model.theta_from_params(w, b0, sigma if lik.estimates_sigma else None, **{name: value})
    assert model.params_from_theta(theta)[name] == pytest.approx(value, rel=1e-14)
    eta = X @ w + b0
    prior_w = stats.norm.logpdf(w, scale=1.5).sum()
    prior_shape = stats.gamma.logpdf(value, a, scale=1.0 / b)
    prior_sigma = 0.0
    if lik.estimates_sigma:
        prior_sigma = stats.halfnorm.logpdf(sigma, scale=lik.resolved_sigma_prior_scale(y))
    data = dens(y, eta, sigma, value).sum()
    # jacobian=False: the density of (w, b, sigma, nu) itself; with it, + log nu (+ log sigma)
    expected = data + prior_w + prior_shape + prior_sigma
    jac = np.log(value) + (np.log(sigma) if lik.estimates_sigma else 0.0)
    # PyMC's StudentT normalizing constant differs from scipy's by ~4e-9 per observation
    # (measured, see test_likelihoods): 1e-8 per observation
    tol = 1e-8 * n
    assert model.logp_function(jacobian=False)(theta) == pytest.approx(expected, abs=tol)
    assert model.logp_function()(theta) == pytest.approx(expected + jac, abs=tol)
    # the "other" term holds the shape parameter's prior (with sigma's; the intercept is flat).
    # PyTensor's gammaln(0.5) is measured 1.7e-8 off scipy's (a constant; the Gamma(1/2, .)
    # prior's normalizer): 1e-7
    other = model.logp_function(["other"], jacobian=False)(theta)
    assert other == pytest.approx(prior_shape + prior_sigma, rel=1e-12, abs=1e-7)
    # and the sampling graph (what NUTS runs) is the same density
    assert model.sampling_logp_dlogp_function()(theta)[0] == pytest.approx(expected + jac, abs=tol)


def _fake_posterior(rng, model, name, values):
    c, d = values.shape
    coords = {"chain": np.arange(c), "draw": np.arange(d), "feature": model.feature_names}
    data = {
        "w": (("chain", "draw", "feature"), rng.normal(scale=0.3, size=(c, d, model.p))),
        "intercept": (("chain", "draw"), rng.normal(scale=0.2, size=(c, d))),
        name: (("chain", "draw"), values),
    }
    if model.likelihood.estimates_sigma:
        data["sigma"] = (("chain", "draw"), rng.uniform(0.5, 1.5, size=(c, d)))
    return xr.Dataset(data, coords=coords)


@pytest.mark.parametrize("row", SHAPE_ROWS, ids=IDS)
def test_pointwise_loglik_uses_each_draws_value(row, rng):
    """The InferenceData's log_likelihood (numpy, from the draws) at each draw's own nu /
    alpha equals scipy's density draw by draw."""
    lik, name, value, dens, draw_y, _ = row
    X = rng.normal(size=(30, 2))
    y = draw_y(rng, X @ np.array([0.4, -0.3]) + 0.2)
    model = RegressionModel(X, y, Gaussian(1.0), lik)
    values = value * np.exp(rng.normal(scale=0.8, size=(2, 5)))  # a spread of values
    post = _fake_posterior(rng, model, name, values)
    ll = pointwise_loglik(model, post)
    assert ll.shape == (2, 5, 30)
    for c in range(2):
        for d in range(5):
            p = post.isel(chain=c, draw=d)
            eta = X @ p["w"].values + float(p["intercept"])
            sigma = float(p["sigma"]) if "sigma" in p else lik.fixed_sigma or 1.0
            ref = dens(y, eta, sigma, float(p[name]))
            np.testing.assert_allclose(ll[c, d], ref, rtol=1e-10, atol=1e-12)


def test_predictive_draws_use_each_draws_alpha(rng):
    """Two posterior draws, alpha = 0.05 and 3 at mu = 5: the predictive variance of each
    draw's y (20 000 of them) is mu + alpha mu^2 = 6.25 and 80, not one shared value."""
    n = 20_000
    X = np.zeros((n, 1))
    y = rng.poisson(5.0, size=n).astype(float)
    model = RegressionModel(X, y, Gaussian(1.0), NegativeBinomialLikelihood(alpha=None))
    alphas = np.array([[0.05, 3.0]])
    post = xr.Dataset(
        {
            "w": (("chain", "draw", "feature"), np.zeros((1, 2, 1))),
            "intercept": (("chain", "draw"), np.full((1, 2), np.log(5.0))),
            "alpha": (("chain", "draw"), alphas),
        },
        coords={"chain": [0], "draw": [0, 1], "feature": model.feature_names},
    )
    from bayesreg import _arviz

    idata = _arviz.inference_data(posterior=post)
    draws = posterior_predictive(model, idata, random_seed=1).posterior_predictive["y_obs"]
    for d, alpha in enumerate(alphas[0]):
        var = 5.0 + alpha * 25.0
        # the sd of a sample variance from 2e4 draws is < 5% of it here (NB kurtosis <= 30)
        assert draws.values[0, d].var() == pytest.approx(var, rel=0.15)
        assert draws.values[0, d].mean() == pytest.approx(5.0, abs=5 * np.sqrt(var / n))


def _quadrature_mean(logpost, lo, hi):
    """E[theta | y] by the trapezoid rule on u = log theta (the density of u is smooth and
    decays at both ends); the grid must reach where the density is negligible."""
    u = np.linspace(lo, hi, 40_001)
    lp = np.array([logpost(np.exp(v)) for v in u]) + u  # + log-Jacobian of theta = e^u
    dens = np.exp(lp - lp.max())
    assert dens[0] < 1e-6 and dens[-1] < 1e-12
    return float(integrate.trapezoid(np.exp(u) * dens, u) / integrate.trapezoid(dens, u))


def _tiny_problem(lik, y):
    """eta = 1e-8 x w with x = 1: the data see eta = 0 to 1e-8 (w ~ N(0, 1), its prior), so
    the posterior of the shape parameter is prior x likelihood at eta = 0, in one dimension."""
    X = np.full((y.size, 1), 1e-8)
    return RegressionModel(X, y, Gaussian(1.0), lik, fit_intercept=False)


QUADRATURE_ROWS = [
    # n = 12 t_3 observations, sigma = 1 known: the Gamma(2, 0.1) prior's right tail matters
    (
        StudentTLikelihood(nu=None, sigma=1.0),
        "nu",
        lambda rng: rng.standard_t(3.0, size=12),
        lambda y, nu: stats.t.logpdf(y, df=nu).sum() + stats.gamma.logpdf(nu, 2.0, scale=10.0),
        (-8.0, 8.0),
    ),
    # n = 15 counts at mu = 1, alpha = 1: the chi^2_1 prior's mass near 0 matters
    (
        NegativeBinomialLikelihood(alpha=None),
        "alpha",
        lambda rng: rng.negative_binomial(1.0, 0.5, size=15).astype(float),
        lambda y, a: (
            stats.nbinom.logpmf(y, 1 / a, 1 / (1 + a)).sum() + stats.gamma.logpdf(a, 0.5, scale=2.0)
        ),
        (-30.0, 5.0),
    ),
]


@pytest.mark.parametrize("row", QUADRATURE_ROWS, ids=[repr(r[0]) for r in QUADRATURE_ROWS])
def test_nuts_matches_quadrature_of_the_shape_posterior(row):
    """NUTS's posterior mean of nu / alpha is within 4 Monte Carlo standard errors of the
    exact one by quadrature. Measured: E[nu | y] = 15.50 and E[alpha | y] = 1.414 by
    quadrature, MCSE ~0.4 and ~0.03. The prior moves them by far more than 4 MCSE, so a wrong
    prior term fails: nu's mean is 8.42 under Gamma(2, 0.2); alpha's is 0.56 under
    Gamma(1/2, 2) and 1.07 under a half-normal on alpha itself."""
    import arviz as az

    from bayesreg import sample_posterior

    lik, name, draw_y, logpost, (lo, hi) = row
    y = draw_y(np.random.default_rng(3))
    model = _tiny_problem(lik, y)
    idata = sample_posterior(model, draws=1000, tune=500, chains=2, random_seed=4)
    exact = _quadrature_mean(lambda v: logpost(y, v), lo, hi)
    s = az.summary(idata, var_names=[name], round_to="none")
    assert s["r_hat"].iloc[0] < 1.01
    assert abs(s["mean"].iloc[0] - exact) < 4 * s["mcse_mean"].iloc[0]


# -- refusals and validation ------------------------------------------------------------------
@pytest.mark.parametrize("row", SHAPE_ROWS[::2], ids=IDS[::2])
def test_kernels_estimators_and_mlp_refuse_by_the_capability(row, rng):
    from bayesreg import _fastlogp

    lik, name, value, _, draw_y, _ = row
    X = rng.normal(size=(20, 2))
    y = draw_y(rng, X @ np.array([0.4, -0.3]))
    model = RegressionModel(X, y, Gaussian(1.0), lik)
    msg = r"needs a likelihood whose shape parameters are known"
    assert "shape parameters are known" in _fastlogp.kernel_problem(model)
    with pytest.raises(ValueError, match=msg):
        BayesianLinearRegression(likelihood=lik).fit(X, y)
    with pytest.raises(ValueError, match=msg):
        from bayesreg.nn import MLPModel

        MLPModel(X, y, likelihood=lik)
    # the known-value likelihood still has its MAP
    assert map_estimate(RegressionModel(X, y, Gaussian(1.0), lik.at(**{name: value}))).converged


def test_negbin_joint_map_over_alpha_is_refused_as_undefined(rng):
    """alpha ~ Gamma(1/2, .) has a density unbounded at 0: the joint MAP does not exist."""
    X = rng.normal(size=(30, 2))
    y = rng.poisson(np.exp(X @ np.array([0.4, -0.3]))).astype(float)
    model = RegressionModel(X, y, Gaussian(1.0), NegativeBinomialLikelihood(alpha=None))
    with pytest.raises(ValueError, match=r"unbounded as alpha -> 0, so its joint MAP"):
        map_estimate(model)


@pytest.mark.parametrize("nu", [0.7, 3.0, 40.0])
def test_student_t_shape_derivative_is_the_finite_difference(nu, rng):
    y, eta = rng.standard_t(3.0, size=50), 0.1 * rng.normal(size=50)
    lik = StudentTLikelihood(nu=None).at(nu=nu)
    g = lik.dlogpdf_dlogshape("nu", eta, y, 1.3)

    def f(log_nu):
        return _t_logpdf(y, eta, 1.3, np.exp(log_nu)).sum()

    h = 1e-5  # central difference: truncation error ~ h^2, rounding ~ 1e-11 / h
    assert g == pytest.approx((f(np.log(nu) + h) - f(np.log(nu) - h)) / (2 * h), rel=1e-7)


@pytest.mark.parametrize("sigma", [None, 0.5])
def test_student_t_joint_map_over_nu_is_the_generic_argmin(sigma):
    """The profile MAP over nu equals BFGS on the whole objective over (w, b, log sigma,
    log nu), written with scipy.stats (nu ~ Gamma(2, 0.1), sigma ~ HalfNormal(2.5 sd(y)),
    w ~ N(0, 1); no Jacobian)."""
    rng = np.random.default_rng(1)
    n = 200
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.3 + 0.5 * rng.standard_t(4.0, size=n)
    lik = StudentTLikelihood(nu=None, sigma=sigma)
    fit = map_estimate(RegressionModel(X, y, Gaussian(1.0), lik))
    assert fit.converged and set(fit.shapes) == {"nu"}
    h = lik.resolved_sigma_prior_scale(y) if sigma is None else None

    def objective(v):
        w, b = v[:3], v[3]
        s = np.exp(v[4]) if sigma is None else sigma
        nu = np.exp(v[-1])
        value = -_t_logpdf(y, X @ w + b, s, nu).sum() - stats.norm.logpdf(w).sum()
        value -= stats.gamma.logpdf(nu, 2.0, scale=10.0)
        if sigma is None:
            value -= stats.halfnorm.logpdf(s, scale=h)
        return value

    ours = np.r_[fit.coef, fit.intercept]
    if sigma is None:
        ours = np.r_[ours, np.log(fit.sigma)]
    ours = np.r_[ours, np.log(fit.shapes["nu"])]
    assert fit.objective == pytest.approx(objective(ours), rel=1e-12)
    ref = optimize.minimize(objective, ours + 0.05, method="BFGS", options={"gtol": 1e-9})
    # BFGS with finite-difference gradients stops within ~1e-6 of the argmin (curvature O(n))
    np.testing.assert_allclose(ours, ref.x, atol=2e-5)
    assert fit.objective <= ref.fun + 1e-9
    assert 2.0 < fit.shapes["nu"] < 8.0  # near the true 4


def test_unbound_numpy_methods_and_theta_ask_for_a_value(rng):
    lik = StudentTLikelihood(nu=None)
    with pytest.raises(ValueError, match=r"estimates nu .*\.at\(nu=\.\.\.\)"):
        lik.pointwise_logpdf(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"estimates alpha"):
        NegativeBinomialLikelihood(alpha=None).draw(np.zeros(3), 1.0, rng)
    with pytest.raises(ValueError, match=r"not estimated by it; allowed: \['nu'\]"):
        lik.at(alpha=1.0)
    with pytest.raises(ValueError, match=r"allowed: \[\]"):
        StudentTLikelihood(nu=3.0).at(nu=4.0)
    assert lik.at(nu=3.0) == StudentTLikelihood(nu=3.0) and lik.nu is None
    assert np.isinf(lik.curvature_bound(1.0))  # (nu + 1) / (nu sigma^2) -> inf as nu -> 0
    X = rng.normal(size=(10, 1))
    model = RegressionModel(X, X[:, 0] + rng.normal(size=10), Gaussian(1.0), lik)
    with pytest.raises(ValueError, match=r"value for each estimated shape .*\['nu'\]; got \[\]"):
        model.theta_from_params(np.zeros(1), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"'nu' parameter of .*theta_from_params"):
        model.theta_from_params(np.zeros(1), 0.0, 1.0, nu=-2.0)


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: StudentTLikelihood(nu=-1.0), ValueError, r"'nu' .*\(0, inf\)\. Got -1.0.*Or None"),
        (lambda: StudentTLikelihood(nu="4"), TypeError, r"'nu' parameter.*Got '4'.*Or None"),
        (lambda: NegativeBinomialLikelihood(alpha=0.0), ValueError, r"'alpha' .*Got 0.0.*Or None"),
        (
            lambda: StudentTLikelihood(nu=4.0, nu_prior_rate=0.2),
            ValueError,
            r"'nu_prior_rate' .*only with nu=None.*nu=4.0",
        ),
        (lambda: StudentTLikelihood(nu=None, nu_prior_rate=-1), ValueError, r"'nu_prior_rate'"),
        (
            lambda: NegativeBinomialLikelihood(alpha_prior_scale=2.0),
            ValueError,
            r"'alpha_prior_scale' .*only with alpha=None.*alpha=1.0",
        ),
        (
            lambda: NegativeBinomialLikelihood(alpha=None, alpha_prior_scale=0),
            ValueError,
            r"'alpha_prior_scale' .*Got 0",
        ),
    ],
)
def test_bad_arguments_name_themselves(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_reprs_and_names():
    assert repr(StudentTLikelihood(nu=None)) == "StudentTLikelihood(nu=None)"
    assert (
        repr(NegativeBinomialLikelihood(alpha=None, alpha_prior_scale=0.5))
        == "NegativeBinomialLikelihood(alpha=None, alpha_prior_scale=0.5)"
    )
    assert likelihood_from_name("negbin", alpha=None).estimated_shapes[0].name == "alpha"
    # the default stays known (the MAP and the kernels keep working)
    assert not StudentTLikelihood().estimated_shapes
    assert not NegativeBinomialLikelihood().estimated_shapes


# -- recovery of a known value (slow tier) ----------------------------------------------------
def _recovery_data(name, rng, n=2000):
    X = rng.normal(size=(n, 3))
    eta = X @ np.array([0.5, -0.3, 0.2]) + 1.0
    if name == "nu":  # nu = 4, sigma = 1
        return X, eta + rng.standard_t(4.0, size=n), StudentTLikelihood(nu=None), 4.0
    r = 2.0  # alpha = 0.5
    y = rng.negative_binomial(r, r / (r + np.exp(eta))).astype(float)
    return X, y, NegativeBinomialLikelihood(alpha=None), 0.5


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,backend", [("nu", "auto"), ("nu", "pymc"), ("alpha", "auto")], ids=str
)
def test_nuts_recovers_a_known_value(name, backend):
    """n = 2000 draws from the model with nu = 4 (alpha = 0.5): the posterior mean is within
    3 posterior sd of the truth. With this much data the posterior is close to normal around
    the truth (Bernstein-von Mises), so (mean - truth) / sd is about N(0, 1) over datasets: 3 sd
    fails 0.3% of the time for a correct sampler, while a wrong prior or a likelihood that
    ignored the draw's nu would be far off (the posterior sd is ~0.4 for nu, ~0.03 for alpha).
    Measured: nu 3.81 +- 0.35 (both backends), alpha 0.473 +- 0.029. The log-likelihood in
    the InferenceData is checked against scipy at a few real draws."""
    import arviz as az

    from bayesreg import sample_posterior

    X, y, lik, truth = _recovery_data(name, np.random.default_rng(21))
    model = RegressionModel(X, y, Gaussian(2.0), lik)
    idata = sample_posterior(model, draws=500, tune=500, chains=2, random_seed=8, backend=backend)
    s = az.summary(idata, var_names=[name], round_to="none")
    mean, sd = s["mean"].iloc[0], s["sd"].iloc[0]
    assert s["r_hat"].iloc[0] < 1.01
    assert abs(mean - truth) < 3 * sd, (mean, sd)
    post = idata.posterior
    dens = _t_logpdf if name == "nu" else _nb_logpmf
    for d in (0, 137, 499):
        p = post.isel(chain=1, draw=d)
        eta = X @ p["w"].values + float(p["intercept"])
        sigma = float(p["sigma"]) if "sigma" in p else 1.0
        np.testing.assert_allclose(
            idata.log_likelihood["y_obs"].values[1, d],
            dens(y, eta, sigma, float(p[name])),
            rtol=1e-10,
        )
