"""Horseshoe+, the group lasso prior and the grouped horseshoe: densities against quadrature,
penalty gradients against finite differences, prox against a generic optimizer, the group-lasso
MAP against skglm and a tight generic optimizer, prior draws against the known density, and
(slow tier) the collapsed sampler against the non-centred graph."""

from __future__ import annotations

import math
import warnings

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy import integrate, optimize, stats

from bayesreg import map_estimate, verify
from bayesreg.likelihoods import GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import (
    GroupedHorseshoe,
    GroupLaplace,
    Horseshoe,
    HorseshoePlus,
    Laplace,
    MapUndefinedError,
    prior_from_name,
)
from bayesreg.sampling import sample_posterior
from bayesreg.sampling.collapsed import can_collapse

GROUPS = [3, 3, 1, 1, 1, 7]  # any integer labels; groups of sizes 2, 3 and 1

# -- the group lasso prior: table rows (the tests/test_priors.py pattern, on grouped w) --------
GROUP_PRIORS = [
    GroupLaplace(0.6, GROUPS),
    GroupLaplace(0.4, GROUPS, scale_by_sigma=True),
    GroupLaplace(2.0, [0, 0, 0, 0, 0, 0]),
]


@pytest.mark.parametrize("prior", GROUP_PRIORS, ids=repr)
def test_group_penalty_is_minus_logpdf_up_to_a_constant(prior, rng):
    sigma = 1.3
    a, b = rng.normal(size=6), rng.normal(size=6)
    np.testing.assert_allclose(
        prior.penalty(a, sigma) - prior.penalty(b, sigma),
        prior.logpdf(b, sigma) - prior.logpdf(a, sigma),
        rtol=1e-12,
        atol=1e-12,
    )
    assert prior.penalty(np.zeros(6), sigma) == 0.0


@pytest.mark.parametrize("prior", GROUP_PRIORS, ids=repr)
def test_group_penalty_gradient_matches_finite_differences(prior, rng):
    sigma = 0.9
    w = rng.normal(size=6)  # every group away from its kink at w_g = 0
    h = 1e-6
    fd = [(prior.penalty(w + h * e, sigma) - prior.penalty(w - h * e, sigma)) / (2 * h)
          for e in np.eye(6)]  # fmt: skip
    # central differences: O(h^2) truncation + O(eps/h) rounding ~ 1e-9
    np.testing.assert_allclose(prior.penalty_grad(w, sigma), fd, rtol=1e-7, atol=1e-8)


def _generic_prox(prior, v, step, sigma):
    """argmin_u penalty(u) + sum (u - v)^2 / (2 step) by Powell (derivative-free) to 1e-13."""

    def objective(u):
        return prior.penalty(u, sigma) + float(np.sum((u - v) ** 2 / (2 * step)))

    res = optimize.minimize(
        objective, v.copy(), method="Powell", options={"xtol": 1e-13, "ftol": 1e-15}
    )
    return objective, res.x


@pytest.mark.parametrize("prior", GROUP_PRIORS, ids=repr)
@pytest.mark.parametrize(
    "step", [0.05, 0.7, 3.0, np.array([0.1, 2.0, 0.5, 0.05, 1.5, 0.3])], ids=str
)
def test_group_prox_matches_a_generic_optimizer(prior, step):
    sigma = 1.2
    v = np.array([-3.0, 0.4, -0.01, 0.2, 0.9, 4.0])
    got = prior.prox(v, step, sigma)
    objective, ref = _generic_prox(prior, v, np.broadcast_to(step, v.shape), sigma)
    # the prox objective is strongly convex: ours is no worse than Powell's optimum, and both
    # are within Powell's xtol-limited accuracy (~1e-7 in u near the kink at a zero group)
    assert objective(got) <= objective(ref) + 1e-12
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_group_prox_zeroes_whole_groups_and_keeps_directions():
    prior = GroupLaplace(1.0, [0, 0, 1, 1])
    # group 0: ||v|| = 1 <= step * sqrt(2): all zero; group 1: shrunk along v
    out = prior.prox(np.array([0.6, -0.8, 3.0, 4.0]), step=1.0)
    np.testing.assert_array_equal(out[:2], 0.0)
    np.testing.assert_allclose(out[2:], np.array([3.0, 4.0]) * (1 - np.sqrt(2) / 5))


@pytest.mark.parametrize("prior", GROUP_PRIORS, ids=repr)
def test_group_kkt_residual_is_the_distance_to_the_subdifferential(prior, rng):
    sigma = 0.8
    index = np.unique(prior.groups, return_inverse=True)[1]
    w = rng.normal(size=6)
    w[index == index[2]] = 0.0  # one zero group
    g = rng.normal(size=6)
    r = prior.kkt_residual(w, g, sigma)
    rates = prior.group_rates(sigma)
    for k in range(prior.n_groups):
        m = index == k
        if np.any(w[m]):
            # a smooth point: the distance is |g + grad penalty|
            ref = np.linalg.norm(g[m] + prior.penalty_grad(w, sigma)[m])
        else:
            # a ball of radius a_g: distance by a generic projection (SLSQP)
            res = optimize.minimize(
                lambda x, m=m: np.sum((x + g[m]) ** 2),
                np.zeros(m.sum()),
                constraints=[{"type": "ineq", "fun": lambda x, k=k: rates[k] ** 2 - x @ x}],
                method="SLSQP",
                options={"ftol": 1e-15},
            )
            ref = np.sqrt(res.fun)
        # SLSQP's projection is accurate to ~1e-8 (ftol 1e-15 on the squared distance)
        np.testing.assert_allclose(np.linalg.norm(r[m]), ref, rtol=1e-6, atol=1e-7)
    # zero exactly at a prox fixed point: u = prox(u - g, 1) iff -g in the subdifferential
    u = prior.prox(w - g, 1.0, sigma)
    g_fixed = u - (w - g)  # then u = prox(u - g_fixed, 1): -g_fixed is in the subdifferential
    assert np.max(prior.kkt_residual(u, g_fixed, sigma)) < 1e-12
    assert np.max(prior.kkt_residual(u, g_fixed + 20.0, sigma)) > 1e-3


def test_singleton_groups_are_the_laplace_prior():
    w = np.array([-2.3, -0.4, 0.0, 0.05, 1.7, 3.2])
    g = np.array([0.5, -4.0, 0.2, 1.0, -3.0, 0.0])
    ours, ref = GroupLaplace(0.3, range(6)), Laplace(0.3)
    # exact formulas on both sides (scipy's Laplace density is checked in test_priors)
    np.testing.assert_allclose(ours.logpdf(w), stats.laplace.logpdf(w, 0, 0.3).sum(), rtol=1e-12)
    np.testing.assert_allclose(ours.prox(w, 0.2), ref.prox(w, 0.2), rtol=1e-14)
    np.testing.assert_allclose(ours.kkt_residual(w, g), ref.kkt_residual(w, g), atol=1e-14)


def test_group_density_is_normalized_in_two_dimensions():
    scale = 0.3
    prior = GroupLaplace(scale, [5, 5])
    # in polar coordinates (the cone at 0 becomes a smooth integrand); the mass beyond
    # r = 60 b is below exp(-60 sqrt(2)) ~ 1e-37
    total, err = integrate.dblquad(
        lambda r, t: np.exp(prior.logpdf(r * np.array([np.cos(t), np.sin(t)]))) * r,
        0, 2 * np.pi, 0, 60 * scale, epsabs=0, epsrel=1e-10,
    )  # fmt: skip
    assert abs(total - 1.0) < 1e-7, (total, err)


def test_group_pymc_variable_logp_and_gradient_match_numpy():
    prior = GroupLaplace(0.7, GROUPS)
    with pm.Model(coords={"feature": list("abcdef")}) as m:
        prior.to_pymc("w", pm.Data("prior_scale", prior.scale), None, dims="feature")
    logp = m.logp()
    # FAST_COMPILE: evaluated in Python, no C compilation (seconds) for two numbers
    fn = m.compile_fn([logp, pt.grad(logp, m.value_vars[0])], point_fn=False, mode="FAST_COMPILE")
    w = np.array([0.0, 0.0, 1.0, -2.0, 0.5, 3.0])  # the first group at its kink
    value, grad = fn(w)
    np.testing.assert_allclose(value, prior.logpdf(w), rtol=1e-12)
    # d logp / dw = -penalty gradient (0 on the zero group, not nan)
    np.testing.assert_allclose(grad, -prior.penalty_grad(w), rtol=1e-12)


def test_groups_are_validated():
    for bad in (None, [], [[0, 1]], [0.5, 1.0], "ab", [True, False]):
        with pytest.raises(ValueError, match="'groups' parameter of GroupLaplace"):
            GroupLaplace(1.0, bad)
    assert GroupLaplace(1.0, np.array([2.0, 2.0, 1.0])).groups == (2, 2, 1)
    with pytest.raises(ValueError, match="'groups' parameter of GroupedHorseshoe"):
        prior_from_name("grouped_horseshoe", 1.0)
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = X[:, 0]
    bad = RegressionModel(X, y, GroupLaplace(1.0, [0, 0, 1]), GaussianLikelihood(sigma=1.0))
    msg = r"'groups' parameter of GroupLaplace has 3 labels but the model has 4 coefficients"
    with pytest.raises(ValueError, match=msg):
        map_estimate(bad)  # the numpy evaluator: no graph is built
    with pytest.raises(ValueError, match=msg):
        bad.pymc_model  # noqa: B018 (building the graph checks too)
    with pytest.raises(ValueError, match=msg.replace("GroupLaplace", "GroupedHorseshoe")):
        RegressionModel(X, y, GroupedHorseshoe(1.0, [0, 0, 1])).pymc_model  # noqa: B018


# -- the group-lasso MAP = the group-lasso solution ----------------------------------------------
@pytest.fixture(scope="module")
def grouped_problem():
    """n = 80, p = 12 in 5 groups; raw columns with offsets and unequal scales; two null groups."""
    rng = np.random.default_rng(0)
    groups = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4]
    n, p = 80, len(groups)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + 1.0
    w = np.zeros(p)
    w[:3] = [1.5, -1.0, 0.5]
    w[5:9] = [0.3, 0.0, 0.2, -0.4]
    y = X @ w + 2.0 + rng.standard_normal(n)
    return X, y, groups


@pytest.mark.slow  # skglm's numba compilation alone takes 20-40 s on a busy 2-core machine
@pytest.mark.parametrize("scale", [0.05, 0.01])
def test_group_lasso_map_equals_skglm(grouped_problem, scale):
    from skglm import GroupLasso

    X, y, groups = grouped_problem
    n, sigma = len(y), 0.8
    est = map_estimate(
        RegressionModel(X, y, GroupLaplace(scale, groups), GaussianLikelihood(sigma=sigma))
    )
    assert est.converged and est.method == "fista"
    labels, sizes = np.unique(groups, return_counts=True)
    members = [np.flatnonzero(np.asarray(groups) == g).tolist() for g in labels]
    # SSE/(2 sigma^2) + sum_g sqrt(|g|) ||w_g|| / b, times sigma^2 / n, is skglm's objective
    # SSE/(2n) + alpha sum_g weights_g ||w_g|| with alpha = sigma^2 / (n b), weights = sqrt(|g|)
    ref = GroupLasso(
        groups=members,
        alpha=sigma**2 / (n * scale),
        weights=np.sqrt(sizes),
        tol=1e-14,
        max_iter=1000,
        max_epochs=100_000,
        fit_intercept=True,
    ).fit(X, y)
    # both solvers run to KKT ~1e-12 of a strongly convex problem (n > p): the solutions agree
    # to ~1e-11 (measured 4e-12); zero groups are exact zeros in both
    np.testing.assert_allclose(est.coef, ref.coef_, atol=1e-9)
    np.testing.assert_allclose(est.intercept, ref.intercept_, atol=1e-9)
    np.testing.assert_array_equal(est.coef == 0.0, ref.coef_ == 0.0)
    zero_groups = {g for g, c in zip(groups, est.coef, strict=True) if c == 0.0}
    assert zero_groups and zero_groups != set(groups)


@pytest.mark.slow  # skglm's numba compilation (shared with the test above in one session)
def test_verify_has_an_skglm_row_that_can_fail(grouped_problem):
    X, y, groups = grouped_problem
    model = RegressionModel(X, y, GroupLaplace(0.05, groups))  # sigma estimated
    report = verify(model, rows=["map_alt", "skglm"], include_find_map=False)
    assert report.passed, str(report)
    row = next(r for r in report.rows if r.method.startswith("skglm"))
    assert row.expected_to_agree and row.agrees and row.zero_pattern_agrees
    assert row.n_nonzero < len(groups)  # whole groups at zero, in both
    # a wrong conversion (1% off) must fail the row
    bad = verify(model, rows=["skglm"], include_find_map=False, conversion_factor=1.01)
    assert not bad.passed


def test_skglm_row_needs_a_group_penalty(grouped_problem):
    X, y, _ = grouped_problem
    report = verify(RegressionModel(X, y, Laplace(0.05)), rows=["skglm"], include_find_map=False)
    assert "group-lasso penalty" in report.not_applicable["skglm"]


def test_group_lasso_map_graph_evaluator_and_estimated_sigma(grouped_problem):
    X, y, groups = grouped_problem
    model = RegressionModel(X, y, GroupLaplace(0.05, groups), GaussianLikelihood(sigma=0.8))
    a = map_estimate(model, evaluator="numpy")
    b = map_estimate(model, evaluator="graph")  # the CustomDist graph's gradient and value
    np.testing.assert_allclose(b.coef, a.coef, atol=1e-9)
    np.testing.assert_allclose(b.objective, a.objective, rtol=1e-10)
    # sigma estimated: the returned point is the group-lasso solution at the reported sigma
    joint = map_estimate(RegressionModel(X, y, GroupLaplace(0.05, groups)))
    assert joint.converged
    at_sigma = map_estimate(
        RegressionModel(X, y, GroupLaplace(0.05, groups), GaussianLikelihood(sigma=joint.sigma))
    )
    np.testing.assert_allclose(joint.coef, at_sigma.coef, atol=1e-8)


def test_group_lasso_map_equals_a_tight_generic_optimizer():
    rng = np.random.default_rng(4)
    groups = [0, 0, 1, 1, 1]
    X = rng.normal(size=(30, 5)) + 0.5
    y = X @ np.array([1.0, -0.5, 0.0, 0.02, 0.0]) + 1.0 + rng.normal(size=30)
    prior, sigma = GroupLaplace(0.1, groups), 1.0
    est = map_estimate(RegressionModel(X, y, prior, GaussianLikelihood(sigma=sigma)))
    rates = prior.group_rates()
    index = np.unique(groups, return_inverse=True)[1]

    # the epigraph form: min SSE/(2 sigma^2) + sum_g a_g t_g  s.t.  t_g^2 >= ||w_g||^2, t_g >= 0
    # (smooth, so SLSQP converges to its ftol)
    def objective(x):
        w, b, t = x[:5], x[5], x[6:]
        r = y - X @ w - b
        return 0.5 * r @ r / sigma**2 + rates @ t

    cons = [{"type": "ineq", "fun": lambda x, k=k: x[6 + k] ** 2 - np.sum(x[:5][index == k] ** 2)}
            for k in range(2)]  # fmt: skip
    x0 = np.concatenate([est.coef + 0.1, [0.0], [1.0, 1.0]])
    res = optimize.minimize(
        objective, x0, method="SLSQP", constraints=cons,
        bounds=[(None, None)] * 6 + [(0, None)] * 2, options={"ftol": 1e-15, "maxiter": 1000},
    )  # fmt: skip
    assert res.success
    assert np.all(est.coef[2:] == 0.0)  # the second group is null at this strength

    # SLSQP stops ~1e-5 from the optimum in w (measured 7.6e-6: the epigraph constraint is
    # degenerate at the null group), so the tight claim is on the objective, evaluated exactly
    # at both points: ours is no worse than the generic optimizer's answer
    def exact(w, b):
        return objective(np.concatenate([w, [b], prior.group_norms(w)]))

    assert exact(est.coef, est.intercept) <= exact(res.x[:5], res.x[5]) + 1e-12
    np.testing.assert_allclose(est.coef, res.x[:5], atol=1e-4)
    np.testing.assert_allclose(est.intercept, res.x[5], atol=1e-4)


# -- horseshoe+ ------------------------------------------------------------------------------
def _hs_plus_local_density(lam):
    """p(lambda) = 4 log(lambda) / (pi^2 (lambda^2 - 1)) (Bhadra et al. 2017), 2/pi^2 at 1."""
    lam = np.asarray(lam, dtype=np.float64)
    near = np.abs(lam - 1.0) < 1e-6
    safe = np.where(near, 2.0, lam)
    return np.where(near, 2.0 / np.pi**2, 4.0 * np.log(safe) / (np.pi**2 * (safe**2 - 1.0)))


def _log_marginal_by_quad(w_groups, tau0, local_pdf):
    """log p(w) for ``w_g | tau, lambda_g ~ N(0, tau^2 lambda_g^2 I)``, tau ~ C+(0, tau0),
    lambda_g iid ~ local_pdf, by nested scipy quad over log tau and each log lambda_g."""

    def group_given_tau(wg, tau):
        d, ss = len(wg), float(np.sum(np.square(wg)))

        def f(s):  # s = log lambda
            lam = math.exp(s)
            v = (tau * lam) ** 2
            return math.exp(-0.5 * ss / v) / (2 * math.pi * v) ** (d / 2) * local_pdf(lam) * lam

        return integrate.quad(f, -40, 40, limit=200, epsabs=0, epsrel=1e-10)[0]

    def outer(s):  # s = log(tau / tau0), tau / tau0 ~ C+(0, 1)
        t = math.exp(s)
        dens = math.prod(group_given_tau(wg, tau0 * t) for wg in w_groups)
        return dens * 2 / math.pi / (1 + t * t) * t

    return math.log(integrate.quad(outer, -30, 30, limit=200, epsabs=0, epsrel=1e-9)[0])


def _hs_plus_local_pdf(lam):
    """p(lambda) = 4 log(lambda) / (pi^2 (lambda^2 - 1)) (Bhadra et al. 2017), 2 / pi^2 at 1."""
    if abs(lam - 1.0) < 1e-7:
        return 2.0 / math.pi**2
    return 4.0 * math.log(lam) / (math.pi**2 * (lam * lam - 1.0))


def _half_cauchy_pdf(lam):
    return 2.0 / (math.pi * (1.0 + lam * lam))


@pytest.mark.parametrize("w", [[0.3], [0.05, -2.5]], ids=str)
def test_horseshoe_plus_marginal_matches_quadrature(w):
    prior = HorseshoePlus(0.6)
    ref = _log_marginal_by_quad([[wj] for wj in w], 0.6, _hs_plus_local_pdf)
    # trapezoid rule (step 0.1, geometric convergence) vs adaptive quad at 1e-9
    np.testing.assert_allclose(prior.logpdf(np.array(w)), ref, rtol=1e-7)
    assert prior.logpdf(np.array([0.0, 1.0])) == np.inf


def test_horseshoe_plus_local_scale_draws_follow_the_known_density():
    prior = HorseshoePlus(1.0)
    with pm.Model(coords={"feature": list("abcd")}) as m:
        sd = prior.pymc_prior_sd("w", 1.0, None, dims="feature")
    lam, tau, sd_draws = pm.draw([m["w_lambda"], m["w_tau"], sd], draws=5000, random_seed=11)
    np.testing.assert_allclose(sd_draws, tau[:, None] * lam, rtol=1e-12)
    # the CDF of the paper's density, by the trapezoid rule in log lambda (step 6e-4: error
    # ~1e-7, far below the KS resolution 1 / sqrt(20 000) ~ 7e-3)
    s = np.linspace(-60.0, 60.0, 200_001)
    lam_s = np.exp(s)
    dens = np.where(np.abs(s) < 1e-7, 2 / np.pi**2, 4 * s * lam_s / (np.pi**2 * np.expm1(2 * s)))
    cdf = integrate.cumulative_trapezoid(dens, s, initial=0.0)
    assert abs(cdf[-1] - 1.0) < 1e-6

    def lam_cdf(x):
        return np.interp(np.log(x), s, cdf)

    # 20 000 iid local scales (5000 draws x 4 features): KS at the 1% level (fixed seed)
    assert stats.kstest(lam.ravel(), lam_cdf).pvalue > 0.01
    assert stats.kstest(tau, stats.halfcauchy.cdf).pvalue > 0.01  # the global scale C+(0, 1)


def test_horseshoe_plus_is_collapsible_with_no_map(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    prior = prior_from_name("horseshoe_plus", 0.1, scale_by_sigma=True)
    model = RegressionModel(X, y, prior)
    assert prior.collapsible and not prior.has_map and can_collapse(model)
    with pytest.raises(MapUndefinedError, match="unbounded at w = 0"):
        map_estimate(model)
    names = {v.name for v in model.pymc_model.free_RVs}
    assert names == {"w_z", "w_eta", "w_lambda_raw", "w_tau_raw", "intercept", "sigma"}


# -- the grouped horseshoe --------------------------------------------------------------------
def test_grouped_horseshoe_with_singleton_groups_is_the_horseshoe():
    w = np.array([-2.3, -0.4, 0.05, 1.7])
    # Horseshoe.logpdf uses the closed-form conditional (E1); ours the generic quadrature
    np.testing.assert_allclose(
        GroupedHorseshoe(0.7, range(4)).logpdf(w), Horseshoe(0.7).logpdf(w), rtol=1e-10
    )


def test_grouped_horseshoe_marginal_matches_quadrature():
    w = np.array([0.4, -1.1, 2.0])
    prior = GroupedHorseshoe(0.5, [1, 1, 2])
    ref = _log_marginal_by_quad([w[:2], w[2:]], 0.5, _half_cauchy_pdf)
    np.testing.assert_allclose(prior.logpdf(w), ref, rtol=1e-7)
    assert prior.logpdf(np.array([0.0, 0.0, 1.0])) == np.inf


def test_grouped_horseshoe_graph_shares_one_local_scale_per_group(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    groups = [0, 0, 0, 1, 1, 2, 2, 2]
    model = RegressionModel(X, y, GroupedHorseshoe(0.1, groups, scale_by_sigma=True))
    assert can_collapse(model) and not model.prior.has_map
    m = model.pymc_model
    assert {v.name for v in m.free_RVs} >= {"w_z", "w_lambda_group", "w_tau_raw"}
    lam = pm.draw(m["w_lambda"], draws=2, random_seed=1)
    index = np.unique(groups, return_inverse=True)[1]
    for row in lam:
        np.testing.assert_array_equal(row, row[np.argmax(index[:, None] == index, axis=0)])
        assert len(np.unique(row)) == 3


# -- slow: collapsed vs non-centred ----------------------------------------------------------------
def _summary(idata):
    return az.summary(idata, var_names=["w", "sigma", "intercept"], round_to="none")


@pytest.mark.slow
@pytest.mark.parametrize(
    "make",
    [
        lambda p: HorseshoePlus(0.1, scale_by_sigma=True),
        lambda p: GroupedHorseshoe(0.1, [0, 0, 0, 1, 1, 2, 2, 3][:p], scale_by_sigma=True),
    ],
    ids=["horseshoe_plus", "grouped_horseshoe"],
)
def test_collapsed_posterior_matches_the_non_centred_one(sparse_regression, make):
    X, y = sparse_regression.X, sparse_regression.y
    model = RegressionModel(X, y, make(X.shape[1]))
    # 400 + 400 draws: ~60 s for both graphs on a busy 2-core machine (the non-centred one
    # runs at target_accept 0.995, tree depth ~9)
    kw = dict(draws=400, tune=400, chains=2, random_seed=3, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = sample_posterior(model, **kw)
        full = sample_posterior(model, collapse=False, **kw)
    assert ours.posterior.attrs["sampling_graph"] == "collapsed"
    assert set(ours.posterior.data_vars) == set(full.posterior.data_vars)
    a, b = _summary(ours), _summary(full)
    assert a["r_hat"].max() <= 1.01
    # two independent NUTS runs on two graphs of one posterior: means within 4 combined MCSE
    z = (a["mean"] - b["mean"]) / np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert np.all(np.abs(z) < 4), z


@pytest.mark.slow
def test_group_lasso_posterior_matches_quadrature():
    """NUTS on the exact-density graph vs the posterior of a 2-D, one-group problem by quadrature."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(10, 2))
    y = X @ np.array([0.4, -0.2]) + rng.normal(size=10)
    prior, sigma = GroupLaplace(0.5, [0, 0]), 1.0
    model = RegressionModel(X, y, prior, GaussianLikelihood(sigma=sigma), fit_intercept=False)

    def density(w2, w1):  # unnormalized posterior; the mass beyond +-6 is below 1e-12
        w = np.array([w1, w2])
        r = y - X @ w
        return np.exp(-0.5 * r @ r / sigma**2 - prior.penalty(w))

    def moment(f):
        return integrate.dblquad(lambda b, a: f(a, b) * density(b, a), -6, 6, -6, 6,
                                 epsabs=0, epsrel=1e-9)[0]  # fmt: skip

    z = moment(lambda a, b: 1.0)
    mean = np.array([moment(lambda a, b: a), moment(lambda a, b: b)]) / z
    sd = np.sqrt(np.array([moment(lambda a, b: a * a), moment(lambda a, b: b * b)]) / z - mean**2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = sample_posterior(
            model, draws=2000, tune=1000, chains=2, random_seed=5, progressbar=False
        )
    s = az.summary(idata, var_names=["w"], round_to="none")
    assert int(idata.sample_stats["diverging"].sum()) == 0
    # Monte Carlo error only: means within 4 MCSE, sds within 4 se of an sd (~ sd / sqrt(2 ESS))
    assert np.all(np.abs(s["mean"].to_numpy() - mean) < 4 * s["mcse_mean"].to_numpy())
    se_sd = s["sd"].to_numpy() / np.sqrt(2 * s["ess_bulk"].to_numpy())
    assert np.all(np.abs(s["sd"].to_numpy() - sd) < 4 * se_sd)
