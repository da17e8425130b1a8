"""MAP of an :class:`~bayesreg.nn.model.MLPModel`: L-BFGS on the compiled log posterior.

The objective is the negative log posterior without the log-Jacobian (PyMC's MAP convention),
for a Gaussian prior ``N(0, tau^2)`` on the weights and flat biases::

    F(theta) = J0(eta(theta)) + sum_l ||W_l||_F^2 / (2 tau^2) + const

(J0 = SSE / (2 sigma^2) or the cross-entropy). A network has many stationary points; the one
found depends on the start, so the start is explicit: a flat theta, scikit-learn's
``(coefs_, intercepts_)`` (or a fitted ``MLPRegressor`` / ``MLPClassifier``), or a seeded
Glorot-uniform draw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from bayesreg._capabilities import HAS_MAP, require
from bayesreg._results import Result
from bayesreg._validation import check_positive, check_positive_int
from bayesreg.nn.model import MLPModel, check_mlp

__all__ = ["MLPMapResult", "map_mlp", "negative_log_posterior", "resolve_init"]


@dataclass(frozen=True)
class MLPMapResult(Result):
    """A stationary point of the negative log posterior F (or the last iterate).

    Attributes
    ----------
    theta : ndarray
        Flat parameter vector (``model.layout``).
    weights, biases : tuple of ndarray
        Per layer, in scikit-learn's ``coefs_`` / ``intercepts_`` layout (biases empty without
        intercepts).
    sigma : float
        Noise sd (known, estimated, or 1.0 without one).
    objective : float
        F(theta).
    grad_norm, grad_norm_init : float
        ``||grad F||_2`` at theta and at the start.
    converged : bool
        ``grad_norm <= tol * grad_norm_init``.
    method : str
    n_iter : int
    prior_scale : float
    seconds : float
    message : str
    """

    theta: np.ndarray
    weights: tuple
    biases: tuple
    sigma: float
    objective: float
    grad_norm: float
    grad_norm_init: float
    converged: bool
    method: str
    n_iter: int
    prior_scale: float
    seconds: float = 0.0
    message: str = ""

    @property
    def relative_grad_norm(self) -> float:
        """``grad_norm / grad_norm_init``: how far from stationary, relative to the start."""
        return self.grad_norm / max(self.grad_norm_init, 1e-300)

    def _extra_dict(self) -> dict:
        return {"relative_grad_norm": self.relative_grad_norm}


def negative_log_posterior(model: MLPModel) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Compiled ``theta -> (F(theta), grad F(theta))``, F = -log posterior (no Jacobian)."""
    fn = model.logp_dlogp_function(jacobian=False)

    def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = fn(theta)
        return -value, -grad

    return fg


def resolve_init(model: MLPModel, init: object, random_seed: object) -> np.ndarray:
    """The start as a flat theta.

    ``init`` may be None (Glorot-uniform from ``random_seed``), a flat array of size
    ``model.layout.size``, a pair ``(coefs, intercepts)`` in scikit-learn's layout, or a fitted
    scikit-learn MLP (anything with ``coefs_`` and ``intercepts_``).
    """
    if init is None:
        return model.glorot_init(random_seed)
    if hasattr(init, "coefs_") and hasattr(init, "intercepts_"):
        init = (init.coefs_, init.intercepts_)
    if isinstance(init, tuple | list) and len(init) == 2:
        coefs, intercepts = init
        return model.pack(
            [np.asarray(W, dtype=np.float64) for W in coefs],
            None if not model.fit_intercept else [np.ravel(b) for b in intercepts],
        )
    theta = np.asarray(init, dtype=np.float64)
    if theta.shape != (model.layout.size,):
        raise ValueError(
            f"The 'init' parameter must be None, a flat theta of shape ({model.layout.size},), "
            f"(coefs, intercepts) or a fitted scikit-learn MLP; got shape {theta.shape}."
        )
    return theta.copy()


def make_result(
    model: MLPModel, theta: np.ndarray, fg, g0_norm: float, tol: float, **info
) -> MLPMapResult:
    """An :class:`MLPMapResult` at theta, its gradient measured afresh."""
    f, g = fg(theta)
    parts = model.unpack(theta)
    gnorm = float(np.linalg.norm(g))
    return MLPMapResult(
        theta=np.asarray(theta, dtype=np.float64).copy(),
        weights=tuple(parts["weights"]),
        biases=tuple(parts["biases"] or ()),
        sigma=parts["sigma"],
        objective=float(f),
        grad_norm=gnorm,
        grad_norm_init=g0_norm,
        converged=bool(gnorm <= tol * g0_norm),
        prior_scale=float(model.prior.scale),
        **info,
    )


def map_mlp(
    model: MLPModel,
    *,
    init: object = None,
    random_seed: object = None,
    tol: float = 1e-8,
    max_iter: int = 50000,
) -> MLPMapResult:
    """MAP of the network by L-BFGS (scipy) from an explicit start.

    Minimizes ``F(theta) = -log p(theta | y)`` (no Jacobian), for a Gaussian prior
    ``J0 + sum_l ||W_l||^2 / (2 tau^2)``. Stops when ``||grad F||_2 <= tol * ||grad F(theta0)||_2``
    (scipy's ``gtol`` is set to the equivalent sup-norm bound ``tol ||g0||_2 / sqrt(d)``) or
    when L-BFGS can make no further progress.

    Parameters
    ----------
    model : MLPModel
    init : see :func:`resolve_init`
    random_seed : None, int or numpy Generator
        Seed of the Glorot start when ``init`` is None.
    tol : float, default 1e-8
        Relative gradient-norm tolerance (``converged``).
    max_iter : int, default 50000

    Returns
    -------
    MLPMapResult
    """
    check_mlp(model, "map_mlp")
    require("map_mlp", (HAS_MAP,), model.prior, model.likelihood)
    tol = check_positive(tol, "tol", "map_mlp")
    max_iter = check_positive_int(max_iter, "max_iter", "map_mlp")
    theta0 = resolve_init(model, init, random_seed)
    fg = negative_log_posterior(model)
    g0 = float(np.linalg.norm(fg(theta0)[1]))
    start = time.perf_counter()
    gtol = tol * g0 / np.sqrt(theta0.size)
    opt = optimize.minimize(
        fg,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "maxfun": 4 * max_iter, "gtol": gtol, "ftol": 0.0},
    )
    return make_result(
        model,
        opt.x,
        fg,
        g0,
        tol,
        method="L-BFGS",
        n_iter=int(opt.nit),
        seconds=time.perf_counter() - start,
        message=str(opt.message),
    )
