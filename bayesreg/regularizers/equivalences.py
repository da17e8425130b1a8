"""The regularizer = prior equivalences as a table of checks that can fail.

:func:`regularizer_equivalences` runs each check at a small size (a few seconds in all) and
returns one :class:`EquivalenceRow` per claim, with its measured error, its tolerance and
whether it passed; the notebook and the verification table show them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayesreg._results import Result
from bayesreg._validation import check_random_seed
from bayesreg.regularizers.dropout import (
    dropout_expected_loss,
    dropout_logistic_exact,
    dropout_logistic_quadratic,
    dropout_map,
    dropout_penalty_weights,
    dropout_sgd,
)
from bayesreg.regularizers.early_stopping import (
    ALI_BOUND,
    early_stopping_df,
    early_stopping_df_lambda,
    early_stopping_iterate,
    gradient_flow_risk,
    ridge_risk,
)
from bayesreg.regularizers.noise import noise_ridge_alpha, noisy_copies_fit

__all__ = ["EquivalenceRow", "regularizer_equivalences"]

#: dropout training is accepted within this many Monte Carlo standard errors (per coefficient)
SGD_Z_TOLERANCE = 4.0


@dataclass(frozen=True)
class EquivalenceRow(Result):
    """One equivalence: ``passed`` when ``measured <= tolerance`` (and any extra condition
    stated in ``note``); for a row with ``expected_to_agree=False`` (a method whose result is
    shown to differ, like AdamW's) ``passed`` when ``measured > tolerance``."""

    name: str
    measured: float
    tolerance: float
    passed: bool
    note: str = ""
    expected_to_agree: bool = True


def _linear_problem(rng: np.random.Generator, n: int, p: int, offset: float = 0.5):
    X = rng.standard_normal((n, p)) + offset  # uncentred on purpose: the intercept matters
    y = X @ rng.standard_normal(p) + 1.0 + rng.standard_normal(n)
    return X, y


def _dropout_identity(rng: np.random.Generator) -> EquivalenceRow:
    X, y = _linear_problem(rng, 20, 5)
    w, b, q = rng.standard_normal(5), 0.3, 0.3
    exact = dropout_expected_loss(X, y, w, b, q)
    formula = float(np.sum((y - X @ w - b) ** 2) + dropout_penalty_weights(X, q) @ w**2)
    err = abs(exact - formula) / formula
    return EquivalenceRow(
        "dropout: E_masks[SSE] = SSE + q/(1-q) sum ||x_j||^2 w_j^2 (all 2^5 masks)",
        err,
        1e-12,
        err <= 1e-12,
        "relative error",
    )


def _sgd_row(name: str, fit, target: np.ndarray, note: str) -> EquivalenceRow:
    z = float(np.max(np.abs(fit.coef - target) / fit.coef_se))
    return EquivalenceRow(name, z, SGD_Z_TOLERANCE, z <= SGD_Z_TOLERANCE, note)


def _dropout_linear(rng: np.random.Generator, seed: int) -> EquivalenceRow:
    X, y = _linear_problem(rng, 40, 4)
    fit = dropout_sgd(X, y, 0.3, n_epochs=1000, random_seed=seed)
    return _sgd_row(
        "dropout SGD (linear) -> MAP of the dropout prior",
        fit,
        dropout_map(X, y, 0.3)[0],
        "max |w_sgd - w_map| / se (Monte Carlo standard errors, sandwich)",
    )


def _logistic_problem(rng: np.random.Generator, n: int = 100, p: int = 4):
    X = rng.standard_normal((n, p))
    eta = X @ np.linspace(1.5, -1.0, p) + 0.5
    return X, (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)


def _dropout_logistic(rng: np.random.Generator, seed: int) -> list[EquivalenceRow]:
    X, y = _logistic_problem(rng)
    q = 0.5
    exact = dropout_logistic_exact(X, y, q)[0]
    fit = dropout_sgd(X, y, q, "logistic", n_epochs=500, random_seed=seed)
    quad = dropout_logistic_quadratic(X, y, q)[0]
    mle = dropout_logistic_exact(X, y, 0.0)[0]
    gap = float(np.linalg.norm(quad - exact) / np.linalg.norm(exact))
    gap_mle = float(np.linalg.norm(mle - exact) / np.linalg.norm(exact))
    return [
        _sgd_row(
            "dropout SGD (logistic) -> exact E_masks[cross-entropy] minimizer",
            fit,
            exact,
            "max |w_sgd - w_exact| / se",
        ),
        EquivalenceRow(
            "dropout (logistic) ~ Wager et al. quadratic penalty (an approximation)",
            gap,
            0.25 * gap_mle,
            1e-6 < gap <= 0.25 * gap_mle,
            f"relative gap to the exact dropout fit; no penalty's gap is {gap_mle:.3g} "
            "(tolerance: a quarter of it); the gap is nonzero: it is an approximation",
        ),
    ]


def _noise_slope(rng: np.random.Generator, seed: int) -> EquivalenceRow:
    from sklearn.linear_model import Ridge

    X, y = _linear_problem(rng, 30, 4, offset=0.3)
    s, copies, repeats = 0.5, np.array([8, 32, 128, 512]), 30
    ridge = Ridge(alpha=noise_ridge_alpha(30, s), solver="cholesky").fit(X, y).coef_
    rms = [
        np.sqrt(
            np.mean(
                [
                    np.sum(
                        (noisy_copies_fit(X, y, s, int(K), random_seed=seed + r)[0] - ridge) ** 2
                    )
                    for r in range(repeats)
                ]
            )
        )
        for K in copies
    ]
    slope = float(np.polyfit(np.log(copies), np.log(rms), 1)[0])
    return EquivalenceRow(
        "noise injection (K noisy copies) -> Ridge(alpha = n s^2), error ~ K^-1/2",
        abs(slope + 0.5),
        0.1,
        abs(slope + 0.5) <= 0.1,
        f"|slope + 1/2| of log rms error vs log K (slope {slope:.3f}; K = 8..512, "
        f"{repeats} seeds each)",
    )


def _early_stopping(rng: np.random.Generator) -> list[EquivalenceRow]:
    X, y = _linear_problem(rng, 30, 5, offset=0.4)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    lr, t = 0.9 / np.linalg.norm(Xc, ord=2) ** 2, 25
    w = np.zeros(5)
    for _ in range(t):  # the explicit loop on SSE/2
        w = w + lr * Xc.T @ (yc - Xc @ w)
    err = float(np.max(np.abs(early_stopping_iterate(X, y, lr, t)[0] - w)) / np.max(np.abs(w)))
    lam = early_stopping_df_lambda(X, lr, t)
    d2 = np.linalg.svd(Xc, compute_uv=False) ** 2
    df_err = abs(early_stopping_df(X, lr, t) - float(np.sum(d2 / (d2 + lam))))
    return [
        EquivalenceRow(
            "early stopping: closed-form filter = GD loop (t = 25)",
            err,
            1e-10,
            err <= 1e-10,
            "relative error",
        ),
        EquivalenceRow(
            "early stopping: df-matched ridge lam has the iterate's df",
            df_err,
            1e-9,
            df_err <= 1e-9,
            f"|df_gd - df_ridge(lam)|, lam = {lam:.4g} vs 1/(lr t) = {1 / (lr * t):.4g}",
        ),
    ]


def _ali_ratio(rng: np.random.Generator, n_designs: int = 60) -> EquivalenceRow:
    worst = 0.0
    for k in range(n_designs):
        n, p = int(rng.integers(5, 30)), int(rng.integers(1, 20))
        if k % 2:  # orthogonal columns (equal singular values) get near the bound
            m = max(n, p)
            X = np.linalg.qr(rng.standard_normal((m, m)))[0][:n, :p] * np.exp(rng.normal())
        else:
            X = rng.standard_normal((n, p)) * np.exp(rng.standard_normal(p))
        w = rng.standard_normal(p) * 10 ** rng.uniform(-3, 2)
        sigma = 10 ** rng.uniform(-1, 1)
        s = np.geomspace(1e-2, 1e2, 61) / np.linalg.norm(X, ord=2) ** 2
        ratio = gradient_flow_risk(X, w, sigma, s) / ridge_risk(X, w, sigma, 1.0 / s)
        worst = max(worst, float(np.max(ratio)))
    return EquivalenceRow(
        "early stopping ~ ridge: risk(gradient flow, s) <= 1.6862 risk(ridge, 1/s)",
        worst,
        ALI_BOUND,
        worst <= ALI_BOUND,
        f"max risk ratio over {n_designs} random designs x 61 times (exact bias^2 + variance)",
    )


def regularizer_equivalences(
    random_seed: int | np.random.Generator | None = 0,
) -> list[EquivalenceRow]:
    """Run every regularizer = prior check at a small size (a few seconds) and tabulate it.

    Rows: the dropout identity by mask enumeration; dropout SGD against the dropout prior's
    MAP (linear) and against the exact expected cross-entropy (logistic), in Monte Carlo
    standard errors; the gap of Wager et al.'s quadratic approximation; the K^-1/2 convergence
    of noisy copies to ``Ridge(alpha = n s^2)``; the early-stopping closed form and its
    df-matched lam; Ali et al.'s risk bound.

    Parameters
    ----------
    random_seed : int, Generator or None, default 0

    Returns
    -------
    list of EquivalenceRow
    """
    seed = check_random_seed(random_seed, "random_seed", "regularizer_equivalences")
    rng = np.random.default_rng(seed)
    sub = int(rng.integers(2**31))
    return [
        _dropout_identity(rng),
        _dropout_linear(rng, sub),
        *_dropout_logistic(rng, sub + 1),
        _noise_slope(rng, sub + 2),
        *_early_stopping(rng),
        _ali_ratio(rng),
    ]
