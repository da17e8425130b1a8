"""Penalized gradient descent: the seed's weight-decay update and its relatives.

The data term J0 (``SSE / (2 sigma^2)`` or the cross-entropy; value and gradient from the
model's compiled PyTensor graph) is minimized together with the prior's penalty
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

from bayesreg._validation import check_choice, check_positive, check_positive_int
from bayesreg.model import RegressionModel, check_model
from bayesreg.solvers._problem import penalty_coefs, problem_for
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
class DescentResult:
    """The outcome of :func:`gradient_descent`.

    Attributes
    ----------
    coef : ndarray (p,)
    intercept : float
    method : str
    n_steps : int
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
    n_steps: int
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


def gradient_descent(
    model: RegressionModel,
    method: str = "weight_decay",
    learning_rate: float | None = None,
    max_steps: int = 50000,
    tol: float = 1e-10,
    record_every: int | None = None,
    *,
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
    max_steps : int, default 50000
    tol : float, default 1e-10
        Relative KKT tolerance (see :class:`DescentResult` ``converged``).
    record_every : int, optional
        Record coef and objective every this many steps (default ``max(1, max_steps // 500)``).
    sigma : float, optional
        Noise sd to hold fixed when the model estimates it (default: the MAP's sigma).
    warn : bool, default True
        Issue a :class:`ConvergenceWarning` when a MAP-targeting method does not converge.

    Returns
    -------
    DescentResult
    """
    check_model(model, "gradient_descent")
    check_choice(method, "gradient-descent method", DESCENT_METHODS)
    max_steps = check_positive_int(max_steps, "max_steps", "gradient_descent")
    tol = check_positive(tol, "tol", "gradient_descent")
    record_every = (
        max(1, max_steps // 500)
        if record_every is None
        else check_positive_int(record_every, "record_every", "gradient_descent")
    )
    if learning_rate is not None:
        learning_rate = check_positive(learning_rate, "learning_rate", "gradient_descent")
    prob = problem_for(model)
    prior = model.prior
    if not prior.has_map:
        raise ValueError(
            f"{prior!r} has no MAP (its density is unbounded at 0); gradient descent on its "
            "penalty is not defined."
        )
    if prob.sigma_estimated:
        if sigma is None:
            sigma = map_estimate(model, warn=warn).sigma
        sigma = check_positive(sigma, "sigma", "gradient_descent")
        log_sigma: float | None = float(np.log(sigma))
    else:
        log_sigma = None
        sigma = prob.sigma_fixed
    coefs = penalty_coefs(prior, sigma)
    if coefs is None:
        raise ValueError(
            f"gradient_descent needs a prior whose penalty is a|w| + c w^2/2 (Gaussian, Laplace, "
            f"ElasticNet); got {prior!r}."
        )
    a, c = coefs
    if method in _L2_ONLY and a > 0:
        raise ValueError(
            f"method={method!r} is an L2 (weight-decay) method and needs a Gaussian prior; "
            f"{prior!r} has an L1 part. Use 'ista', 'fista' or 'subgradient'."
        )
    if method in ("ista", "fista") and a == 0 and c == 0:
        raise ValueError("ISTA/FISTA need a penalty.")

    p, fi = prob.p, prob.fit_intercept
    lik = model.likelihood
    mask = np.append(np.ones(p), 0.0) if fi else np.ones(p)  # the intercept is not decayed
    curv = lik.curvature_bound(sigma)
    Xc = model.X - prob.center
    L_w = curv * (float(np.linalg.norm(Xc, ord=2)) ** 2 if p else 0.0)
    lr_b = 1.0 / (curv * prob.n)
    start = time.perf_counter()

    # parameters are [w, b'] (b' = intercept of the centred design)
    def data_fg(params):
        z = params * np.append(prob.scale, 1.0) if fi else params * prob.scale
        f, gz = prob.smooth_fg(z, log_sigma)
        g = gz.copy()
        g[:p] *= prob.scale  # d/dw = s * d/du
        return f, g

    def kkt(params, g):
        w = params[:p]
        r = float(np.max(prob.kkt_w(w, g[:p], sigma))) if p else 0.0
        return max(r, abs(float(g[p]))) if fi else r

    def wb(params):
        w = params[:p].copy()
        b = float(params[p] - prob.center @ w) if fi else 0.0
        return w, b

    def objective(params):
        w, b = wb(params)
        return prob.objective(w, b, log_sigma)

    params0 = np.zeros(p + (1 if fi else 0))
    ref = max(1.0, kkt(params0, data_fg(params0)[1]))
    target = tol * ref
    is_adam = method in ("adam_l2", "adamw")
    if learning_rate is None:
        if is_adam:
            xn = np.sum(Xc**2, axis=0)
            yc = model.y - (model.y.mean() if fi else 0.0)
            slopes = np.abs(Xc.T @ yc) / np.where(xn > 0, xn, 1.0)
            learning_rate = 1e-2 * max(float(np.max(slopes)) if p else 1.0, 1e-8)
        else:
            L = L_w + (c if method in ("weight_decay", "subgradient") else 0.0)
            learning_rate = 1.0 / max(L, 1e-300)
    lr = float(learning_rate)

    steps_rec, coef_rec, obj_rec = [0], [params0[:p].copy()], [objective(params0)]

    def record(k, params):
        steps_rec.append(k)
        coef_rec.append(params[:p].copy())
        obj_rec.append(objective(params))

    converged = False
    params = params0
    k = 0
    if method in ("ista", "fista"):
        # per-coordinate steps: lr for w, the exact block step for the intercept
        steps = np.append(np.full(p, lr), lr_b) if fi else np.full(p, lr)

        # prox-gradient in the metric diag(1/steps): x <- prox(x - steps * g)
        def smooth(x):
            f, g = data_fg(x * np.sqrt(steps))
            return f, g * np.sqrt(steps)

        def prox(v, t):
            x = v * np.sqrt(steps)
            out = x.copy()
            out[:p] = prior.prox(x[:p], t * lr, sigma)
            return out / np.sqrt(steps)

        # in x = params / sqrt(steps) the unit step is safe (block Lipschitz constants <= 1)
        state = prox_init(params0 / np.sqrt(steps), 1.0)
        step_fn = fista_step if method == "fista" else ista_step
        for k in range(1, max_steps + 1):
            state = step_fn(state, smooth, prox, 1.0)
            if k % record_every == 0:
                record(k, state.x * np.sqrt(steps))
            if state.grad_map <= target:
                params = state.x * np.sqrt(steps)
                if kkt(params, data_fg(params)[1]) <= target:
                    converged = True
                    break
        params = state.x * np.sqrt(steps)
    else:
        # per-coordinate learning rates: lr for w, lr_b for the intercept (Adam: lr for both)
        lrs = np.append(np.full(p, lr), lr if is_adam else lr_b) if fi else np.full(p, lr)

        def schedule(t):
            # Adam settles on its fixed point only with a decaying step
            return -lr / np.sqrt(1.0 + t / 1000.0)

        if method == "weight_decay":
            transform = chain(add_decayed_weights(c, mask), scale(-lrs))
        elif method == "subgradient":
            transform = chain(
                add_l1_subgradient(a, mask), add_decayed_weights(c, mask), scale(-lrs)
            )
        elif method == "adam_l2":  # L2 enters the gradient, then Adam normalizes it
            transform = chain(
                add_decayed_weights(c, mask), scale_by_adam(), scale_by_schedule(schedule)
            )
        else:  # adamw: Adam normalizes the data gradient, then decoupled decay
            transform = chain(
                scale_by_adam(), add_decayed_weights(c, mask), scale_by_schedule(schedule)
            )
        state = DescentState(params0, transform.init(params0), 0)

        def grad_fn(x):
            return data_fg(x)[1]

        anchor = None
        for k in range(1, max_steps + 1):
            new_state, g = descent_step(state, grad_fn, transform)
            if method == "adamw":
                # AdamW hovers around its own fixed point at the scale of its step: call it
                # settled when w moved less than _ADAMW_SETTLE (relative) over a window
                state = new_state
                if k % _ADAMW_WINDOW == 0:
                    w_now = state.params[:p]
                    size = max(float(np.max(np.abs(w_now))), 1e-300)
                    if (
                        anchor is not None
                        and np.max(np.abs(w_now - anchor)) <= _ADAMW_SETTLE * size
                    ):
                        converged = True
                        break
                    anchor = w_now.copy()
            else:
                # g is the gradient at state.params: its KKT residual is exact there
                if kkt(state.params, g) <= target:
                    converged = True
                    k -= 1
                    break
                state = new_state
            if k % record_every == 0:
                record(k, state.params)
        params = state.params
    if steps_rec[-1] != k:
        record(k, params)
    w, b = wb(params)
    optimality = prob.kkt_original(w, b, log_sigma)
    if not converged and warn and _MATCHES_MAP[method]:
        warnings.warn(
            f"gradient_descent(method={method!r}) did not converge in {max_steps} steps "
            f"(learning_rate={lr:.3g}, KKT residual {optimality:.3g}). Raise max_steps.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return DescentResult(
        coef=w,
        intercept=b,
        method=method,
        n_steps=k,
        converged=converged,
        objective_history=np.asarray(obj_rec),
        trajectory=np.asarray(coef_rec),
        trajectory_steps=np.asarray(steps_rec),
        learning_rate=lr,
        matches_map_expected=_MATCHES_MAP[method],
        note=_NOTES[method],
        sigma=float(sigma),
        optimality=float(optimality),
        seconds=time.perf_counter() - start,
    )
