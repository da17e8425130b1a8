"""Poisson, negative binomial and Laplace likelihoods through every consumer.

Each is one class in likelihoods.py: its MAP equals scikit-learn's penalized solver where one
exists (PoissonRegressor for a Gaussian prior, QuantileRegressor(0.5) for the Laplace
likelihood with a Laplace prior, zeros included) and a tight generic optimizer of an objective
written with scipy.stats otherwise; the smooth solvers refuse the kinked Laplace loss; verify
runs the rows that apply; the estimators take them by name; NUTS on the compiled graph matches
the posterior mean by quadrature (slow tier).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from sklearn.linear_model import PoissonRegressor, QuantileRegressor

from bayesreg import (
    BayesianLinearRegression,
    ElasticNet,
    Gaussian,
    GroupLaplace,
    Laplace,
    RegressionModel,
    gradient_descent,
    map_estimate,
    verify,
)
from bayesreg.conventions import penalty_to_prior, prior_to_penalty
from bayesreg.likelihoods import LaplaceLikelihood, NegativeBinomialLikelihood, PoissonLikelihood

TRUE_W = np.array([0.6, -0.4, 0.0, 0.0, 0.3])


@pytest.fixture(scope="module")
def counts():
    """n = 150 Poisson counts, log mean 0.5 + X w; and over-dispersed NB(alpha = 0.5) ones."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 5))
    mu = np.exp(0.5 + X @ TRUE_W)
    y = rng.poisson(mu).astype(float)
    y_nb = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    return X, y, y_nb


@pytest.fixture(scope="module")
def lad():
    """n = 120, Laplace noise with two gross outliers."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(120, 5))
    y = X @ np.array([1.0, -2.0, 0.0, 0.0, 0.5]) + 0.3 + rng.laplace(size=120)
    y[:2] += 30.0
    return X, y


def _count_nll(X, y, dist, fit_intercept=True):
    """-log likelihood and its gradient in (w, b), written with scipy.stats only."""

    def f(w, b):
        eta = X @ w + (b if fit_intercept else 0.0)
        return -dist(y, eta).sum()

    return f


def _poisson(y, eta):
    return stats.poisson.logpmf(y, np.exp(eta))


def _nbinom(alpha):
    r = 1.0 / alpha
    return lambda y, eta: stats.nbinom.logpmf(y, r, r / (r + np.exp(eta)))


# -- Poisson: the MAP is PoissonRegressor ------------------------------------------------------
@pytest.mark.parametrize("tau,fit_intercept", [(0.3, True), (2.0, True), (0.5, False)])
def test_poisson_map_is_sklearn_poisson_regressor(counts, tau, fit_intercept):
    X, y, _ = counts
    model = RegressionModel(X, y, Gaussian(tau), PoissonLikelihood(), fit_intercept=fit_intercept)
    fit = map_estimate(model)
    alpha = prior_to_penalty(Gaussian(tau), "sklearn_poisson", n=len(y))
    assert alpha == pytest.approx(1.0 / (len(y) * tau**2), rel=1e-15)
    ref = PoissonRegressor(
        alpha=alpha, fit_intercept=fit_intercept, solver="newton-cholesky", tol=1e-12,
        max_iter=1000,
    ).fit(X, y)  # fmt: skip
    assert fit.converged
    # both at a relative gradient ~1e-12 of a problem with curvature ~ n mu: measured ~1e-16;
    # 1e-6 is the bar (the conversion off by a factor 2, below, misses it by > 100x)
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=0, atol=1e-6)
    assert fit.intercept == pytest.approx(ref.intercept_, abs=1e-6)
    wrong = PoissonRegressor(alpha=2 * alpha, fit_intercept=fit_intercept, tol=1e-12).fit(X, y)
    assert np.max(np.abs(wrong.coef_ - fit.coef)) > 1e-4


def test_sklearn_conventions_round_trip():
    assert penalty_to_prior("sklearn_poisson", 0.01, n=100) == Gaussian(1.0)
    # QuantileRegressor: alpha = sigma / (2 n b)
    prior = penalty_to_prior("sklearn_quantile", 0.01, n=100, sigma=2.0)
    assert prior == Laplace(1.0)
    assert prior_to_penalty(Laplace(0.25), "sklearn_quantile", sigma=0.5, n=10) == pytest.approx(
        0.5 / (2 * 10 * 0.25), rel=1e-15
    )
    with pytest.raises(ValueError, match="l1_ratio"):
        prior_to_penalty(Laplace(1.0), "sklearn_poisson", n=10)


def _split_l1_argmin(nll_grad, p, scale, x0_b):
    """argmin nll(w, b) + ||w||_1 / scale by L-BFGS-B on w = u - v, u, v >= 0 (smooth, with
    bounds: exact zeros at the bound)."""

    def f(x):
        w, b = x[:p] - x[p : 2 * p], x[2 * p]
        val, gw, gb = nll_grad(w, b)
        return val + x[: 2 * p].sum() / scale, np.r_[gw + 1 / scale, -gw + 1 / scale, gb]

    bounds = [(0, None)] * (2 * p) + [(None, None)]
    res = optimize.minimize(f, np.r_[np.zeros(2 * p), x0_b], jac=True, method="L-BFGS-B",
                            bounds=bounds, options={"ftol": 0, "gtol": 1e-12, "maxiter": 50_000})  # fmt: skip
    return res.x[:p] - res.x[p : 2 * p], res.x[2 * p]


def _count_nll_grad(X, y, alpha=None):
    """Value (scipy.stats) and gradient in (w, b) of the count -log likelihood."""
    dist = _poisson if alpha is None else _nbinom(alpha)

    def f(w, b):
        eta = X @ w + b
        mu = np.exp(eta)
        g_eta = mu - y if alpha is None else (mu - y) / (1.0 + alpha * mu)
        return -dist(y, eta).sum(), X.T @ g_eta, g_eta.sum()

    return f


@pytest.mark.parametrize("alpha", [None, 0.5], ids=["poisson", "negbin"])
def test_count_map_with_a_laplace_prior_is_the_generic_argmin(counts, alpha):
    X, y, y_nb = counts
    yy = y if alpha is None else y_nb
    lik = PoissonLikelihood() if alpha is None else NegativeBinomialLikelihood(alpha)
    fit = map_estimate(RegressionModel(X, yy, Laplace(0.05), lik))
    w_ref, b_ref = _split_l1_argmin(_count_nll_grad(X, yy, alpha), 5, 0.05, np.log(yy.mean()))
    assert fit.converged and fit.method == "fista"
    # L-BFGS-B's projected gradient at 1e-12 on curvature ~ n mu ~ 100: arguments to ~1e-8
    np.testing.assert_allclose(fit.coef, w_ref, atol=1e-6)
    assert fit.intercept == pytest.approx(b_ref, abs=1e-6)
    assert np.array_equal(fit.coef == 0, np.abs(w_ref) < 1e-8)
    assert 0 < fit.n_nonzero < 5  # the test has zeros to get right


def test_negbin_map_with_a_gaussian_prior_is_the_generic_argmin(counts):
    X, _, y = counts
    lik, tau = NegativeBinomialLikelihood(0.5), 0.7
    fit = map_estimate(RegressionModel(X, y, Gaussian(tau), lik))
    nll = _count_nll_grad(X, y, 0.5)

    def f(x):
        val, gw, gb = nll(x[:5], x[5])
        return val + x[:5] @ x[:5] / (2 * tau**2), np.r_[gw + x[:5] / tau**2, gb]

    ref = optimize.minimize(f, np.zeros(6), jac=True, method="BFGS", options={"gtol": 1e-11})
    assert fit.converged
    # BFGS at gtol 1e-11, curvature ~ 50: the argument to ~1e-12; 1e-8 leaves room
    np.testing.assert_allclose(np.r_[fit.coef, fit.intercept], ref.x, atol=1e-8)


# -- Laplace likelihood: the MAP is QuantileRegressor(0.5) -------------------------------------
@pytest.mark.parametrize(
    "sigma,b,fit_intercept", [(1.0, 0.02, True), (0.5, 0.2, True), (2.0, 0.05, False)]
)
def test_lad_map_is_sklearn_quantile_regressor(lad, sigma, b, fit_intercept):
    X, y = lad
    model = RegressionModel(X, y, Laplace(b), LaplaceLikelihood(sigma), fit_intercept=fit_intercept)
    fit = map_estimate(model)
    alpha = prior_to_penalty(Laplace(b), "sklearn_quantile", sigma=sigma, n=len(y))
    assert alpha == pytest.approx(sigma / (2 * len(y) * b), rel=1e-15)
    ref = QuantileRegressor(quantile=0.5, alpha=alpha, fit_intercept=fit_intercept,
                            solver="highs").fit(X, y)  # fmt: skip
    assert fit.converged and fit.method == "linear_program"
    # the same LP at one vertex: equal to rounding (measured <= 1e-15), zeros exactly
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=0, atol=1e-9)
    assert fit.intercept == pytest.approx(ref.intercept_, abs=1e-9)
    assert np.array_equal(fit.coef == 0, ref.coef_ == 0)
    assert fit.n_nonzero < 5 or b > 0.1  # the strong penalties have zeros to get right
    # the objective is -log posterior with every constant: recompute it with scipy.stats
    eta = X @ fit.coef + fit.intercept
    nlp = -stats.laplace.logpdf(y, eta, sigma).sum() - stats.laplace.logpdf(fit.coef, 0, b).sum()
    assert fit.objective == pytest.approx(nlp, rel=1e-12)


def test_lad_map_with_estimated_sigma_is_the_profile_minimum(lad):
    """Joint MAP over (w, b, sigma): sigma minimizes the profile objective min_{w,b} F, where
    the inner minimum is scikit-learn's QuantileRegressor at alpha = sigma / (2 n b) and F is
    written with scipy.stats (sigma ~ HalfNormal(2.5 sd(y)), no Jacobian)."""
    X, y = lad
    lik, b = LaplaceLikelihood(), 0.05
    fit = map_estimate(RegressionModel(X, y, Laplace(b), lik))
    s_prior = lik.resolved_sigma_prior_scale(y)

    def profile(log_s):
        s = np.exp(log_s)
        q = QuantileRegressor(quantile=0.5, alpha=s / (2 * len(y) * b), solver="highs").fit(X, y)
        eta = X @ q.coef_ + q.intercept_
        return -(stats.laplace.logpdf(y, eta, s).sum() + stats.laplace.logpdf(q.coef_, 0, b).sum()
                 + stats.halfnorm.logpdf(s, scale=s_prior))  # fmt: skip

    ls = np.log(fit.sigma)
    ref = optimize.minimize_scalar(profile, bounds=(ls - 1, ls + 1), method="bounded",
                                   options={"xatol": 1e-9})  # fmt: skip
    assert fit.converged and fit.sigma is not None
    # Brent's xatol 1e-9 in log sigma on a smooth profile (the LP vertex is locally constant)
    assert fit.sigma == pytest.approx(np.exp(ref.x), rel=1e-7)
    assert fit.objective == pytest.approx(ref.fun, rel=1e-12)
    # and at that sigma the (w, b) block is QuantileRegressor's, zeros included
    q = QuantileRegressor(quantile=0.5, alpha=fit.sigma / (2 * len(y) * b), solver="highs")
    q.fit(X, y)
    np.testing.assert_allclose(fit.coef, q.coef_, atol=1e-9)
    assert np.array_equal(fit.coef == 0, q.coef_ == 0) and fit.n_nonzero < 5


def test_lad_map_is_a_minimum_in_every_direction(lad):
    """Convexity: no move along a coordinate (or at random) lowers the objective."""
    X, y = lad
    fit = map_estimate(RegressionModel(X, y, Laplace(0.05), LaplaceLikelihood(1.0)))

    def objective(w, b):
        return np.abs(y - X @ w - b).sum() + np.abs(w).sum() / 0.05

    best = objective(fit.coef, fit.intercept)
    rng = np.random.default_rng(0)
    for d in [*np.eye(6), *-np.eye(6), *rng.normal(size=(20, 6))]:
        for h in (1e-6, 1e-3):
            assert objective(fit.coef + h * d[:5], fit.intercept + h * d[5]) >= best - 1e-12


def test_lad_certificate_fails_off_the_optimum(lad, monkeypatch):
    """The LP's KKT certificate is computed, not read from HiGHS' status: a feasible point
    moved off the optimum (with the optimum's multipliers) is not certified."""
    from bayesreg.solvers import linear_program

    X, y = lad
    model = RegressionModel(X, y, Laplace(0.05), LaplaceLikelihood(1.0))
    real = optimize.linprog

    def moved(*args, **kwargs):
        res = real(*args, **kwargs)
        x = res.x.copy()
        x[0] += 0.05  # w_0 moved; the residual variables re-solved so the point stays feasible
        r = y - X @ (x[:5] - x[5:10]) - x[10]
        x[11 : 11 + 120], x[11 + 120 :] = np.maximum(r, 0), np.maximum(-r, 0)
        return optimize.OptimizeResult({**res, "x": x})

    assert linear_program.linear_program_map(model).converged
    monkeypatch.setattr(linear_program.optimize, "linprog", moved)
    sol = linear_program.linear_program_map(model)
    assert np.isfinite(sol.infeasibility) and not sol.converged
    assert sol.residual > 1e3 * sol.target


def _lad_reference(X, y, a, c, c_lik, fit_intercept):
    """argmin c_lik sum|r| + a sum|w| + c ||w||^2 / 2 by SLSQP on the smooth reformulation
    over (w+, w-, b, t): minimize c_lik 1't + a 1'(w+ + w-) + c ||w+ - w-||^2 / 2 subject to
    -t <= y - X w - b <= t, w+, w- >= 0 (independent of HiGHS)."""
    n, p = X.shape
    nb = 1 if fit_intercept else 0

    def split(v):
        w = v[:p] - v[p : 2 * p]
        return w, (v[2 * p] if nb else 0.0), v[2 * p + nb :]

    def f(v):
        w, _, t = split(v)
        return c_lik * t.sum() + a * v[: 2 * p].sum() + 0.5 * c * w @ w

    def grad(v):
        w, _, _ = split(v)
        return np.concatenate([a + c * w, a - c * w, np.zeros(nb), np.full(n, c_lik)])

    def cons(v):
        w, b, t = split(v)
        r = y - X @ w - b
        return np.concatenate([t - r, t + r])

    B = np.column_stack([X, -X] + ([np.ones(n)] if nb else []))
    jac = np.block([[B, np.eye(n)], [-B, np.eye(n)]])
    v0 = np.concatenate([np.zeros(2 * p + nb), np.abs(y) + 1.0])
    bounds = [(0, None)] * (2 * p) + [(None, None)] * nb + [(0, None)] * n
    res = optimize.minimize(f, v0, jac=grad, method="SLSQP", bounds=bounds,
                            constraints={"type": "ineq", "fun": cons, "jac": lambda v: jac},
                            options={"ftol": 1e-15, "maxiter": 2000})  # fmt: skip
    w, b, _ = split(res.x)
    return w, b, res.fun


@pytest.mark.parametrize(
    "prior,fit_intercept",
    [(Gaussian(0.3), True), (Gaussian(2.0), False), (ElasticNet(0.2, l1_ratio=0.6), True)],
)
def test_lad_map_with_an_l2_prior_is_the_quadratic_program(lad, prior, fit_intercept):
    """Laplace likelihood + Gaussian (robust ridge) or elastic-net prior: the QP route, whose
    certified point equals an independent SLSQP solve and whose objective is -log posterior."""
    X, y = lad
    sigma = 0.8
    model = RegressionModel(X, y, prior, LaplaceLikelihood(sigma), fit_intercept=fit_intercept)
    fit = map_estimate(model)
    assert fit.method == "quadratic_program" and fit.converged
    # polished on the active set: the KKT residual of the whole problem is at rounding level
    assert fit.optimality < 1e-12
    a, c = prior.elastic_coefs(sigma)
    w, b, ref_obj = _lad_reference(X, y, float(a), float(c), 1.0 / sigma, fit_intercept)
    # SLSQP at ftol 1e-15 on a problem of curvature c ~ 1-10: the argument to ~1e-7
    np.testing.assert_allclose(fit.coef, w, atol=1e-6)
    assert fit.intercept == pytest.approx(b, abs=1e-6)
    ours = (
        np.abs(y - X @ fit.coef - fit.intercept).sum() / sigma
        + float(a) * np.abs(fit.coef).sum()
        + 0.5 * float(c) * fit.coef @ fit.coef
    )
    assert ours <= ref_obj + 1e-10 * abs(ref_obj)  # never worse than the generic optimizer
    # a vertex in r: as many rows fitted exactly as free coefficients (p + 1 generically)
    r = y - X @ fit.coef - fit.intercept
    assert np.sum(np.abs(r) < 1e-9) == fit.n_nonzero + (1 if fit_intercept else 0)
    if float(a) > 0:
        assert np.array_equal(fit.coef == 0, np.abs(w) < 1e-6)  # exact zeros where SLSQP's are
    if float(a) == 0:  # -log posterior with every constant, by scipy.stats
        eta = X @ fit.coef + fit.intercept
        nlp = (
            -stats.laplace.logpdf(y, eta, sigma).sum()
            - stats.norm.logpdf(fit.coef, 0, prior.scale).sum()
        )
        assert fit.objective == pytest.approx(nlp, rel=1e-12)


def test_lad_gaussian_prior_with_estimated_sigma_is_a_profile_minimum(lad):
    """Joint MAP over (w, b, sigma): moving sigma either way and re-solving (w, b) exactly
    only raises the objective (which is convex in log sigma at a fixed vertex)."""
    X, y = lad
    lik = LaplaceLikelihood()
    fit = map_estimate(RegressionModel(X, y, Gaussian(0.5), lik))
    assert fit.method == "quadratic_program" and fit.converged and fit.sigma is not None
    s_prior = lik.resolved_sigma_prior_scale(y)

    def profile(s):
        q = map_estimate(RegressionModel(X, y, Gaussian(0.5), LaplaceLikelihood(s)))
        eta = X @ q.coef + q.intercept
        return -(stats.laplace.logpdf(y, eta, s).sum() + stats.norm.logpdf(q.coef, 0, 0.5).sum()
                 + stats.halfnorm.logpdf(s, scale=s_prior))  # fmt: skip

    best = profile(fit.sigma)
    assert fit.objective == pytest.approx(best, rel=1e-12)
    for factor in (1 - 1e-3, 1 + 1e-3, 0.9, 1.1):
        assert profile(fit.sigma * factor) > best


def test_qp_certificate_fails_off_the_optimum(lad):
    from bayesreg.solvers import quadratic_program as qp

    X, y = lad
    model = RegressionModel(X, y, Gaussian(0.3), LaplaceLikelihood(1.0))
    fit = qp.quadratic_program_map(model)
    assert fit.converged
    lam = np.clip((y - X @ fit.coef - fit.intercept) * 1e12, -1.0, 1.0)  # sign pattern
    moved = fit.coef.copy()
    moved[0] += 0.05
    resid, *_ = qp._scored(model, moved, fit.intercept, lam, (1.0, 1.0), 1.0)
    assert resid > 1e3 * fit.target


def test_lad_is_robust_to_gross_outliers(lad):
    X, y = lad
    true = np.array([1.0, -2.0, 0.0, 0.0, 0.5])
    lad_fit = map_estimate(RegressionModel(X, y, Laplace(10.0), LaplaceLikelihood(1.0)))
    ls_fit = map_estimate(RegressionModel(X, y, Laplace(10.0), None))
    # two points moved by 30: least squares is pulled, the median regression is not
    assert np.linalg.norm(lad_fit.coef - true) < 0.5 * np.linalg.norm(ls_fit.coef - true)


def test_non_smooth_likelihood_is_refused_by_the_smooth_solvers(lad):
    X, y = lad
    lik = LaplaceLikelihood(1.0)
    for method in ("lbfgs", "fista", "ista"):
        with pytest.raises(ValueError, match=rf"method='{method}'.*smooth likelihood"):
            map_estimate(RegressionModel(X, y, Laplace(1.0), lik), method=method)
    with pytest.raises(ValueError, match="exact routes are a linear program"):
        map_estimate(RegressionModel(X, y, GroupLaplace(1.0, [0, 0, 1, 1, 2]), lik))
    with pytest.raises(ValueError, match="gradient_descent needs a smooth likelihood"):
        gradient_descent(RegressionModel(X, y, Laplace(1.0), lik), method="ista")
    with pytest.raises(ValueError, match=r"linear_program.*piecewise-linear"):
        map_estimate(RegressionModel(X, y, Laplace(1.0), None), method="linear_program")


def test_poisson_gradient_descent_needs_a_curvature_bound(counts):
    X, y, _ = counts
    with pytest.raises(ValueError, match="curvature is bounded"):
        gradient_descent(RegressionModel(X, y, Gaussian(1.0), PoissonLikelihood()))


# -- verify: the rows that apply, by capability ------------------------------------------------
def test_verify_runs_poisson_regressor_row(counts):
    X, y, _ = counts
    model = RegressionModel(X, y, Gaussian(0.5), PoissonLikelihood())
    report = verify(model, include_find_map=False)
    assert report.passed, str(report)
    assert any(r.method.startswith("sklearn PoissonRegressor") for r in report.rows)
    assert "curvature is bounded" in report.not_applicable["weight_decay"]
    assert not verify(model, rows=["sklearn"], conversion_factor=2.0).passed


def test_verify_runs_quantile_regressor_row(lad):
    X, y = lad
    model = RegressionModel(X, y, Laplace(0.05), LaplaceLikelihood(1.0))
    report = verify(model, include_find_map=False)
    assert report.passed, str(report)
    row = next(r for r in report.rows if r.method.startswith("sklearn QuantileRegressor"))
    assert row.zero_pattern_agrees and row.rel_diff <= 1e-9
    assert "smooth likelihood" in report.not_applicable["ista"]
    assert not verify(model, rows=["sklearn"], conversion_factor=3.0).passed
    # a Laplace prior with a Poisson likelihood: PoissonRegressor has no L1, said so
    counts_model = RegressionModel(X, np.abs(np.round(y)), Laplace(0.05), PoissonLikelihood())
    why = verify(counts_model, rows=["sklearn"]).not_applicable["scikit-learn"]
    assert "PoissonRegressor: Gaussian only" in why


# -- estimators by name -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,kwargs,lik",
    [
        ("poisson", {}, PoissonLikelihood()),
        ("negbin", {}, NegativeBinomialLikelihood(1.0)),
        ("laplace", {"sigma": 1.0, "prior": "laplace"}, LaplaceLikelihood(1.0)),
        ("laplace", {"prior": "laplace"}, LaplaceLikelihood()),
    ],
)
def test_estimators_take_them_by_name(counts, name, kwargs, lik):
    X, y, _ = counts
    est = BayesianLinearRegression(likelihood=name, prior_scale=0.5, **kwargs).fit(X, y)
    prior = Laplace(0.5) if kwargs.get("prior") == "laplace" else Gaussian(0.5)
    direct = map_estimate(RegressionModel(X, y, prior, lik))
    np.testing.assert_allclose(est.coef_, direct.coef, rtol=1e-8, atol=1e-12)
    # predict is E[y | x]: the inverse link of the linear predictor
    np.testing.assert_allclose(
        est.predict(X[:4]), lik.mean(X[:4] @ direct.coef + direct.intercept), rtol=1e-8
    )
    if lik.observed_dtype == "int64":
        with pytest.raises(ValueError, match="counts"):
            BayesianLinearRegression(likelihood=name).fit(X, y + 0.5)


def test_estimator_refuses_sigma_for_a_likelihood_without_one(counts):
    X, y, _ = counts
    with pytest.raises(ValueError, match="likelihood='poisson' has no noise scale"):
        BayesianLinearRegression(likelihood="poisson", sigma=1.0).fit(X, y)


# -- NUTS on the compiled graph vs quadrature (slow tier) --------------------------------------
def _one_coefficient_posterior_mean(x, y, lik, tau):
    """E[w | y] for y_i ~ lik(w x_i), w ~ N(0, tau^2), by the trapezoid rule on a fine grid
    (the Laplace likelihood's density has kinks at w = y_i / x_i, which adaptive quadrature
    handles badly; the trapezoid error is O(h^2) ~ 1e-7 there, far below the MCSE ~ 5e-3)."""
    grid = np.linspace(-3.0, 3.0, 20_001)
    logp = np.array([lik.logpdf(w * x, y, 1.0) for w in grid]) - 0.5 * (grid / tau) ** 2
    dens = np.exp(logp - logp.max())
    assert dens[0] < 1e-12 and dens[-1] < 1e-12  # the grid covers the posterior
    return float(integrate.trapezoid(grid * dens, grid) / integrate.trapezoid(dens, grid))


@pytest.mark.slow
@pytest.mark.parametrize(
    "lik",
    [PoissonLikelihood(), NegativeBinomialLikelihood(0.5), LaplaceLikelihood(1.0)],
    ids=repr,
)
def test_nuts_matches_quadrature_for_one_coefficient(lik):
    import arviz as az

    from bayesreg import sample_posterior

    rng = np.random.default_rng(7)
    x = rng.normal(size=60)
    y = lik.draw(0.5 * x, 1.0, rng).astype(float)
    model = RegressionModel(x[:, None], y, Gaussian(1.0), lik, fit_intercept=False)
    idata = sample_posterior(model, draws=1000, tune=500, chains=2, random_seed=11)
    exact = _one_coefficient_posterior_mean(x, y, lik, 1.0)
    summary = az.summary(idata, var_names=["w"], round_to="none")
    # within 4 Monte Carlo standard errors of the quadrature (integrand error ~1e-12)
    assert abs(summary["mean"].iloc[0] - exact) < 4 * summary["mcse_mean"].iloc[0]
    assert summary["r_hat"].iloc[0] < 1.01


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [None, 0.5], ids=["poisson", "negbin"])
def test_graph_and_numpy_evaluators_give_one_map(counts, alpha):
    """The compiled PyTensor graph (large problems) and numpy (small ones) are one objective:
    the two MAPs agree to the solvers' tolerance and their objectives to rounding."""
    X, y, y_nb = counts
    yy = y if alpha is None else y_nb
    lik = PoissonLikelihood() if alpha is None else NegativeBinomialLikelihood(alpha)
    model = RegressionModel(X, yy, Laplace(0.05), lik)
    fast, graph = (map_estimate(model, evaluator=e) for e in ("numpy", "graph"))
    assert fast.converged and graph.converged and graph.evaluator == "graph"
    np.testing.assert_allclose(graph.coef, fast.coef, atol=1e-9)  # both at relative KKT 1e-10
    assert np.array_equal(graph.coef == 0, fast.coef == 0)
    assert graph.objective == pytest.approx(fast.objective, rel=1e-12)
