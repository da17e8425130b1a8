"""The Polya-Gamma Gibbs backend (``backend="gibbs"``, ``bayesreg.gibbs.logistic_pg_gibbs``).

Every posterior check is against something independent: scipy quadrature (one coefficient),
a fine 2-D grid (one coefficient and the flat intercept), and in the slow tier a long NUTS run
of the default backend on standardized breast cancer. Tolerances are in Monte Carlo standard
errors (ArviZ's ``mcse``, which accounts for the autocorrelation of the chains); 4 MCSE leaves
about a 6e-5 chance of a false failure per comparison.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from scipy import integrate, special, stats

from bayesreg import BernoulliLikelihood, ElasticNet, Gaussian, Laplace, RegressionModel
from bayesreg.sampling import sample_posterior
from bayesreg.sampling.pg_gibbs import PolyaGammaGibbsBackend
from bayesreg.sampling.resolve import resolve_backend
from bayesreg.sampling.settings import sampler_settings

pytest.importorskip("polyagamma")

KW = dict(draws=1500, tune=100, chains=4, progressbar=False, backend="gibbs")


def _one_feature(n: int = 60, w_true: float = 1.2, b_true: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = (rng.uniform(size=n) < special.expit(w_true * x + b_true)).astype(float)
    return x[:, None], y


def _log_lik(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bernoulli log-likelihood at coefficient values w, intercepts b (broadcast), summed."""
    eta = w[..., None] * x[:, 0] + b[..., None]
    return np.sum(y * eta - np.logaddexp(0.0, eta), axis=-1)


def _mcse(draws: np.ndarray, method: str) -> float:
    """MCSE of the mean or the sd of one scalar's (chain, draw) draws: ArviZ's formulas
    (``az.mcse``'s sd branch fails on numpy arrays with numba installed, so it is written out:
    the delta method on the ESS of the squared deviations)."""
    draws = np.asarray(draws, dtype=float)
    if method == "mean":
        return float(draws.std() / np.sqrt(az.ess(draws, method="mean")))
    sq = (draws - draws.mean()) ** 2
    evar = sq.mean()
    varvar = ((sq**2).mean() - evar**2) / float(az.ess(sq, method="mean"))
    return float(np.sqrt(varvar / evar / 4))


def _assert_within_mcse(idata, var: str, mean: float, sd: float, label: str) -> None:
    """Posterior mean and sd of the scalar ``var`` within 4 MCSE of the reference values."""
    post = idata.posterior[var]
    draws = post.values.reshape(post.sizes["chain"], post.sizes["draw"])
    m, s = float(draws.mean()), float(draws.std())
    mcse_m, mcse_s = _mcse(draws, "mean"), _mcse(draws, "sd")
    assert abs(m - mean) < 4 * mcse_m, (label, "mean", m, mean, mcse_m)
    assert abs(s - sd) < 4 * mcse_s, (label, "sd", s, sd, mcse_s)


#: (prior, its log density elementwise: scipy's, or the elastic net's written out up to its
#: normalizer, which cancels in every ratio below; ElasticNet(1, 0.5): 0.5 |w| + 0.5 w^2 / 2)
PRIORS = [
    (Gaussian(1.0), lambda w: stats.norm.logpdf(w, 0.0, 1.0)),
    (Laplace(0.5), lambda w: stats.laplace.logpdf(w, 0.0, 0.5)),
    (ElasticNet(1.0, 0.5), lambda w: -0.5 * np.abs(w) - 0.25 * w**2),
]
IDS = ["gaussian", "laplace", "elastic_net"]


@pytest.mark.parametrize("prior,log_prior", PRIORS, ids=IDS)
def test_one_coefficient_matches_quadrature(prior, log_prior):
    """No intercept: the posterior of w by scipy.integrate.quad (error << MCSE)."""
    x, y = _one_feature()
    model = RegressionModel(x, y, prior, BernoulliLikelihood(), fit_intercept=False)
    idata = sample_posterior(model, random_seed=1, **KW)

    def logpost(w):
        return float(_log_lik(x, y, np.asarray(w), np.asarray(0.0))) + float(log_prior(w))

    mode = float(idata.posterior["w"].median())
    shift = logpost(mode)  # keeps the integrands O(1)

    def moment(k):
        val, _ = integrate.quad(lambda w: w**k * np.exp(logpost(w) - shift), -10, 10,
                                points=[0.0, mode], epsabs=1e-13, limit=200)  # fmt: skip
        return val

    z = moment(0)
    mean = moment(1) / z
    sd = np.sqrt(moment(2) / z - mean**2)
    _assert_within_mcse(idata, "w", mean, sd, repr(prior))


@pytest.mark.parametrize("prior,log_prior", PRIORS, ids=IDS)
def test_coefficient_and_flat_intercept_match_a_grid(prior, log_prior):
    """With the flat intercept (zero prior precision): a 2-D grid over (w, b).

    The grid spans +-9 posterior sd around the mean with 601 x 601 nodes (spacing 0.03 sd);
    the trapezoid rule on such a smooth density has an error far below 1e-4 sd, while the MCSE
    here is about 1e-2 sd.
    """
    x, y = _one_feature(n=80, w_true=1.0, b_true=-0.7, seed=3)
    model = RegressionModel(x, y, prior, BernoulliLikelihood())
    idata = sample_posterior(model, random_seed=2, **KW)
    post = idata.posterior
    centre = {v: float(post[v].mean()) for v in ("w", "intercept")}
    half = {v: 9 * float(post[v].std()) for v in ("w", "intercept")}
    w = np.linspace(centre["w"] - half["w"], centre["w"] + half["w"], 601)
    b = np.linspace(centre["intercept"] - half["intercept"], centre["intercept"] + half["intercept"], 601)  # fmt: skip
    W, B = np.meshgrid(w, b, indexing="ij")
    lp = _log_lik(x, y, W, B) + log_prior(W)
    dens = np.exp(lp - lp.max())
    for var, grid in (("w", W), ("intercept", B)):
        z = integrate.trapezoid(integrate.trapezoid(dens, b, axis=1), w)
        m1 = integrate.trapezoid(integrate.trapezoid(dens * grid, b, axis=1), w) / z
        m2 = integrate.trapezoid(integrate.trapezoid(dens * grid**2, b, axis=1), w) / z
        _assert_within_mcse(idata, var, m1, np.sqrt(m2 - m1**2), f"{prior!r} {var}")


def test_layout_seed_and_log_posterior(sparse_classification):
    """The InferenceData of every backend; same seed -> same draws; lp is the log posterior."""
    d = sparse_classification
    model = RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())
    kw = dict(KW, draws=50, tune=10, chains=2)
    a = sample_posterior(model, random_seed=7, **kw)
    b = sample_posterior(model, random_seed=7, **kw)
    c = sample_posterior(model, random_seed=8, **kw)
    np.testing.assert_array_equal(a.posterior["w"].values, b.posterior["w"].values)
    assert not np.array_equal(a.posterior["w"].values, c.posterior["w"].values)
    assert a.posterior["w"].dims == ("chain", "draw", "feature")
    assert list(a.posterior["feature"].values) == list(model.feature_names)
    assert a.posterior["intercept"].shape == (2, 50)
    assert a.log_likelihood["y_obs"].shape == (2, 50, model.n)
    assert a.posterior.attrs["backend"] == "gibbs"
    # lp = log p(y | w, b) + log N(w; 0, 1) up to one constant (the Gaussian's normalizer)
    w, b0 = a.posterior["w"].values, a.posterior["intercept"].values
    eta = w @ np.asarray(d.X, dtype=float).T + b0[..., None]
    ref = stats.bernoulli.logpmf(d.y, special.expit(eta)).sum(-1)
    ref = ref + stats.norm.logpdf(w).sum(-1)
    diff = a.sample_stats["lp"].values - ref
    np.testing.assert_allclose(diff, diff.flat[0], atol=1e-8)
    np.testing.assert_array_equal(np.asarray(model.X), np.asarray(d.X, dtype=float))


def test_resolution_and_refusals(sparse_classification, sparse_regression):
    d = sparse_classification
    logistic = RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())
    settings = sampler_settings(100, 100, 2, 0, False, True, None, {})
    assert isinstance(resolve_backend("gibbs", logistic, settings), PolyaGammaGibbsBackend)
    # measured (benchmarks/bench_sampling.py --only logistic): NUTS is faster in ESS/s on
    # breast cancer, so "auto" keeps NUTS for logistic models
    assert not isinstance(resolve_backend("auto", logistic, settings), PolyaGammaGibbsBackend)
    r = sparse_regression
    gaussian = RegressionModel(r.X, r.y, Gaussian(1.0))
    with pytest.raises(ValueError, match="needs a Bernoulli"):
        sample_posterior(gaussian, **KW)
    with pytest.raises(TypeError, match="for backend 'gibbs'"):
        sample_posterior(logistic, target_accept=0.9, **KW)


def test_missing_polyagamma_names_the_extra(sparse_classification, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "polyagamma", None)
    d = sparse_classification
    model = RegressionModel(d.X, d.y, Gaussian(1.0), BernoulliLikelihood())
    with pytest.raises(ImportError, match=r"'polyagamma'.*fast"):
        sample_posterior(model, **KW)


@pytest.mark.slow
def test_breast_cancer_matches_a_long_nuts_run():
    """31 means within 4 combined MCSE of the default NUTS backend's; sds within 4 combined
    MCSE of the sd (about 5% here)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    model = RegressionModel(StandardScaler().fit_transform(X), y, Gaussian(1.0),
                            BernoulliLikelihood())  # fmt: skip
    pg = sample_posterior(model, backend="gibbs", draws=4000, tune=200, chains=4,
                          random_seed=3, progressbar=False)  # fmt: skip
    nuts = sample_posterior(model, draws=3000, tune=1000, chains=4, random_seed=4,
                            progressbar=False)  # fmt: skip
    for var in ("w", "intercept"):
        (m0, s0, mm0, ms0), (m1, s1, mm1, ms1) = (_columns(i, var) for i in (pg, nuts))
        assert np.all(np.abs(m0 - m1) < 4 * np.hypot(mm0, mm1)), var
        assert np.all(np.abs(s0 - s1) < 4 * np.hypot(ms0, ms1)), var


def _columns(idata, var: str) -> tuple[np.ndarray, ...]:
    """Per coordinate of ``var``: mean, sd, MCSE of the mean, MCSE of the sd."""
    post = idata.posterior[var]
    draws = post.values.reshape(post.sizes["chain"], post.sizes["draw"], -1)
    cols = [draws[..., j] for j in range(draws.shape[-1])]
    return (
        np.array([c.mean() for c in cols]),
        np.array([c.std() for c in cols]),
        np.array([_mcse(c, "mean") for c in cols]),
        np.array([_mcse(c, "sd") for c in cols]),
    )
