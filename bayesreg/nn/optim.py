"""Weight decay, Adam + L2 and AdamW on a network's compiled gradient.

Small and generic: an optimizer takes a gradient function of the *data* part of the objective
(``g0 = grad(J0 + unpenalized priors)``), a decay ``c`` and a 0/1 ``mask`` of the decayed
coordinates (the weights; never biases), and is one of the optax-style compositions of
:mod:`bayesreg.solvers.descent`:

==================  ====================================================================  =====
method              update (lr_t = schedule, mask m, decay c = 1/tau^2)                   MAP?
==================  ====================================================================  =====
``weight_decay``    ``theta <- theta - lr (g0 + c m theta)`` = the seed's                 yes
                    ``w <- (1 - lr c) w - lr g0`` on the weights
``adam_l2``         ``theta <- theta - lr_t Adam(g0 + c m theta)``                         yes
``adamw``           ``theta <- theta - lr_t (Adam(g0) + c m theta)``  (decoupled)          no
==================  ====================================================================  =====

A fixed point of the first two solves ``g0 + c m theta = 0``, i.e. ``grad F = 0`` for the
negative log posterior ``F = J0 + c ||W||^2 / 2``: a stationary point of the posterior.
AdamW's fixed point solves ``Adam(g0) = -c m theta`` instead: where the Adam direction
``m_hat / (sqrt(v_hat) + eps)`` (of size ~1 per coordinate) balances the decay, which is not
where ``g0 = -c m theta``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bayesreg._capabilities import GAUSSIAN_PENALTY, HAS_MAP, require
from bayesreg._validation import check_choice, check_positive, check_positive_int
from bayesreg.nn.map import MLPMapResult, make_result, negative_log_posterior, resolve_init
from bayesreg.nn.model import MLPModel, check_mlp
from bayesreg.solvers.descent import (
    DescentState,
    GradientTransformation,
    add_decayed_weights,
    chain,
    descent_step,
    scale,
    scale_by_adam,
    scale_by_schedule,
)

__all__ = ["OPTIMIZERS", "make_optimizer", "run_optimizer", "train_mlp"]

#: methods of :func:`train_mlp`; True where the fixed point is a stationary point of F
OPTIMIZERS = {"weight_decay": True, "adam_l2": True, "adamw": False}


def make_optimizer(
    method: str, learning_rate: float, decay: float, mask: np.ndarray, decay_every: float = 1000.0
) -> GradientTransformation:
    """The update of ``method`` (see the module table) as one GradientTransformation.

    Adam's step decays as ``lr / sqrt(1 + t / decay_every)``: at a constant step Adam hovers
    around its fixed point at the scale of the step instead of settling on it.
    """
    check_choice(method, "optimizer", OPTIMIZERS)

    def schedule(t: int) -> float:
        return -learning_rate / np.sqrt(1.0 + t / decay_every)

    if method == "weight_decay":
        return chain(add_decayed_weights(decay, mask), scale(-learning_rate))
    if method == "adam_l2":
        return chain(add_decayed_weights(decay, mask), scale_by_adam(), scale_by_schedule(schedule))
    return chain(scale_by_adam(), add_decayed_weights(decay, mask), scale_by_schedule(schedule))


def run_optimizer(
    grad_fn: Callable[[np.ndarray], np.ndarray],
    theta0: np.ndarray,
    transform: GradientTransformation,
    stop: Callable[[np.ndarray, int], bool],
    max_iter: int,
    check_every: int = 50,
) -> tuple[np.ndarray, int]:
    """Iterate ``theta <- theta + transform(grad_fn(theta))`` until ``stop(theta, k)``.

    ``stop`` is asked every ``check_every`` steps. Returns (theta, number of steps).
    """
    state = DescentState(np.asarray(theta0, dtype=np.float64), transform.init(theta0), 0)
    for k in range(1, max_iter + 1):
        state, _ = descent_step(state, grad_fn, transform)
        if k % check_every == 0 and stop(state.params, k):
            break
    return state.params, state.step


def _decay_of(model: MLPModel) -> float:
    """c = 1/tau^2 of a Gaussian prior (elastic_coefs' quadratic part) at the model's sigma."""
    require("train_mlp", (HAS_MAP, GAUSSIAN_PENALTY), model.prior, model.likelihood)
    if model.prior.scale_by_sigma and model.likelihood.estimates_sigma:
        raise ValueError(
            "train_mlp decays with a fixed c = 1/tau^2; a prior with scale_by_sigma=True and an "
            "estimated sigma makes c a parameter. Fix sigma in the likelihood."
        )
    sigma = model.sigma_known if model.sigma_known is not None else 1.0
    return float(model.prior.elastic_coefs(sigma)[1])


def train_mlp(
    model: MLPModel,
    *,
    method: str = "weight_decay",
    init: object = None,
    random_seed: object = None,
    learning_rate: float = 1e-3,
    max_iter: int = 200000,
    tol: float = 1e-6,
    settle: float = 1e-7,
) -> MLPMapResult:
    """Train the network with weight decay, Adam + L2 or AdamW (see the module table).

    The decayed coordinates are the weight matrices (``model.decay_mask()``), the decay is
    ``c = 1/tau^2``; the gradient is the compiled ``grad(J0 + bias/sigma priors)``.
    Stops when ``||grad F||_2 <= tol * ||grad F(theta0)||_2`` (F = -log posterior; MAP-targeting
    methods) or, for AdamW, when theta moved less than ``settle`` (relative, sup norm) over
    1000 steps: it settles on its own fixed point, not on ``grad F = 0``.

    Returns
    -------
    MLPMapResult
        ``converged`` is always the stationarity test ``grad_norm <= tol * grad_norm_init``
        (which AdamW does not pass).
    """
    check_mlp(model, "train_mlp")
    check_choice(method, "optimizer", OPTIMIZERS)
    lr = check_positive(learning_rate, "learning_rate", "train_mlp")
    tol = check_positive(tol, "tol", "train_mlp")
    max_iter = check_positive_int(max_iter, "max_iter", "train_mlp")
    c = _decay_of(model)
    theta0 = resolve_init(model, init, random_seed)
    full = negative_log_posterior(model)
    data = model.logp_dlogp_function(terms=("data", "other"), jacobian=False)
    g0 = float(np.linalg.norm(full(theta0)[1]))
    start = time.perf_counter()
    anchor = [theta0]

    def stop(theta: np.ndarray, k: int) -> bool:
        if OPTIMIZERS[method]:
            return float(np.linalg.norm(full(theta)[1])) <= tol * g0
        if k % 1000:
            return False
        moved = np.max(np.abs(theta - anchor[0])) / max(np.max(np.abs(theta)), 1e-300)
        anchor[0] = theta
        return bool(moved <= settle)

    transform = make_optimizer(method, lr, c, model.decay_mask())
    theta, steps = run_optimizer(lambda th: -data(th)[1], theta0, transform, stop, max_iter)
    return make_result(
        model,
        theta,
        full,
        g0,
        tol,
        method=method,
        n_iter=steps,
        seconds=time.perf_counter() - start,
        message="",
    )
