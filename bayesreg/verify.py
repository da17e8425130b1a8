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
                                  on a duality gap or gradient norm, not a KKT residual)
GD weight decay, ISTA,   1e-5     stopped at relative KKT 1e-10; the coefficient error is the
FISTA, Adam + L2                  residual divided by the curvature (condition number <= 1e5)
pm.find_MAP              n/a      L-BFGS-B on the raw problem: no exact zeros for L1 and an early
                                  stop on badly scaled data; shown, not expected to agree
subgradient              n/a      hovers around 0 at a constant step: never exact zeros
AdamW                    n/a      decoupled decay: a different fixed point (shown, not hidden)
=======================  =======  ===============================================================

When sigma is estimated, the comparisons that need a noise sd (closed form, scikit-learn,
gradient descent) use the MAP's sigma: at that sigma the joint MAP's (w, b) is exactly their
solution. ``conversion_factor`` multiplies every converted penalty strength (scikit-learn and
closed-form rows): anything but 1 is a wrong conversion, and the report must then fail; tests
use it to show that the check can fail.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from bayesreg._validation import check_positive
from bayesreg.conventions import prior_to_penalty
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel, check_model
from bayesreg.priors import ElasticNet, Gaussian, Laplace
from bayesreg.solvers import ConvergenceWarning, MapEstimate, map_estimate, ridge_closed_form
from bayesreg.solvers._problem import penalty_coefs, problem_for
from bayesreg.solvers.descent import gradient_descent

__all__ = ["VERIFY_ROWS", "VerificationReport", "VerificationRow", "verify"]

#: row kinds that :func:`verify` can compute (the ``rows`` argument selects among them)
VERIFY_ROWS = (
    "map_alt",
    "closed_form",
    "sklearn",
    "find_map",
    "weight_decay",
    "ista",
    "fista",
    "subgradient",
    "adam_l2",
    "adamw",
)
_TOL_MAP_ALT = 1e-8
_TOL_CLOSED = 1e-10
_TOL_SKLEARN = 1e-6
_TOL_GD = 1e-5


@dataclass(frozen=True)
class VerificationRow:
    """One method compared with the reference MAP.

    ``passed`` is True when the row is not expected to agree, or agrees within ``tolerance``.
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

    @property
    def passed(self) -> bool:
        return self.agrees or not self.expected_to_agree


def _clean(v):
    """JSON-friendly scalars: numpy -> python, non-finite floats -> None."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass
class VerificationReport:
    """Rows comparing every method with the MAP; ``passed`` says whether all expected agree."""

    model: str
    reference: MapEstimate
    rows: list[VerificationRow]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.reference.converged) and all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[VerificationRow]:
        return [r for r in self.rows if not r.passed]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per method; columns are the :class:`VerificationRow` fields plus passed."""
        df = pd.DataFrame([asdict(r) for r in self.rows])
        df["passed"] = [r.passed for r in self.rows]
        return df

    def to_dict(self) -> dict:
        """A JSON-serializable summary (non-finite numbers become None)."""
        ref = self.reference
        return {
            "passed": self.passed,
            "model": self.model,
            "reference": {
                "method": ref.method,
                "coef": [_clean(float(c)) for c in ref.coef],
                "intercept": _clean(float(ref.intercept)),
                "sigma": None if ref.sigma is None else _clean(float(ref.sigma)),
                "converged": bool(ref.converged),
                "optimality": _clean(float(ref.optimality)),
                "objective": _clean(float(ref.objective)),
                "n_iter": int(ref.n_iter),
            },
            "rows": [
                {**{k: _clean(v) for k, v in asdict(r).items()}, "passed": r.passed}
                for r in self.rows
            ],
            "skipped": dict(self.skipped),
        }

    def __str__(self) -> str:
        head = (
            f"{'method':<24} {'max|dcoef|':>11} {'rel':>9} {'zeros':>6} {'objective':>14} "
            f"{'KKT':>9} {'expect':>6} {'tol':>7} {'result':>6}"
        )
        lines = [f"Verification of {self.model}", head, "-" * len(head)]
        for r in self.rows:
            result = ("ok" if r.agrees else "FAIL") if r.expected_to_agree else "differs"
            if not r.expected_to_agree and r.agrees:
                result = "agrees"
            lines.append(
                f"{r.method:<24} {r.max_abs_diff:>11.3g} {r.rel_diff:>9.2e} "
                f"{'same' if r.zero_pattern_agrees else 'diff':>6} {r.objective:>14.8g} "
                f"{r.optimality:>9.2e} {'yes' if r.expected_to_agree else 'no':>6} "
                f"{r.tolerance:>7.0e} {result:>6}"
            )
        for name, why in self.skipped.items():
            lines.append(f"{name:<24} skipped: {why}")
        ref = self.reference
        lines.append(
            f"reference MAP: method={ref.method}, converged={ref.converged}, "
            f"KKT={ref.optimality:.2e}, {ref.n_nonzero} non-zero of {ref.coef.size}"
            + ("" if ref.sigma is None else f", sigma={ref.sigma:.6g}")
        )
        lines.append("PASSED" if self.passed else f"FAILED: {[r.method for r in self.failures]}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # notebooks
        return self.to_dataframe().to_html()


def _row(
    method: str,
    ref: MapEstimate,
    coef: np.ndarray,
    intercept: float,
    objective: float,
    optimality: float,
    expected: bool,
    tolerance: float,
    l1: bool,
    seconds: float = 0.0,
    note: str = "",
) -> VerificationRow:
    coef = np.asarray(coef, dtype=np.float64)
    diff = float(np.max(np.abs(coef - ref.coef))) if coef.size else 0.0
    size = float(np.max(np.abs(ref.coef))) if coef.size else 0.0
    rel = diff / size if size > 0 else diff
    db = abs(float(intercept) - float(ref.intercept))
    zeros_same = bool(np.array_equal(coef == 0.0, ref.coef == 0.0))
    agrees = rel <= tolerance and db <= tolerance * max(1.0, abs(ref.intercept))
    if l1:
        agrees = agrees and zeros_same
    return VerificationRow(
        method=method,
        max_abs_diff=diff,
        rel_diff=rel,
        intercept_diff=db,
        zero_pattern_agrees=zeros_same,
        n_nonzero=int(np.count_nonzero(coef)),
        objective=float(objective),
        optimality=float(optimality),
        expected_to_agree=bool(expected),
        tolerance=float(tolerance),
        agrees=bool(agrees),
        seconds=float(seconds),
        note=note,
    )


def _sklearn_fit(model: RegressionModel, sigma: float, factor: float):
    """The scikit-learn estimator at the converted strength: (name, coef, intercept)."""
    from sklearn import linear_model as lm

    prior, lik, n = model.prior, model.likelihood, model.n
    fi = model.fit_intercept
    X, y = model.X, model.y
    if isinstance(lik, GaussianLikelihood):
        if isinstance(prior, Gaussian):
            alpha = prior_to_penalty(prior, "sklearn_ridge", sigma=sigma) * factor
            est = lm.Ridge(alpha=alpha, fit_intercept=fi, solver="cholesky")
            name = f"sklearn Ridge(alpha={alpha:.4g})"
        elif isinstance(prior, Laplace):
            alpha = prior_to_penalty(prior, "sklearn_lasso", sigma=sigma, n=n) * factor
            est = lm.Lasso(alpha=alpha, fit_intercept=fi, tol=1e-12, max_iter=1_000_000)
            name = f"sklearn Lasso(alpha={alpha:.4g})"
        elif isinstance(prior, ElasticNet):
            alpha = prior_to_penalty(prior, "sklearn_elasticnet", sigma=sigma, n=n) * factor
            est = lm.ElasticNet(
                alpha=alpha,
                l1_ratio=prior.l1_ratio,
                fit_intercept=fi,
                tol=1e-12,
                max_iter=1_000_000,
            )
            name = f"sklearn ElasticNet(alpha={alpha:.4g})"
        else:
            return None
    elif isinstance(lik, BernoulliLikelihood):
        rho = {Gaussian: 0.0, Laplace: 1.0}.get(type(prior))
        if rho is None and isinstance(prior, ElasticNet):
            rho = prior.l1_ratio
        if rho is None:
            return None
        C = prior_to_penalty(prior, "sklearn_logistic") * factor
        # newton-cholesky is exact for L2; saga is scikit-learn's only exact L1 solver that
        # leaves the intercept unpenalized (liblinear penalizes it)
        solver = "newton-cholesky" if rho == 0.0 else "saga"
        est = lm.LogisticRegression(
            C=C, l1_ratio=rho, solver=solver, tol=1e-12, max_iter=1_000_000, fit_intercept=fi
        )
        name = f"sklearn LogisticRegression(C={C:.4g}, l1_ratio={rho:g})"
    else:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    coef = np.ravel(est.coef_).astype(np.float64)
    intercept = float(np.ravel(est.intercept_)[0]) if fi else 0.0
    return name, coef, intercept


def _find_map(model: RegressionModel):
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


def verify(
    model: RegressionModel,
    *,
    rows: Sequence[str] | None = None,
    include_find_map: bool = True,
    conversion_factor: float = 1.0,
    tol: float = 1e-10,
    max_steps: int = 50000,
    demo_steps: int = 3000,
    tamper: Callable[[VerificationRow], VerificationRow] | None = None,
) -> VerificationReport:
    """Compare the MAP of ``model`` with every other way of computing it.

    Parameters
    ----------
    model : RegressionModel
    rows : sequence of str, optional
        Which rows to compute (default: all of :data:`VERIFY_ROWS` that apply).
    include_find_map : bool, default True
        Include the ``pm.find_MAP`` row (a few hundred ms).
    conversion_factor : float, default 1.0
        Multiplies every converted penalty strength; any other value injects a wrong
        conversion (the report then fails: the check can fail).
    tol : float, default 1e-10
        Relative KKT tolerance for the MAP and the gradient methods.
    max_steps : int, default 50000
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
        if r not in VERIFY_ROWS:
            options = ", ".join(repr(v) for v in VERIFY_ROWS)
            raise ValueError(
                f"{r!r} is not a supported verification row. Must be one of: {options}."
            )
    if not include_find_map and "find_map" in selected:
        selected.remove("find_map")
    ref = map_estimate(model, tol=tol)
    prob = problem_for(model)
    sigma = ref.sigma if ref.sigma is not None else prob.sigma_fixed
    log_sigma = None if ref.sigma is None else float(np.log(ref.sigma))
    coefs = penalty_coefs(model.prior, sigma)
    l1 = coefs is not None and coefs[0] > 0
    is_l2 = coefs is not None and coefs[0] == 0
    out: list[VerificationRow] = []
    skipped: dict[str, str] = {}

    def evaluate(w, b, ls=log_sigma):
        return prob.objective(w, b, ls), prob.kkt_original(w, b, ls)

    out.append(
        _row(
            f"map ({ref.method})",
            ref,
            ref.coef,
            ref.intercept,
            ref.objective,
            ref.optimality,
            True,
            0.0,
            l1,
            ref.seconds,
            "the reference" + ("" if ref.converged else " (NOT converged)"),
        )
    )
    if "map_alt" in selected:
        alt = {"closed_form": "lbfgs", "lbfgs": "fista", "fista": "ista"}.get(ref.method)
        if alt is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est = map_estimate(model, method=alt, tol=tol)
            out.append(
                _row(
                    f"map ({alt})",
                    ref,
                    est.coef,
                    est.intercept,
                    est.objective,
                    est.optimality,
                    True,
                    _TOL_MAP_ALT,
                    l1,
                    est.seconds,
                    "another MAP solver",
                )
            )
    if "closed_form" in selected:
        if isinstance(model.likelihood, GaussianLikelihood) and isinstance(model.prior, Gaussian):
            t0 = time.perf_counter()
            alpha = prior_to_penalty(model.prior, "sklearn_ridge", sigma=sigma) * conversion_factor
            w, b = ridge_closed_form(model.X, model.y, alpha, model.fit_intercept)
            obj, kkt = evaluate(w, b)
            out.append(
                _row(
                    "closed form (ridge)",
                    ref,
                    w,
                    b,
                    obj,
                    kkt,
                    True,
                    _TOL_CLOSED,
                    l1,
                    time.perf_counter() - t0,
                    f"ridge normal equations, alpha = sigma^2/tau^2 = {alpha:.6g}",
                )
            )
        else:
            skipped["closed form"] = "only for a Gaussian prior with a Gaussian likelihood"
    if "sklearn" in selected:
        t0 = time.perf_counter()
        fit = _sklearn_fit(model, sigma, conversion_factor)
        if fit is None:
            skipped["scikit-learn"] = f"no scikit-learn estimator for {model.prior!r}"
        else:
            name, w, b = fit
            obj, kkt = evaluate(w, b)
            out.append(
                _row(
                    name,
                    ref,
                    w,
                    b,
                    obj,
                    kkt,
                    True,
                    _TOL_SKLEARN,
                    l1,
                    time.perf_counter() - t0,
                    "strength from prior_to_penalty",
                )
            )
    if "find_map" in selected:
        t0 = time.perf_counter()
        w, b, s = _find_map(model)
        ls = None if s is None else float(np.log(s))
        obj, kkt = prob.objective(w, b, ls), prob.kkt_original(w, b, ls)
        tiny = int(np.sum((np.abs(w) > 0) & (ref.coef == 0)))
        out.append(
            _row(
                "pm.find_MAP",
                ref,
                w,
                b,
                obj,
                kkt,
                False,
                _TOL_SKLEARN,
                l1,
                time.perf_counter() - t0,
                "L-BFGS-B on the raw problem"
                + (f"; {tiny} small non-zeros where the MAP has exact zeros" if l1 else ""),
            )
        )
    for method in ("weight_decay", "ista", "fista", "subgradient", "adam_l2", "adamw"):
        if method not in selected:
            continue
        if method in ("weight_decay", "adam_l2", "adamw") and not is_l2:
            skipped[method] = "an L2 (weight-decay) method: needs a Gaussian prior"
            continue
        steps = demo_steps if method in ("subgradient", "adamw") else max_steps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = gradient_descent(model, method, max_steps=steps, tol=tol, sigma=sigma, warn=False)
        obj, kkt = evaluate(res.coef, res.intercept)
        out.append(
            _row(
                f"GD {method}",
                ref,
                res.coef,
                res.intercept,
                obj,
                kkt,
                res.matches_map_expected,
                _TOL_GD,
                l1,
                res.seconds,
                f"{res.n_steps} steps, lr={res.learning_rate:.3g}, converged={res.converged}; "
                + res.note,
            )
        )
    if tamper is not None:
        out = [tamper(r) for r in out]
    return VerificationReport(repr(model), ref, out, skipped)
