"""Tier 1: each prior's density vs scipy, prox vs brute-force argmin, gradient vs finite differences."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from scipy import integrate, optimize, stats

from bayesreg.priors import ElasticNet, Gaussian, Laplace, soft_threshold

W = np.array([-2.3, -0.4, 0.0, 0.05, 1.7, 3.2])

# (prior, sigma, scipy log-density of each coefficient at that sigma)
SCIPY_TABLE = [
    (Gaussian(0.7), 1.0, lambda w: stats.norm.logpdf(w, 0, 0.7)),
    (Gaussian(0.7, scale_by_sigma=True), 2.0, lambda w: stats.norm.logpdf(w, 0, 1.4)),
    (Laplace(0.3), 1.0, lambda w: stats.laplace.logpdf(w, 0, 0.3)),
    (Laplace(0.3, scale_by_sigma=True), 3.0, lambda w: stats.laplace.logpdf(w, 0, 0.9)),
    # the two ends of the elastic net are the Laplace and the Gaussian (variance = scale)
    (ElasticNet(0.4, 1.0), 1.0, lambda w: stats.laplace.logpdf(w, 0, 0.4)),
    (ElasticNet(0.4, 0.0), 1.0, lambda w: stats.norm.logpdf(w, 0, np.sqrt(0.4))),
]


@pytest.mark.parametrize(("prior", "sigma", "ref"), SCIPY_TABLE, ids=repr)
def test_logpdf_matches_scipy(prior, sigma, ref):
    # exact formulas on both sides: agreement to rounding error
    np.testing.assert_allclose(prior.logpdf(W, sigma), ref(W).sum(), rtol=1e-12)


@pytest.mark.parametrize("l1_ratio", [0.05, 0.5, 0.95])
@pytest.mark.parametrize("scale", [0.1, 2.0])
def test_elastic_net_density_is_normalized(scale, l1_ratio):
    prior = ElasticNet(scale, l1_ratio)
    total, err = integrate.quad(lambda w: np.exp(prior.logpdf(np.array([w]))), -np.inf, np.inf)
    # quad's own error estimate is ~1e-10 here
    assert abs(total - 1.0) < 1e-8, (total, err)


ALL_PRIORS = [
    Gaussian(0.8),
    Gaussian(0.5, scale_by_sigma=True),
    Laplace(0.6),
    Laplace(0.4, scale_by_sigma=True),
    ElasticNet(0.5, 0.3),
    ElasticNet(2.0, 0.9),
]


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_penalty_is_minus_logpdf_up_to_a_constant(prior, rng):
    sigma = 1.3
    a, b = rng.normal(size=5), rng.normal(size=5)
    np.testing.assert_allclose(
        prior.penalty(a, sigma) - prior.penalty(b, sigma),
        prior.logpdf(b, sigma) - prior.logpdf(a, sigma),
        rtol=1e-12,
        atol=1e-12,
    )
    assert prior.penalty(np.zeros(5), sigma) == 0.0


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
def test_penalty_gradient_matches_finite_differences(prior, rng):
    sigma = 0.9
    w = rng.normal(size=6)
    w[np.abs(w) < 0.1] = 0.3  # away from the kink of |w|
    h = 1e-6
    fd = np.array(
        [
            (prior.penalty(w + h * e, sigma) - prior.penalty(w - h * e, sigma)) / (2 * h)
            for e in np.eye(w.size)
        ]
    )
    # central differences: O(h^2) truncation + O(eps/h) rounding ~ 1e-9
    np.testing.assert_allclose(prior.penalty_grad(w, sigma), fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("prior", ALL_PRIORS, ids=repr)
@pytest.mark.parametrize("step", [0.05, 0.7, 3.0])
def test_prox_matches_brute_force_argmin(prior, step):
    sigma = 1.2
    v = np.array([-3.0, -0.5, -0.01, 0.0, 0.2, 0.9, 4.0])
    got = prior.prox(v, step, sigma)
    for vi, gi in zip(v, got, strict=True):

        def objective(u, vi=vi):
            return step * prior.penalty(np.array([u]), sigma) + 0.5 * (u - vi) ** 2

        # a strongly convex 1-D problem: bounded Brent to xatol 1e-12
        res = optimize.minimize_scalar(
            objective,
            bounds=(-abs(vi) - 1, abs(vi) + 1),
            method="bounded",
            options={"xatol": 1e-12},
        )
        assert objective(gi) <= objective(res.x) + 1e-13
        assert abs(gi - res.x) < 1e-6


def test_laplace_prox_gives_exact_zeros():
    out = Laplace(1.0).prox(np.array([-0.3, 0.0, 0.49, 0.51]), step=0.5)
    np.testing.assert_array_equal(out[:3], 0.0)
    assert out[3] == pytest.approx(0.01)
    np.testing.assert_array_equal(soft_threshold(np.array([2.0, -2.0]), 0.5), [1.5, -1.5])


def test_gaussian_prox_never_zeroes():
    out = Gaussian(0.1).prox(np.array([1e-3, -5.0]), step=10.0)
    assert np.all(out != 0.0)


@pytest.mark.parametrize("prior", [Gaussian(0.8), Laplace(0.6), ElasticNet(0.5, 0.3)], ids=repr)
def test_pymc_variable_logp_matches_numpy(prior):
    with pm.Model(coords={"feature": list("abcdef")}) as m:
        scale = pm.Data("prior_scale", prior.scale)
        prior.to_pymc("w", scale, None, dims="feature")
    logp = m.compile_logp()
    # PyTensor's erfcx (elastic-net normalizer) is accurate to ~1e-9 relative, scipy's to 1e-15
    np.testing.assert_allclose(logp({"w": W}), prior.logpdf(W), rtol=1e-8)


def test_scale_by_sigma_uses_sigma_and_with_scale_copies():
    p = Laplace(0.5, scale_by_sigma=True)
    assert p.effective_scale(4.0) == 2.0
    q = p.with_scale(2.0)
    assert q.scale == 2.0 and p.scale == 0.5 and q.scale_by_sigma


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_bad_scale_raises(bad):
    with pytest.raises(
        ValueError,
        match=r"The 'scale' parameter of Laplace must be a float in the range \(0, inf\)",
    ):
        Laplace(bad)


def test_bad_l1_ratio_and_elastic_net_sigma_scaling_raise():
    with pytest.raises(
        ValueError, match=r"'l1_ratio' parameter of ElasticNet .* \[0, 1\]\. Got 1.5"
    ):
        ElasticNet(1.0, 1.5)
    with pytest.raises(ValueError, match="scale_by_sigma"):
        ElasticNet(1.0, 0.5, scale_by_sigma=True)
