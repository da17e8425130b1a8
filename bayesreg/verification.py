"""Verification report: the MAP against every way of computing the penalized solution.

One row per method, each compared with the reference MAP (:func:`bayesreg.solvers.map_estimate`,
``method="auto"``): max |coef difference|, relative difference, zero-pattern agreement, the
objective (negative log posterior, no Jacobian), the KKT residual, and whether the row is
*expected* to agree. ``report.passed`` is True exactly when every row expected to agree does
so within its stated tolerance (and the reference MAP converged).

Rows and their tolerances (relative: ``max |coef - coef_MAP| / max |coef_MAP|``, also applied
to the intercept on the scale ``max(1, |b_MAP|)``; for priors with an L1 part the zero pattern
must also be identical):

=======================  =======  ===============================================================
row                      tol      why this tolerance
=======================  =======  ===============================================================
map (auto)               -        the reference; passes when it converged
map (<other method>)     1e-8     both solved to a relative KKT residual of 1e-10
closed form (ridge)      1e-10    the normal equations vs the MAP: both exact to rounding
scikit-learn             1e-6     scikit-learn run at tol=1e-12 (coordinate descent / lbfgs stop
                                  on a duality gap or gradient norm, not a KKT residual;
                                  QuantileRegressor solves the same LP with HiGHS)
skglm GroupLasso         1e-6     skglm's block coordinate descent at tol=1e-12 (group lasso
                                  priors; optional: needs the skglm package)
GD weight decay, ISTA,   1e-5     stopped at relative KKT 1e-10; the coefficient error is the
FISTA, Adam + L2                  residual divided by the curvature (condition number <= 1e5)
pm.find_MAP              n/a      L-BFGS-B on the raw problem: no exact zeros for L1 and an early
                                  stop on badly scaled data; shown, not expected to agree
subgradient              n/a      hovers around 0 at a constant step: never exact zeros
AdamW                    n/a      decoupled decay: a different fixed point (shown, not hidden)
=======================  =======  ===============================================================

Each row kind declares the capabilities it needs (:mod:`bayesreg._capabilities`): the closed
form a Gaussian penalty and a quadratic likelihood, scikit-learn an elastic penalty
(``Prior.elastic_coefs``) and a likelihood with a scikit-learn twin (``Likelihood.sklearn_loss``,
which picks Ridge / Lasso / ElasticNet, LogisticRegression, PoissonRegressor (Gaussian penalty
only) or QuantileRegressor(0.5) (the Laplace likelihood: L1 penalty only)), skglm a group-lasso penalty
(``Prior.group_lasso_coefs``), a quadratic likelihood and the skglm package, the
gradient methods an elastic penalty and a smooth likelihood with a bounded curvature (a fixed
step size needs a global Lipschitz constant: not Poisson, not the absolute error; the L2 ones
a Gaussian penalty). A row whose needs are not met is listed under
``not_applicable`` with the reason (:func:`~bayesreg._capabilities.explain`), not run.

When sigma is estimated, the comparisons that need a noise sd (closed form, scikit-learn,
gradient descent) use the MAP's sigma: at that sigma the joint MAP's (w, b) is exactly their
solution. ``conversion_factor`` multiplies every converted penalty strength (scikit-learn and
closed-form rows): anything but 1 is a wrong conversion, and the report must then fail; tests
use it to show that the check can fail.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from bayesreg._capabilities import (
    BOUNDED_CURVATURE,
    ELASTIC_PENALTY,
    GAUSSIAN_PENALTY,
    GROUP_LASSO_PENALTY,
    L1_ONLY,
    QUADRATIC_LIKELIHOOD,
    SKLEARN_LOSS,
    SMOOTH_LIKELIHOOD,
    Need,
    explain,
    unmet,
)
from bayesreg._results import Result
from bayesreg._validation import check_choice, check_positive
from bayesreg.conventions import prior_to_penalty
from bayesreg.model import RegressionModel, check_model
from bayesreg.solvers import ConvergenceWarning, MapEstimate, map_estimate, ridge_closed_form
from bayesreg.solvers._problem import problem_for
from bayesreg.solvers.descent import gradient_descent

__all__ = ["VERIFY_ROWS", "RowKind", "VerificationReport", "VerificationRow", "verify"]

_TOL_MAP_ALT = 1e-8
_TOL_CLOSED = 1e-10
_TOL_SKLEARN = 1e-6
_TOL_GD = 1e-5


@dataclass(frozen=True)
class VerificationRow(Result):
    """One method compared with the reference MAP.

    ``status`` is ``"agrees"`` (within ``tolerance``), ``"disagrees"`` (expected to agree, its
    method converged, and it does not), ``"inconclusive"`` (expected to agree, but its method
    stopped at its budget before its own convergence test: it says nothing about the MAP) or
    ``"not expected"`` (a method with another fixed point, shown for contrast). ``passed`` is
    False only for ``"disagrees"``.
    """

    method: str
    max_abs_diff: float
    rel_diff: float
    intercept_diff: float
    zero_pattern_agrees: bool
    n_nonzero: int
    objective: float
    optimality: float
    expected_to_agree: bool
    tolerance: float
    agrees: bool
    seconds: float = 0.0
    note: str = ""
    converged: bool = True

    @property
    def status(self) -> str:
        if self.agrees:
            return "agrees"
        if not self.expected_to_agree:
            return "not expected"
        return "disagrees" if self.converged else "inconclusive"

    @property
    def passed(self) -> bool:
        return self.status != "disagrees"

    def _extra_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "status": self.status}


@dataclass(frozen=True)
class VerificationReport(Result):
    """Rows comparing every method with the MAP; ``passed`` says whether all expected agree.

    ``not_applicable`` maps each row kind that was asked for but does not apply to this
    prior and likelihood to the reason (the capability it lacks).
    """

    model: str
    reference: MapEstimate
    rows: list[VerificationRow]
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.reference.converged) and all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[VerificationRow]:
        return [r for r in self.rows if not r.passed]

    @property
    def inconclusive(self) -> list[VerificationRow]:
        """Rows whose method stopped before converging (neither a pass nor a failure)."""
        return [r for r in self.rows if r.status == "inconclusive"]

    def _extra_dict(self) -> dict[str, Any]:
        return {"passed": self.passed}

    def to_dataframe(self):
        """One row per method; columns are the :class:`VerificationRow` fields plus passed."""
        import pandas as pd

        df = pd.DataFrame([asdict(r) for r in self.rows])
        df["passed"] = [r.passed for r in self.rows]
        df["status"] = [r.status for r in self.rows]
        return df

    def __str__(self) -> str:
        head = (
            f"{'method':<24} {'max|dcoef|':>11} {'rel':>9} {'zeros':>6} {'objective':>14} "
            f"{'KKT':>9} {'expect':>6} {'tol':>7} {'result':>6}"
        )
        lines = [f"Verification of {self.model}", head, "-" * len(head)]
        lines += [_row_line(r) for r in self.rows]
        lines += [f"{name:<24} not applicable: {why}" for name, why in self.not_applicable.items()]
        ref = self.reference
        lines.append(
            f"reference MAP: method={ref.method}, converged={ref.converged}, "
            f"KKT={ref.optimality:.2e}, {ref.n_nonzero} non-zero of {ref.coef.size}"
            + ("" if ref.sigma is None else f", sigma={ref.sigma:.6g}")
        )
        lines.append("PASSED" if self.passed else f"FAILED: {[r.method for r in self.failures]}")
        if self.inconclusive:
            lines.append(
                f"inconclusive (stopped before converging): {[r.method for r in self.inconclusive]}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # notebooks
        return self.to_dataframe().to_html()


_RESULT_WORD = {
    "agrees": "ok",
    "disagrees": "FAIL",
    "inconclusive": "n/conv",
    "not expected": "differs",
}


def _row_line(r: VerificationRow) -> str:
    result = "agrees" if (r.agrees and not r.expected_to_agree) else _RESULT_WORD[r.status]
    return (
        f"{r.method:<24} {r.max_abs_diff:>11.3g} {r.rel_diff:>9.2e} "
        f"{'same' if r.zero_pattern_agrees else 'diff':>6} {r.objective:>14.8g} "
        f"{r.optimality:>9.2e} {'yes' if r.expected_to_agree else 'no':>6} "
        f"{r.tolerance:>7.0e} {result:>6}"
    )


# ---------------------------------------------------------------------------------------------
# what every row compares against
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    """The reference MAP and the settings every row reads."""

    model: RegressionModel
    ref: MapEstimate
    sigma: float
    log_sigma: float | None
    l1: bool
    factor: float
    tol: float
    max_iter: int
    demo_steps: int

    def evaluate(self, w: np.ndarray, b: float, log_sigma: Any = "map") -> tuple[float, float]:
        """(objective, KKT residual) at (w, b); at the MAP's sigma unless ``log_sigma`` given."""
        ls = self.log_sigma if log_sigma == "map" else log_sigma
        prob = problem_for(self.model)
        if not self.model.likelihood.is_smooth:
            # a kinked loss has no gradient to measure a KKT residual with (the MAP row carries
            # the linear program's own certificate)
            return prob.objective(w, b, ls), float("nan")
        return prob.objective(w, b, ls), prob.kkt_original(w, b, ls)

    def row(self, method: str, coef, intercept, *, expected: bool, tolerance: float,
            seconds: float = 0.0, note: str = "", objective=None, optimality=None,
            log_sigma: Any = "map", converged: bool = True) -> VerificationRow:  # fmt: skip
        """The row for (coef, intercept): its distance to the reference MAP and whether it
        agrees within ``tolerance`` (relative; for L1-type priors also the zero pattern)."""
        ref = self.ref
        coef = np.asarray(coef, dtype=np.float64)
        if objective is None:
            objective, optimality = self.evaluate(coef, intercept, log_sigma)
        diff = float(np.max(np.abs(coef - ref.coef))) if coef.size else 0.0
        size = float(np.max(np.abs(ref.coef))) if coef.size else 0.0
        rel = diff / size if size > 0 else diff
        db = abs(float(intercept) - float(ref.intercept))
        zeros_same = bool(np.array_equal(coef == 0.0, ref.coef == 0.0))
        agrees = rel <= tolerance and db <= tolerance * max(1.0, abs(ref.intercept))
        return VerificationRow(
            method=method, max_abs_diff=diff, rel_diff=rel, intercept_diff=db,
            zero_pattern_agrees=zeros_same, n_nonzero=int(np.count_nonzero(coef)),
            objective=float(objective), optimality=float(optimality),
            expected_to_agree=bool(expected), tolerance=float(tolerance),
            agrees=bool(agrees and (zeros_same or not self.l1)), seconds=float(seconds),
            note=note, converged=bool(converged),
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the rows: each a function of the context, with the capabilities it needs
# ---------------------------------------------------------------------------------------------
def _map_alt(ctx: _Context) -> VerificationRow | None:
    """Another MAP solver than the reference's (none after ISTA)."""
    alt = {"closed_form": "lbfgs", "lbfgs": "fista", "fista": "ista"}.get(ctx.ref.method)
    if alt is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = map_estimate(ctx.model, method=alt, tol=ctx.tol)
    return ctx.row(
        f"map ({alt})", est.coef, est.intercept, expected=True, tolerance=_TOL_MAP_ALT,
        seconds=est.seconds, objective=est.objective, optimality=est.optimality,
        note="another MAP solver" + ("" if est.converged else f" (stopped after {est.n_iter})"),
        converged=est.converged,
    )  # fmt: skip


def _closed_form(ctx: _Context) -> VerificationRow:
    """The ridge normal equations at alpha = sigma^2 / tau^2 (the MAP's sigma)."""
    t0 = time.perf_counter()
    m = ctx.model
    alpha = prior_to_penalty(m.prior, "sklearn_ridge", sigma=ctx.sigma) * ctx.factor
    w, b = ridge_closed_form(m.X, m.y, alpha, fit_intercept=m.fit_intercept)
    return ctx.row(
        "closed form (ridge)", w, b, expected=True, tolerance=_TOL_CLOSED,
        seconds=time.perf_counter() - t0,
        note=f"ridge normal equations, alpha = sigma^2/tau^2 = {_strength_text(alpha)}",
    )  # fmt: skip


def _sklearn_regression(model: RegressionModel, sigma: float, factor: float):
    """Ridge (no L1 part), Lasso (no L2 part) or ElasticNet at the converted alpha."""
    from sklearn import linear_model as lm

    prior, fi = model.prior, model.fit_intercept
    a, c = prior.elastic_coefs(sigma)  # one scale here (_sklearn rescales the columns)
    if a == 0:
        alpha = prior_to_penalty(prior, "sklearn_ridge", sigma=sigma) * factor
        return f"sklearn Ridge(alpha={alpha:.4g})", lm.Ridge(
            alpha=alpha, fit_intercept=fi, solver="cholesky"
        )
    exact = {"fit_intercept": fi, "tol": 1e-12, "max_iter": 1_000_000}
    if c == 0:
        alpha = prior_to_penalty(prior, "sklearn_lasso", sigma=sigma, n=model.n) * factor
        return f"sklearn Lasso(alpha={alpha:.4g})", lm.Lasso(alpha=alpha, **exact)
    alpha = prior_to_penalty(prior, "sklearn_elasticnet", sigma=sigma, n=model.n) * factor
    est = lm.ElasticNet(alpha=alpha, l1_ratio=a / (a + c), **exact)
    return f"sklearn ElasticNet(alpha={alpha:.4g})", est


def _sklearn_logistic(model: RegressionModel, sigma: float, factor: float):
    """LogisticRegression at C and l1_ratio = a / (a + c) from the penalty."""
    from sklearn import linear_model as lm

    a, c = model.prior.elastic_coefs(sigma)
    rho = a / (a + c)
    C = prior_to_penalty(model.prior, "sklearn_logistic") * factor
    # newton-cholesky is exact for L2; saga is scikit-learn's only exact L1 solver that
    # leaves the intercept unpenalized (liblinear penalizes it)
    solver = "newton-cholesky" if rho == 0.0 else "saga"
    est = lm.LogisticRegression(
        C=C, l1_ratio=rho, solver=solver, tol=1e-12, max_iter=1_000_000,
        fit_intercept=model.fit_intercept,
    )  # fmt: skip
    return f"sklearn LogisticRegression(C={C:.4g}, l1_ratio={rho:g})", est


def _sklearn_poisson(model: RegressionModel, sigma: float, factor: float):
    """PoissonRegressor at alpha = 1 / (n tau^2) (half mean deviance + alpha ||w||^2 / 2)."""
    from sklearn import linear_model as lm

    alpha = prior_to_penalty(model.prior, "sklearn_poisson", n=model.n) * factor
    est = lm.PoissonRegressor(
        alpha=alpha, fit_intercept=model.fit_intercept, solver="newton-cholesky", tol=1e-12,
        max_iter=10_000,
    )  # fmt: skip
    return f"sklearn PoissonRegressor(alpha={alpha:.4g})", est


def _sklearn_quantile(model: RegressionModel, sigma: float, factor: float):
    """QuantileRegressor(0.5) at alpha = sigma / (2 n b): the same LP, solved by HiGHS."""
    from sklearn import linear_model as lm

    alpha = prior_to_penalty(model.prior, "sklearn_quantile", sigma=sigma, n=model.n) * factor
    est = lm.QuantileRegressor(
        quantile=0.5, alpha=alpha, fit_intercept=model.fit_intercept, solver="highs"
    )
    return f"sklearn QuantileRegressor(alpha={alpha:.4g})", est


class _SklearnTwin(NamedTuple):
    """The scikit-learn estimator of one loss and the penalties it can express."""

    build: Callable[[RegressionModel, float, float], tuple[str, Any]]
    needs: tuple[Need, ...] = ()


#: the scikit-learn estimator for each ``Likelihood.sklearn_loss``
_SKLEARN_ESTIMATORS: dict[str, _SklearnTwin] = {
    "squared_error": _SklearnTwin(_sklearn_regression),
    "log_loss": _SklearnTwin(_sklearn_logistic),
    "poisson": _SklearnTwin(_sklearn_poisson, (GAUSSIAN_PENALTY,)),
    "absolute_error": _SklearnTwin(_sklearn_quantile, (L1_ONLY,)),
}
_SKLEARN_ESTIMATOR = Need(
    f"a scikit-learn loss with an estimator here ({', '.join(_SKLEARN_ESTIMATORS)})",
    lambda p, lik: lik.sklearn_loss in _SKLEARN_ESTIMATORS,
)
_SKLEARN_PENALTY = Need(
    "a penalty that the scikit-learn estimator of that loss expresses (PoissonRegressor: "
    "Gaussian only; QuantileRegressor: L1 only)",
    lambda p, lik: unmet(_SKLEARN_ESTIMATORS[lik.sklearn_loss].needs, p, lik) is None,
)


def _strength_text(alpha: float | np.ndarray) -> str:
    if np.ndim(alpha) == 0:
        return f"{alpha:.6g}"
    return f"[{np.min(alpha):.4g} .. {np.max(alpha):.4g}] (one per coefficient)"


def _column_rescaling(prior: Any, sigma: float) -> np.ndarray | None:
    """r (p,) with which ``X_j / r_j`` turns a per-coefficient L1-only or L2-only penalty into
    one strength (that of coefficient 0): ``w_j = v_j / r_j`` makes ``a_j |w_j| = a_0 |v_j|``
    for ``r_j = a_j / a_0`` and ``c_j w_j^2 = c_0 v_j^2`` for ``r_j = sqrt(c_j / c_0)``.
    None for one scale (nothing to do) or a per-coefficient mix of L1 and L2 (impossible)."""
    if np.ndim(prior.scale) == 0:
        return None
    a, c = (
        np.broadcast_to(np.asarray(v, np.float64), prior.scale.shape)
        for v in prior.elastic_coefs(sigma)
    )
    if np.all(c == 0.0):
        return a / a[0]
    if np.all(a == 0.0):
        return np.sqrt(c / c[0])
    return None


#: scikit-learn has one penalty strength: per-coefficient scales are made uniform by rescaling
#: the columns, which works for an L1-only or an L2-only penalty
_ONE_SKLEARN_STRENGTH = Need(
    "one penalty strength: one prior scale, or per-coefficient scales of an L1-only or L2-only "
    "penalty (made uniform by rescaling the columns)",
    lambda p, lik: np.ndim(p.scale) == 0 or _column_rescaling(p, 1.0) is not None,
)


def _sklearn(ctx: _Context) -> VerificationRow:
    """The scikit-learn estimator of the likelihood's loss, at the converted strength.

    With per-coefficient scales, scikit-learn fits ``X / r`` at coefficient 0's strength and its
    coefficients are divided by r (:func:`_column_rescaling`)."""
    t0 = time.perf_counter()
    m = ctx.model
    r = _column_rescaling(m.prior, ctx.sigma)
    X, note = m.X, "strength from prior_to_penalty"
    if r is not None:
        X = m.X / r
        m = RegressionModel(
            X, m.y, m.prior.with_scale(float(m.prior.scale[0])), m.likelihood, m.fit_intercept
        )
        note += "; per-coefficient scales: columns rescaled to coefficient 0's strength"
    name, est = _SKLEARN_ESTIMATORS[m.likelihood.sklearn_loss].build(m, ctx.sigma, ctx.factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, m.y)
    w = np.ravel(est.coef_).astype(np.float64) / (1.0 if r is None else r)
    b = float(np.ravel(est.intercept_)[0]) if m.fit_intercept else 0.0
    return ctx.row(
        name, w, b, expected=True, tolerance=_TOL_SKLEARN, seconds=time.perf_counter() - t0,
        note=note,
    )  # fmt: skip


_SKGLM = Need(
    "the skglm package (pip install skglm)",
    lambda p, lik: importlib.util.find_spec("skglm") is not None,
)


def _skglm_group_lasso(ctx: _Context) -> VerificationRow:
    """skglm's ``GroupLasso`` at the converted strength.

    The MAP minimizes ``SSE / (2 sigma^2) + sum_g a_g ||w_g||``; times ``sigma^2 / n`` that is
    skglm's ``SSE / (2n) + alpha sum_g weights_g ||w_g||`` with ``weights_g = sqrt(|g|)`` and
    ``alpha = sigma^2 / (n b)``, where ``1 / b`` is the mean of ``a_g / sqrt(|g|)``
    (``Prior.group_lasso_coefs``): for ``GroupLaplace(b, groups)``, whose ``a_g = sqrt(|g|) /
    b``, that is the README's conversion; other rates keep their ratios in the weights.
    """
    from skglm import GroupLasso

    t0 = time.perf_counter()
    m = ctx.model
    index, rates = m.prior.group_lasso_coefs(ctx.sigma)
    members = [np.flatnonzero(index == g).tolist() for g in range(rates.size)]
    rates = np.asarray(rates, dtype=np.float64)
    inv_b = float(np.mean(rates / np.sqrt([len(g) for g in members])))
    alpha = ctx.sigma**2 / m.n * ctx.factor * inv_b
    est = GroupLasso(
        groups=members, alpha=alpha, weights=rates / inv_b, tol=1e-12,
        max_iter=1000, max_epochs=100_000, fit_intercept=m.fit_intercept,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(m.X, m.y)
    b = float(est.intercept_) if m.fit_intercept else 0.0
    return ctx.row(
        f"skglm GroupLasso(alpha={alpha:.4g})", np.asarray(est.coef_, dtype=np.float64), b,
        expected=True, tolerance=_TOL_SKLEARN, seconds=time.perf_counter() - t0,
        note="alpha = sigma^2 / (n b), weights = sqrt(|g|)",
    )  # fmt: skip


def _find_map_point(model: RegressionModel) -> tuple[np.ndarray, float, float | None]:
    import pymc as pm

    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            point = pm.find_MAP(model=model.pymc_model, progressbar=False)
    finally:
        logger.setLevel(level)
    w = np.asarray(point["w"], dtype=np.float64)
    b = float(point["intercept"]) if "intercept" in point else 0.0
    sigma = float(point["sigma"]) if "sigma" in point else None
    return w, b, sigma


def _find_map(ctx: _Context) -> VerificationRow:
    """PyMC's own MAP (L-BFGS-B on the raw problem), at its own sigma: shown, not expected."""
    t0 = time.perf_counter()
    w, b, s = _find_map_point(ctx.model)
    tiny = int(np.sum((np.abs(w) > 0) & (ctx.ref.coef == 0)))
    note = "L-BFGS-B on the raw problem" + (
        f"; {tiny} small non-zeros where the MAP has exact zeros" if ctx.l1 else ""
    )
    return ctx.row(
        "pm.find_MAP", w, b, expected=False, tolerance=_TOL_SKLEARN,
        seconds=time.perf_counter() - t0, note=note,
        log_sigma=None if s is None else float(np.log(s)),
    )  # fmt: skip


def _descent(method: str) -> Callable[[_Context], VerificationRow]:
    """The row of ``gradient_descent(model, method)`` at the MAP's sigma."""

    def run(ctx: _Context) -> VerificationRow:
        steps = ctx.demo_steps if method in ("subgradient", "adamw") else ctx.max_iter
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = gradient_descent(
                ctx.model, method=method, max_iter=steps, tol=ctx.tol, sigma=ctx.sigma, warn=False
            )
        return ctx.row(
            f"GD {method}", res.coef, res.intercept, expected=res.matches_map_expected,
            tolerance=_TOL_GD, seconds=res.seconds, converged=res.converged,
            note=f"{res.n_iter} steps, lr={res.learning_rate:.3g}, converged={res.converged}; "
            + res.note,
        )  # fmt: skip

    return run


@dataclass(frozen=True)
class RowKind:
    """One kind of verification row: its ``rows=`` key, its label, what it needs, its run."""

    key: str
    label: str
    needs: tuple[Need, ...]
    run: Callable[[_Context], VerificationRow | None]


#: a fixed learning rate needs a gradient with a global Lipschitz bound
_GD = (ELASTIC_PENALTY, SMOOTH_LIKELIHOOD, BOUNDED_CURVATURE)
_L2 = (*_GD, GAUSSIAN_PENALTY)
#: every row kind, in report order
_ROW_KINDS: tuple[RowKind, ...] = (
    RowKind("map_alt", "another MAP solver", (), _map_alt),
    RowKind("closed_form", "closed form", (GAUSSIAN_PENALTY, QUADRATIC_LIKELIHOOD), _closed_form),
    RowKind(
        "sklearn",
        "scikit-learn",
        (
            ELASTIC_PENALTY,
            SKLEARN_LOSS,
            _SKLEARN_ESTIMATOR,
            _SKLEARN_PENALTY,
            _ONE_SKLEARN_STRENGTH,
        ),
        _sklearn,
    ),
    RowKind(
        "skglm", "skglm", (GROUP_LASSO_PENALTY, QUADRATIC_LIKELIHOOD, _SKGLM), _skglm_group_lasso
    ),
    RowKind("find_map", "pm.find_MAP", (), _find_map),
    RowKind("weight_decay", "weight_decay", _L2, _descent("weight_decay")),
    RowKind("ista", "ista", _GD, _descent("ista")),
    RowKind("fista", "fista", _GD, _descent("fista")),
    RowKind("subgradient", "subgradient", _GD, _descent("subgradient")),
    RowKind("adam_l2", "adam_l2", _L2, _descent("adam_l2")),
    RowKind("adamw", "adamw", _L2, _descent("adamw")),
)
#: row kinds that :func:`verify` can compute (the ``rows`` argument selects among them)
VERIFY_ROWS = tuple(kind.key for kind in _ROW_KINDS)


def _context(model, tol, conversion_factor, max_iter, demo_steps) -> _Context:
    """Solve the reference MAP and fix the sigma every conversion uses (the MAP's)."""
    ref = map_estimate(model, tol=tol)
    lik = model.likelihood
    sigma = ref.sigma if ref.sigma is not None else (lik.fixed_sigma or 1.0)
    coefs = model.prior.elastic_coefs(sigma)
    return _Context(
        model=model, ref=ref, sigma=float(sigma),
        log_sigma=None if ref.sigma is None else float(np.log(ref.sigma)),
        l1=(coefs is not None and bool(np.any(np.asarray(coefs[0]) > 0)))
        or GROUP_LASSO_PENALTY.met(model.prior, lik),  # exact zeros to agree on
        factor=conversion_factor, tol=tol,
        max_iter=max_iter, demo_steps=demo_steps,
    )  # fmt: skip


def verify(
    model: RegressionModel,
    *,
    rows: Sequence[str] | None = None,
    include_find_map: bool = True,
    conversion_factor: float = 1.0,
    tol: float = 1e-10,
    max_iter: int = 50000,
    demo_steps: int = 3000,
    tamper: Callable[[VerificationRow], VerificationRow] | None = None,
) -> VerificationReport:
    """Compare the MAP of ``model`` with every other way of computing it.

    Parameters
    ----------
    model : RegressionModel
    rows : sequence of str, optional
        Which rows to compute (default: all of :data:`VERIFY_ROWS`; those whose capabilities
        the prior or likelihood lacks are reported under ``not_applicable``).
    include_find_map : bool, default True
        Include the ``pm.find_MAP`` row (a few hundred ms).
    conversion_factor : float, default 1.0
        Multiplies every converted penalty strength; any other value injects a wrong
        conversion (the report then fails: the check can fail).
    tol : float, default 1e-10
        Relative KKT tolerance for the MAP and the gradient methods.
    max_iter : int, default 50000
        Step budget of the gradient methods that should converge.
    demo_steps : int, default 3000
        Step budget of the methods not expected to reach the MAP (subgradient, AdamW): they
        do not converge to it, and this is how long they are shown.
    tamper : callable, optional
        Applied to every row before the report is assembled (tests use it to falsify a row).

    Returns
    -------
    VerificationReport
    """
    check_model(model, "verify")
    conversion_factor = check_positive(conversion_factor, "conversion_factor", "verify")
    selected = list(VERIFY_ROWS) if rows is None else list(rows)
    for r in selected:
        check_choice(r, "verification row", VERIFY_ROWS)
    if not include_find_map and "find_map" in selected:
        selected.remove("find_map")
    ctx = _context(model, tol, conversion_factor, max_iter, demo_steps)
    ref = ctx.ref
    out = [
        ctx.row(
            f"map ({ref.method})", ref.coef, ref.intercept, expected=True, tolerance=0.0,
            seconds=ref.seconds, objective=ref.objective, optimality=ref.optimality,
            note="the reference" + ("" if ref.converged else " (NOT converged)"),
            converged=ref.converged,
        )
    ]  # fmt: skip
    not_applicable: dict[str, str] = {}
    for kind in _ROW_KINDS:
        if kind.key not in selected:
            continue
        why = explain(kind.label, kind.needs, model.prior, model.likelihood)
        if why is not None:
            not_applicable[kind.label] = why
            continue
        row = kind.run(ctx)
        if row is not None:
            out.append(row)
    if tamper is not None:
        out = [tamper(r) for r in out]
    return VerificationReport(repr(model), ref, out, not_applicable)
