"""Penalized gradient descent: the seed's weight-decay update and its relatives.

The data term J0 (``SSE / (2 sigma^2)`` or the cross-entropy; value and gradient from the
MAP problem's evaluator, :mod:`bayesreg.solvers._problem`) is minimized together with the
prior's penalty
``a ||w||_1 + c ||w||^2 / 2`` (Gaussian(tau): c = 1/tau^2; Laplace(b): a = 1/b) by one of:

==================  =====================================================================  =====
method              update of w (lr = learning rate, g = grad J0(w))                       MAP?
==================  =====================================================================  =====
``weight_decay``    ``w <- (1 - lr c) w - lr g``: the seed's update, L2 only               yes
``subgradient``     ``w <- w - lr (g + a sign(w) + c w)``: hovers around 0, no exact 0s    no
``ista``            ``w <- prox_{lr P}(w - lr g)``: soft-thresholding for L1               yes
``fista``           ISTA at an extrapolated point, adaptive restart                        yes
``adam_l2``         Adam on ``g + c w`` (L2 added to the gradient), L2 only                yes
``adamw``           Adam on g, then decoupled decay ``w <- w - lr c w``, L2 only           no
==================  =====================================================================  =====

The fixed point of ``weight_decay`` solves ``g + c w = 0``: the MAP. AdamW's decay is applied
after Adam's per-coordinate normalization, so its fixed point solves
``m / (sqrt(v) + eps) = -c w`` instead: with small ``c |w|`` that is close to the *unpenalized*
optimum, not the MAP. The result's ``matches_map_expected`` says which case applies.

Optimizer steps follow optax: a :class:`GradientTransformation` is a pair of pure functions
``init(params) -> state`` and ``update(updates, state, params) -> (updates, state)`` over an
explicit NamedTuple state, and weight decay is its own transform
(:func:`add_decayed_weights`). Adam + L2 and AdamW are the two visible compositions
``chain(add_decayed_weights(c), scale_by_adam(), scale(-lr))`` and
``chain(scale_by_adam(), add_decayed_weights(c), scale(-lr))``.

Coordinates: w is updated in the caller's units, exactly as written above. The intercept
is not decayed; it is handled through the centred design (``b' = b + mean(X) @ w``, which
decouples it from w) with its own safe step ``1 / (curvature bound * n)``, so a large intercept
does not force a tiny learning rate on w. When sigma is estimated it is held at its MAP value
(the (w, b) MAP at that sigma is the joint MAP's (w, b)).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bayesreg._capabilities import (
    BOUNDED_CURVATURE,
    ELASTIC_PENALTY,
    GAUSSIAN_PENALTY,
    HAS_MAP,
    SMOOTH_LIKELIHOOD,
    explain,
    require,
)
from bayesreg._results import Result
from bayesreg._validation import check_choice, check_positive, check_positive_int
from bayesreg.model import RegressionModel, check_model
from bayesreg.solvers._problem import MapProblem, problem_for
from bayesreg.solvers.map import ConvergenceWarning, map_estimate
from bayesreg.solvers.proximal import fista_step, ista_step, prox_init

__all__ = [
    "DESCENT_METHODS",
    "AdamState",
    "DescentResult",
    "DescentState",
    "EmptyState",
    "GradientTransformation",
    "add_decayed_weights",
    "add_l1_subgradient",
    "chain",
    "descent_step",
    "gradient_descent",
    "scale",
    "scale_by_adam",
    "scale_by_schedule",
]

#: methods accepted by :func:`gradient_descent`
DESCENT_METHODS = ("weight_decay", "subgradient", "ista", "fista", "adam_l2", "adamw")
_MATCHES_MAP = {
    "weight_decay": True,
    "subgradient": False,
    "ista": True,
    "fista": True,
    "adam_l2": True,
    "adamw": False,
}
_L2_ONLY = ("weight_decay", "adam_l2", "adamw")
#: AdamW is "settled" when w moves less than this (relative) over a window of steps
_ADAMW_SETTLE, _ADAMW_WINDOW = 1e-4, 1000


# -- optax-style transforms --------------------------------------------------------------------
class EmptyState(NamedTuple):
    """State of a stateless transform."""


class AdamState(NamedTuple):
    """Adam's moment estimates: step count, first moment mu, second moment nu."""

    count: int
    mu: np.ndarray
    nu: np.ndarray


class GradientTransformation(NamedTuple):
    """A pair of pure functions (optax's interface)."""

    init: Callable[[np.ndarray], NamedTuple]
    update: Callable[[np.ndarray, NamedTuple, np.ndarray], tuple[np.ndarray, NamedTuple]]


def add_decayed_weights(decay: float, mask: np.ndarray | None = None) -> GradientTransformation:
    """``updates + decay * mask * params``: weight decay as its own transform."""

    def init(params):
        return EmptyState()

    def update(updates, state, params):
        d = decay * params if mask is None else decay * mask * params
        return updates + d, state

    return GradientTransformation(init, update)


def add_l1_subgradient(weight: float, mask: np.ndarray | None = None) -> GradientTransformation:
    """``updates + weight * mask * sign(params)``: the L1 subgradient that is 0 at 0."""

    def init(params):
        return EmptyState()

    def update(updates, state, params):
        d = weight * np.sign(params)
        return updates + (d if mask is None else mask * d), state

    return GradientTransformation(init, update)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's normalization ``m_hat / (sqrt(v_hat) + eps)`` (Kingma & Ba, 2015)."""

    def init(params):
        return AdamState(0, np.zeros_like(params), np.zeros_like(params))

    def update(updates, state, params):
        count = state.count + 1
        mu = b1 * state.mu + (1.0 - b1) * updates
        nu = b2 * state.nu + (1.0 - b2) * updates**2
        m_hat = mu / (1.0 - b1**count)
        v_hat = nu / (1.0 - b2**count)
        return m_hat / (np.sqrt(v_hat) + eps), AdamState(count, mu, nu)

    return GradientTransformation(init, update)


def scale(factor: float | np.ndarray) -> GradientTransformation:
    """``factor * updates`` (a negative learning rate, possibly per coordinate)."""

    def init(params):
        return EmptyState()

    def update(updates, state, params):
        return factor * updates, state

    return GradientTransformation(init, update)


class ScheduleState(NamedTuple):
    """Step count of a schedule."""

    count: int


def scale_by_schedule(schedule: Callable[[int], float]) -> GradientTransformation:
    """``schedule(t) * updates`` with t = 0, 1, ... the number of previous updates."""

    def init(params):
        return ScheduleState(0)

    def update(updates, state, params):
        return schedule(state.count) * updates, ScheduleState(state.count + 1)

    return GradientTransformation(init, update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose transforms left to right; the state is the tuple of their states."""

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params):
        new_states = []
        for t, s in zip(transforms, state, strict=True):
            updates, s = t.update(updates, s, params)
            new_states.append(s)
        return updates, tuple(new_states)

    return GradientTransformation(init, update)


class DescentState(NamedTuple):
    """Explicit state of a gradient-descent run: parameters, optimizer state, step count."""

    params: np.ndarray
    opt_state: tuple
    step: int


def descent_step(
    state: DescentState,
    grad_fn: Callable[[np.ndarray], np.ndarray],
    transform: GradientTransformation,
) -> tuple[DescentState, np.ndarray]:
    """One step ``params + transform(grad)``; pure: returns the new state and the gradient used."""
    g = grad_fn(state.params)
    updates, opt_state = transform.update(g, state.opt_state, state.params)
    return DescentState(state.params + updates, opt_state, state.step + 1), g


# -- result -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DescentResult(Result):
    """The outcome of :func:`gradient_descent`.

    Attributes
    ----------
    coef : ndarray (p,)
    intercept : float
    method : str
    n_iter : int
        Steps taken.
    converged : bool
        MAP-targeting methods: relative KKT residual <= tol (as in :func:`map_estimate`).
        ``adamw``: settled on its own fixed point (w moved less than 1e-4 relative over the
        last 1000 steps; it hovers there at the scale of its step). ``subgradient``: the KKT
        residual too, which it does not reach for L1 (it never lands on 0).
    objective_history : ndarray (k,)
        Negative log posterior (no Jacobian, model scale) at the recorded steps.
    trajectory : ndarray (k, p)
        Recorded coefficients.
    trajectory_steps : ndarray (k,)
        The step numbers of the records (0 = the start, the last = the final step).
    learning_rate : float
        The learning rate used for w.
    matches_map_expected : bool
        Whether this method's fixed point is the MAP.
    note : str
        What the method is and what to expect of it.
    sigma : float
        The noise sd used (known, or the MAP's when estimated; 1 for Bernoulli).
    optimality : float
        KKT residual of the final point for the MAP problem (original units).
    seconds : float
    """

    coef: np.ndarray
    intercept: float
    method: str
    n_iter: int
    converged: bool
    objective_history: np.ndarray
    trajectory: np.ndarray
    trajectory_steps: np.ndarray
    learning_rate: float
    matches_map_expected: bool
    note: str
    sigma: float = 1.0
    optimality: float = float("nan")
    seconds: float = 0.0


_NOTES = {
    "weight_decay": "w <- (1 - lr*lam) w - lr grad J0 (lam = 1/tau^2): its fixed point is the MAP.",
    "subgradient": "w <- w - lr (grad J0 + a sign(w) + c w): hovers around 0 at a constant step "
    "and never produces exact zeros; not the MAP's zero pattern.",
    "ista": "proximal gradient (soft-thresholding): converges to the MAP, exact zeros.",
    "fista": "accelerated proximal gradient with restart: converges to the MAP, exact zeros.",
    "adam_l2": "Adam on grad J0 + w/tau^2 (L2 in the gradient): its fixed point is the MAP.",
    "adamw": "Adam on grad J0 with decoupled decay lr*w/tau^2: its fixed point solves "
    "m/(sqrt(v)+eps) = -w/tau^2, not grad J0 + w/tau^2 = 0, so it is NOT the MAP.",
}


# -- the problem in the descent's coordinates ---------------------------------------------------
class _Descent:
    """The MAP problem at fixed sigma in the parameters ``[w, b']`` (w in the caller's units,
    b' the intercept of the centred design) and the trajectory recorded along a run."""

    def __init__(self, prob: MapProblem, sigma: float, log_sigma: float | None, every: int):
        self.prob, self.sigma, self.log_sigma, self.every = prob, sigma, log_sigma, every
        self.p, self.fi = prob.p, prob.fit_intercept
        self.z_scale = np.append(prob.scale, 1.0) if self.fi else prob.scale
        # z's intercept coordinate is b' - offset (see ProblemData)
        self.z_shift = np.append(np.zeros(prob.p), prob.offset) if self.fi else 0.0
        self.steps: list[int] = []
        self.coefs: list[np.ndarray] = []
        self.objectives: list[float] = []

    def data_fg(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """Smooth part (J0 and the intercept / sigma priors) and its gradient in [w, b']."""
        f, gz = self.prob.smooth_fg(params * self.z_scale - self.z_shift, self.log_sigma)
        return f, gz * self.z_scale  # d/dw = s * d/du

    def kkt(self, params: np.ndarray, g: np.ndarray) -> float:
        p = self.p
        r = float(np.max(self.prob.prior.kkt_residual(params[:p], g[:p], self.sigma))) if p else 0
        return max(r, abs(float(g[p]))) if self.fi else r

    def wb(self, params: np.ndarray) -> tuple[np.ndarray, float]:
        w = params[: self.p].copy()
        b = float(params[self.p] - self.prob.center @ w) if self.fi else 0.0
        return w, b

    def record(self, k: int, params: np.ndarray, force: bool = False) -> None:
        """Keep step k's coefficients and objective (every ``every`` steps, or when forced)."""
        if not force and k % self.every != 0:
            return
        w, b = self.wb(params)
        self.steps.append(k)
        self.coefs.append(w)
        self.objectives.append(self.prob.objective(w, b, self.log_sigma))


def _descent_sigma(prob: MapProblem, model, sigma, warn: bool) -> tuple[float, float | None]:
    """(sigma, log sigma or None): known, given, or the MAP's when sigma is estimated."""
    if not prob.sigma_estimated:
        return prob.sigma_fixed, None
    if sigma is None:
        sigma = map_estimate(model, warn=warn).sigma
    sigma = check_positive(sigma, "sigma", "gradient_descent")
    return sigma, float(np.log(sigma))


def _penalty_coefs(model: RegressionModel, method: str, sigma: float) -> tuple[float, float]:
    """(a, c) of the penalty ``a ||w||_1 + c ||w||^2 / 2``, checked against the method."""
    prior, lik = model.prior, model.likelihood
    require("gradient_descent", [HAS_MAP, ELASTIC_PENALTY], prior, lik)
    if method in _L2_ONLY:
        reason = explain(f"gradient_descent(method={method!r})", [GAUSSIAN_PENALTY], prior, lik)
        if reason is not None:
            raise ValueError(
                f"{reason}. method={method!r} is an L2 (weight-decay) method and needs a "
                "Gaussian prior. Use 'ista', 'fista' or 'subgradient'."
            )
    a, c = prior.elastic_coefs(sigma)
    if method in ("ista", "fista") and np.all(np.asarray(a) == 0) and np.all(np.asarray(c) == 0):
        raise ValueError("ISTA/FISTA need a penalty.")
    return a, c


def _default_learning_rate(
    prob: MapProblem, method: str, sigma: float, c: float | np.ndarray
) -> float:
    """``1 / L`` (L: Lipschitz constant of the gradient in w, plus c for explicit-gradient
    methods); for Adam 1e-2 times the largest univariate least-squares slope."""
    Xc = prob.Z * prob.scale  # the centred design
    if method in ("adam_l2", "adamw"):
        xn = np.sum(Xc**2, axis=0)
        slopes = np.abs(Xc.T @ prob.yc) / np.where(xn > 0, xn, 1.0)
        return 1e-2 * max(float(np.max(slopes)) if prob.p else 1.0, 1e-8)
    curv = prob.model.likelihood.curvature_bound(sigma)
    L_w = curv * (float(np.linalg.norm(Xc, ord=2)) ** 2 if prob.p else 0.0)
    # the largest c_j bounds the penalty's curvature (c is one number or one per coefficient)
    L = L_w + (float(np.max(c)) if method in ("weight_decay", "subgradient") else 0.0)
    return 1.0 / max(L, 1e-300)


def _run_proximal(dsc, method, a_lr, lr_b, target, max_iter):
    """ISTA / FISTA with per-coordinate steps: lr for w, the exact block step for b'.

    Prox-gradient in the metric diag(1/steps) is plain prox-gradient in
    ``x = params / sqrt(steps)``, where the unit step is safe (block Lipschitz constants <= 1).
    Returns (params, steps taken, converged).
    """
    p, prior, sigma = dsc.p, dsc.prob.prior, dsc.sigma
    steps = np.append(np.full(p, a_lr), lr_b) if dsc.fi else np.full(p, a_lr)
    root = np.sqrt(steps)

    def smooth(x):
        f, g = dsc.data_fg(x * root)
        return f, g * root

    def prox(v, t):
        out = v * root
        out[:p] = prior.prox(out[:p], t * a_lr, sigma)
        return out / root

    state = prox_init(np.zeros(steps.size), 1.0)
    step_fn = fista_step if method == "fista" else ista_step
    k = 0
    for k in range(1, max_iter + 1):
        state = step_fn(state, smooth, prox, 1.0)
        dsc.record(k, state.x * root)
        if state.grad_map <= target:
            params = state.x * root
            if dsc.kkt(params, dsc.data_fg(params)[1]) <= target:
                return params, k, True
    return state.x * root, k, False


def _transform(method: str, a: float, c: float, mask, lr: float, lrs) -> GradientTransformation:
    """The optax-style composition of each explicit-gradient method."""

    def schedule(t):
        # Adam settles on its fixed point only with a decaying step
        return -lr / np.sqrt(1.0 + t / 1000.0)

    if method == "weight_decay":
        return chain(add_decayed_weights(c, mask), scale(-lrs))
    if method == "subgradient":
        return chain(add_l1_subgradient(a, mask), add_decayed_weights(c, mask), scale(-lrs))
    if method == "adam_l2":  # L2 enters the gradient, then Adam normalizes it
        return chain(add_decayed_weights(c, mask), scale_by_adam(), scale_by_schedule(schedule))
    # adamw: Adam normalizes the data gradient, then decoupled decay
    return chain(scale_by_adam(), add_decayed_weights(c, mask), scale_by_schedule(schedule))


def _run_transform(dsc, method, transform, target, max_iter):
    """Explicit-gradient steps; returns (params, steps taken, converged).

    MAP-targeting methods stop on the KKT residual (of the gradient at the current point, so
    exact there); AdamW hovers around its own fixed point at the scale of its step and is
    called settled when w moved less than ``_ADAMW_SETTLE`` (relative) over a window.
    """
    params0 = np.zeros(dsc.p + (1 if dsc.fi else 0))
    state = DescentState(params0, transform.init(params0), 0)

    def grad_fn(x):
        return dsc.data_fg(x)[1]

    anchor = None
    k = 0
    for k in range(1, max_iter + 1):
        new_state, g = descent_step(state, grad_fn, transform)
        if method == "adamw":
            state = new_state
            if k % _ADAMW_WINDOW == 0:
                w_now = state.params[: dsc.p]
                mag = max(float(np.max(np.abs(w_now))), 1e-300)
                if anchor is not None and np.max(np.abs(w_now - anchor)) <= _ADAMW_SETTLE * mag:
                    return state.params, k, True
                anchor = w_now.copy()
        else:
            if dsc.kkt(state.params, g) <= target:  # g is the gradient at state.params
                return state.params, k - 1, True
            state = new_state
        dsc.record(k, state.params)
    return state.params, k, False


def _check_descent_args(method, learning_rate, max_iter, tol, record_every):
    check_choice(method, "gradient-descent method", DESCENT_METHODS)
    max_iter = check_positive_int(max_iter, "max_iter", "gradient_descent")
    tol = check_positive(tol, "tol", "gradient_descent")
    if record_every is None:
        record_every = max(1, max_iter // 500)
    else:
        record_every = check_positive_int(record_every, "record_every", "gradient_descent")
    if learning_rate is not None:
        learning_rate = check_positive(learning_rate, "learning_rate", "gradient_descent")
    return learning_rate, max_iter, tol, record_every


def gradient_descent(
    model: RegressionModel,
    *,
    method: str = "weight_decay",
    learning_rate: float | None = None,
    max_iter: int = 50000,
    tol: float = 1e-10,
    record_every: int | None = None,
    sigma: float | None = None,
    warn: bool = True,
) -> DescentResult:
    """Run a penalized gradient method on ``model`` from w = 0 and record its path.

    Minimizes ``J0(X w + b) + a ||w||_1 + c ||w||^2 / 2`` (see the module docstring for the
    update of each method and which ones reach the MAP).

    Parameters
    ----------
    model : RegressionModel
    method : {"weight_decay", "subgradient", "ista", "fista", "adam_l2", "adamw"}
    learning_rate : float, optional
        Step size for w. Default: ``1 / L`` with L the Lipschitz constant of the gradient of
        J0 (from the likelihood's curvature bound and ||X - mean(X)||_2^2) plus c for the
        explicit-gradient methods; for Adam, 1e-2 times the largest univariate least-squares
        slope (Adam's steps are in the units of w). Adam methods use ``lr / sqrt(1 + t/1000)``
        so that they settle on their fixed point instead of oscillating around it.
    max_iter : int, default 50000
        Steps at most.
    tol : float, default 1e-10
        Relative KKT tolerance (see :class:`DescentResult` ``converged``).
    record_every : int, optional
        Record coef and objective every this many steps (default ``max(1, max_iter // 500)``).
    sigma : float, optional
        Noise sd to hold fixed when the model estimates it (default: the MAP's sigma).
    warn : bool, default True
        Issue a :class:`ConvergenceWarning` when a MAP-targeting method does not converge.

    Returns
    -------
    DescentResult
    """
    check_model(model, "gradient_descent")
    learning_rate, max_iter, tol, every = _check_descent_args(
        method, learning_rate, max_iter, tol, record_every
    )
    # a fixed learning rate needs a gradient with a global Lipschitz constant
    require(
        "gradient_descent",
        [HAS_MAP, SMOOTH_LIKELIHOOD, BOUNDED_CURVATURE],
        model.prior,
        model.likelihood,
    )
    prob = problem_for(model)
    sigma, log_sigma = _descent_sigma(prob, model, sigma, warn)
    a, c = _penalty_coefs(model, method, sigma)
    start = time.perf_counter()
    dsc = _Descent(prob, sigma, log_sigma, every)
    p, fi = prob.p, prob.fit_intercept
    params0 = np.zeros(p + (1 if fi else 0))
    target = tol * max(1.0, dsc.kkt(params0, dsc.data_fg(params0)[1]))
    lr = float(learning_rate or _default_learning_rate(prob, method, sigma, c))
    # the intercept is not decayed, and has its own safe step 1 / (curvature bound * n)
    lr_b = 1.0 / (model.likelihood.curvature_bound(sigma) * prob.n)
    dsc.record(0, params0, force=True)
    if method in ("ista", "fista"):
        params, k, converged = _run_proximal(dsc, method, lr, lr_b, target, max_iter)
    else:
        mask = np.append(np.ones(p), 0.0) if fi else np.ones(p)
        is_adam = method in ("adam_l2", "adamw")
        # per-coordinate learning rates: lr for w, lr_b for the intercept (Adam: lr for both)
        lrs = np.append(np.full(p, lr), lr if is_adam else lr_b) if fi else np.full(p, lr)
        # (a, c) per parameter: one per coefficient (or a number broadcast), 0 for the intercept
        a, c = (
            np.append(np.broadcast_to(v, (p,)), 0.0) if fi else np.broadcast_to(v, (p,))
            for v in (a, c)
        )
        transform = _transform(method, a, c, mask, lr, lrs)
        params, k, converged = _run_transform(dsc, method, transform, target, max_iter)
    if dsc.steps[-1] != k:
        dsc.record(k, params, force=True)
    return _descent_result(dsc, method, params, k, converged, lr, max_iter, warn, start)


def _descent_result(dsc, method, params, k, converged, lr, max_iter, warn, start):
    """The :class:`DescentResult` of a run, with a warning when a MAP method fell short."""
    w, b = dsc.wb(params)
    optimality = dsc.prob.kkt_original(w, b, dsc.log_sigma)
    if not converged and warn and _MATCHES_MAP[method]:
        warnings.warn(
            f"gradient_descent(method={method!r}) did not converge in {max_iter} steps "
            f"(learning_rate={lr:.3g}, KKT residual {optimality:.3g}). Raise max_iter.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return DescentResult(
        coef=w,
        intercept=b,
        method=method,
        n_iter=k,
        converged=converged,
        objective_history=np.asarray(dsc.objectives),
        trajectory=np.asarray(dsc.coefs),
        trajectory_steps=np.asarray(dsc.steps),
        learning_rate=lr,
        matches_map_expected=_MATCHES_MAP[method],
        note=_NOTES[method],
        sigma=float(dsc.sigma),
        optimality=float(optimality),
        seconds=time.perf_counter() - start,
    )
