"""Proximal gradient (ISTA, FISTA with adaptive restart and backtracking) as pure steps.

Minimizes ``F(x) = f(x) + g(x)`` with f smooth (value and gradient from a callable) and g given
by its exact proximal operator ``prox(v, step) = argmin_u step * g(u) + ||u - v||^2 / 2``.

* ISTA: ``x <- prox(x - step * grad f(x), step)``.
* FISTA (Beck & Teboulle, 2009): the same step taken at an extrapolated point
  ``y = x_k + (t_{k-1} - 1) / t_k (x_k - x_{k-1})``, with the gradient-based adaptive restart of
  O'Donoghue & Candès (2015): momentum is reset when it points uphill, which makes FISTA converge
  linearly on strongly convex problems instead of oscillating.
* Backtracking: a step larger than the safe ``1 / L`` is accepted only if the quadratic upper
  bound ``f(x+) <= f(y) + <grad f(y), x+ - y> + ||x+ - y||^2 / (2 step)`` holds; otherwise the
  step is halved (never below ``1 / L``, where the bound holds by the Lipschitz property).

Each step is a pure function of an explicit :class:`ProxState` (optax / blackjax style): it
returns a new state and never mutates its input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["ProxState", "fista_step", "ista_step", "prox_init"]

SmoothFn = Callable[[np.ndarray], tuple[float, np.ndarray]]
ProxFn = Callable[[np.ndarray, float], np.ndarray]


class ProxState(NamedTuple):
    """State of ISTA / FISTA.

    Attributes
    ----------
    x : ndarray
        Current iterate (the answer).
    x_prev : ndarray
        Previous iterate (FISTA's momentum direction).
    t : float
        FISTA's momentum sequence (1 after a restart).
    step : float
        Current step size (1 / estimated Lipschitz constant).
    grad_map : float
        max |(y - x) / step|, the prox-gradient mapping at the last step (0 only at a minimizer).
    n_evals : int
        Smooth-function evaluations so far.
    """

    x: np.ndarray
    x_prev: np.ndarray
    t: float
    step: float
    grad_map: float
    n_evals: int


def prox_init(x0: np.ndarray, step: float) -> ProxState:
    """Initial state at ``x0`` with step size ``step``."""
    x0 = np.array(x0, dtype=np.float64, copy=True)
    return ProxState(x0, x0.copy(), 1.0, float(step), np.inf, 0)


def _backtracked(
    y: np.ndarray,
    f_y: float,
    g_y: np.ndarray,
    step: float,
    safe_step: float,
    smooth: SmoothFn,
    prox: ProxFn,
) -> tuple[np.ndarray, float, int]:
    """Prox step from y, halving ``step`` until the quadratic upper bound holds."""
    evals = 0
    while True:
        x_new = prox(y - step * g_y, step)
        if step <= safe_step:
            return x_new, step, evals
        d = x_new - y
        f_new, _ = smooth(x_new)
        evals += 1
        if f_new <= f_y + float(g_y @ d) + float(d @ d) / (2.0 * step) + 1e-12 * abs(f_y):
            return x_new, step, evals
        step = max(step / 2.0, safe_step)


def ista_step(state: ProxState, smooth: SmoothFn, prox: ProxFn, safe_step: float) -> ProxState:
    """One ISTA step: ``x+ = prox(x - step grad f(x), step)``."""
    f_x, g_x = smooth(state.x)
    x_new, step, extra = _backtracked(state.x, f_x, g_x, state.step, safe_step, smooth, prox)
    gm = float(np.max(np.abs(state.x - x_new))) / step if x_new.size else 0.0
    return ProxState(x_new, state.x, 1.0, step, gm, state.n_evals + 1 + extra)


def fista_step(
    state: ProxState, smooth: SmoothFn, prox: ProxFn, safe_step: float, restart: bool = True
) -> ProxState:
    """One FISTA step with optional gradient-based adaptive restart."""
    t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * state.t**2))
    y = state.x + ((state.t - 1.0) / t_new) * (state.x - state.x_prev)
    f_y, g_y = smooth(y)
    x_new, step, extra = _backtracked(y, f_y, g_y, state.step, safe_step, smooth, prox)
    gm = float(np.max(np.abs(y - x_new))) / step if x_new.size else 0.0
    if restart and float((y - x_new) @ (x_new - state.x)) > 0.0:
        # momentum points uphill: restart from the new point without momentum
        return ProxState(x_new, x_new.copy(), 1.0, step, gm, state.n_evals + 1 + extra)
    return ProxState(x_new, state.x, t_new, step, gm, state.n_evals + 1 + extra)
