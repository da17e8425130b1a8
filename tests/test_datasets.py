"""The datasets: diabetes scalings and synthetic problems with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special
from sklearn.datasets import load_diabetes as sk_load

from bayesreg import load_diabetes, make_sparse_classification, make_sparse_regression


def test_diabetes_unit_norm_and_standardized():
    unit = load_diabetes("unit_norm")
    std = load_diabetes("standardized")
    raw = load_diabetes("raw")
    assert unit.X.shape == (442, 10) and unit.feature_names[:3] == ["age", "sex", "bmi"]
    np.testing.assert_allclose(np.linalg.norm(unit.X, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(unit.X.mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(np.std(std.X.to_numpy(), axis=0), 1.0, rtol=1e-12)
    # all three are affine images of the same columns: identical correlations
    np.testing.assert_allclose(np.corrcoef(unit.X.T), np.corrcoef(raw.X.T), atol=1e-12)
    np.testing.assert_allclose(
        unit.X.to_numpy(), std.X.to_numpy() / np.sqrt(442), rtol=1e-10, atol=1e-14
    )
    # and match scikit-learn's own scaled version up to its normalization
    sk = sk_load().data
    np.testing.assert_allclose(np.corrcoef(sk.T), np.corrcoef(unit.X.T), atol=1e-12)
    assert unit.y.shape == (442,) and unit.y.min() == 25.0 and unit.y.max() == 346.0


def test_sparse_regression_has_the_stated_truth():
    d = make_sparse_regression(
        n_samples=2000, n_features=10, n_nonzero=3, noise_sd=0.5, intercept=1.0, random_state=3
    )
    assert np.count_nonzero(d.coef) == 3
    resid = d.y - d.X.to_numpy() @ d.coef - d.intercept
    # the residual sd estimates noise_sd with relative error ~ 1/sqrt(2n) = 1.6%
    assert resid.std() == pytest.approx(0.5, rel=0.06)
    again = make_sparse_regression(
        n_samples=2000, n_features=10, n_nonzero=3, noise_sd=0.5, intercept=1.0, random_state=3
    )
    np.testing.assert_array_equal(d.y, again.y)


def test_correlated_design_has_ar1_correlation():
    d = make_sparse_regression(
        n_samples=20000, n_features=4, n_nonzero=2, correlation=0.6, random_state=0
    )
    c = np.corrcoef(d.X.to_numpy().T)
    # sampling error of a correlation ~ (1 - r^2)/sqrt(n) = 0.005
    assert c[0, 1] == pytest.approx(0.6, abs=0.03) and c[0, 2] == pytest.approx(0.36, abs=0.03)


def test_sparse_classification_labels_follow_the_logistic_model():
    d = make_sparse_classification(n_samples=20000, n_features=5, n_nonzero=2, random_state=4)
    assert set(np.unique(d.y)) == {0.0, 1.0}
    p = special.expit(d.X.to_numpy() @ d.coef + d.intercept)
    # mean label vs mean probability: binomial sd ~ 0.5/sqrt(n) = 0.0035
    assert d.y.mean() == pytest.approx(p.mean(), abs=0.015)
