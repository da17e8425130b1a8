"""Every convention checked against scikit-learn itself.

The reference MAP is found by a generic optimizer (scipy's L-BFGS-B, not the package's solvers) on
the negative log posterior written with the numpy prior and likelihood. L1 terms are made smooth
by the standard split w = u - v with u, v >= 0 (bound constraints), so L-BFGS-B lands on exact
zeros at the bounds. It is compared with scikit-learn run at the strength that
``prior_to_penalty`` gives, both solved to ~1e-12.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

from bayesreg import (
    CONVENTIONS,
    BernoulliLikelihood,
    ElasticNet,
    Gaussian,
    GaussianLikelihood,
    Laplace,
    penalty_to_prior,
    prior_to_penalty,
)


def generic_map(X, y, prior, likelihood, sigma=1.0):
    """argmin_(w, b) J0(Xw + b)/1 + penalty(w) with L-BFGS-B on the split w = u - v."""
    n, p = X.shape
    l1 = isinstance(prior, Laplace | ElasticNet)
    # the objective is rescaled by s so that it is O(1): the optimizer's tolerances are relative
    # to its size in practice
    scale = 1.0 / max(1.0, likelihood.loss(np.full(n, y.mean()), y, sigma))

    def unpack(z):
        if l1:
            return z[:p] - z[p : 2 * p], z[-1]
        return z[:p], z[-1]

    def fun(z):
        w, b = unpack(z)
        eta = X @ w + b
        g_eta = likelihood.loss_grad(eta, y, sigma)
        value = likelihood.loss(eta, y, sigma)
        gw, gb = X.T @ g_eta, g_eta.sum()
        if l1:
            u, v = z[:p], z[p : 2 * p]
            a = (
                prior.elastic_coefs(sigma)[0]
                if isinstance(prior, ElasticNet)
                else 1 / prior.effective_scale(sigma)
            )
            c = prior.elastic_coefs(sigma)[1] if isinstance(prior, ElasticNet) else 0.0
            value += a * np.sum(u + v) + 0.5 * c * np.sum(w**2)
            grad = np.concatenate([gw + a + c * w, -gw + a - c * w, [gb]])
        else:
            value += prior.penalty(w, sigma)
            grad = np.concatenate([gw + prior.penalty_grad(w, sigma), [gb]])
        return value * scale, grad * scale

    size = 2 * p + 1 if l1 else p + 1
    bounds = [(0, None)] * (2 * p) + [(None, None)] if l1 else None
    res = optimize.minimize(
        fun,
        np.zeros(size),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 100000, "maxfun": 100000, "ftol": 1e-16, "gtol": 1e-13, "maxcor": 30},
    )
    return unpack(res.x)


def assert_same_solution(ours, theirs, rtol=1e-6):
    w1, b1 = ours
    w2, b2 = theirs
    ref = np.max(np.abs(w2))
    # 1e-6 relative to the largest coefficient: both solvers are run to ~1e-12 tolerances
    np.testing.assert_allclose(w1, w2, rtol=0, atol=rtol * ref)
    assert abs(b1 - b2) <= rtol * max(1.0, abs(b2))


@pytest.fixture(scope="module")
def reg(diabetes):
    return diabetes.X.to_numpy(), diabetes.y


SIGMA = 54.0  # close to the diabetes residual sd; any value works, the conversions use it


@pytest.mark.parametrize("tau", [2.0, 20.0, 200.0])
def test_gaussian_prior_is_sklearn_ridge(reg, tau):
    X, y = reg
    prior = Gaussian(tau)
    alpha = prior_to_penalty(prior, "sklearn_ridge", sigma=SIGMA)
    assert alpha == pytest.approx(SIGMA**2 / tau**2, rel=1e-15)
    sk = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
    ours = generic_map(X, y, prior, GaussianLikelihood(sigma=SIGMA), SIGMA)
    assert_same_solution(ours, (sk.coef_, sk.intercept_))


@pytest.mark.parametrize("b", [5.0, 50.0, 500.0])
def test_laplace_prior_is_sklearn_lasso_with_its_zeros(reg, b):
    X, y = reg
    prior = Laplace(b)
    alpha = prior_to_penalty(prior, "sklearn_lasso", sigma=SIGMA, n=len(y))
    assert alpha == pytest.approx(SIGMA**2 / (len(y) * b), rel=1e-15)
    sk = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    ours = generic_map(X, y, prior, GaussianLikelihood(sigma=SIGMA), SIGMA)
    assert_same_solution(ours, (sk.coef_, sk.intercept_))
    np.testing.assert_array_equal(ours[0] == 0, sk.coef_ == 0)


@pytest.mark.parametrize("l1_ratio", [0.3, 0.8])
def test_elastic_net_prior_is_sklearn_elasticnet(reg, l1_ratio):
    X, y = reg
    alpha = 0.05
    prior = penalty_to_prior("sklearn_elasticnet", alpha, sigma=SIGMA, n=len(y), l1_ratio=l1_ratio)
    assert isinstance(prior, ElasticNet) and prior.l1_ratio == l1_ratio
    sk = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=1_000_000).fit(X, y)
    ours = generic_map(X, y, prior, GaussianLikelihood(sigma=SIGMA), SIGMA)
    assert_same_solution(ours, (sk.coef_, sk.intercept_))
    np.testing.assert_array_equal(ours[0] == 0, sk.coef_ == 0)


def test_glmnet_gaussian_is_sklearn_elasticnet():
    a = penalty_to_prior("glmnet", 0.2, sigma=3.0, n=50, l1_ratio=0.4)
    b = penalty_to_prior("sklearn_elasticnet", 0.2, sigma=3.0, n=50, l1_ratio=0.4)
    assert a == b


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_priors_are_sklearn_logistic_regression(sparse_classification, C, l1_ratio):
    X, y = sparse_classification.X.to_numpy(), sparse_classification.y
    prior = penalty_to_prior("sklearn_logistic", C, l1_ratio=l1_ratio)
    assert isinstance(prior, Gaussian if l1_ratio == 0 else Laplace)
    # C = tau^2 for L2, C = b for L1
    expected_scale = np.sqrt(C) if l1_ratio == 0 else C
    assert prior.scale == pytest.approx(expected_scale, rel=1e-15)
    assert prior_to_penalty(prior, "sklearn_logistic") == pytest.approx(C, rel=1e-14)
    solver = "lbfgs" if l1_ratio == 0 else "saga"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = LogisticRegression(
            C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-13, max_iter=200_000
        ).fit(X, y)
    ours = generic_map(X, y, prior, BernoulliLikelihood())
    assert_same_solution(
        ours, (sk.coef_[0], sk.intercept_[0]), rtol=1e-5 if solver == "saga" else 1e-6
    )
    np.testing.assert_array_equal(np.abs(ours[0]) < 1e-10, np.abs(sk.coef_[0]) < 1e-10)


def test_glmnet_binomial_is_logistic_regression_with_c_one_over_n_lambda():
    n = 80
    lam = 0.02
    a = penalty_to_prior("glmnet", lam, n=n, l1_ratio=0.0)
    assert prior_to_penalty(a, "sklearn_logistic") == pytest.approx(1 / (n * lam), rel=1e-14)


def test_seed_sum_and_mean_forms(reg):
    X, y = reg
    n = len(y)
    lam = 3.0
    # J = SSE/2 + lam/2 ||w||^2  ->  lam = sigma^2 / tau^2
    prior = penalty_to_prior("seed_sum", lam, sigma=SIGMA)
    assert prior.scale == pytest.approx(SIGMA / np.sqrt(lam), rel=1e-15)
    sk = Ridge(alpha=lam, solver="cholesky").fit(X, y)  # SSE + lam ||w||^2 has the same argmin
    assert_same_solution(
        generic_map(X, y, prior, GaussianLikelihood(sigma=SIGMA), SIGMA), (sk.coef_, sk.intercept_)
    )
    # J = SSE/(2n) + lam/2 ||w||^2  ->  lam = sigma^2 / (n tau^2)
    prior_mean = penalty_to_prior("seed_mean", lam / n, sigma=SIGMA, n=n)
    assert prior_mean.scale == pytest.approx(prior.scale, rel=1e-14)
    # the L1 version of the seed's form: J0 + lam ||w||_1 -> b = sigma^2 / lam
    assert penalty_to_prior("seed_sum", lam, sigma=SIGMA, l1_ratio=1.0) == Laplace(SIGMA**2 / lam)


def test_weight_decay_fixed_point_is_the_ridge_map(reg):
    """Run the literal update w <- (1 - lr*lam) w - lr grad J0_mean(w) and compare with Ridge."""
    X, y = reg
    n = len(y)
    lam = 1e-3
    prior = penalty_to_prior("weight_decay", lam, sigma=SIGMA, n=n)
    alpha = prior_to_penalty(prior, "sklearn_ridge", sigma=SIGMA)
    assert alpha == pytest.approx(n * lam, rel=1e-14)
    w, b = np.zeros(X.shape[1]), 0.0
    lr = 1.0 / (np.linalg.norm(np.column_stack([X, np.ones(n)]), 2) ** 2 / n + lam)
    for _ in range(200_000):
        r = X @ w + b - y
        w_new = (1 - lr * lam) * w - lr * (X.T @ r) / n
        b -= lr * r.mean()  # the intercept is not decayed
        if np.max(np.abs(w_new - w)) < 1e-13:
            w = w_new
            break
        w = w_new
    sk = Ridge(alpha=alpha, solver="cholesky").fit(X, y)
    assert_same_solution((w, b), (sk.coef_, sk.intercept_))


CASES = [
    ("seed_sum", 0.0),
    ("seed_sum", 1.0),
    ("seed_sum", 0.5),
    ("seed_mean", 0.0),
    ("seed_mean", 1.0),
    ("sklearn_ridge", None),
    ("sklearn_lasso", None),
    ("sklearn_elasticnet", 0.25),
    ("sklearn_logistic", 0.0),
    ("sklearn_logistic", 1.0),
    ("sklearn_logistic", 0.6),
    ("glmnet", 0.7),
    ("glmnet", 1.0),
    ("weight_decay", None),
    ("sklearn_poisson", None),
    ("sklearn_quantile", None),
]


# elastic-net priors (0 < l1_ratio < 1) have no sigma-scaled form (tested to raise below)
ROUND_TRIPS = [
    (c, r, by_sigma)
    for c, r in CASES
    for by_sigma in (False, True)
    if not (by_sigma and (r not in (None, 0.0, 1.0) or c in ("sklearn_elasticnet", "glmnet")))
]


@pytest.mark.parametrize(("convention", "l1_ratio", "scale_by_sigma"), ROUND_TRIPS)
@pytest.mark.parametrize("strength", [1e-4, 0.37, 250.0])
def test_round_trip_is_exact(convention, l1_ratio, strength, scale_by_sigma):
    kw = {"sigma": 2.5, "n": 120}
    prior = penalty_to_prior(
        convention, strength, l1_ratio=l1_ratio, scale_by_sigma=scale_by_sigma, **kw
    )
    assert prior.scale_by_sigma == scale_by_sigma
    # a few ulps: one multiplication, one division and a square root each way
    assert prior_to_penalty(prior, convention, **kw) == pytest.approx(strength, rel=1e-14)


def test_all_conventions_are_covered_by_round_trips():
    assert {c for c, _ in CASES} == set(CONVENTIONS)


def test_park_casella_form():
    """w_j | sigma ~ Laplace(0, sigma / lam_PC)  gives Lasso alpha = lam_PC * sigma / n."""
    lam_pc, sigma, n = 0.24, 53.0, 442
    prior = Laplace(1 / lam_pc, scale_by_sigma=True)
    assert prior_to_penalty(prior, "sklearn_lasso", sigma=sigma, n=n) == pytest.approx(
        lam_pc * sigma / n, rel=1e-14
    )


def test_bad_conventions_and_arguments_raise():
    with pytest.raises(
        ValueError, match=r"'ridge' is not a supported convention\. Must be one of: 'seed_sum', "
    ):
        penalty_to_prior("ridge", 1.0)
    with pytest.raises(ValueError, match=r"'strength' parameter of penalty_to_prior .* Got -1"):
        penalty_to_prior("sklearn_ridge", -1)
    with pytest.raises(ValueError, match=r"averages the loss over the n samples: pass n"):
        penalty_to_prior("sklearn_lasso", 0.1)
    with pytest.raises(ValueError, match=r"fixed l1_ratio of 1.0; got l1_ratio=0.5"):
        penalty_to_prior("sklearn_lasso", 0.1, n=10, l1_ratio=0.5)
    with pytest.raises(ValueError, match=r"expresses only l1_ratio=0.0 penalties"):
        prior_to_penalty(Laplace(1.0), "sklearn_ridge")
    with pytest.raises(ValueError, match=r"'sigma' parameter of prior_to_penalty .* Got 0"):
        prior_to_penalty(Gaussian(1.0), "sklearn_ridge", sigma=0)
    with pytest.raises(ValueError, match=r"ElasticNet priors do not support scale_by_sigma"):
        penalty_to_prior("sklearn_elasticnet", 0.1, n=10, l1_ratio=0.5, scale_by_sigma=True)
