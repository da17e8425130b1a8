"""bayesreg.nn: a network whose weight decay is a Gaussian prior (issue 13, item 5).

References are independent of the compiled PyTensor graph: a numpy forward/backward pass and
finite differences, scikit-learn's MLPRegressor / MLPClassifier / Ridge, and the Hessian of
the objective for the distance-to-optimum bound.
"""

from __future__ import annotations

import pickle

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor

from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.nn import (
    MLPModel,
    alpha_to_prior_scale,
    diagnose_mlp,
    map_mlp,
    mc_dropout_predict,
    mlp_loss_grad,
    negative_log_posterior,
    overfitting_curve,
    plot_overfitting,
    plot_predictive_bands,
    posterior_eta,
    prior_scale_to_alpha,
    sample_mlp,
    to_sklearn_layout,
    train_dropout,
    train_mlp,
)
from bayesreg.nn.dropout import dropout_masks
from bayesreg.priors import Gaussian, Laplace

SIGMA = 0.3


@pytest.fixture(scope="module")
def toy():
    """A 1-D regression toy (the lesson's overfitting picture): y = sin(2x) + N(0, 0.3^2)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (20, 1))
    y = np.sin(2 * X[:, 0]) + SIGMA * rng.standard_normal(20)
    Xv = rng.uniform(-2, 2, (200, 1))
    yv = np.sin(2 * Xv[:, 0]) + SIGMA * rng.standard_normal(200)
    return X, y, Xv, yv


@pytest.fixture(scope="module")
def data2d():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (40, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.standard_normal(40)
    return X, y, (y > np.median(y)).astype(int)


def _fd_grad(f, theta, h=1e-6):
    """Central finite differences of a numpy function."""
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


# -- the model: compiled graph vs numpy -------------------------------------------------------
@pytest.mark.parametrize("prior", [Gaussian(0.7), Laplace(0.5)])
@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_compiled_logp_and_gradient_match_numpy(data2d, prior, kind):
    X, y, yb = data2d
    lik = GaussianLikelihood(sigma=SIGMA) if kind == "regression" else BernoulliLikelihood()
    m = MLPModel(X, y if kind == "regression" else yb, hidden=(4, 3), prior=prior, likelihood=lik)
    fg = negative_log_posterior(m)
    th1, th2 = m.glorot_init(1), m.glorot_init(2)
    # values agree up to the normalizing constant (flat biases, known sigma): compare differences
    d_compiled = fg(th1)[0] - fg(th2)[0]
    d_numpy = m.neg_log_posterior_numpy(th1) - m.neg_log_posterior_numpy(th2)
    assert d_compiled == pytest.approx(d_numpy, rel=1e-10)
    # gradient: numpy backprop + prior penalty_grad, and finite differences of the numpy forward
    g = fg(th1)[1]
    pen = np.zeros_like(th1)
    for name in m.weight_names():
        pen[m.layout.slices[name]] = prior.penalty_grad(th1[m.layout.slices[name]])
    np.testing.assert_allclose(g, mlp_loss_grad(m, th1)[1] + pen, rtol=1e-9, atol=1e-10)
    # FD error ~ h^2 f''' + eps f / h ~ 1e-8 (no weight sits at the Laplace kink)
    np.testing.assert_allclose(g, _fd_grad(m.neg_log_posterior_numpy, th1), rtol=1e-6, atol=1e-6)


def test_named_dims_layout_and_sklearn_round_trip(data2d):
    X, y, _ = data2d
    m = MLPModel(X, y, hidden=(4, 3), likelihood=GaussianLikelihood(sigma=SIGMA))
    pm_model = m.pymc_model
    assert pm_model.named_vars_to_dims["W_0"] == ("feature", "hidden_0")
    assert pm_model.named_vars_to_dims["W_1"] == ("hidden_0", "hidden_1")
    assert pm_model.named_vars_to_dims["W_2"] == ("hidden_1", "output")
    th = m.glorot_init(3)
    parts = m.unpack(th)
    assert [W.shape for W in parts["weights"]] == [(2, 4), (4, 3), (3, 1)]
    np.testing.assert_array_equal(m.pack(parts["weights"], parts["biases"]), th)
    # the same seed, the same start
    np.testing.assert_array_equal(m.glorot_init(3), th)


def test_validation_messages(data2d):
    X, y, _ = data2d
    with pytest.raises(ValueError, match="'hidden'"):
        MLPModel(X, y, hidden=(4, 0))
    with pytest.raises(TypeError, match="'hidden'"):
        MLPModel(X, y, hidden=4)
    with pytest.raises(ValueError, match=r"activation.*'tanh'"):
        MLPModel(X, y, activation="gelu")
    with pytest.raises(TypeError, match="'prior'"):
        MLPModel(X, y, prior="gaussian")
    with pytest.raises(ValueError, match="bias_scale"):
        MLPModel(X, y, bias_scale=-1.0)
    m = MLPModel(X, y)
    with pytest.raises(ValueError, match="init"):
        map_mlp(m, init=np.zeros(3))
    with pytest.raises(ValueError, match="bias_scale"):
        sample_mlp(m)
    with pytest.raises(ValueError, match="Gaussian penalty"):
        train_mlp(MLPModel(X, y, prior=Laplace(1.0)), method="weight_decay")


def test_with_prior_scale_shares_compiled_functions_and_pickles(data2d):
    X, y, _ = data2d
    m = MLPModel(X, y, hidden=(3,), likelihood=GaussianLikelihood(sigma=SIGMA), prior=Gaussian(1.0))
    th = m.glorot_init(0)
    f1 = m.logp_dlogp_function(jacobian=False)
    m2 = m.with_prior_scale(0.5)
    f2 = m2.logp_dlogp_function(jacobian=False)
    assert f1.compiled is f2.compiled and m.prior.scale == 1.0
    W = np.concatenate([th[m.layout.slices[n]] for n in m.weight_names()])
    # -log p differs by the prior term: ||W||^2 (1/0.25 - 1)/2 + |W| log(0.5)
    expected = 0.5 * W @ W * (4.0 - 1.0) + W.size * np.log(0.5)
    assert f1(th)[0] - f2(th)[0] == pytest.approx(expected, rel=1e-10)
    back = pickle.loads(pickle.dumps(m2))
    assert back.logp_dlogp_function(jacobian=False)(th)[0] == pytest.approx(f2(th)[0], rel=1e-12)


def test_no_hidden_layer_is_ridge(data2d):
    """hidden=() is linear regression: its MAP is scikit-learn's Ridge(alpha = sigma^2/tau^2)."""
    X, y, _ = data2d
    tau = 0.4
    m = MLPModel(X, y, hidden=(), prior=Gaussian(tau), likelihood=GaussianLikelihood(sigma=SIGMA))
    res = map_mlp(m, random_seed=0, tol=1e-10)
    ridge = Ridge(alpha=SIGMA**2 / tau**2).fit(X, y)
    assert res.converged
    np.testing.assert_allclose(res.weights[0][:, 0], ridge.coef_, rtol=1e-7)
    assert res.biases[1 - 1][0] == pytest.approx(ridge.intercept_, rel=1e-7)


# -- scikit-learn's alpha -------------------------------------------------------------------
def test_alpha_conversion_formulas():
    lik = GaussianLikelihood(sigma=2.0)
    assert alpha_to_prior_scale(0.25, lik) == pytest.approx(4.0)  # sigma / sqrt(alpha)
    assert alpha_to_prior_scale(0.25, BernoulliLikelihood()) == pytest.approx(2.0)
    assert prior_scale_to_alpha(4.0, lik) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="sigma"):
        alpha_to_prior_scale(1.0, GaussianLikelihood())


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_sklearn_mlp_is_a_stationary_point_at_the_converted_scale(data2d, kind):
    X, y, yb = data2d
    alpha = 0.5
    if kind == "regression":
        lik, target, Est = GaussianLikelihood(sigma=SIGMA), y, MLPRegressor
        wrong_tau = 1.0 / np.sqrt(alpha)  # the sigma-free (classifier) formula: wrong here
    else:
        lik, target, Est = BernoulliLikelihood(), yb, MLPClassifier
        wrong_tau = np.sqrt(target.size / alpha)  # forgetting that sklearn's penalty is /n
    sk = Est(
        hidden_layer_sizes=(4,),
        activation="tanh",
        solver="lbfgs",
        alpha=alpha,
        tol=1e-14,
        max_iter=100000,
        max_fun=200000,
        random_state=0,
    ).fit(X, target)
    m = MLPModel(
        X, target, hidden=(4,), prior=Gaussian(alpha_to_prior_scale(alpha, lik)), likelihood=lik
    )
    fg = negative_log_posterior(m)
    g_init = np.linalg.norm(fg(m.glorot_init(0))[1])
    coefs, intercepts = sk.coefs_, sk.intercepts_
    th = m.pack(coefs, intercepts)
    rel = np.linalg.norm(fg(th)[1]) / g_init
    # sklearn's L-BFGS stops on scipy's default ftol (2.2e-9 relative decrease), which leaves a
    # gradient ~ sqrt(ftol) ~ 5e-5 of its initial size (measured: 1.5e-5 .. 3e-5)
    assert rel < 1e-4
    wrong = m.with_prior_scale(wrong_tau)
    assert np.linalg.norm(negative_log_posterior(wrong)(th)[1]) / g_init > 100 * rel
    res = map_mlp(
        m, init=sk, tol=1e-6
    )  # relative to the (already small) gradient at sklearn's point
    assert res.grad_norm / g_init < 1e-7  # measured 4e-10 / 6e-9
    # it stays there: the objective drops by a negligible part of the drop from the start
    # (F includes constants, so compare decreases; measured ~1e-6 .. 1e-5 of it) and the
    # function does not change (measured max |d eta| 1e-4 regression, 5e-4 classification)
    drop = fg(m.glorot_init(0))[0] - fg(th)[0]
    assert 0.0 <= fg(th)[0] - res.objective < 1e-4 * drop
    assert np.max(np.abs(m.predict_eta(res.theta) - m.predict_eta(th))) < 1e-3
    out_coefs, out_intercepts = to_sklearn_layout(res)
    assert [c.shape for c in out_coefs] == [c.shape for c in coefs]
    assert [b.shape for b in out_intercepts] == [b.shape for b in intercepts]


# -- optimizers --------------------------------------------------------------------------------
def _hessian_min_eig(fg, theta, h=1e-5):
    H = np.array(
        [(fg(theta + h * e)[1] - fg(theta - h * e)[1]) / (2 * h) for e in np.eye(theta.size)]
    )
    return float(np.linalg.eigvalsh((H + H.T) / 2)[0])


@pytest.fixture(scope="module")
def opt_problem():
    """3 tanh units, tau = 3, biases N(0, 1) (so a dead unit's bias is not a flat direction).

    A network has many stationary points; from this start (seed 2) L-BFGS, weight decay and
    Adam + L2 all descend into the same basin (measured), so "the same point" is well posed.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (30, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(30)
    m = MLPModel(
        X,
        y,
        hidden=(3,),
        prior=Gaussian(3.0),
        likelihood=GaussianLikelihood(sigma=SIGMA),
        bias_scale=1.0,
    )
    return m, map_mlp(m, random_seed=2, tol=1e-8)


@pytest.mark.parametrize(("method", "lr"), [("weight_decay", 2e-3), ("adam_l2", 3e-3)])
def test_weight_decay_and_adam_l2_reach_the_lbfgs_map(opt_problem, method, lr):
    m, ref = opt_problem
    assert ref.converged
    fg = negative_log_posterior(m)
    lam_min = _hessian_min_eig(fg, ref.theta)
    assert lam_min > 0  # a strict local minimum: the comparison below is well posed
    res = train_mlp(m, method=method, random_seed=2, learning_rate=lr, tol=1e-7, max_iter=60000)
    assert res.converged and res.relative_grad_norm <= 1e-7
    # near a strict minimum ||theta - theta*|| <= ||grad|| / lambda_min (to first order)
    # (both points carry a residual gradient; factor 2 for the second-order remainder)
    dist = np.linalg.norm(res.theta - ref.theta)
    assert dist <= 2.0 * (res.grad_norm + ref.grad_norm) / lam_min
    assert res.objective - ref.objective < 1e-8 * abs(ref.objective)


def test_adamw_fixed_point_is_not_the_map(opt_problem):
    """Started AT the MAP, AdamW walks away: its fixed point solves Adam(g0) = -c W."""
    m, ref = opt_problem
    res = train_mlp(m, method="adamw", init=ref.theta, learning_rate=3e-3, max_iter=20000)
    g_init = np.linalg.norm(negative_log_posterior(m)(m.glorot_init(2))[1])
    gap = res.grad_norm / g_init
    moved = np.linalg.norm(res.theta - ref.theta) / np.linalg.norm(ref.theta)
    # measured: relative gradient 3.4e-3 (weight decay, Adam + L2: <= 1e-7), theta 2.9
    # ||theta*|| away, objective 1.92 higher (11.07 vs 9.15)
    assert not res.converged
    assert gap > 1e-3 and moved > 0.5
    assert res.objective - ref.objective > 0.5


# -- MC dropout ----------------------------------------------------------------------------------
def test_dropout_gradient_matches_finite_differences(toy):
    X, y, _, _ = toy
    m = MLPModel(X, y, hidden=(5,), likelihood=GaussianLikelihood(sigma=SIGMA))
    th = m.glorot_init(0)
    masks = dropout_masks(m, 0.3, m.n, np.random.default_rng(1))

    def loss(t):
        return mlp_loss_grad(m, t, masks)[0]

    np.testing.assert_allclose(
        mlp_loss_grad(m, th, masks)[1], _fd_grad(loss, th), rtol=1e-6, atol=1e-6
    )


def test_dropout_training_lowers_the_dropout_objective_and_mc_passes_are_consistent(toy):
    X, y, _, _ = toy
    m = MLPModel(X, y, hidden=(10,), likelihood=GaussianLikelihood(sigma=SIGMA))
    rate, rng = 0.2, np.random.default_rng(5)
    th0 = m.glorot_init(0)
    th = train_dropout(m, rate=rate, init=th0, random_seed=0, steps=3000)

    def expected_loss(t):  # Monte Carlo estimate of E_masks[J0] over 400 fresh masks
        return np.mean(
            [mlp_loss_grad(m, t, dropout_masks(m, rate, m.n, rng))[0] for _ in range(400)]
        )

    assert expected_loss(th) < 0.5 * expected_loss(th0)
    x = np.linspace(-3, 3, 41)[:, None]
    a = mc_dropout_predict(m, th, x, rate=rate, passes=400, random_seed=1)
    b = mc_dropout_predict(m, th, x, rate=rate, passes=400, random_seed=2)
    assert a.std(axis=0).min() > 0  # dropout stays on at prediction
    # two independent MC estimates of the predictive mean differ by N(0, 2 sd^2 / 400):
    # 5 standard errors bound the max over 41 points (family-wise ~2e-5)
    se = np.sqrt((a.var(axis=0) + b.var(axis=0)) / 400)
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * se)


# -- the overfitting picture and NUTS (slow) -----------------------------------------------------
@pytest.mark.slow
def test_overfitting_curve(toy):
    X, y, Xv, yv = toy
    m = MLPModel(X, y, hidden=(10,), likelihood=GaussianLikelihood(sigma=SIGMA))
    curve = overfitting_curve(m, Xv, yv, np.logspace(-0.5, 1.5, 5), k=3, tol=1e-5)
    # weaker decay (larger tau): training error falls, validation error ends higher than its min
    assert np.all(np.diff(curve.train_error) < 1e-6)
    assert curve.validation_error[-1] > 1.5 * curve.validation_error.min()
    assert curve.scales[0] < curve.chosen_scale < curve.scales[-1]
    ax = plot_overfitting(curve)
    assert ax.get_xscale() == "log"


@pytest.mark.slow
def test_nuts_band_beside_map_and_mc_dropout(toy):
    X, y, _, _ = toy
    X, y = X[:12], y[:12]
    m = MLPModel(X, y, hidden=(5,), likelihood=GaussianLikelihood(sigma=SIGMA), bias_scale=5.0)
    idata = sample_mlp(m, draws=300, tune=300, chains=2, random_seed=1)
    x = np.linspace(-4, 4, 81)[:, None]
    eta = posterior_eta(m, idata, x, thin=2)
    summary = diagnose_mlp(m, idata, x)
    assert "R-hat" in summary.note and len(summary.ess_lp) == 2
    assert min(summary.ess_lp) > 20
    # chains agree on the function even if not on the weights
    assert summary.max_chain_gap < 1.0
    sd = eta.reshape(-1, x.shape[0]).std(axis=0)
    inside = np.abs(x[:, 0]) < 1.5
    assert sd[~inside].mean() > 1.5 * sd[inside].mean()  # uncertainty grows away from the data
    print(summary, sd[~inside].mean() / sd[inside].mean())  # the measured numbers (pytest -s)
    th_map = map_mlp(m, random_seed=0).theta
    th_do = train_dropout(m, rate=0.2, random_seed=0, steps=2000)
    ax = plot_predictive_bands(
        x[:, 0],
        {
            "NUTS": eta.reshape(-1, x.shape[0]),
            "MAP": m.predict_eta(th_map, x),
            "MC dropout": mc_dropout_predict(m, th_do, x, rate=0.2, passes=200, random_seed=0),
        },
        X_train=X,
        y_train=y,
        ax=plt.figure().gca(),
    )
    assert len(ax.get_legend().get_texts()) == 4


# -- the table ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_network_equivalences_table():
    """The rows repeat the checks above (the default tier) as one table; all must pass."""
    import json

    from bayesreg.nn import network_equivalences

    rows = network_equivalences(random_seed=0)
    for r in rows:
        print(f"{r.name}: measured {r.measured:.3g}, tolerance {r.tolerance:.3g}, {r.passed}")
    assert len(rows) == 7 and len({r.name for r in rows}) == 7
    assert all(r.passed for r in rows), [r.name for r in rows if not r.passed]
    assert [r.expected_to_agree for r in rows].count(False) == 1  # AdamW's row
    json.dumps([r.to_dict() for r in rows])
