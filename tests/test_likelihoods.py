"""Tier 1: likelihoods as losses, vs scipy and finite differences; Lipschitz bounds vs Hessians."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from bayesreg.likelihoods import (
    BernoulliLikelihood,
    GaussianLikelihood,
    LaplaceLikelihood,
    NegativeBinomialLikelihood,
    PoissonLikelihood,
    StudentTLikelihood,
    design_lipschitz,
)


@pytest.fixture
def data(rng):
    X = rng.normal(size=(40, 4))
    eta = X @ np.array([0.5, -1.0, 0.0, 2.0]) + 0.3
    y_gauss = eta + rng.normal(size=40)
    y_bern = (rng.uniform(size=40) < special.expit(eta)).astype(float)
    return X, eta, y_gauss, y_bern


def test_gaussian_logpdf_matches_scipy(data):
    _, eta, y, _ = data
    lik = GaussianLikelihood(sigma=1.7)
    np.testing.assert_allclose(
        lik.logpdf(eta, y, 1.7), stats.norm.logpdf(y, eta, 1.7).sum(), rtol=1e-12
    )
    # loss is the eta-dependent part: SSE / (2 sigma^2)
    np.testing.assert_allclose(
        lik.loss(eta, y, 1.7), np.sum((y - eta) ** 2) / (2 * 1.7**2), rtol=1e-12
    )


def test_bernoulli_logpdf_matches_scipy(data):
    _, eta, _, y = data
    lik = BernoulliLikelihood()
    ref = stats.bernoulli.logpmf(y, special.expit(eta)).sum()
    np.testing.assert_allclose(lik.logpdf(eta, y), ref, rtol=1e-12)


def test_bernoulli_loss_is_stable_for_large_eta():
    lik = BernoulliLikelihood()
    # log(1 + e^800) - 800 = 0 exactly in the limit; a naive formula overflows to inf
    assert lik.loss(np.array([800.0, -800.0]), np.array([1.0, 0.0])) == pytest.approx(
        0.0, abs=1e-300
    )
    assert lik.loss(np.array([800.0]), np.array([0.0])) == pytest.approx(800.0)


@pytest.mark.parametrize(
    "lik",
    [
        GaussianLikelihood(sigma=0.8),
        StudentTLikelihood(nu=4.0, sigma=0.8),
        BernoulliLikelihood(),
        PoissonLikelihood(),
        NegativeBinomialLikelihood(alpha=0.6),
        LaplaceLikelihood(sigma=0.8),
    ],
    ids=repr,
)
def test_loss_gradient_matches_finite_differences(lik, data, rng):
    _, eta, y_g, y_b = data
    y_count = rng.poisson(np.exp(0.5 * eta)).astype(float)
    y = {"bernoulli": y_b, "poisson": y_count, "negbin": y_count}.get(lik.name, y_g)
    # (the Laplace loss is differentiable away from its kinks r = 0, which random data avoids)
    h = 1e-6
    fd = np.array(
        [
            (lik.loss(eta + h * e, y, 0.8) - lik.loss(eta - h * e, y, 0.8)) / (2 * h)
            for e in np.eye(eta.size)
        ]
    )
    # central differences: O(h^2) + O(eps * |loss| / h) ~ 1e-8
    np.testing.assert_allclose(lik.loss_grad(eta, y, 0.8), fd, rtol=1e-6, atol=1e-7)


def test_gaussian_lipschitz_is_the_hessian_norm(data):
    X, *_ = data
    sigma = 0.6
    Z = np.column_stack([X, np.ones(len(X))])
    hessian = Z.T @ Z / sigma**2
    L = GaussianLikelihood(sigma=sigma).curvature_bound(sigma) * design_lipschitz(X)
    np.testing.assert_allclose(L, np.linalg.eigvalsh(hessian).max(), rtol=1e-12)
    assert design_lipschitz(X, fit_intercept=False) == pytest.approx(np.linalg.norm(X, 2) ** 2)


def test_bernoulli_lipschitz_bounds_every_hessian(data, rng):
    X, *_ = data
    Z = np.column_stack([X, np.ones(len(X))])
    L = BernoulliLikelihood().curvature_bound() * design_lipschitz(X)
    for _ in range(20):
        p = special.expit(Z @ rng.normal(scale=3, size=5))
        hessian = Z.T @ (Z * (p * (1 - p))[:, None])
        assert np.linalg.eigvalsh(hessian).max() <= L * (1 + 1e-12)
    # and it is attained at eta = 0 (p = 1/2): the bound is tight
    np.testing.assert_allclose(np.linalg.eigvalsh(Z.T @ Z / 4).max(), L, rtol=1e-12)


def test_sigma_prior_scale_default_is_scaled_to_y():
    y = np.array([1.0, 3.0, 5.0, 7.0])
    assert GaussianLikelihood().resolved_sigma_prior_scale(y) == pytest.approx(2.5 * np.std(y))
    assert GaussianLikelihood(sigma_prior_scale=10.0).resolved_sigma_prior_scale(y) == 10.0


def test_bad_sigma_raises():
    with pytest.raises(
        ValueError, match=r"'sigma' parameter of GaussianLikelihood .* \(0, inf\)\. Got -1"
    ):
        GaussianLikelihood(sigma=-1.0)
    with pytest.raises(ValueError, match=r"'sigma' parameter of GaussianLikelihood .*Got 0"):
        GaussianLikelihood(sigma=0)


# -- capabilities shared by every likelihood (table-driven: a new likelihood adds a row) ------
LIKELIHOOD_ROWS = [
    (GaussianLikelihood(sigma=0.7), lambda rng, n: rng.normal(size=n)),
    (StudentTLikelihood(nu=3.0, sigma=0.7), lambda rng, n: rng.standard_t(3.0, size=n)),
    (BernoulliLikelihood(), lambda rng, n: (rng.random(n) < 0.4).astype(float)),
    (PoissonLikelihood(), lambda rng, n: rng.poisson(2.0, size=n).astype(float)),
    (
        NegativeBinomialLikelihood(alpha=0.7),
        lambda rng, n: rng.negative_binomial(1 / 0.7, 1 / (1 + 0.7 * 2.0), size=n).astype(float),
    ),
    (LaplaceLikelihood(sigma=0.7), lambda rng, n: rng.laplace(size=n)),
]


@pytest.mark.parametrize("lik,draw_y", LIKELIHOOD_ROWS, ids=lambda r: repr(r)[:30])
def test_pointwise_logpdf_sums_to_logpdf(lik, draw_y, rng):
    eta = rng.normal(size=12)
    y = draw_y(rng, 12)
    point = lik.pointwise_logpdf(eta, y, 0.7)
    assert point.shape == (12,)
    np.testing.assert_allclose(point.sum(), lik.logpdf(eta, y, 0.7), rtol=1e-12)


@pytest.mark.parametrize("lik,draw_y", LIKELIHOOD_ROWS, ids=lambda r: repr(r)[:30])
def test_curvature_is_the_derivative_of_the_gradient(lik, draw_y, rng):
    eta = rng.normal(size=9)
    y = draw_y(rng, 9)
    h = 1e-5
    fd = (lik.loss_grad(eta + h, y, 0.7) - lik.loss_grad(eta - h, y, 0.7)) / (2 * h)
    # central differences of a smooth gradient: error O(h^2) ~ 1e-10 plus rounding ~ 1e-11 / h
    np.testing.assert_allclose(lik.curvature(eta, y, 0.7), fd, rtol=1e-6, atol=1e-7)
    assert np.all(lik.curvature(eta, y, 0.7) <= lik.curvature_bound(0.7) * (1 + 1e-12))


@pytest.mark.parametrize("lik,draw_y", LIKELIHOOD_ROWS, ids=lambda r: repr(r)[:30])
def test_null_eta_minimizes_the_constant_fit(lik, draw_y, rng):
    from scipy import optimize

    y = draw_y(rng, 40)
    best = optimize.minimize_scalar(lambda c: lik.loss(np.full(40, c), y, 0.7), bracket=(-2, 2))
    at_null = lik.loss(np.full(40, lik.null_eta(y)), y, 0.7)
    assert at_null <= best.fun + 1e-9 * abs(best.fun)
    if lik.is_smooth:  # a kinked loss (Laplace, n even) is minimal on an interval of medians
        assert lik.null_eta(y) == pytest.approx(best.x, abs=1e-5)  # Brent's xtol ~ 1.5e-8 rel


def test_name_table_round_trips():
    from bayesreg.likelihoods import likelihood_from_name, likelihood_names

    for name in likelihood_names():
        assert likelihood_from_name(name).name == name
    with pytest.raises(ValueError, match=r"'likelihood' parameter.*'gaussian'"):
        likelihood_from_name("gausian")


@pytest.mark.parametrize(
    "lik", [row[0] for row in LIKELIHOOD_ROWS if row[0].has_sigma], ids=lambda r: repr(r)[:30]
)
def test_dlogpdf_dlogsigma_matches_finite_differences(lik, rng):
    eta, y = rng.normal(size=15), rng.normal(size=15)
    h = 1e-6
    fd = (lik.logpdf(eta, y, np.exp(0.3 + h)) - lik.logpdf(eta, y, np.exp(0.3 - h))) / (2 * h)
    # central differences: O(h^2) truncation plus ~1e-16 * |logpdf| / h rounding ~ 1e-9
    assert lik.dlogpdf_dlogsigma(eta, y, np.exp(0.3)) == pytest.approx(fd, rel=1e-7, abs=1e-7)


@pytest.mark.parametrize("lik,draw_y", LIKELIHOOD_ROWS, ids=lambda r: repr(r)[:30])
def test_compiled_graph_equals_numpy_logpdf(lik, draw_y, rng):
    """The PyMC observed variable (to_pymc) and the numpy logpdf are the same density."""
    from bayesreg import Gaussian, RegressionModel

    X = rng.normal(size=(20, 2))
    y = draw_y(rng, 20)
    model = RegressionModel(X, y, Gaussian(1.0), lik)
    sigma = lik.fixed_sigma if lik.has_sigma else 1.0
    f = model.logp_function(["data"])
    values = []
    for w, b in ((np.array([0.4, -0.3]), 0.2), (np.array([-1.0, 0.5]), -0.4)):
        theta = model.theta_from_params(w, b, sigma if lik.estimates_sigma else None)
        values.append((f(theta), lik.logpdf(X @ w + b, y, sigma)))
    (g1, n1), (g2, n2) = values
    # the eta-dependent part agrees to rounding of 20-term float64 sums
    assert g2 - g1 == pytest.approx(n2 - n1, rel=1e-10, abs=1e-12)
    # the normalizing constants: exact for Gaussian and Bernoulli; PyMC's StudentT carries a
    # measured ~4e-9 per observation against scipy (its constant term), hence 1e-8 each
    assert g1 == pytest.approx(n1, rel=1e-12, abs=1e-8 * len(y))


@pytest.mark.parametrize("nu", [1.0, 3.0, 30.0])
def test_student_t_logpdf_matches_scipy(nu, rng):
    eta, y = rng.normal(size=25), 3.0 * rng.standard_t(2.0, size=25)
    lik = StudentTLikelihood(nu=nu)
    expected = stats.t.logpdf(y, df=nu, loc=eta, scale=0.6)
    np.testing.assert_allclose(lik.pointwise_logpdf(eta, y, 0.6), expected, rtol=1e-12)
    assert lik.logpdf(eta, y, 0.6) == pytest.approx(expected.sum(), rel=1e-12)
    # the loss is the eta-dependent part of -logpdf: differences agree exactly
    eta2 = eta + 0.3
    d_loss = lik.loss(eta2, y, 0.6) - lik.loss(eta, y, 0.6)
    assert d_loss == pytest.approx(lik.logpdf(eta, y, 0.6) - lik.logpdf(eta2, y, 0.6), rel=1e-10)


def test_student_t_moments_and_draws(rng):
    lik = StudentTLikelihood(nu=5.0)
    draws = lik.draw(np.zeros(200_000), 2.0, rng)
    # Var = sigma^2 nu / (nu - 2) = 6.67; the sd of a variance estimate from 2e5 t_5 draws is
    # ~ 6.67 * sqrt((kurtosis - 1) / n) = 6.67 * sqrt(8 / 2e5) ~ 0.04: 5 sd
    assert draws.var() == pytest.approx(lik.variance(np.zeros(1), 2.0)[0], abs=0.2)
    assert lik.variance(np.zeros(1), 1.0)[0] == pytest.approx(5.0 / 3.0)
    assert np.isinf(StudentTLikelihood(nu=2.0).variance(np.zeros(1), 1.0)[0])
    with pytest.raises(ValueError, match="'nu' parameter of StudentTLikelihood"):
        StudentTLikelihood(nu=0.0)


def _count_logpmf_scipy(lik, y, eta):
    mu = np.exp(eta)
    if lik.name == "poisson":
        return stats.poisson.logpmf(y, mu)
    r = 1.0 / lik.alpha
    return stats.nbinom.logpmf(y, r, r / (r + mu))


@pytest.mark.parametrize(
    "lik",
    [
        PoissonLikelihood(),
        NegativeBinomialLikelihood(0.3),
        NegativeBinomialLikelihood(1.0),
        NegativeBinomialLikelihood(4.0),
    ],
    ids=repr,
)
def test_count_logpmf_matches_scipy(lik, rng):
    eta = rng.normal(scale=1.5, size=30)
    y = rng.poisson(np.exp(eta)).astype(float)
    expected = _count_logpmf_scipy(lik, y, eta)
    np.testing.assert_allclose(lik.pointwise_logpdf(eta, y), expected, rtol=1e-12, atol=1e-13)
    # the loss is the eta-dependent part of -logpdf
    d_loss = lik.loss(eta + 0.2, y) - lik.loss(eta, y)
    assert d_loss == pytest.approx(lik.logpdf(eta, y) - lik.logpdf(eta + 0.2, y), rel=1e-10)
    # stable far out: no overflow of exp(eta) inside the negative binomial's log(r + mu)
    assert np.isfinite(lik.loss(np.array([700.0]), np.array([3.0])))


def test_negbin_alpha_1_is_the_geometric(rng):
    eta = rng.normal(size=20)
    y = rng.poisson(np.exp(eta)).astype(float)
    # geometric on {0, 1, ...} with success probability 1 / (1 + mu): scipy's geom is on
    # {1, 2, ...}, hence y + 1
    expected = stats.geom.logpmf(y + 1, 1.0 / (1.0 + np.exp(eta)))
    got = NegativeBinomialLikelihood(1.0).pointwise_logpdf(eta, y)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_laplace_logpdf_matches_scipy(rng):
    eta, y = rng.normal(size=25), rng.laplace(size=25)
    lik = LaplaceLikelihood()
    expected = stats.laplace.logpdf(y, loc=eta, scale=0.6)
    np.testing.assert_allclose(lik.pointwise_logpdf(eta, y, 0.6), expected, rtol=1e-12)
    assert lik.loss(eta, y, 0.6) == pytest.approx(np.abs(y - eta).sum() / 0.6, rel=1e-13)
    assert not lik.is_smooth and lik.linear_pieces(0.6) == (1 / 0.6, 1 / 0.6)


@pytest.mark.parametrize(
    "lik",
    [PoissonLikelihood(), NegativeBinomialLikelihood(0.5), LaplaceLikelihood(sigma=1.5)],
    ids=repr,
)
def test_moments_match_draws(lik, rng):
    eta = np.full(200_000, 0.7)
    draws = lik.draw(eta, 1.5, rng)
    mean, var = lik.mean(eta[:1])[0], lik.variance(eta[:1], 1.5)[0]
    # mean within 5 standard errors sqrt(var / n); the variance within 10% (its standard error
    # is ~ var sqrt((kurtosis - 1) / n) < 2% here)
    assert draws.mean() == pytest.approx(mean, abs=5 * np.sqrt(var / draws.size))
    assert draws.var() == pytest.approx(var, rel=0.1)


@pytest.mark.parametrize("lik", [PoissonLikelihood(), NegativeBinomialLikelihood()], ids=repr)
def test_count_likelihoods_refuse_non_counts(lik):
    with pytest.raises(ValueError, match=r"'y' parameter of .* counts.*y\[1\] = 1.5"):
        lik.check_y(np.array([0.0, 1.5, 2.0]))
    with pytest.raises(ValueError, match=r"y\[0\] = -1.0"):
        lik.check_y(np.array([-1.0, 2.0]))
    with pytest.raises(ValueError, match="every count equal to 0"):
        lik.check_y(np.zeros(5))
    with pytest.raises(ValueError, match="'alpha' parameter of NegativeBinomialLikelihood"):
        NegativeBinomialLikelihood(alpha=0.0)
