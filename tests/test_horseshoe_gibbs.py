"""The blocked Gibbs horseshoe sampler (bayesreg.horseshoe_gibbs): pieces against closed forms,
whole chains against bayesreg's NUTS samplers (slow tier)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from scipy import stats

from bayesreg import horseshoe_gibbs as hg
from bayesreg.datasets import make_sparse_classification, make_sparse_regression
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Horseshoe, Laplace, RegularizedHorseshoe
from bayesreg.sampling import sample_posterior


def _problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] - 0.5 * X[:, 1] + rng.standard_normal(n)
    d2 = np.exp(rng.uniform(-3.0, 1.0, p))
    return X, y, d2


@pytest.mark.parametrize(("n", "p"), [(15, 6), (6, 15)])
def test_conditional_draw_matches_closed_form(n, p):
    # p < n: the p x p Cholesky path; p > n: Bhattacharya et al. (2016), no p x p matrix
    X, y, d2 = _problem(n, p)
    sigma = 0.7
    A = X.T @ X / sigma**2 + np.diag(1.0 / d2)
    cov = np.linalg.inv(A)
    mean = cov @ X.T @ y / sigma**2
    rng = np.random.default_rng(1)
    k = 20000
    draws = np.array([hg.conditional_weights_draw(X, y, d2, sigma, rng) for _ in range(k)])
    # standard errors of a sample mean and a sample covariance of k independent Gaussian
    # draws: sqrt(S_jj / k) and sqrt((S_ii S_jj + S_ij^2) / k); 4.5 se over <= 15 + 120
    # entries keeps the false-alarm rate below 1e-3 for a correct sampler
    se_mean = np.sqrt(np.diag(cov) / k)
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4.5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / k)
    assert np.all(np.abs(np.cov(draws.T) - cov) < 4.5 * se_cov)


@pytest.mark.parametrize(("n", "p"), [(12, 5), (5, 12)])
@pytest.mark.parametrize("intercept", [False, True])
def test_marginal_likelihood_matches_multivariate_normal(n, p, intercept):
    # differences of log p(y | D, sigma) over (D, sigma) equal those of the explicit density
    # N(alpha; 0, sigma^2 I + Phi D Phi') (times sigma for the integrated-out intercept)
    X, y, d2 = _problem(n, p, seed=2)
    work = hg._gaussian_working(X, y, intercept)

    def direct(d2, sigma):
        cov = sigma**2 * np.eye(n) + (work.phi * d2) @ work.phi.T
        extra = np.log(sigma) if intercept else 0.0
        return stats.multivariate_normal(np.zeros(n), cov).logpdf(work.alpha) + extra

    def ours(d2, sigma):
        side = hg._side_matrix(work, d2)
        return hg._Factor.build(work, side, d2, sigma, intercept).logml

    for d2b, sigma_b in [(0.3 * d2, 1.3), (d2[::-1].copy(), 0.4)]:
        expected = direct(d2b, sigma_b) - direct(d2, 0.8)
        assert ours(d2b, sigma_b) - ours(d2, 0.8) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_site_density_is_the_integrated_likelihood():
    # the single-site density of log lambda_j is log C+ (in log space) plus the rank-one
    # marginal log N(r; 0, s2 I + d2 phi phi'), up to a constant: check by differences
    rng = np.random.default_rng(3)
    n, tau, s2, c2 = 7, 0.3, 0.8, 2.0
    phi, r = rng.standard_normal(n), rng.standard_normal(n)
    a, b = phi @ r, phi @ phi

    def direct(x):
        d2 = 1.0 / (1.0 / c2 + 1.0 / (tau * np.exp(x)) ** 2)
        cov = s2 * np.eye(n) + d2 * np.outer(phi, phi)
        return stats.multivariate_normal(np.zeros(n), cov).logpdf(r) + x - np.log1p(np.exp(2 * x))

    for x in (-2.0, 0.5, 3.0):
        got = hg._site_logpost(x, a, b, s2, tau, 1.0 / c2) - hg._site_logpost(
            0.0, a, b, s2, tau, 1.0 / c2
        )
        assert got == pytest.approx(direct(x) - direct(0.0), rel=1e-9)


def test_layout_seed_and_refusal():
    d = make_sparse_regression(n_samples=30, n_features=40, n_nonzero=3, random_state=0)
    model = RegressionModel(d.X, d.y, RegularizedHorseshoe(0.05))
    kw = {"draws": 30, "tune": 20, "chains": 2, "random_seed": 5, "cores": 1}
    idata = hg.sample_horseshoe_gibbs(model, **kw)
    post = idata.posterior
    for name in ("w", "w_z", "w_lambda"):
        assert post[name].dims == ("chain", "draw", "feature")
    for name in ("w_tau_raw", "w_tau", "intercept", "sigma", "w_c2", "w_c2_aux"):
        assert post[name].dims == ("chain", "draw")
    assert list(post.feature.values) == model.feature_names
    assert "lp" in idata.sample_stats
    np.testing.assert_allclose(post["w"], post["w_z"] * post["w_tau"] * _lambda_tilde(post))
    again = hg.sample_horseshoe_gibbs(model, **kw)
    np.testing.assert_array_equal(post["w"].values, again.posterior["w"].values)
    with pytest.raises(ValueError, match="horseshoe"):
        hg.sample_horseshoe_gibbs(RegressionModel(d.X, d.y, Laplace(1.0)), draws=5)
    known = RegressionModel(d.X, d.y, Horseshoe(0.05), GaussianLikelihood(sigma=1.0))
    out = hg.sample_horseshoe_gibbs(known, draws=5, tune=5, chains=1, cores=1)
    assert "sigma" not in out.posterior and "w_c2" not in out.posterior


def _lambda_tilde(post):
    lam, tau, c2 = post["w_lambda"], post["w_tau"], post["w_c2"]
    return np.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))


def _compare(gibbs, reference, names, sd_rule):
    """Means within 4 MCSE (both chains' MCSE combined); sds by ``sd_rule``."""
    for name in names:
        a, b = gibbs.posterior[name], reference.posterior[name]
        mcse = np.hypot(
            az.mcse(gibbs.posterior[[name]])[name], az.mcse(reference.posterior[[name]])[name]
        )
        diff = a.mean(("chain", "draw")) - b.mean(("chain", "draw"))
        assert np.all(np.abs(diff) < 4.0 * mcse), name
        sd_rule(name, gibbs.posterior[[name]], reference.posterior[[name]])


def _sd_within_10_percent(name, a, b):
    ratio = a[name].std(("chain", "draw")) / b[name].std(("chain", "draw"))
    assert np.all(np.abs(ratio - 1.0) < 0.10), (name, ratio.values)


@pytest.mark.slow
@pytest.mark.parametrize("prior_cls", [Horseshoe, RegularizedHorseshoe])
def test_matches_nuts_p_lt_n(prior_cls):
    # p < n: bayesreg's collapsed NUTS is the independent reference. With 8000 draws each and
    # bulk ESS >= ~1500 (Gibbs) the MC error of an sd is a few percent, so 10% is a test a
    # wrong conditional fails and a correct one passes (measured ratios within 2%)
    d = make_sparse_regression(n_samples=100, n_features=10, n_nonzero=3, random_state=1)
    model = RegressionModel(d.X, d.y, prior_cls.from_expected_nonzeros(3, 10, 100))
    kw = {"draws": 2000, "tune": 1000, "chains": 4, "random_seed": 1}
    gibbs = hg.sample_horseshoe_gibbs(model, cores=2, **kw)
    nuts = sample_posterior(model, progressbar=False, **kw)
    names = ["w", "sigma", "w_tau", "intercept"]
    if "w_c2" in nuts.posterior:
        # the slab c^2 ~ s^2 InvGamma(2, 2) a priori (slab_df 4) and barely updated here: its
        # posterior has no finite variance, so compare log c^2, whose moments exist
        for idata in (gibbs, nuts):
            idata.posterior["log_w_c2"] = np.log(idata.posterior["w_c2"])
        names.append("log_w_c2")
    _compare(gibbs, nuts, names, _sd_within_10_percent)


def _mcse_sd(da):
    """MCSE of a posterior sd (ArviZ's formula; its ``method="sd"`` fails under numpy 2)."""
    sims = (da - da.mean(("chain", "draw"))) ** 2
    ess = az.ess(sims.to_dataset(name="v"), method="mean")["v"]
    evar = sims.mean(("chain", "draw"))
    varvar = ((sims**2).mean(("chain", "draw")) - evar**2) / ess
    return np.sqrt(varvar / evar / 4.0)


@pytest.mark.slow
def test_matches_long_collapsed_run_p_gt_n():
    # p > n (n=30, p=80): a long collapsed-NUTS run (exact HMC on the hyperparameters, w drawn
    # from its conditional) is the reference. Null coefficients' posteriors are heavy-tailed,
    # so their sds carry MC errors of 5-15% here: sds are compared within 4 of their combined
    # MCSE (ArviZ's mcse of the sd) instead of a fixed 10%
    d = make_sparse_regression(n_samples=30, n_features=80, n_nonzero=3, random_state=1)
    model = RegressionModel(d.X, d.y, Horseshoe.from_expected_nonzeros(3, 80, 30))
    gibbs = hg.sample_horseshoe_gibbs(model, draws=2000, tune=1000, chains=4, random_seed=2)
    ref = sample_posterior(model, draws=4000, tune=1000, chains=4, random_seed=3, progressbar=False)

    def sd_rule(name, a, b):
        err = np.hypot(_mcse_sd(a[name]), _mcse_sd(b[name]))
        diff = a[name].std(("chain", "draw")) - b[name].std(("chain", "draw"))
        assert np.all(np.abs(diff) < 4.0 * err), name

    _compare(gibbs, ref, ["w", "sigma", "w_tau", "intercept"], sd_rule)


@pytest.mark.slow
def test_logistic_matches_nuts():
    # Polya-Gamma augmentation against bayesreg's NUTS (non-centred graph, target_accept
    # 0.995) on a small logistic problem; the same 4-MCSE / 10% rules as the Gaussian case
    d = make_sparse_classification(n_samples=150, n_features=5, n_nonzero=2, random_state=0)
    model = RegressionModel(d.X, d.y, Horseshoe(0.5), BernoulliLikelihood())
    kw = {"draws": 2000, "tune": 1000, "chains": 4, "random_seed": 4}
    gibbs = hg.sample_horseshoe_gibbs(model, cores=2, **kw)
    nuts = sample_posterior(model, progressbar=False, **kw)
    _compare(gibbs, nuts, ["w", "intercept"], _sd_within_10_percent)


# ---------------------------------------------------------------------------------------------
# the sampler as a backend of sample_posterior (bayesreg.sampling.hs_gibbs)
# ---------------------------------------------------------------------------------------------
def _settings(**kw):
    from bayesreg.sampling.settings import sampler_settings

    return sampler_settings(20, 10, 2, 0, False, True, kw.pop("collapse", None), kw)


@pytest.mark.parametrize(
    ("lik", "n", "p", "expected"),
    [
        ("gaussian", 30, 401, "horseshoe_gibbs"),  # beyond the collapsed graph's p <= 400
        ("gaussian", 30, 400, "collapsed"),  # the collapsed NUTS graph still covers it
        ("bernoulli", 30, 31, "horseshoe_gibbs"),  # p > n: the non-centred NUTS is slow
        ("bernoulli", 30, 30, "nuts"),
    ],
)
def test_auto_chooses_the_gibbs_sweeps_by_n_and_p(lik, n, p, expected):
    from bayesreg.sampling.hs_gibbs import HorseshoeGibbsBackend
    from bayesreg.sampling.resolve import resolve_backend

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    y = (X[:, 0] > 0).astype(float) if lik == "bernoulli" else X[:, 0] + rng.standard_normal(n)
    likelihood = BernoulliLikelihood() if lik == "bernoulli" else GaussianLikelihood()
    model = RegressionModel(X, y, Horseshoe(0.1), likelihood)
    runner = resolve_backend("auto", model, _settings())
    assert isinstance(runner, HorseshoeGibbsBackend) == (expected == "horseshoe_gibbs")
    assert (type(runner).__name__ == "CollapsedBackend") == (expected == "collapsed")
    if expected == "horseshoe_gibbs":
        # asking for a graph or a NUTS setting keeps NUTS: the caller's choice wins
        for kw in ({"collapse": False}, {"target_accept": 0.99}):
            assert not isinstance(resolve_backend("auto", model, _settings(**kw)),
                                  HorseshoeGibbsBackend)  # fmt: skip


def test_gibbs_backend_dispatches_by_prior_and_keeps_the_layout():
    from bayesreg.sampling.pg_gibbs import PolyaGammaGibbsBackend
    from bayesreg.sampling.resolve import resolve_backend

    d = make_sparse_regression(n_samples=30, n_features=40, n_nonzero=3, random_state=0)
    model = RegressionModel(d.X, d.y, RegularizedHorseshoe(0.05))
    kw = {"draws": 30, "tune": 20, "chains": 2, "random_seed": 5, "cores": 1}
    idata = sample_posterior(model, backend="gibbs", progressbar=False, **kw)
    direct = hg.sample_horseshoe_gibbs(model, **kw)
    # the same sweeps as the module's own entry point, draw for draw
    np.testing.assert_array_equal(idata.posterior["w"].values, direct.posterior["w"].values)
    assert idata.posterior.attrs["backend"] == "gibbs"
    assert idata.posterior.attrs["sampler"] == "horseshoe_gibbs"
    # the common assembly: pointwise log-likelihood of every draw, observed and constant data
    assert idata.log_likelihood["y_obs"].shape == (2, 30, 30)
    eta = np.einsum("cdj,nj->cdn", idata.posterior["w"].values, d.X)
    eta += idata.posterior["intercept"].values[..., None]
    sigma = idata.posterior["sigma"].values[..., None]
    np.testing.assert_allclose(  # against scipy's normal log density (round-off only)
        idata.log_likelihood["y_obs"].values, stats.norm.logpdf(d.y, eta, sigma), rtol=1e-10
    )
    assert {"observed_data", "constant_data"} <= set(idata.groups())
    # a logistic model with an elastic-form prior still gets the Polya-Gamma sweeps
    c = make_sparse_classification(n_samples=40, n_features=3, n_nonzero=1, random_state=0)
    logistic = RegressionModel(c.X, c.y, Laplace(1.0), BernoulliLikelihood())
    assert isinstance(resolve_backend("gibbs", logistic, _settings()), PolyaGammaGibbsBackend)
    # a model neither covers: one message naming both
    with pytest.raises(ValueError, match="Polya-Gamma Gibbs, and a horseshoe"):
        sample_posterior(RegressionModel(d.X, d.y, Laplace(1.0)), backend="gibbs", draws=5)
    with pytest.raises(TypeError, match="local_update"):
        sample_posterior(model, backend="gibbs", draws=5, target_accept=0.9)
    # local_passes: passed through and checked at the public boundary
    one = sample_posterior(model, backend="gibbs", progressbar=False, local_passes=1, **kw)
    np.testing.assert_array_equal(
        one.posterior["w"].values,
        hg.sample_horseshoe_gibbs(model, local_passes=1, **kw).posterior["w"].values,
    )
    assert not np.array_equal(one.posterior["w"].values, idata.posterior["w"].values)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="local_passes"):
            sample_posterior(model, backend="gibbs", draws=5, local_passes=bad)


def _scale_problem(prior, intercept):
    d = make_sparse_regression(n_samples=12, n_features=9, n_nonzero=2, random_state=4)
    model = RegressionModel(d.X, d.y, prior, fit_intercept=intercept)
    spec = hg._spec_of(model, 1, 0)
    work = hg._gaussian_working(spec.X, spec.y, spec.fit_intercept)
    rng = np.random.default_rng(5)
    c2 = None if spec.slab is None else 1.7
    state = hg._State(0.6, np.exp(rng.normal(0.0, 1.0, 9)), 0.8, c2, rng.normal(0.0, 0.5, 9), 0.0)
    state.tau = hg._tau(spec, state.t, state.sigma)
    return spec, work, state


def _log_joint_log_coords(spec, work, state):
    """``_log_joint`` with b integrated out (flat prior: b at its conditional mean, plus
    log sigma) and the Jacobian of the log coordinates of t, sigma, c^2 and lambda."""
    s = hg._State(state.t, state.lam, state.sigma, state.c2, state.w, 0.0, state.tau)
    value = np.log(s.t) + np.log(s.sigma) + np.sum(np.log(s.lam))
    if spec.fit_intercept:
        s.b = work.b_loc - work.x_loc @ s.w
        value += np.log(s.sigma)
    if s.c2 is not None:
        value += np.log(s.c2)
    return hg._log_joint(spec, s) + value


def _moved(spec, state, g):
    out = hg._State(g[0], state.lam, g[1], None if state.c2 is None else g[3], state.w, 0.0)
    out.tau = g[2]
    assert out.tau == pytest.approx(hg._tau(spec, out.t, out.sigma), rel=1e-12)
    return out


@pytest.mark.parametrize("prior", [Horseshoe(0.3), RegularizedHorseshoe(0.3)])
@pytest.mark.parametrize("intercept", [False, True])
def test_scale_density_is_the_log_joint(prior, intercept):
    # each scale slice step's density equals, up to a constant in its coordinate, the
    # module's full joint (_log_joint, written independently) at the changed state
    spec, work, state = _scale_problem(prior, intercept)
    k = hg._pass_constants(spec, work)
    g0 = np.array([state.t, state.sigma, state.tau, 0.0 if state.c2 is None else state.c2])
    r = work.alpha - work.phi @ state.w
    ref = _log_joint_log_coords(spec, work, state)

    def check(kind, prm, arr, apply, x0, xs):
        f0 = hg._scale_logdens(kind, x0, prm, arr)
        for x in xs:
            moved = apply(x)
            want = _log_joint_log_coords(spec, work, moved) - ref
            assert hg._scale_logdens(kind, x, prm, arr) - f0 == pytest.approx(want, abs=1e-10)

    def sigma_move(x):  # in-pass sigma, tau fixed
        g = g0.copy()
        hg._apply_sigma(x, g, k)
        assert g[2] == pytest.approx(g0[2], rel=1e-12)
        return _moved(spec, state, g)

    def t_move(x):  # in-pass t, tau / c fixed
        g = g0.copy()
        hg._apply_t(x, g, k)
        return _moved(spec, state, g)

    def interweave(x):
        return hg._State(state.t * np.exp(x), state.lam * np.exp(-x), state.sigma, state.c2,
                         state.w, 0.0, state.tau * np.exp(x))  # fmt: skip

    ls0, lt0 = np.log(state.sigma), np.log(state.t)
    check(0, hg._sigma_params(r, g0, k), np.empty(0), sigma_move, ls0, [ls0 - 0.7, ls0 + 0.4])
    check(1, hg._t_params(state.w, state.lam, g0, k), np.empty(0), t_move, lt0,
          [lt0 - 1.1, lt0 + 0.6])  # fmt: skip
    check(2, np.array([lt0]), np.log(state.lam), interweave, 0.0, [-0.8, 0.5])

    # step 1, w and b integrated out (c^2 dragged with tau^2): against the explicit density
    # N(alpha; 0, sigma^2 I + Phi D Phi') times the priors, in log coordinates
    def direct(lt, ls):
        t, sigma = np.exp(lt), np.exp(ls)
        tau = hg._tau(spec, t, sigma)
        dltau = np.log(tau / state.tau)
        c2 = None if state.c2 is None else state.c2 * np.exp(2.0 * dltau)
        d2 = hg._prior_var(tau, state.lam, c2)
        n = work.alpha.size
        cov = sigma**2 * np.eye(n) + (work.phi * d2) @ work.phi.T
        value = stats.multivariate_normal(np.zeros(n), cov).logpdf(work.alpha)
        value += (np.log(sigma) if intercept else 0.0) + lt + ls
        value += -np.log1p(t * t) - 0.5 * sigma**2 / spec.sigma_prior_scale**2
        if c2 is not None:
            s, nu = spec.slab
            value += stats.invgamma(0.5 * nu, scale=0.5 * nu * s * s).logpdf(c2) + np.log(c2)
        return value

    f = hg._global_target(spec, work, state)
    for lt, ls in [(lt0 + 0.5, ls0 - 0.3), (lt0 - 0.9, ls0 + 0.2)]:
        got = f(lt, ls)[0] - f(lt0, ls0)[0]
        assert got == pytest.approx(direct(lt, ls) - direct(lt0, ls0), abs=1e-10)
