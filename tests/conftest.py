"""Shared fixtures. Fixed seeds everywhere."""

from __future__ import annotations

import os
import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message=".*cannot link to a BLAS.*")
warnings.filterwarnings("ignore", message=".*ArviZ is undergoing a major refactor.*")

from bayesreg.datasets import (  # noqa: E402
    load_diabetes,
    make_sparse_classification,
    make_sparse_regression,
)

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared")


@pytest.fixture(scope="session")
def diabetes():
    """Diabetes data with unit-norm columns (scikit-learn's scaling)."""
    return load_diabetes()


@pytest.fixture(scope="session")
def sparse_regression():
    """n=100, p=8, 3 non-zero weights, noise sd 1."""
    return make_sparse_regression(n_samples=100, n_features=8, n_nonzero=3, random_state=1)


@pytest.fixture(scope="session")
def sparse_classification():
    """n=200, p=6 logistic problem, 3 non-zero weights."""
    return make_sparse_classification(n_samples=200, n_features=6, n_nonzero=3, random_state=2)


@pytest.fixture(scope="session")
def p_greater_than_n():
    """(X, y) with n=50 < p=200: 5 non-zero weights, noise sd 0.5, intercept 2."""
    rng = np.random.default_rng(0)
    n, p = 50, 200
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:5] = [3, -2, 1.5, 1, -1]
    y = X @ w + 0.5 * rng.standard_normal(n) + 2.0
    return X, y


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
