"""Variable selection beside shrinkage: R bayesreg's ranking, DSS (Hahn & Carvalho 2015),
compare_models on PSIS-LOO and WAIC.

Independent references: a literal transcription of R bayesreg's ranking loop; scikit-learn's
Lasso / lasso_path for the DSS summaries; a per-draw loop for rho2; ArviZ's az.compare called
here directly; exact leave-one-out of a conjugate Gaussian model in closed form.
"""

from __future__ import annotations

import json
import warnings

import arviz as az
import matplotlib
import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import Lasso, lasso_path

from bayesreg import (
    BernoulliLikelihood,
    Gaussian,
    GaussianLikelihood,
    RegressionModel,
    compare_models,
    dss_path,
    make_sparse_regression,
    sample_posterior,
    variable_ranking,
)
from bayesreg.variable_selection import rank_draws

matplotlib.use("Agg")


def _w_idata(W: np.ndarray, chains: int = 2):
    """An InferenceData whose posterior w is the (S, p) array W split into chains."""
    S, p = W.shape
    return az.from_dict(posterior={"w": W.reshape(chains, S // chains, p)}, dims={"w": ["feature"]})


def _sample(model, draws=1000, chains=2, seed=0):
    return sample_posterior(
        model, draws=draws, chains=chains, backend="exact", random_seed=seed, progressbar=False
    )


@pytest.fixture(scope="module")
def separated():
    """n=100, p=8, 3 non-zeros of size about 2 (noise sd 1): well separated; the exact
    conjugate sampler (Gaussian prior, known sigma) gives 2000 i.i.d. draws in well under 1 s."""
    d = make_sparse_regression(n_samples=100, n_features=8, n_nonzero=3, random_state=3)
    model = RegressionModel(d.X, d.y, Gaussian(1.0), GaussianLikelihood(sigma=1.0))
    return d, model, _sample(model)


# ---------------------------------------------------------------------------------------------
# ranking
# ---------------------------------------------------------------------------------------------
def _r_ranking(W: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """R bayesreg 1.2's bayesreg.bfr and var.ranks loop, transcribed line by line."""
    S, p = W.shape
    B = W * sd  # R ranks the coefficients of the standardized X
    ranks = np.zeros((p, S))
    for i in range(S):
        ix = sorted(range(p), key=lambda j: -abs(B[i, j]))  # R's sort(-abs(.)): stable
        for r, j in enumerate(ix):
            ranks[j, i] = r + 1
    q = []
    for j in range(p):  # R's quantile type 7: x[lo] + (h - lo) (x[lo + 1] - x[lo]), h = (S-1) q
        x = np.sort(ranks[j])
        h = (S - 1) * 0.75
        lo = int(np.floor(h))
        q.append(x[lo] + (h - lo) * (x[min(lo + 1, S - 1)] - x[lo]))
    order = sorted(range(p), key=lambda j: q[j])
    var_ranks = np.zeros(p, dtype=int)
    jj, k = 1, 1
    for i in range(p):
        if i >= 1:
            if q[order[i]] != q[order[i - 1]]:
                jj, k = jj + k, 1
            else:
                k += 1
        var_ranks[order[i]] = jj
    return var_ranks


def test_ranking_equals_r_loop_with_ties(rng):
    """Integer-valued draws: ties within draws and between features' scores (R's rule: ties in
    a draw go in column order; equal scores share the smallest rank)."""
    n, p, S = 30, 6, 400
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, size=p)
    model = RegressionModel(X, rng.normal(size=n), Gaussian(1.0), GaussianLikelihood(sigma=1.0))
    sd = X.std(axis=0)
    for scale in ([3, 3, 1, 1, 0, 2], [1, 1, 1, 1, 1, 1]):
        W = rng.integers(-2, 3, size=(S, p)) * np.array(scale) / sd  # ties on the sd scale
        res = variable_ranking(_w_idata(W), model)
        np.testing.assert_array_equal(res.table["rank"].to_numpy(), _r_ranking(W, sd))
    per_draw = rank_draws(W * sd)
    assert all(sorted(row) == list(range(1, p + 1)) for row in per_draw)
    json.dumps(res.to_dict())


def test_ranking_puts_true_nonzeros_first(separated):
    d, model, idata = separated
    res = variable_ranking(idata, model)
    truth = set(np.flatnonzero(d.coef))
    top = {model.feature_names.index(f) for f in res.order[: len(truth)]}
    assert top == truth
    assert sorted(res.table["rank"].iloc[sorted(truth)]) == [1, 2, 3]
    assert res.table["rank"].min() == 1


# ---------------------------------------------------------------------------------------------
# decoupled shrinkage and selection
# ---------------------------------------------------------------------------------------------
def test_dss_path_equals_sklearn_lasso(separated):
    """gamma_lam = |w_bar| * Lasso(alpha=lam) on (Xc |w_bar|, Xc w_bar) (adaptive), and Lasso on
    (Xc, Xc w_bar) (plain). Tolerance 1e-8: the package solves to KKT residual 1e-10,
    scikit-learn's coordinate descent to a duality gap of 1e-14 (relative)."""
    d, model, idata = separated
    X = np.asarray(d.X, dtype=float)
    Xc = X - X.mean(axis=0)
    w_bar = idata.posterior["w"].values.reshape(-1, model.p).mean(axis=0)
    target = Xc @ w_bar
    res = dss_path(idata, model, n_lambdas=25)
    u = np.abs(w_bar)
    _, ref_path, _ = lasso_path(Xc * u, target, alphas=res.lambdas, tol=1e-14, max_iter=100000)
    np.testing.assert_allclose(res.coefs, (ref_path.T * u), atol=1e-8)
    plain = dss_path(idata, model, lambdas=[0.5, 0.05], adaptive=False)
    for lam, coef in zip(plain.lambdas, plain.coefs, strict=True):
        ref = Lasso(alpha=lam, fit_intercept=False, tol=1e-14, max_iter=100000).fit(Xc, target)
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-8)
    assert np.all(np.diff(res.lambdas) < 0) and res.sizes[0] == 0  # starts at lam_max


def test_dss_rho2_and_selection(separated):
    """rho2 against a per-draw loop; the chosen summary is the true support."""
    d, model, idata = separated
    res = dss_path(idata, model, n_lambdas=30)
    X = np.asarray(d.X, dtype=float)
    Xc = X - X.mean(axis=0)
    W = idata.posterior["w"].values.reshape(-1, model.p)
    n = X.shape[0]
    for k in (0, 10, 29):
        for s in (0, 7, 1999):
            f = Xc @ W[s]
            sig = f @ f / n
            gap = np.sum((f - Xc @ res.coefs[k]) ** 2) / n
            assert res.rho2[k, s] == pytest.approx(sig / (sig + 1.0 + gap), rel=1e-12)
            assert res.rho2_model[s] == pytest.approx(sig / (sig + 1.0), rel=1e-12)
    assert np.all(res.rho2 <= res.rho2_model + 1e-15)  # a summary never explains more
    assert set(np.flatnonzero(res.selected_coef)) == set(np.flatnonzero(d.coef))
    assert res.selected_features == [model.feature_names[j] for j in np.flatnonzero(d.coef)]
    # the summary one size smaller explains clearly less (the rule is not trivially satisfied)
    smaller = res.table[res.table["size"] < len(res.selected_features)]
    assert smaller["rho2_hi"].max() < res.rho2_dense.mean()
    json.dumps(res.to_dict())
    assert "chosen: 3 variables" in str(res)
    # each rule: the chosen row satisfies it and no smaller model does (rows by size)
    paired = dss_path(idata, model, n_lambdas=30, rule="paired")
    for r, ok in ((res, res.table["rho2_hi"] >= res.rho2_dense.mean()),
                  (paired, paired.table["psi_lo"] <= 0.0)):  # fmt: skip
        pos = int(np.flatnonzero(r.table["index"] == r.selected)[0])
        assert ok.iloc[pos] and not ok.iloc[:pos].any()
    assert paired.selected_features == res.selected_features
    i = paired.selected
    psi_lo = np.quantile(paired.rho2_dense - paired.rho2[i], 0.05)
    assert paired.table.loc[paired.table["index"] == i, "psi_lo"].item() == pytest.approx(psi_lo)
    with pytest.raises(ValueError, match="supported rule"):
        dss_path(idata, model, rule="bic")


def test_dss_reads_sigma_draws(separated, rng):
    """With sigma estimated, rho2 uses each draw's own sigma (per-draw loop again)."""
    _, model, idata = separated
    W = idata.posterior["w"].values
    sigma = rng.uniform(0.5, 1.5, size=W.shape[:2])
    both = az.from_dict(posterior={"w": W, "sigma": sigma}, dims={"w": ["feature"]})
    res = dss_path(both, model, n_lambdas=10)
    Xc = model.X - model.X.mean(axis=0)
    f = Xc @ W[1, 3]
    sig = f @ f / model.n
    gap = np.sum((f - Xc @ res.coefs[4]) ** 2) / model.n
    s = sigma[1, 3]
    assert res.rho2[4, W.shape[1] + 3] == pytest.approx(sig / (sig + s**2 + gap), rel=1e-12)


def test_dss_needs_a_linear_model(separated, rng):
    _, model, idata = separated
    y01 = (rng.normal(size=model.n) > 0).astype(float)
    logistic = RegressionModel(model.X, y01, Gaussian(1.0), BernoulliLikelihood())
    with pytest.raises(ValueError, match="quadratic"):
        dss_path(idata, logistic)
    with pytest.raises(ValueError, match="'lambdas'"):
        dss_path(idata, model, lambdas=[1.0, -1.0])


def test_plot_dss(separated, tmp_path):
    from bayesreg.plotting import plot_dss

    _, model, idata = separated
    res = dss_path(idata, model, n_lambdas=30)
    ax = plot_dss(res)
    labels = ax.get_legend_handles_labels()[1]
    assert any(lab.startswith("chosen: 3 variables") for lab in labels)
    assert len(ax.containers) == 1  # the error bars, one per model size
    assert len(ax.containers[0].lines[0].get_xdata()) == len(res.table)
    ax.figure.savefig(tmp_path / "dss.png")
    import matplotlib.pyplot as plt

    _, given = plt.subplots()
    assert plot_dss(res, ax=given) is given
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# compare_models
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fits():
    """Three fits of one data set: two priors, two likelihoods (known sigma 1 or 2)."""
    d = make_sparse_regression(n_samples=40, n_features=4, n_nonzero=2, random_state=5)
    specs = {
        "gauss_1": (Gaussian(1.0), 1.0),
        "gauss_tight": (Gaussian(0.05), 1.0),
        "wide_noise": (Gaussian(1.0), 2.0),
    }
    return {
        name: _sample(RegressionModel(d.X, d.y, prior, GaussianLikelihood(sigma=s)), seed=i)
        for i, (name, (prior, s)) in enumerate(specs.items())
    }


@pytest.mark.parametrize("ic", ["loo", "waic"])
def test_compare_models_equals_az_compare(fits, ic):
    res = compare_models(fits, ic=ic)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's own warnings (pandas, Pareto k)
        ref = az.compare(fits, ic=ic)
    assert list(res.table.index) == list(ref.index)
    for col in (f"elpd_{ic}", f"p_{ic}", "elpd_diff", "se", "dse", "weight"):
        np.testing.assert_allclose(res.table[col].to_numpy(float), ref[col].to_numpy(float))
    assert res.ic == ic and res.best == "gauss_1"
    assert res.table.loc["gauss_1", "elpd_diff"] == 0.0
    assert (res.table["n_flagged"] >= 0).all()
    json.dumps(res.to_dict())
    assert ("PSIS-LOO" if ic == "loo" else "WAIC") in str(res)


def test_compare_models_takes_a_list_and_checks_inputs(fits):
    res = compare_models(list(fits.values()))
    assert "Gaussian(scale=1.0) | GaussianLikelihood(sigma=1.0)" in res.table.index
    assert len(res.table) == 3
    with pytest.raises(ValueError, match="supported ic"):
        compare_models(fits, ic="aic")
    with pytest.raises(ValueError, match="at least 2"):
        compare_models([fits["gauss_1"]])
    other = make_sparse_regression(n_samples=30, n_features=4, n_nonzero=2, random_state=6)
    short = _sample(RegressionModel(other.X, other.y, Gaussian(1.0), GaussianLikelihood(1.0)))
    with pytest.raises(ValueError, match="same observations"):
        compare_models({"a": fits["gauss_1"], "b": short})


def _exact_loo(X, y, tau, sigma):
    """sum_i log N(y_i | x_i' m_-i, sigma^2 + x_i' V_-i x_i): w ~ N(0, tau^2 I), y ~ N(Xw,
    sigma^2 I), the posterior of w given the other n - 1 observations in closed form."""
    n, p = X.shape
    out = 0.0
    for i in range(n):
        keep = np.arange(n) != i
        Xi, yi = X[keep], y[keep]
        V = np.linalg.inv(Xi.T @ Xi / sigma**2 + np.eye(p) / tau**2)
        m = V @ Xi.T @ yi / sigma**2
        out += stats.norm.logpdf(y[i], X[i] @ m, np.sqrt(sigma**2 + X[i] @ V @ X[i]))
    return out


def _is_mcse(idata) -> float:
    """Delta-method s.e. of the importance-sampling LOO estimate ``sum_i -log mean_s
    1 / p(y_i | w_s)`` from i.i.d. draws: ``sqrt(sum_i var(r_i) / (S mean(r_i)^2))``, r_i = 1 / p
    (scale-free, so each observation's r is rescaled to at most 1)."""
    ll = idata.log_likelihood["y_obs"].values
    ll = ll.reshape(-1, ll.shape[-1])
    r = np.exp(-(ll - ll.min(axis=0)))
    return float(np.sqrt(np.sum(r.var(axis=0) / (r.shape[0] * r.mean(axis=0) ** 2))))


def test_psis_loo_matches_exact_leave_one_out():
    """PSIS-LOO of i.i.d. exact draws vs the closed-form LOO elpd, within 4 Monte Carlo standard
    errors: the MCSE is the delta-method s.e. of the importance-sampling estimate
    ``-log mean_s 1 / p(y_i | w_s)`` summed over i (the draws are i.i.d.)."""
    d = make_sparse_regression(n_samples=25, n_features=3, n_nonzero=2, random_state=7)
    X, y = np.asarray(d.X, dtype=float), d.y
    model = RegressionModel(X, y, Gaussian(1.0), GaussianLikelihood(sigma=1.0), fit_intercept=False)
    # 20000 i.i.d. draws: at 4000 the heavy-ish tails of 1 / p (Pareto k up to 0.5) make the
    # delta-method MCSE optimistic (errors of 3 MCSE seen); at 20000 the errors are < 1 MCSE
    idata = _sample(model, draws=10000, chains=2, seed=11)
    other = _sample(model.with_prior_scale(0.3), draws=10000, chains=2, seed=12)
    res = compare_models({"tau1": idata, "tau03": other}, ic="loo")
    mcse = _is_mcse(idata)
    exact = _exact_loo(X, y, 1.0, 1.0)
    assert res.table.loc["tau1", "elpd_loo"] == pytest.approx(exact, abs=4 * mcse + 1e-3)
    assert mcse < 0.03  # the check is sharp
    assert res.ok and res.table.loc["tau1", "pareto_k_max"] < 0.7
    diff = _exact_loo(X, y, 1.0, 1.0) - _exact_loo(X, y, 0.3, 1.0)
    est = res.table.loc["tau1", "elpd_loo"] - res.table.loc["tau03", "elpd_loo"]
    # the difference, within the two estimates' Monte Carlo error (not dse: that is the
    # sampling s.e. over new data sets, far wider than the Monte Carlo error here)
    assert abs(est - diff) < 4 * np.hypot(mcse, _is_mcse(other)) + 1e-3


def test_waic_flags_high_variance_observations(rng):
    """WAIC's own reliability rule (ArviZ's: pointwise posterior variance of the log density >
    0.4) names the observation, as Pareto k does for LOO."""
    n, chains, draws = 30, 2, 500
    good = -0.5 * rng.normal(1.0, 0.05, size=(chains, draws, n)) ** 2
    heavy = good.copy()
    heavy[..., 3] = rng.normal(-2.0, 1.5, size=(chains, draws))  # variance 2.25 > 0.4

    def idata(ll):
        return az.from_dict(
            posterior={"a": rng.normal(size=(chains, draws))}, log_likelihood={"y": ll}
        )

    res = compare_models({"good": idata(good), "heavy": idata(heavy)}, ic="waic")
    assert not res.ok
    [prob] = res.problems
    assert prob.kind == "waic" and prob.variables == ("heavy: obs 3",)
    assert res.table.loc["heavy", "n_flagged"] == 1 and res.table.loc["good", "n_flagged"] == 0
    assert bool(res.elpd["heavy"].warning)  # ArviZ's flag agrees


@pytest.mark.slow
def test_compare_models_across_likelihoods_on_fitted_estimators():
    """Gross outliers: the Student-t likelihood predicts the held-out points better than the
    Gaussian one, by PSIS-LOO and by WAIC, on fitted estimators (their idata_), NUTS draws."""
    from bayesreg import BayesianLinearRegression

    d = make_sparse_regression(n_samples=60, n_features=3, n_nonzero=2, random_state=8)
    X, y = np.asarray(d.X, dtype=float), d.y.copy()
    y[:4] += np.array([12.0, -10.0, 15.0, -14.0])
    kw = dict(fit_method="sample", draws=500, tune=500, chains=2, random_state=0, prior_scale=1.0)
    fits = {
        lik: BayesianLinearRegression(likelihood=lik, **kw).fit(X, y)
        for lik in ("gaussian", "student_t")
    }
    for ic in ("loo", "waic"):
        res = compare_models(fits, ic=ic)
        assert res.best == "student_t", str(res)
        assert res.table.loc["gaussian", "elpd_diff"] > 4 * res.table.loc["gaussian", "dse"]


@pytest.mark.slow
def test_dss_and_ranking_on_a_horseshoe_posterior():
    """The use case: a horseshoe posterior (no exact zeros, sigma estimated) on n=80, p=12 with
    3 clear signals; DSS's chosen summary and the ranking's top 3 are the true support."""
    from bayesreg import Horseshoe

    d = make_sparse_regression(n_samples=80, n_features=12, n_nonzero=3, random_state=4)
    model = RegressionModel(d.X, d.y, Horseshoe(1.0), GaussianLikelihood())
    idata = sample_posterior(model, draws=500, tune=500, chains=2, random_seed=0, progressbar=False)
    W = idata.posterior["w"].values.reshape(-1, model.p)
    assert np.count_nonzero(W == 0.0) == 0  # nothing is exactly zero in the posterior
    truth = set(np.flatnonzero(d.coef))
    res = dss_path(idata, model)
    assert set(np.flatnonzero(res.selected_coef)) == truth, str(res)
    assert "sigma" in idata.posterior  # rho2 used the sigma draws
    top = variable_ranking(idata, model).order[:3]
    assert {model.feature_names.index(f) for f in top} == truth
