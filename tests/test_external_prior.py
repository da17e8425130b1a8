"""A prior defined outside the package, against the documented capability interface only.

``ScaledGaussian`` is a Gaussian prior with a different scale per coefficient
(w_j ~ N(0, (scale * relative_j)^2)). It declares nothing beyond the base ``Prior`` interface
(no ``elastic_coefs``), so every consumer must take its generic path: ``map_estimate`` a smooth
solver certified by the KKT residual, ``sample_posterior`` a graph backend, ``verify`` the rows
that apply (the others say why not). The posterior is Gaussian with a known closed form, which
the tests check against.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesreg import GaussianLikelihood, RegressionModel, map_estimate, sample_posterior
from bayesreg.priors import Prior


class ScaledGaussian(Prior):
    """w_j ~ N(0, (scale * relative_j)^2), penalty sum_j w_j^2 / (2 (scale relative_j)^2)."""

    # no ``name``: a class without one stays out of the package's name table

    def __init__(self, scale: float = 1.0, *, relative=(1.0,)) -> None:
        super().__init__(scale)
        self.relative = tuple(float(r) for r in relative)

    def __repr__(self) -> str:
        return f"ScaledGaussian(scale={self.scale!r}, relative={self.relative!r})"

    def _tau(self, sigma: float = 1.0) -> np.ndarray:
        return self.effective_scale(sigma) * np.asarray(self.relative)

    def logpdf(self, w, sigma=1.0):
        tau = self._tau(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(np.sum(-0.5 * (w / tau) ** 2 - np.log(tau) - 0.5 * np.log(2 * np.pi)))

    def penalty(self, w, sigma=1.0):
        return float(0.5 * np.sum((np.asarray(w, dtype=np.float64) / self._tau(sigma)) ** 2))

    def penalty_grad(self, w, sigma=1.0):
        return np.asarray(w, dtype=np.float64) / self._tau(sigma) ** 2

    def prox(self, v, step, sigma=1.0):
        return np.asarray(v, dtype=np.float64) / (1.0 + step / self._tau(sigma) ** 2)

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        import pymc as pm

        return pm.Normal(
            name, mu=0.0, sigma=self.pymc_scale(scale, sigma) * np.asarray(self.relative), dims=dims
        )


RELATIVE = (0.5, 1.0, 4.0)
SIGMA = 0.8


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 3)) * np.array([1.0, 3.0, 0.5]) + 2.0
    y = X @ np.array([0.7, -0.4, 1.5]) + 3.0 + rng.normal(scale=SIGMA, size=60)
    prior = ScaledGaussian(0.6, relative=RELATIVE)
    model = RegressionModel(X, y, prior, GaussianLikelihood(sigma=SIGMA))
    # the exact Gaussian posterior of (w, b) with a flat intercept prior: with centred columns
    # the intercept decouples, and w | y ~ N(A^-1 Xc'yc / sigma^2, A^-1),
    # A = Xc'Xc / sigma^2 + diag(1 / tau^2)
    Xc, yc = X - X.mean(0), y - y.mean()
    A = Xc.T @ Xc / SIGMA**2 + np.diag(1.0 / (0.6 * np.asarray(RELATIVE)) ** 2)
    cov = np.linalg.inv(A)
    mean = cov @ Xc.T @ yc / SIGMA**2
    return model, mean, cov


def test_map_estimate_accepts_it(problem):
    model, mean, _ = problem
    fit = map_estimate(model)
    assert fit.converged
    # the MAP of a Gaussian posterior is its mean; the solver's KKT tolerance is relative 1e-8
    np.testing.assert_allclose(fit.coef, mean, rtol=1e-6, atol=1e-8)


@pytest.mark.slow
def test_sample_posterior_accepts_it(problem):
    model, mean, cov = problem
    idata = sample_posterior(model, draws=500, tune=500, chains=2, random_seed=3)
    draws = idata.posterior["w"].values.reshape(-1, 3)
    sd = np.sqrt(np.diag(cov))
    # 1000 near-independent NUTS draws: the mean's MCSE is ~ sd / sqrt(ESS ~ 500+); 5 MCSE
    np.testing.assert_array_less(np.abs(draws.mean(0) - mean), 5 * sd / np.sqrt(500))
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.15)  # sd of an sd estimate ~ 3-4%


def test_verify_accepts_it(problem):
    from bayesreg import verify

    model = problem[0]
    report = verify(model, include_find_map=False)
    assert report.passed, str(report)
    assert {r.method for r in report.rows} >= {"map (lbfgs)"}  # the generic MAP row ran
    # the rows that need the elastic form (scikit-learn, closed form, gradient methods) say so
    assert "scikit-learn" in report.not_applicable
    for reason in report.not_applicable.values():
        assert "needs" in reason and "ScaledGaussian" in reason
