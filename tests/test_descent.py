"""Penalized gradient descent: the seed's update, its fixed point, and the ones that differ."""

from __future__ import annotations

import numpy as np
import pytest

from bayesreg.conventions import penalty_to_prior
from bayesreg.likelihoods import GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Laplace
from bayesreg.solvers import gradient_descent, map_estimate
from bayesreg.solvers.descent import (
    AdamState,
    DescentState,
    add_decayed_weights,
    chain,
    descent_step,
    scale,
    scale_by_adam,
)

SIGMA = 54.0


@pytest.fixture(scope="module")
def ridge(diabetes):
    prior = penalty_to_prior("sklearn_ridge", 0.1, sigma=SIGMA)
    model = RegressionModel(diabetes.X, diabetes.y, prior, GaussianLikelihood(SIGMA))
    return model, map_estimate(model)


@pytest.fixture(scope="module")
def lasso(diabetes):
    n = len(diabetes.y)
    prior = penalty_to_prior("sklearn_lasso", 0.05, sigma=SIGMA, n=n)
    model = RegressionModel(diabetes.X, diabetes.y, prior, GaussianLikelihood(SIGMA))
    return model, map_estimate(model)


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def test_weight_decay_is_exactly_the_seed_update(ridge):
    """w <- (1 - lr lam) w - lr grad J0(w), recomputed here with numpy for two steps."""
    model, _ = ridge
    X, y = model.X, model.y  # diabetes columns are centred, so b' = b
    lam = 1.0 / model.prior.scale**2
    lr = 1e-3 * SIGMA**2
    res = gradient_descent(
        model, method="weight_decay", learning_rate=lr, max_iter=2, record_every=1, warn=False
    )
    lik = model.likelihood
    lr_b = SIGMA**2 / len(y)  # the intercept's own step 1 / (n / sigma^2), not decayed
    w, b = np.zeros(X.shape[1]), 0.0
    for k in (1, 2):
        r = lik.loss_grad(X @ w + b, y, SIGMA)  # dJ0/deta
        w, b = (1 - lr * lam) * w - lr * (X.T @ r), b - lr_b * r.sum()
        np.testing.assert_allclose(res.trajectory[k], w, rtol=1e-12, atol=1e-12)
    assert res.trajectory_steps.tolist() == [0, 1, 2]
    assert res.intercept == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("method", ["weight_decay", "ista", "fista", "adam_l2"])
def test_l2_methods_converge_to_the_map(ridge, method):
    model, est = ridge
    res = gradient_descent(model, method=method)
    assert res.converged and res.matches_map_expected and res.n_iter > 0
    # stopped at relative KKT 1e-10; condition number ~40 here: coef error ~1e-7 relative
    assert _rel(res.coef, est.coef) < 1e-6
    assert res.intercept == pytest.approx(est.intercept, rel=1e-9)


@pytest.mark.parametrize("method", ["ista", "fista"])
def test_proximal_methods_reach_the_lasso_zeros(lasso, method):
    model, est = lasso
    res = gradient_descent(model, method=method)
    assert res.converged
    assert _rel(res.coef, est.coef) < 1e-6
    np.testing.assert_array_equal(res.coef == 0, est.coef == 0)
    assert (est.coef == 0).sum() >= 2
    # ISTA is a descent method: the recorded objective never increases
    if method == "ista":
        assert np.all(np.diff(res.objective_history) <= 1e-9 * abs(res.objective_history[0]))


def test_subgradient_hovers_instead_of_reaching_zero(lasso):
    model, est = lasso
    res = gradient_descent(model, method="subgradient", max_iter=3000, record_every=10, warn=False)
    assert not res.converged and not res.matches_map_expected
    zeros = np.flatnonzero(est.coef == 0)
    tail = res.trajectory[-100:, zeros]  # the last 1000 steps of the MAP's zero coefficients
    assert np.all(tail != 0.0)  # never exactly zero ...
    assert np.all(np.abs(tail) < 0.05 * np.max(np.abs(est.coef)))  # ... but close to it
    assert np.any(np.diff(np.sign(tail), axis=0) != 0)  # crossing it back and forth


def test_adamw_fixed_point_differs_from_the_map(ridge):
    model, est = ridge
    adamw = gradient_descent(model, method="adamw", max_iter=20000)
    assert adamw.converged and not adamw.matches_map_expected
    # a real difference: AdamW lands near the unpenalized fit, > 50% of the MAP's size away
    assert _rel(adamw.coef, est.coef) > 0.5
    assert "NOT the MAP" in adamw.note


def test_l2_only_methods_reject_l1_priors(lasso):
    model, _ = lasso
    for method in ("weight_decay", "adam_l2", "adamw"):
        with pytest.raises(ValueError, match="needs a Gaussian prior"):
            gradient_descent(model, method=method)
    with pytest.raises(ValueError, match="'sgd' is not a supported gradient-descent method"):
        gradient_descent(model, method="sgd")
    with pytest.raises(ValueError, match="'learning_rate' parameter of gradient_descent"):
        gradient_descent(model, method="ista", learning_rate=-1.0)


def test_transforms_are_pure_and_composition_order_matters():
    params = np.array([2.0, -1.0])
    g = np.array([0.5, 0.5])
    lam, lr = 0.1, 0.01
    l2 = chain(add_decayed_weights(lam), scale_by_adam(), scale(-lr))
    adamw = chain(scale_by_adam(), add_decayed_weights(lam), scale(-lr))
    s_l2 = DescentState(params, l2.init(params), 0)
    s_w = DescentState(params, adamw.init(params), 0)
    new_l2, _ = descent_step(s_l2, lambda x: g, l2)
    new_w, _ = descent_step(s_w, lambda x: g, adamw)
    # first Adam step: m_hat / sqrt(v_hat) = sign of its input (eps = 1e-8 is negligible)
    np.testing.assert_allclose(new_l2.params, params - lr * np.sign(g + lam * params), rtol=1e-6)
    np.testing.assert_allclose(new_w.params, params - lr * (np.sign(g) + lam * params), rtol=1e-6)
    assert s_l2.params is params and np.array_equal(params, [2.0, -1.0])  # input untouched
    assert isinstance(new_l2.opt_state[1], AdamState) and new_l2.step == 1


def test_estimated_sigma_uses_the_map_sigma(diabetes):
    model = RegressionModel(diabetes.X, diabetes.y, Laplace(1.0, scale_by_sigma=True))
    est = map_estimate(model)
    res = gradient_descent(model, method="fista")
    assert res.sigma == pytest.approx(est.sigma, rel=1e-12)
    assert _rel(res.coef, est.coef) < 1e-6
    np.testing.assert_array_equal(res.coef == 0, est.coef == 0)


def test_no_map_is_raised_one_way(diabetes):
    """A prior without a MAP: gradient_descent and map_estimate raise the same error."""
    from bayesreg.priors import Gaussian, MapUndefinedError

    class Pole(Gaussian):  # stands in for the horseshoe: a density unbounded at 0
        has_map = False

    model = RegressionModel(diabetes.X, diabetes.y, Pole(1.0), GaussianLikelihood(SIGMA))
    for solve in (map_estimate, gradient_descent):
        with pytest.raises(MapUndefinedError, match="unbounded at w = 0"):
            solve(model)
    assert model._structure.pymc_model is None  # raised before anything was built
