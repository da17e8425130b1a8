"""Data: the diabetes data shipped by scikit-learn, and synthetic sparse problems.

Nothing is downloaded: the diabetes data (Efron et al., 2004; n = 442, p = 10) ships inside
scikit-learn, so this works offline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from bayesreg._validation import check_choice, check_nonnegative, check_positive_int

__all__ = ["Dataset", "load_diabetes", "make_sparse_classification", "make_sparse_regression"]


@dataclass(frozen=True)
class Dataset:
    """A design matrix, a target, and (for synthetic data) the true weights.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n, p)
    y : numpy.ndarray of shape (n,)
    coef : numpy.ndarray of shape (p,) or None
        True weights (synthetic data only).
    intercept : float or None
        True intercept (synthetic data only).
    noise_sd : float or None
        True noise sd (synthetic regression only).
    description : str
    """

    X: pd.DataFrame
    y: np.ndarray
    coef: np.ndarray | None = None
    intercept: float | None = None
    noise_sd: float | None = None
    description: str = ""

    @property
    def feature_names(self) -> list[str]:
        return [str(c) for c in self.X.columns]


def load_diabetes(scaling: str = "unit_norm") -> Dataset:
    """The diabetes data (442 patients, 10 baseline variables, disease progression after a year).

    Parameters
    ----------
    scaling : {"unit_norm", "standardized", "raw"}
        ``"unit_norm"``: scikit-learn's version, each column centred and scaled to unit Euclidean
        norm (the scaling of Efron et al. and Park & Casella's Bayesian lasso);
        ``"standardized"``: centred, unit sample sd (ddof=0);
        ``"raw"``: original units (age in years, BMI, ...).
        y is the raw target (not centred) in every case.
    """
    from sklearn.datasets import load_diabetes as _load

    check_choice(scaling, "scaling", ("unit_norm", "standardized", "raw"))
    bunch = _load(scaled=scaling != "raw")
    X = np.array(bunch.data, dtype=np.float64)
    if scaling == "unit_norm":
        # scikit-learn scales by sd * sqrt(n); renormalize so each column has norm exactly 1
        X = X - X.mean(axis=0)
        X = X / np.linalg.norm(X, axis=0)
    elif scaling == "standardized":
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    frame = pd.DataFrame(X, columns=list(bunch.feature_names))
    return Dataset(
        X=frame,
        y=np.array(bunch.target, dtype=np.float64),
        description=f"diabetes (Efron et al. 2004), n=442, p=10, columns {scaling}",
    )


def _sparse_coef(p: int, n_nonzero: int, rng: np.random.Generator, effect: float) -> np.ndarray:
    coef = np.zeros(p)
    support = rng.choice(p, size=n_nonzero, replace=False)
    signs = rng.choice([-1.0, 1.0], size=n_nonzero)
    coef[support] = signs * effect * rng.uniform(0.5, 1.5, size=n_nonzero)
    return coef


def _design(n: int, p: int, correlation: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian design with AR(1) correlation rho^|i-j| between columns."""
    Z = rng.standard_normal((n, p))
    if correlation == 0.0:
        return Z
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    scale = np.sqrt(1.0 - correlation**2)
    for j in range(1, p):
        X[:, j] = correlation * X[:, j - 1] + scale * Z[:, j]
    return X


def make_sparse_regression(
    n_samples: int = 200,
    n_features: int = 20,
    n_nonzero: int = 5,
    noise_sd: float = 1.0,
    correlation: float = 0.0,
    effect: float = 2.0,
    intercept: float = 0.0,
    random_state: int | None = 0,
) -> Dataset:
    """y = X w + intercept + N(0, noise_sd^2), with ``n_nonzero`` non-zero true weights.

    X has unit-variance Gaussian columns with AR(1) correlation ``correlation``; the non-zero
    weights have random signs and magnitudes uniform in [0.5, 1.5] * ``effect``.
    """
    n = check_positive_int(n_samples, "n_samples", "make_sparse_regression")
    p = check_positive_int(n_features, "n_features", "make_sparse_regression")
    if not 0 <= n_nonzero <= p:
        raise ValueError(f"n_nonzero must be in [0, n_features={p}]; got {n_nonzero!r}.")
    noise_sd = check_nonnegative(noise_sd, "noise_sd", "make_sparse_regression")
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation must be in (-1, 1); got {correlation!r}.")
    rng = np.random.default_rng(random_state)
    X = _design(n, p, float(correlation), rng)
    coef = _sparse_coef(p, n_nonzero, rng, effect)
    y = X @ coef + intercept + noise_sd * rng.standard_normal(n)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    return Dataset(
        frame,
        y,
        coef,
        float(intercept),
        noise_sd,
        f"sparse regression n={n} p={p} nonzero={n_nonzero} noise_sd={noise_sd}",
    )


def make_sparse_classification(
    n_samples: int = 300,
    n_features: int = 20,
    n_nonzero: int = 5,
    correlation: float = 0.0,
    effect: float = 1.5,
    intercept: float = 0.0,
    random_state: int | None = 0,
) -> Dataset:
    """0/1 labels from a logistic model: y ~ Bernoulli(sigmoid(X w + intercept)), sparse w."""
    n = check_positive_int(n_samples, "n_samples", "make_sparse_classification")
    p = check_positive_int(n_features, "n_features", "make_sparse_classification")
    if not 0 <= n_nonzero <= p:
        raise ValueError(f"n_nonzero must be in [0, n_features={p}]; got {n_nonzero!r}.")
    if not -1.0 < correlation < 1.0:
        raise ValueError(f"correlation must be in (-1, 1); got {correlation!r}.")
    rng = np.random.default_rng(random_state)
    X = _design(n, p, float(correlation), rng)
    coef = _sparse_coef(p, n_nonzero, rng, effect)
    prob = special.expit(X @ coef + intercept)
    y = (rng.uniform(size=n) < prob).astype(np.float64)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    return Dataset(
        frame,
        y,
        coef,
        float(intercept),
        None,
        f"sparse logistic n={n} p={p} nonzero={n_nonzero}",
    )
