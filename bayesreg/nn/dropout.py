"""MC dropout (Gal & Ghahramani, 2016): train with dropout, keep it on at prediction.

Training minimizes, by Adam on fresh Bernoulli masks every step, the dropout objective

    E_masks[ J0(eta(theta; masks)) ] + sum_l ||W_l||^2 / (2 tau^2)

where the input of every layer after the first is multiplied by a mask with entries 0
(probability ``rate``) or ``1 / (1 - rate)``. The predictive is the distribution of the
network's output over many stochastic passes (plus the noise sd for a Gaussian likelihood).
Gradients come from the numpy backward pass :func:`mlp_loss_grad` (tested against the
compiled PyTensor gradient).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bayesreg._validation import (
    check_positive,
    check_positive_int,
    check_probability,
    check_random_seed,
)
from bayesreg.nn.model import _NUMPY_ACT, MLPModel, check_mlp
from bayesreg.solvers.descent import (
    DescentState,
    chain,
    descent_step,
    scale_by_adam,
    scale_by_schedule,
)

__all__ = ["dropout_masks", "mc_dropout_predict", "mlp_loss_grad", "train_dropout"]


def _act_grad(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """d act(z) / dz from z and a = act(z)."""
    return {
        "tanh": 1.0 - a**2,
        "relu": (z > 0).astype(float),
        "logistic": a * (1.0 - a),
        "identity": np.ones_like(z),
    }[name]


def mlp_loss_grad(model: MLPModel, theta: np.ndarray, masks: Sequence | None = None):
    """``(J0, grad_theta J0)`` in numpy by backpropagation (J0 = data term, sigma held).

    ``masks[l]`` multiplies the input of layer l (None: no dropout). The prior is not included.
    """
    parts = model.unpack(theta)
    Ws, bs, s = parts["weights"], parts["biases"], parts["sigma"]
    act = _NUMPY_ACT[model.activation]
    inputs, zs, a = [], [], model.X
    for k, W in enumerate(Ws):
        if masks is not None and masks[k] is not None:
            a = a * masks[k]
        inputs.append(a)
        z = a @ W + (bs[k] if bs is not None else 0.0)
        zs.append(z)
        a = act(z) if k < len(Ws) - 1 else z
    eta = a[:, 0]
    loss = model.likelihood.loss(eta, model.y, s)
    delta = model.likelihood.loss_grad(eta, model.y, s)[:, None]
    gW, gb = [None] * len(Ws), [None] * len(Ws)
    for k in range(len(Ws) - 1, -1, -1):
        gW[k], gb[k] = inputs[k].T @ delta, delta.sum(axis=0)
        if k:
            back = delta @ Ws[k].T
            if masks is not None and masks[k] is not None:
                back = back * masks[k]
            delta = back * _act_grad(model.activation, zs[k - 1], act(zs[k - 1]))
    grad = model.pack(gW, gb if bs is not None else None, parts["sigma"])
    if "sigma_log__" in model.layout.names:
        grad[model.layout.slices["sigma_log__"]] = 0.0
    return float(loss), grad


def dropout_masks(model: MLPModel, rate: float, n: int, rng: np.random.Generator) -> list:
    """One mask per layer input: None for the data, inverted-dropout masks for hidden layers."""
    keep = 1.0 - rate
    return [None] + [rng.binomial(1, keep, size=(n, h)) / keep for h in model.hidden]


def train_dropout(
    model: MLPModel,
    *,
    rate: float = 0.1,
    init: np.ndarray | None = None,
    random_seed: object = None,
    learning_rate: float = 1e-2,
    steps: int = 5000,
) -> np.ndarray:
    """theta after ``steps`` Adam steps on the dropout objective (module docstring).

    The weight prior enters as L2 on the weights (``c = 1/tau^2``, biases not decayed); the
    step decays as ``lr / sqrt(1 + t/1000)``.
    """
    check_mlp(model, "train_dropout")
    rate = check_probability(rate, "rate", "train_dropout")
    if rate >= 1.0:
        raise ValueError("The 'rate' parameter of train_dropout must be < 1 (1 drops every unit).")
    lr = check_positive(learning_rate, "learning_rate", "train_dropout")
    steps = check_positive_int(steps, "steps", "train_dropout")
    seed = check_random_seed(random_seed, "random_seed", "train_dropout")
    rng = np.random.default_rng(seed)
    c = float(model.prior.elastic_coefs(model.sigma_known or 1.0)[1])
    mask = model.decay_mask()
    theta = model.glorot_init(rng) if init is None else np.asarray(init, dtype=float).copy()

    def grad(th):
        return mlp_loss_grad(model, th, dropout_masks(model, rate, model.n, rng))[1] + c * mask * th

    transform = chain(scale_by_adam(), scale_by_schedule(lambda t: -lr / np.sqrt(1.0 + t / 1e3)))
    state = DescentState(theta, transform.init(theta), 0)
    for _ in range(steps):
        state, _ = descent_step(state, grad, transform)
    return state.params


def mc_dropout_predict(
    model: MLPModel,
    theta: np.ndarray,
    X: object,
    *,
    rate: float,
    passes: int = 500,
    random_seed: object = None,
) -> np.ndarray:
    """Network outputs eta at X over ``passes`` stochastic dropout passes, shape (passes, m)."""
    from bayesreg.nn.model import mlp_forward

    rng = np.random.default_rng(check_random_seed(random_seed, "random_seed", "mc_dropout_predict"))
    X = np.asarray(X, dtype=np.float64)
    parts = model.unpack(theta)
    out = np.empty((check_positive_int(passes, "passes", "mc_dropout_predict"), X.shape[0]))
    for t in range(out.shape[0]):
        masks = dropout_masks(model, rate, X.shape[0], rng)
        out[t] = mlp_forward(X, parts["weights"], parts["biases"], model.activation, masks)
    return out
