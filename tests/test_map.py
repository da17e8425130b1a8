"""MAP estimates vs closed forms and scikit-learn at the converted strength (tier 2)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

from bayesreg.conventions import penalty_to_prior, prior_to_penalty
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import ElasticNet, Gaussian, Laplace
from bayesreg.solvers import ConvergenceWarning, MapEstimate, map_estimate, ridge_closed_form
from bayesreg.solvers.working_set import GramCache, kkt_l1, working_set_lasso

SIGMA = 54.0  # roughly the diabetes residual sd; any fixed value works for the identities


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


def _lasso_ref(X, y, alpha):
    # scikit-learn's coordinate descent stopped on a duality gap of 1e-14 * ||y||^2 / n: far
    # below the 1e-6 relative agreement asked for
    return Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)


@pytest.fixture(scope="module")
def lasso_model(diabetes):
    """One compiled diabetes lasso model; tests move along the path with set_prior_scale."""
    return RegressionModel(
        diabetes.X.to_numpy(), diabetes.y, Laplace(100.0), GaussianLikelihood(SIGMA)
    )


@pytest.mark.parametrize("alpha", [0.02, 0.3, 2.0])
def test_lasso_map_matches_sklearn_on_diabetes(diabetes, lasso_model, alpha):
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    model = lasso_model
    model.set_prior_scale(penalty_to_prior("sklearn_lasso", alpha, sigma=SIGMA, n=n).scale)
    est = map_estimate(model)
    ref = _lasso_ref(X, y, alpha)
    assert est.method == "fista" and est.converged
    assert _rel(est.coef, ref.coef_) < 1e-6
    np.testing.assert_array_equal(est.coef == 0, ref.coef_ == 0)
    assert (est.coef == 0).any()  # a real test of the zero pattern: some coefficients are 0
    assert abs(est.intercept - ref.intercept_) < 1e-6 * abs(ref.intercept_)


def test_lasso_map_p_greater_than_n(p_greater_than_n):
    X, y = p_greater_than_n
    n = X.shape[0]
    alpha = 0.1
    model = RegressionModel(
        X, y, penalty_to_prior("sklearn_lasso", alpha, sigma=1.0, n=n), GaussianLikelihood(1.0)
    )
    est = map_estimate(model)
    ref = _lasso_ref(X, y, alpha)
    assert est.converged
    assert _rel(est.coef, ref.coef_) < 1e-6
    np.testing.assert_array_equal(est.coef == 0, ref.coef_ == 0)
    assert 0 < est.n_nonzero < n  # sparse, and the lasso keeps at most n coefficients


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_logistic_map_matches_sklearn(sparse_classification, rho):
    X, y = sparse_classification.X.to_numpy(), sparse_classification.y
    C = 0.2
    prior = penalty_to_prior("sklearn_logistic", C, l1_ratio=rho)
    model = RegressionModel(X, y, prior, BernoulliLikelihood())
    est = map_estimate(model)
    solver = "newton-cholesky" if rho == 0 else "saga"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(C=C, l1_ratio=rho, solver=solver, tol=1e-13, max_iter=10**6)
        ref.fit(X, y)
    assert est.converged
    assert _rel(est.coef, ref.coef_[0]) < 1e-6
    np.testing.assert_array_equal(est.coef == 0, ref.coef_[0] == 0)
    if rho == 1.0:
        assert (est.coef == 0).any()
    assert abs(est.intercept - ref.intercept_[0]) < 1e-6


def test_elastic_net_map_matches_sklearn(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    n, alpha, rho = len(y), 0.01, 0.7
    prior = penalty_to_prior("sklearn_elasticnet", alpha, sigma=SIGMA, n=n, l1_ratio=rho)
    assert isinstance(prior, ElasticNet)
    est = map_estimate(RegressionModel(X, y, prior, GaussianLikelihood(SIGMA)))
    ref = SkElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-14, max_iter=10**6).fit(X, y)
    assert _rel(est.coef, ref.coef_) < 1e-6
    np.testing.assert_array_equal(est.coef == 0, ref.coef_ == 0)


@pytest.mark.parametrize("method", ["closed_form", "lbfgs", "fista"])
def test_ridge_map_equals_closed_form(diabetes, method):
    X, y = diabetes.X.to_numpy(), diabetes.y
    prior = penalty_to_prior("sklearn_ridge", 0.5, sigma=SIGMA)
    est = map_estimate(RegressionModel(X, y, prior, GaussianLikelihood(SIGMA)), method=method)
    coef, b = ridge_closed_form(X, y, 0.5)
    # closed form and MAP: both exact up to rounding (KKT residual ~1e-15 relative)
    assert _rel(est.coef, coef) < 1e-10
    assert abs(est.intercept - b) < 1e-10 * abs(b)
    ref = Ridge(alpha=0.5, solver="cholesky").fit(X, y)
    assert _rel(coef, ref.coef_) < 1e-10


def test_ridge_closed_form_primal_dual_and_augmented_lstsq(rng):
    # p > n takes the dual branch; both must equal the augmented least-squares solution
    for n, p in [(40, 5), (15, 30)]:
        X = rng.standard_normal((n, p)) * rng.uniform(0.1, 100, p)
        y = rng.standard_normal(n)
        alpha = 0.7
        coef, b = ridge_closed_form(X, y, alpha)
        Xc, yc = X - X.mean(0), y - y.mean()
        A = np.vstack([Xc, np.sqrt(alpha) * np.eye(p)])
        ref = np.linalg.lstsq(A, np.append(yc, np.zeros(p)), rcond=None)[0]
        np.testing.assert_allclose(coef, ref, rtol=1e-9, atol=1e-12)
        assert b == pytest.approx(y.mean() - X.mean(0) @ ref, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="'alpha' parameter of ridge_closed_form"):
        ridge_closed_form(X, y, -1.0)


def _calendar_years(n=62, seed=3):
    """Kilpisjarvi-like data: x = calendar years (in the thousands), y = temperature."""
    rng = np.random.default_rng(seed)
    years = np.arange(1952, 1952 + n, dtype=float)
    y = 8.0 + 0.02 * (years - 1952) + 1.1 * rng.standard_normal(n)
    return years[:, None], y


@pytest.mark.parametrize("method", ["lbfgs", "fista"])
def test_badly_scaled_ridge_matches_closed_form(method):
    X, y = _calendar_years()
    tau, sigma = 0.0333, 1.1  # the posteriordb prior sd for beta
    model = RegressionModel(X, y, Gaussian(tau), GaussianLikelihood(sigma))
    est = map_estimate(model, method=method)
    coef, b = ridge_closed_form(X, y, sigma**2 / tau**2)
    assert est.converged
    assert _rel(est.coef, coef) < 1e-9
    assert abs(est.intercept - b) < 1e-9 * abs(b)


def test_badly_scaled_lasso_matches_sklearn():
    X, y = _calendar_years()
    X = np.column_stack([X, np.random.default_rng(1).standard_normal(len(y))])
    alpha = 0.002
    model = RegressionModel(
        X, y, penalty_to_prior("sklearn_lasso", alpha, sigma=1.0, n=len(y)), GaussianLikelihood(1.0)
    )
    est = map_estimate(model)
    ref = _lasso_ref(X, y, alpha)
    assert est.converged
    assert _rel(est.coef, ref.coef_) < 1e-6
    np.testing.assert_array_equal(est.coef == 0, ref.coef_ == 0)


def test_estimated_sigma_joint_map_closed_form(diabetes):
    """Gaussian prior, sigma ~ HalfNormal(s): at the joint MAP (no Jacobian) w is the ridge
    solution at alpha = sigma^2/tau^2 and sigma solves sigma^4/s^2 + n sigma^2 - SSE = 0."""
    X, y = diabetes.X.to_numpy(), diabetes.y
    tau = 50.0
    model = RegressionModel(X, y, Gaussian(tau))
    est = map_estimate(model)
    assert est.method == "lbfgs" and est.converged and est.sigma is not None
    coef, _ = ridge_closed_form(X, y, est.sigma**2 / tau**2)
    assert _rel(est.coef, coef) < 1e-10
    sse = float(np.sum((y - X @ est.coef - est.intercept) ** 2))
    s = model.likelihood.resolved_sigma_prior_scale(y)
    n = len(y)
    sigma2 = 0.5 * s**2 * (-n + np.sqrt(n**2 + 4 * sse / s**2))
    # the sigma block stops at a relative KKT residual of 1e-10 (curvature ~2n in log sigma)
    assert est.sigma == pytest.approx(np.sqrt(sigma2), rel=1e-8)


def test_estimated_sigma_laplace_scale_by_sigma(diabetes):
    """Laplace(b * sigma): at the joint MAP, w is the lasso at alpha = sigma^2 / (n b sigma)."""
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    model = RegressionModel(X, y, Laplace(1.0, scale_by_sigma=True))
    est = map_estimate(model)
    assert est.converged and est.sigma is not None
    alpha = prior_to_penalty(model.prior, "sklearn_lasso", sigma=est.sigma, n=n)
    ref = _lasso_ref(X, y, alpha)
    assert _rel(est.coef, ref.coef_) < 1e-6
    np.testing.assert_array_equal(est.coef == 0, ref.coef_ == 0)


def test_prior_scale_path_reuses_compiled_graph(diabetes, lasso_model):
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    model = lasso_model
    map_estimate(model, evaluator="graph")
    compiled = dict(model._functions)
    for alpha in [1.0, 0.1, 0.01]:
        model.set_prior_scale(SIGMA**2 / (n * alpha))
        est = map_estimate(model, evaluator="graph")
        ref = _lasso_ref(X, y, alpha)
        assert _rel(est.coef, ref.coef_) < 1e-6 if ref.coef_.any() else not est.coef.any()
        np.testing.assert_array_equal(est.coef == 0, ref.coef_ == 0)
    assert model._functions.keys() == compiled.keys()
    assert all(model._functions[k] is compiled[k] for k in compiled)


@pytest.mark.parametrize("evaluator", ["numpy", "graph"])
def test_with_prior_scale_copies_share_nothing_stale(diabetes, lasso_model, evaluator):
    """The solvers' cached data is shared by with_prior_scale copies; the prior is not: a copy
    at another scale gets that scale's MAP, and the original model keeps its own."""
    X, y = diabetes.X.to_numpy(), diabetes.y
    model = lasso_model
    model.set_prior_scale(100.0)
    before = map_estimate(model, evaluator=evaluator)
    copy = model.with_prior_scale(5.0)
    est = map_estimate(copy, evaluator=evaluator)
    fresh = map_estimate(
        RegressionModel(X, y, Laplace(5.0), GaussianLikelihood(SIGMA)), evaluator="numpy"
    )
    assert est.evaluator == evaluator and model.prior_scale == 100.0
    assert _rel(est.coef, fresh.coef) < 1e-10 and est.objective == pytest.approx(fresh.objective)
    after = map_estimate(model, evaluator=evaluator)
    np.testing.assert_array_equal(after.coef, before.coef)
    assert after.objective == before.objective
    assert est.n_nonzero < after.n_nonzero  # a real difference between the two scales


def _evaluator_cases():
    priors = [Gaussian(0.7), Laplace(0.4), ElasticNet(0.5, 0.3), Laplace(0.6, scale_by_sigma=True)]
    liks = [GaussianLikelihood(1.3), GaussianLikelihood(), BernoulliLikelihood()]
    return [
        pytest.param(pr, lk, id=f"{pr!r}-{lk!r}")
        for pr in priors
        for lk in liks
        if lk.has_sigma or not pr.scale_by_sigma  # a sigma-scaled prior needs a sigma
    ]


@pytest.mark.parametrize(("prior", "lik"), _evaluator_cases())
def test_numpy_and_graph_evaluators_agree(prior, lik):
    """The compile-free numpy evaluator and the compiled PyTensor graph are one objective:
    value, gradient in z, log-sigma derivative, objective and KKT residual agree to rounding
    (1e-10 relative: both are sums of O(n p) terms in double precision)."""
    from bayesreg.solvers._problem import problem_for

    rng = np.random.default_rng(7)
    n, p = 40, 4
    X = rng.standard_normal((n, p)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 50.0, -1.0, 2.0]
    eta = X @ [0.5, -0.05, 3.0, 0.2] + 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float) if not lik.has_sigma else eta
    y = y + (0.8 * rng.standard_normal(n) if lik.has_sigma else 0.0)
    model = RegressionModel(X, y, prior, lik)
    graph, fast = problem_for(model, evaluator="graph"), problem_for(model, evaluator="numpy")
    assert (graph.evaluator.kind, fast.evaluator.kind) == ("graph", "numpy")
    ls = float(np.log(1.7)) if lik.estimates_sigma else None
    z = rng.standard_normal(graph.nz)  # no zero coefficient: the penalty is differentiable

    def close(a, b):
        a, b = np.atleast_1d(a), np.atleast_1d(b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * float(np.max(np.abs(b))))

    for fn in ("smooth_fg", "full_fg"):
        (fa, ga), (fb, gb) = getattr(fast, fn)(z, ls), getattr(graph, fn)(z, ls)
        close(fa, fb)
        close(ga, gb)
    w, b = graph.wb_from_z(z)
    close(fast.objective(w, b, ls), graph.objective(w, b, ls))
    close(fast.kkt_original(w, b, ls), graph.kkt_original(w, b, ls))
    if ls is not None:
        close(fast.sigma_grad(w, b, ls), graph.sigma_grad(w, b, ls))
        (fa, ga), (fb, gb) = (
            fast.full_fg_joint(np.append(z, ls)),
            graph.full_fg_joint(np.append(z, ls)),
        )
        close(fa, fb)
        close(ga, gb)
    # and the two give the same MAP
    a, g = map_estimate(model, evaluator="numpy"), map_estimate(model, evaluator="graph")
    assert a.converged and g.converged
    np.testing.assert_array_equal(a.coef == 0, g.coef == 0)
    close(a.coef, g.coef)


def test_numpy_evaluator_builds_no_graph(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    model = RegressionModel(X, y, Laplace(1.0, scale_by_sigma=True))
    est = map_estimate(model)
    assert est.evaluator == "numpy" and est.converged
    assert model._structure.pymc_model is None  # nothing was built, so nothing compiled
    out = json.loads(json.dumps(est.to_dict()))  # a frozen Result, JSON through one serializer
    assert out["coef"] == est.coef.tolist() and out["n_nonzero"] == est.n_nonzero
    with pytest.raises(ValueError, match=r"'gpu' is not a supported evaluator"):
        map_estimate(model, evaluator="gpu")


def test_errors(diabetes, lasso_model):
    X, y = diabetes.X.to_numpy(), diabetes.y
    lasso = lasso_model
    with pytest.raises(
        ValueError, match=r"'newton' is not a supported MAP method\. Must be one of"
    ):
        map_estimate(lasso, method="newton")
    with pytest.raises(ValueError, match="not differentiable at 0"):
        map_estimate(lasso, method="lbfgs")
    with pytest.raises(ValueError, match="needs a Gaussian prior and a GaussianLikelihood"):
        map_estimate(lasso, method="closed_form")
    with pytest.raises(ValueError, match="'tol' parameter of map_estimate"):
        map_estimate(lasso, tol=0.0)
    with pytest.raises(TypeError, match="must be a RegressionModel"):
        map_estimate("model")

    class Pole(Gaussian):  # stands in for the horseshoe: a density unbounded at 0
        has_map = False

    with pytest.raises(ValueError, match="unbounded at w = 0"):
        map_estimate(RegressionModel(X, y, Pole(1.0), GaussianLikelihood(SIGMA)))


def test_non_convergence_is_loud(lasso_model):
    model = lasso_model
    model.set_prior_scale(100.0)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = map_estimate(model, method="ista", max_iter=2)
    assert not est.converged
    assert est.optimality > 1e-6


def test_optimality_and_objective_are_consistent(diabetes, lasso_model):
    X, y = diabetes.X.to_numpy(), diabetes.y
    model = lasso_model
    model.set_prior_scale(100.0)
    est = map_estimate(model)
    # objective = -log posterior (no Jacobian) from the numpy densities
    eta = X @ est.coef + est.intercept
    neg = -(model.likelihood.logpdf(eta, y, SIGMA) + model.prior.logpdf(est.coef))
    assert est.objective == pytest.approx(neg, rel=1e-12)
    assert est.optimality < 1e-8
    # any perturbation, including of a zero coefficient, increases the objective
    prob_vals = []
    for j in range(X.shape[1]):
        for d in (-1e-3, 1e-3):
            w = est.coef.copy()
            w[j] += d
            eta = X @ w + est.intercept
            prob_vals.append(-(model.likelihood.logpdf(eta, y, SIGMA) + model.prior.logpdf(w)))
    assert min(prob_vals) > est.objective


def test_warm_start_init_gives_the_same_map(diabetes, lasso_model):
    """init= changes the starting point, not the answer (nor the stopping rule)."""
    X, y = diabetes.X.to_numpy(), diabetes.y
    n = len(y)
    model = lasso_model
    model.set_prior_scale(SIGMA**2 / (n * 0.3))
    near = map_estimate(model)
    model.set_prior_scale(SIGMA**2 / (n * 0.2))
    cold = map_estimate(model)
    warm = map_estimate(model, init=near)
    ref = _lasso_ref(X, y, 0.2)
    assert warm.converged and cold.converged
    np.testing.assert_array_equal(warm.coef == 0, ref.coef_ == 0)
    assert _rel(warm.coef, ref.coef_) < 1e-6
    # both are the exact solution (sign-pattern solve), so they agree to rounding
    assert _rel(warm.coef, cold.coef) < 1e-10
    assert warm.n_iter <= cold.n_iter
    with pytest.raises(TypeError, match="'init' parameter of map_estimate must be a MapEstimate"):
        map_estimate(model, init=near.coef)
    bad = MapEstimate(np.zeros(3), 0.0, None, "fista", 1, True, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"finite coef of shape \(10,\)"):
        map_estimate(model, init=bad)


def test_warm_start_with_estimated_sigma(diabetes):
    X, y = diabetes.X.to_numpy(), diabetes.y
    model = RegressionModel(X, y, Gaussian(50.0))
    cold = map_estimate(model)
    model.set_prior_scale(40.0)
    near = map_estimate(model)
    model.set_prior_scale(50.0)
    warm = map_estimate(model, init=near)
    assert warm.converged
    assert _rel(warm.coef, cold.coef) < 1e-9
    assert warm.sigma == pytest.approx(cold.sigma, rel=1e-9)


@pytest.mark.parametrize("store_columns", [False, True])
@pytest.mark.parametrize("l2", [0.0, 3.0])
def test_working_set_solver_matches_sklearn(store_columns, l2):
    """The numpy working-set solver alone, p > n: lasso (mu = 0) and elastic net (mu > 0)."""
    rng = np.random.default_rng(4)
    n, p = 40, 120
    Z = np.asfortranarray(rng.standard_normal((n, p)))
    w = np.zeros(p)
    w[:6] = [2, -1.5, 1, -1, 0.8, 0.5]
    y = Z @ w + 0.3 * rng.standard_normal(n)
    lam1, tol = 4.0, 1e-10
    gram = GramCache(Z, y, store_columns=store_columns)
    res = working_set_lasso(Z, y, np.full(p, lam1), np.full(p, l2), np.zeros(p), tol, gram=gram)
    assert res.converged and res.optimality <= tol
    # 1/2 ||y - Z u||^2 + lam1 |u|_1 + l2/2 |u|^2 is ElasticNet's objective times n with
    # alpha * rho = lam1 / n and alpha * (1 - rho) = l2 / n
    alpha = (lam1 + l2) / n
    ref = SkElasticNet(
        alpha=alpha, l1_ratio=lam1 / (lam1 + l2), fit_intercept=False, tol=1e-14, max_iter=10**6
    ).fit(Z, y)
    np.testing.assert_array_equal(res.u == 0, ref.coef_ == 0)
    assert _rel(res.u, ref.coef_) < 1e-7
    # KKT residual recomputed from scratch (not the solver's own bookkeeping)
    g = -Z.T @ (y - Z @ res.u) + l2 * res.u
    assert float(np.max(kkt_l1(res.u, g, np.full(p, lam1)))) <= 1e-8
    # a warm start from a perturbed point reaches the same solution
    again = working_set_lasso(
        Z, y, np.full(p, lam1), np.full(p, l2), res.u + 0.05 * (res.u != 0), tol, gram=gram
    )
    assert again.converged
    assert _rel(again.u, res.u) < 1e-9


def test_compiled_coordinate_descent_matches_exact_active_set():
    """The numba CD kernel of the working-set solver reaches the exact sign-pattern solution.

    Reference: the feature-sign (active-set) search, which ends at an exact KKT point. CD stops
    at KKT residual <= 1e-10 on a problem with H's eigenvalues in about [0.3, 6], so its
    distance to the minimizer is at most 1e-10 / 0.3 (strong convexity): 1e-9 is a safe bound.
    The pure-Python twin must give the same iterates (same arithmetic, same order).
    """
    from bayesreg.solvers import working_set as ws

    rng = np.random.default_rng(3)
    Z = rng.standard_normal((60, 15))
    H = Z.T @ Z / 60 + 0.1 * np.eye(15)
    q = rng.standard_normal(15)
    lam = np.full(15, 0.4)
    ref, _, ok = ws._active_set(ws._Dense(H, q), lam, np.zeros(15), 1e-13, max_steps=200)
    assert ok and 0 < np.count_nonzero(ref) < 15
    x_py = np.zeros(15)
    n_py, ok_py = ws._cd_gram_py(H, q, lam, x_py, 1e-10, 10_000)
    assert ok_py
    np.testing.assert_array_equal(x_py == 0, ref == 0)
    assert np.max(np.abs(x_py - ref)) < 1e-9
    if ws._cd_gram is not None:
        x_nb = np.zeros(15)
        n_nb, ok_nb = ws._cd_gram(H, q, lam, x_nb, 1e-10, 10_000)
        assert ok_nb and n_nb == n_py
        np.testing.assert_allclose(x_nb, x_py, rtol=0, atol=1e-13)


@pytest.mark.parametrize("shape", [(40, 6), (8, 20)], ids=["p < n", "p > n"])
def test_ridge_closed_form_with_one_alpha_per_feature(shape):
    """The normal equations (Xc'Xc + diag(alpha)) w = Xc'yc, solved directly; primal and dual."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=shape) + 3.0
    y = rng.normal(size=shape[0]) + 5.0
    alpha = rng.uniform(0.1, 5.0, size=shape[1])
    coef, b = ridge_closed_form(X, y, alpha)
    Xc, yc = X - X.mean(0), y - y.mean()
    ref = np.linalg.solve(Xc.T @ Xc + np.diag(alpha), Xc.T @ yc)
    np.testing.assert_allclose(coef, ref, rtol=1e-9)  # condition number ~1e2: rounding only
    assert b == pytest.approx(y.mean() - X.mean(0) @ ref, rel=1e-10)
    with pytest.raises(ValueError, match="one per feature"):
        ridge_closed_form(X, y, alpha[:-1])
