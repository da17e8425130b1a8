"""Plots run on real results and draw the expected artists; the 2-D geometry is exact.

References: the touching points of the L2 disc / L1 diamond are checked against scikit-learn's
Ridge / Lasso at the returned Lagrange multiplier (duality) and against a brute-force search on
the ball's boundary; the objective grid against the model's compiled log posterior.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.contour import ContourSet
from sklearn.linear_model import Lasso, Ridge

from bayesreg import Gaussian, GaussianLikelihood, Laplace, RegressionModel
from bayesreg import plotting as bp
from bayesreg.paths import posterior_path
from bayesreg.sampling import sample_posterior
from bayesreg.solvers import map_estimate


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _problem(coef=(2.0, 0.5), corr=0.8, n=60, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    X = np.column_stack([Z[:, 0], corr * Z[:, 0] + np.sqrt(1 - corr**2) * Z[:, 1]])
    y = X @ np.asarray(coef) + 1.5 + rng.standard_normal(n)
    return X, y


def _boundary_brute_force(X, y, radius, norm, m=400_001):
    """argmin of SSE on a dense parametrization of the ball's boundary."""
    Xc, yc = X - X.mean(0), y - y.mean()
    t = np.linspace(0.0, 2 * np.pi, m, endpoint=False)
    if norm == "l2":
        W = radius * np.stack([np.cos(t), np.sin(t)])
    else:  # the diamond: |w1| + |w2| = r, w = r (cos t, sin t) / (|cos t| + |sin t|)
        c, s = np.cos(t), np.sin(t)
        W = radius * np.stack([c, s]) / (np.abs(c) + np.abs(s))
    sse = np.sum((yc[:, None] - Xc @ W) ** 2, axis=0)
    return W[:, np.argmin(sse)]


# -- exact geometry ------------------------------------------------------------------------------
@pytest.mark.parametrize("coef", [(2.0, 0.5), (-1.0, 3.0), (1.5, 1.2)])
def test_l2_touching_point_is_ridge_at_the_multiplier(coef):
    X, y = _problem(coef)
    radius = 0.6 * np.linalg.norm(np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0])
    w, lam = bp.constrained_least_squares(X, y, radius, "l2")
    # on the circle (brentq to ~1e-14 relative), and equal to Ridge(alpha=lam): the Lagrangian
    # SSE/2 + lam/2 (||w||^2 - r^2) is ridge's objective over 2; both are direct solves -> 1e-10
    assert np.linalg.norm(w) == pytest.approx(radius, rel=1e-10)
    ridge = Ridge(alpha=lam, fit_intercept=True).fit(X, y)
    np.testing.assert_allclose(w, ridge.coef_, rtol=1e-9, atol=1e-12)
    # brute force on 400k boundary points: angle resolution 1.6e-5 -> position error < 1e-4 r
    np.testing.assert_allclose(w, _boundary_brute_force(X, y, radius, "l2"), atol=1e-4 * radius)


@pytest.mark.parametrize("coef", [(2.0, 0.5), (-1.0, 3.0), (1.5, 1.2)])
def test_l1_touching_point_is_lasso_at_the_multiplier(coef):
    X, y = _problem(coef)
    n = X.shape[0]
    ols = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0]
    radius = 0.6 * np.abs(ols).sum()
    w, lam = bp.constrained_least_squares(X, y, radius, "l1")
    assert np.abs(w).sum() == pytest.approx(radius, rel=1e-12)
    # Lasso's objective SSE/(2n) + alpha ||w||_1 at alpha = lam / n is the Lagrangian over n;
    # coordinate descent run to tol 1e-14 agrees to ~1e-9
    lasso = Lasso(alpha=lam / n, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(w, lasso.coef_, atol=1e-8)
    assert np.array_equal(w == 0.0, lasso.coef_ == 0.0)  # same zero pattern, exactly
    np.testing.assert_allclose(w, _boundary_brute_force(X, y, radius, "l1"), atol=1e-4 * radius)


def test_l1_touches_at_a_corner_l2_does_not():
    # correlated features, one weak effect: the diamond's corner wins, the disc keeps both
    X, y = _problem((2.0, 0.3), corr=0.6)
    g = bp.lasso_ridge_geometry(X, y, radius=1.0)
    assert g.l1_point[1] == 0.0 and g.l1_point[0] == 1.0  # the vertex (r, 0), exactly
    assert np.all(np.abs(g.l2_point) > 0.05)
    # the loss level through each point is the minimum of the loss over that ball's boundary
    Xc, yc = X - X.mean(0), y - y.mean()
    assert g.l1_level == pytest.approx(0.5 * np.sum((yc - Xc @ g.l1_point) ** 2), rel=1e-12)
    assert g.l2_level <= g.l1_level  # the disc contains the diamond
    # grid loss is the exact quadratic: check one grid node against a direct SSE
    i, j = 17, 123
    w = np.array([g.w1[j], g.w2[i]])
    assert g.loss[i, j] == pytest.approx(0.5 * np.sum((yc - Xc @ w) ** 2), rel=1e-10)


def test_inside_the_ball_returns_least_squares():
    X, y = _problem()
    ols = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0]
    for norm in ("l2", "l1"):
        w, lam = bp.constrained_least_squares(X, y, 10.0 * np.abs(ols).sum(), norm)
        np.testing.assert_allclose(w, ols, rtol=1e-12)
        assert lam == 0.0


def test_geometry_bad_inputs():
    X, y = _problem()
    with pytest.raises(ValueError, match="'radius' parameter"):
        bp.constrained_least_squares(X, y, -1.0)
    with pytest.raises(ValueError, match="'l3' is not a supported norm"):
        bp.constrained_least_squares(X, y, 1.0, "l3")
    X3 = np.column_stack([X, X[:, 0]])
    with pytest.raises(ValueError, match="p = 2 only"):
        bp.constrained_least_squares(X3, y, 1.0, "l1")
    with pytest.raises(ValueError, match="exactly 2 features"):
        bp.lasso_ridge_geometry(X3, y)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bp.lasso_ridge_geometry(Xn, y)


@pytest.mark.parametrize("prior", [Gaussian(0.7), Laplace(0.4)])
def test_objective_grid_matches_the_compiled_log_posterior(prior):
    X, y = _problem()
    model = RegressionModel(X, y, prior, GaussianLikelihood(sigma=1.3))
    w1, w2 = np.linspace(-1, 3, 7), np.linspace(-2, 2, 5)
    b = 1.1
    J = bp.objective_grid(model, w1, w2, intercept=b)
    logp = model.logp_function(terms=("data", "prior"))
    ref = np.array([[-logp(model.theta_from_params([a, c], b)) for a in w1] for c in w2])
    # J and -log posterior differ by a constant only (normalizers): compare centred values
    np.testing.assert_allclose(J - J[0, 0], ref - ref[0, 0], rtol=1e-10, atol=1e-9)
    # the default intercept is the exact profile optimum: J never exceeds J at a fixed b
    assert np.all(bp.objective_grid(model, w1, w2) <= J + 1e-12)


# -- plots on real results -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def diabetes_gaussian(diabetes):
    return RegressionModel(diabetes.X, diabetes.y, Gaussian(200.0), GaussianLikelihood(sigma=54.0))


@pytest.fixture(scope="module")
def exact_idata(diabetes_gaussian):
    return sample_posterior(diabetes_gaussian, draws=300, chains=2, backend="exact", random_seed=1)


@pytest.fixture(scope="module")
def exact_path(diabetes_gaussian):
    return posterior_path(
        diabetes_gaussian, [1e-3, 1e-2, 1e-1, 1.0], draws=200, chains=2, backend="exact",
        random_seed=3, progressbar=False, convention="sklearn_ridge",
    )  # fmt: skip


def test_plot_map_path_and_posterior_path(exact_path):
    fig, (a1, a2) = plt.subplots(1, 2)
    p = len(exact_path.feature_names)
    assert bp.plot_map_path(exact_path, ax=a1) is a1
    assert bp.plot_posterior_path(exact_path, ax=a2) is a2
    # one line per coefficient plus the zero line; MAP values drawn unchanged
    assert len(a1.lines) == p + 1 and len(a2.lines) == p + 1
    np.testing.assert_array_equal(a1.lines[0].get_ydata(), exact_path.map_coef[:, 0])
    np.testing.assert_array_equal(a1.lines[0].get_xdata(), exact_path.strengths)
    assert a1.get_xscale() == "log"
    bands = [c for c in a2.collections if isinstance(c, PolyCollection)]
    assert len(bands) == p
    assert "sklearn_ridge" in a1.get_xlabel()
    # ax=None makes its own figure
    assert bp.plot_map_path(exact_path).figure is not fig


@pytest.mark.slow
def test_plot_posterior_forest_gaussian_vs_laplace(diabetes, exact_idata, diabetes_gaussian):
    lap = RegressionModel(diabetes.X, diabetes.y, Laplace(60.0), GaussianLikelihood(sigma=54.0))
    idata_l = sample_posterior(lap, draws=150, tune=150, chains=2, random_seed=2, progressbar=False)
    maps = {"Gaussian": map_estimate(diabetes_gaussian).coef, "Laplace": map_estimate(lap).coef}
    ax = bp.plot_posterior_forest({"Gaussian": exact_idata, "Laplace": idata_l}, map_coefs=maps)
    segments = [c for c in ax.collections if isinstance(c, LineCollection)]
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(segments) == 2 and all(len(s.get_segments()) == 10 for s in segments)
    assert len(points) == 4  # medians and MAP marks for each prior
    # the Gaussian interval of the first coefficient is the 5%..95% quantile of its draws
    draws = exact_idata.posterior["w"].values.reshape(-1, 10)
    seg = segments[0].get_segments()[0]
    np.testing.assert_allclose(seg[:, 0], np.quantile(draws[:, 0], [0.05, 0.95]))
    assert ax.get_yticklabels()[0].get_text() == diabetes.feature_names[0]


def test_plot_shrinkage(exact_idata, diabetes_gaussian):
    from bayesreg.shrinkage import posterior_shrinkage

    table = posterior_shrinkage(exact_idata, diabetes_gaussian).to_dataframe()
    ax = bp.plot_shrinkage(
        table["reference"], table["post_median"], feature_names=table["feature"],
        map_coef=map_estimate(diabetes_gaussian).coef,
    )  # fmt: skip
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 3
    assert len(ax.texts) == 10  # one arrow per coefficient
    with pytest.raises(ValueError, match="differ in shape"):
        bp.plot_shrinkage([1.0, 2.0], [1.0])


def test_plot_geometry_draws_contours_balls_and_points():
    X, y = _problem((2.0, 0.3), corr=0.6)
    g = bp.lasso_ridge_geometry(X, y, radius=1.0, feature_names=("a", "b"))
    ax = bp.plot_geometry(g)
    assert len([c for c in ax.collections if isinstance(c, ContourSet)]) == 3
    assert len(ax.lines) >= 2  # the circle and the diamond
    pts = [c for c in ax.collections if isinstance(c, PathCollection)]
    offsets = np.vstack([c.get_offsets() for c in pts])
    for point in (g.l1_point, g.l2_point, g.ols):
        assert np.min(np.linalg.norm(offsets - point, axis=1)) < 1e-12
    assert ax.get_xlabel() == "a"


def test_plot_descent_trajectories_on_real_runs():
    from bayesreg.solvers import gradient_descent

    X, y = _problem((2.0, 0.3), corr=0.6)
    model = RegressionModel(X, y, Laplace(0.05), GaussianLikelihood(sigma=1.0))
    runs = {
        m: gradient_descent(model, method=m, max_iter=300, record_every=1)
        for m in ("ista", "subgradient")
    }
    w1, w2 = np.linspace(-0.5, 3, 60), np.linspace(-1.5, 2, 50)
    J = bp.objective_grid(model, w1, w2)
    opt = map_estimate(model).coef
    ax = bp.plot_descent_trajectories(runs, w1, w2, J, optimum=opt)
    assert len([c for c in ax.collections if isinstance(c, ContourSet)]) == 1
    traj_lines = [ln for ln in ax.lines if ln.get_label() in runs]
    assert len(traj_lines) == 2
    np.testing.assert_array_equal(traj_lines[0].get_xdata(), runs["ista"].trajectory[:, 0])
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        bp.plot_descent_trajectories({"bad": np.zeros((3, 3))}, w1, w2, J)


def test_plot_validation_curve():
    x = np.logspace(-2, 2, 9)
    ax = bp.plot_validation_curve(x, {"train": x, "validation": 1 / x + x}, best=1.0)
    assert len(ax.lines) == 3 and ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="expected"):
        bp.plot_validation_curve(x, {"bad": x[:3]})


def test_plot_trace_and_rank(exact_idata):
    axes = bp.plot_trace(exact_idata, var_names=["w"])
    assert axes.shape == (1, 2) and len(axes[0, 1].lines) > 0
    axes = bp.plot_rank(exact_idata, var_names=["intercept"])
    axes = np.atleast_1d(axes)
    assert len(axes) == 1 and len(axes[0].patches) + len(axes[0].collections) > 0


# -- choosing lambda: one panel per method, the choice read from the result ---------------------
@pytest.fixture(scope="module")
def selection_results(sparse_regression):
    from bayesreg.selection import (
        SelectionResult,
        full_bayes,
        kfold_search,
        mcem_lambda,
        ridge_evidence,
        validation_search,
    )

    X, y = sparse_regression.X, sparse_regression.y
    scales = np.geomspace(0.01, 10.0, 5)
    # sigma known: the MAPs are penalized least squares, cheap; the Gibbs runs are tiny
    out = {
        "validation_grid": validation_search(X, y, scales=scales, sigma=1.0),
        "kfold": kfold_search(X, y, scales=scales, cv=3, sigma=1.0),
        "evidence": ridge_evidence(X, y),
        "mcem": mcem_lambda(X, y, n_iter=6, draws_per_iter=20, average_last=3, random_seed=0),
        "full_bayes": full_bayes(X, y, draws=100, tune=20, chains=1, random_seed=0),
    }
    # PSIS-LOO samples at every scale: a hand-made result with its fields exercises the panel
    out["psis_loo"] = SelectionResult(
        method="psis_loo", prior=Gaussian(1.0), grid=scales, curve=-np.abs(np.log(scales)),
        criterion="elpd_loo (maximized)", sigma=1.0, seconds=0.0, n=len(y),
        extra={"se": np.full(5, 0.5)},
    )  # fmt: skip
    return out


def test_plot_selection_curve_draws_each_methods_curve_and_choice(selection_results):
    _, axes = plt.subplots(2, 3)
    for (method, res), ax in zip(selection_results.items(), axes.ravel(), strict=True):
        assert bp.plot_selection_curve(res, ax=ax) is ax
        curve = ax.lines[0]
        np.testing.assert_array_equal(curve.get_xdata(), res.grid)
        np.testing.assert_array_equal(curve.get_ydata(), res.curve)
        assert ax.get_title() == method
        marks = [ln for ln in ax.lines[1:] if ln.get_linestyle() == "--"]
        assert len(marks) == 1, method
        mark = marks[0]
        if method == "mcem":  # a horizontal line at the EM estimate
            assert mark.get_ydata()[0] == pytest.approx(res.extra["lam"], rel=1e-15)
            assert ax.get_xscale() == "linear"
        elif method == "full_bayes":  # the median lambda and the shaded 95% interval
            lam = np.median(res.extra["lam_draws"])
            assert mark.get_xdata()[0] == pytest.approx(lam, rel=1e-12)
            assert len(ax.patches) == 1
            x0, x1 = ax.patches[0].get_x(), ax.patches[0].get_x() + ax.patches[0].get_width()
            np.testing.assert_allclose([x0, x1], res.extra["lam_interval_95"], rtol=1e-12)
        else:  # a vertical line at the chosen value, on a log axis
            chosen = res.extra["alpha"] if method == "evidence" else res.scale
            assert mark.get_xdata()[0] == pytest.approx(chosen, rel=1e-15)
            assert ax.get_xscale() == "log"
        # a +-1 s.e. band exactly where the result carries standard errors
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == (1 if "se" in res.extra else 0), method


def test_plot_selection_curve_bad_shapes(selection_results):
    from dataclasses import replace

    bad = replace(selection_results["kfold"], curve=selection_results["kfold"].curve[:2])
    with pytest.raises(ValueError, match=r"expected the shape of result\.grid"):
        bp.plot_selection_curve(bad)
    ax = bp.plot_selection_curve(selection_results["evidence"])  # ax=None makes one
    assert ax is not None and ax.get_xlabel() == "Ridge alpha"
