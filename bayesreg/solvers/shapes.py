"""The joint MAP over a likelihood's estimated shape parameter (Student-t's nu) by profiling.

With ``theta`` the shape parameter (prior ``Gamma(a, b)``, :class:`~bayesreg.likelihoods.
ShapeParameter`) the objective is

    F(w, b, sigma, theta) = -log p(y | w, b, sigma, theta) - log p(w) - log p(sigma) - log p(theta)

(every normalizing constant that depends on theta kept; no Jacobian, the package's MAP
convention). Its profile ``P(t) = min_{w, b, sigma} F(..., e^t)`` is minimized over
``t = log theta``: each evaluation is one ``map_estimate`` of the model with theta bound
(``Likelihood.at``), warm-started from the previous one; Brent's bounded search brackets the
minimum and secant steps on the profile's derivative finish it. By the envelope theorem that
derivative is the partial ``dF / d log theta`` at the inner optimum, written analytically
(``Likelihood.dlogpdf_dlogshape`` plus the prior's ``a - 1 - b theta``).

**Converged** means the inner MAP is certified (its KKT residual of the (w, b, sigma) block)
*and* ``|dF / d log theta| <= tol * max(1, |dF / d log theta at the start|)``: together the
optimality of the whole problem. The MAP exists only when theta's prior density is bounded at
0 (Gamma shape ``a >= 1``; capability ``SHAPE_MAP``): the negative binomial's Gamma(1/2, .) on
alpha is unbounded there, so its joint MAP is refused.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from scipy import optimize

from bayesreg.model import RegressionModel

__all__ = ["shape_profile_map"]

#: the search interval of log theta around the prior's mean a / b (six decades each way)
_DECADES = 6.0


class _Profile:
    """P(t) and dP/dt at t = log theta, each through one warm-started inner MAP."""

    def __init__(self, model: RegressionModel, solve: Any) -> None:
        self.model, self.solve = model, solve
        (self.shape,) = model.likelihood.estimated_shapes
        self.init, self.evaluations, self.n_iter = None, 0, 0
        self.memo: dict[float, tuple[float, float, Any]] = {}

    def bound(self, t: float) -> RegressionModel:
        m = self.model
        lik = m.likelihood.at(**{self.shape.name: float(np.exp(t))})
        return RegressionModel(m.X, m.y, m.prior, lik, m.fit_intercept, m.feature_names)

    def __call__(self, t: float) -> tuple[float, float, Any]:
        t = float(t)
        if t not in self.memo:
            bound = self.bound(t)
            est = self.solve(bound, self.init)
            self.init, self.evaluations = est, self.evaluations + 1
            self.n_iter += est.n_iter
            theta = float(np.exp(t))
            value = est.objective - float(self.shape.logpdf(theta))
            eta = bound.X @ est.coef + est.intercept
            sigma = 1.0 if est.sigma is None else est.sigma
            if bound.likelihood.fixed_sigma is not None:
                sigma = bound.likelihood.fixed_sigma
            lik_grad = bound.likelihood.dlogpdf_dlogshape(self.shape.name, eta, bound.y, sigma)
            prior_grad = self.shape.shape - 1.0 - self.shape.rate * theta  # d log p / d log theta
            self.memo[t] = (value, -(lik_grad + prior_grad), est)
        return self.memo[t]


def shape_profile_map(
    model: RegressionModel, solve: Any, *, tol: float, warn: bool, max_steps: int = 30
) -> Any:
    """The joint MAP of ``model`` over (w, b, sigma) and its one estimated shape parameter.

    Parameters
    ----------
    model : RegressionModel
        A likelihood with one estimated shape parameter (``SHAPE_MAP``).
    solve : callable
        ``solve(bound_model, init) -> MapEstimate``: the inner MAP at a bound shape value.
    tol : float
        Relative tolerance of the shape derivative (the inner MAP has its own).
    warn : bool
        Issue a ``ConvergenceWarning`` when the tolerance is not reached.
    max_steps : int, default 30
        Secant steps after Brent's search.

    Returns
    -------
    MapEstimate
        With ``shapes = {name: value}``, the objective including the shape's prior, and
        ``optimality`` the larger of the inner KKT residual and ``|dF / d log theta|``.
    """
    from bayesreg.solvers.map import ConvergenceWarning

    start = time.perf_counter()
    prof = _Profile(model, solve)
    a, b = prof.shape.shape, prof.shape.rate
    centre = float(np.log(a / b))
    span = _DECADES * np.log(10.0)
    target = tol * max(1.0, abs(prof(centre)[1]))
    res = optimize.minimize_scalar(
        lambda t: prof(t)[0], bounds=(centre - span, centre + span), method="bounded",
        options={"xatol": 1e-6},
    )  # fmt: skip
    t, (value, grad, est) = float(res.x), prof(float(res.x))
    t_prev, g_prev = t + 1e-4, prof(t + 1e-4)[1]
    for _ in range(max_steps):  # secant steps on dP/dt (smooth near the minimum)
        if abs(grad) <= target or grad == g_prev:
            break
        t_new = t - grad * (t - t_prev) / (grad - g_prev)
        t_new = float(np.clip(t_new, t - 1.0, t + 1.0))
        t_prev, g_prev = t, grad
        t = t_new
        value, grad, est = prof(t)
    converged = bool(est.converged and abs(grad) <= target)
    if not converged and warn:
        warnings.warn(
            f"map_estimate over {prof.shape.name} did not converge: |dF/dlog "
            f"{prof.shape.name}| = {abs(grad):.3g} (tolerance {target:.3g}), inner KKT residual "
            f"{est.optimality:.3g} (converged: {est.converged}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return _with_shape(est, prof, t, value, grad, converged, time.perf_counter() - start)


def _with_shape(est, prof: _Profile, t, value, grad, converged, seconds) -> Any:
    from dataclasses import replace

    return replace(
        est,
        shapes={prof.shape.name: float(np.exp(t))},
        objective=float(value),
        optimality=float(max(est.optimality, abs(grad))),
        converged=converged,
        n_iter=prof.n_iter,
        seconds=seconds,
    )
