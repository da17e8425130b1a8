"""Exact MAP estimates of a ``RegressionModel``.

The MAP minimizes the negative log posterior, written here with f the data term plus the
intercept and sigma priors (smooth) and P the prior on w (the penalty)::

    F(w, b, sigma) = -log p(y | X w + b, sigma) - log p(sigma) + P(w; sigma)

**Convention for sigma.** When the noise sd is estimated, the MAP is joint over
(w, b, sigma) and is taken *without* the log-Jacobian of the log transform of sigma: the mode
of the posterior density of sigma itself, which is what ``pm.find_MAP`` computes. With the
Jacobian one would get the mode of log sigma instead (a different point).

**Methods** (``method="auto"`` picks the first that applies). Each states the capabilities it
needs (:mod:`bayesreg._capabilities`); a method asked for a model that lacks one gets a
ValueError naming the method, the prior, the likelihood and the missing capability.

* ``"closed_form"``: a Gaussian penalty (``Prior.elastic_coefs`` with no L1 part), a quadratic
  likelihood with known sigma. Ridge normal equations with ``alpha = sigma^2 c``
  (``alpha = sigma^2 / tau^2`` for Gaussian(tau), :func:`ridge_closed_form`).
* ``"fista"`` (non-smooth priors: Laplace, elastic net): proximal gradient with momentum,
  adaptive restart and backtracking (:mod:`bayesreg.solvers.proximal`); the smooth part's value
  and gradient come from the evaluator (the compiled PyTensor graph, or numpy for small
  problems: :mod:`bayesreg.solvers._problem`) and the penalty from the prior's
  exact prox, so zeros are exact. Once the support is stable the iterate is polished by Newton's
  method on that support with those signs, and accepted only if it is a KKT point of the full
  problem: this gives solutions to machine precision. ``"ista"`` is the same without momentum.
  With a quadratic likelihood (a quadratic data term at fixed sigma) and a penalty with an L1
  part ``"fista"`` runs on a
  *working set* (:mod:`bayesreg.solvers.working_set`): FISTA and the exact sign-pattern solve on
  the Gram matrix of the support plus the worst KKT violators, grown until all p features
  satisfy the KKT conditions. That inner solver is pure numpy; the returned point is then
  certified with the gradient from the evaluator (and handed to the full proximal-gradient
  solver above in the rare case the certificate fails).
* ``"lbfgs"`` (smooth priors): scipy's L-BFGS-B on the evaluator's value and gradient, then a
  Newton polish.

* ``"linear_program"`` (a likelihood that is not smooth, ``Likelihood.is_smooth = False``, and
  piecewise linear, ``Likelihood.linear_pieces``: the Laplace likelihood / least absolute
  deviations): with an L1 prior the MAP at fixed sigma is a linear program, solved exactly by
  HiGHS and certified by the KKT residual of the whole problem computed from its multipliers
  (:mod:`bayesreg.solvers.linear_program`); an estimated sigma alternates it with the exact
  sigma update. ``"auto"`` picks it for such likelihoods.
* ``"quadratic_program"`` (the same likelihoods with a Gaussian or elastic-net prior, an L2
  part on every coefficient): a convex QP, solved by HiGHS' active-set QP (``highspy``),
  polished on its active set and certified the same way
  (:mod:`bayesreg.solvers.quadratic_program`). ``"auto"`` picks it for such a pair. The
  smooth methods above refuse a likelihood that is not smooth.

A likelihood with an estimated shape parameter whose prior density is bounded at 0
(``StudentTLikelihood(nu=None)``, nu ~ Gamma(2, b)) gets the joint MAP by profiling over the
log shape (:mod:`bayesreg.solvers.shapes`; ``MapEstimate.shapes``);
``NegativeBinomialLikelihood(alpha=None)`` is refused (capability ``SHAPE_MAP``): the
Gamma(1/2, .) density of alpha is unbounded at 0, so the joint MAP does not exist.

With an estimated sigma the (w, b) block is solved by the method above at fixed sigma and
sigma by an exact 1-D update (the objective is strictly convex in log sigma), alternating until
the KKT residual over all blocks is below the tolerance; for smooth priors an L-BFGS run on all
of (w, b, log sigma) provides the warm start. Every solver works in centred, rescaled
coordinates (:mod:`bayesreg.solvers._problem`), so badly scaled columns do not stop it early;
the reported optimality is measured in the caller's units.

**Warm starts.** ``init=`` takes a previous :class:`MapEstimate` (e.g. at a nearby prior scale)
as the starting point of the iterative solvers; :func:`bayesreg.solvers.map_path` uses it along
a regularization path. The stopping rule does not depend on the starting point.

**Convergence** is judged by the KKT residual, not by the step size: the distance of minus the
gradient of f to the subdifferential of P (per coefficient), and |gradient| for the intercept
and log sigma. ``converged`` means residual (in the rescaled coordinates) ``<= tol * max(1, r0)``
with r0 the residual at the zero starting point, so ``tol`` is relative and unit-free. When
that is not reached, a :class:`ConvergenceWarning` is issued and ``converged=False``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import optimize

from bayesreg._capabilities import (
    FIXED_SIGMA,
    GAUSSIAN_PENALTY,
    HAS_MAP,
    L1_PART,
    QUADRATIC_LIKELIHOOD,
    SHAPE_MAP,
    SMOOTH_LIKELIHOOD,
    SMOOTH_PRIOR,
    explain,
    require,
    unmet,
)
from bayesreg._results import Result
from bayesreg._validation import check_choice, check_positive, check_positive_int
from bayesreg.model import RegressionModel, check_model
from bayesreg.solvers._problem import MapProblem, problem_for
from bayesreg.solvers.linear_program import LP_NEEDS, linear_program_map
from bayesreg.solvers.proximal import fista_step, ista_step, prox_init
from bayesreg.solvers.quadratic_program import QP_NEEDS, quadratic_program_map
from bayesreg.solvers.shapes import shape_profile_map
from bayesreg.solvers.working_set import working_set_lasso

__all__ = ["MAP_METHODS", "ConvergenceWarning", "MapEstimate", "map_estimate"]

#: methods accepted by :func:`map_estimate`
MAP_METHODS = (
    "auto", "closed_form", "fista", "ista", "lbfgs", "linear_program", "quadratic_program",
)  # fmt: skip

#: the exact routes of a piecewise-linear likelihood: method -> solver at a fixed sigma
_PIECEWISE_SOLVERS = {
    "linear_program": linear_program_map,
    "quadratic_program": quadratic_program_map,
}

#: what each method needs of (prior, likelihood), and what to say when it is missing
_CLOSED_FORM = (GAUSSIAN_PENALTY, QUADRATIC_LIKELIHOOD, FIXED_SIGMA)
_WORKING_SET = (QUADRATIC_LIKELIHOOD, L1_PART)
_METHOD_NEEDS = {
    "closed_form": (
        _CLOSED_FORM,
        "method='closed_form' needs a Gaussian prior and a GaussianLikelihood with known sigma "
        "(the ridge normal equations). Use method='auto'.",
    ),
    "lbfgs": (
        (SMOOTH_LIKELIHOOD, SMOOTH_PRIOR),
        "method='lbfgs' needs a smooth prior and likelihood: a prior that is not differentiable "
        "at 0 is never brought to its exact zeros by a quasi-Newton method (it stops near "
        "them), and a kinked likelihood has no gradient to follow. Use method='auto' (FISTA "
        "for a non-smooth prior, a linear program for a piecewise-linear likelihood).",
    ),
    **{
        m: (
            (SMOOTH_LIKELIHOOD,),
            f"method={m!r} steps along the likelihood's gradient, which a kinked loss does not "
            "have. Use method='auto' (a linear program where one applies).",
        )
        for m in ("fista", "ista")
    },
    "linear_program": (
        LP_NEEDS,
        "method='linear_program' is the exact MAP of a piecewise-linear likelihood (Laplace) "
        "with an L1 (Laplace) prior.",
    ),
    "quadratic_program": (
        QP_NEEDS,
        "method='quadratic_program' is the exact MAP of a piecewise-linear likelihood "
        "(Laplace) with a Gaussian or elastic-net prior (an L2 part on every coefficient).",
    ),
}


class ConvergenceWarning(UserWarning):
    """A solver stopped before its optimality measure reached the tolerance."""


@dataclass(frozen=True)
class MapEstimate(Result):
    """The MAP estimate of a model.

    Attributes
    ----------
    coef : ndarray of shape (p,)
        MAP weights w (exact zeros for L1-type priors).
    intercept : float
        MAP intercept (0.0 without an intercept).
    sigma : float or None
        MAP noise sd when it is estimated, else None.
    method : str
        The method actually used (``"auto"`` resolved).
    n_iter : int
        Iterations of the main loop (outer iterations x inner ones when sigma is estimated).
    converged : bool
        True when the relative KKT residual reached ``tol``.
    optimality : float
        KKT residual in the caller's units: max over coefficients of the distance of minus the
        smooth gradient to the penalty's subdifferential, |d/db| and |d/dlog sigma|.
    objective : float
        Negative log posterior at the estimate (normalizing constants included, no Jacobian).
    tol : float
        The relative tolerance that was asked for.
    seconds : float
        Wall time of the solve.
    evaluator : str
        Which evaluator computed the smooth part: ``"graph"`` or ``"numpy"``.
    shapes : dict of str to float
        The MAP of each estimated shape parameter of the likelihood (``{"nu": ...}`` for
        ``StudentTLikelihood(nu=None)``); empty when every shape is known.
    """

    coef: np.ndarray
    intercept: float
    sigma: float | None
    method: str
    n_iter: int
    converged: bool
    optimality: float
    objective: float
    tol: float = 1e-10
    seconds: float = 0.0
    evaluator: str = "graph"
    shapes: dict[str, float] = field(default_factory=dict)

    @property
    def n_nonzero(self) -> int:
        """Number of non-zero coefficients."""
        return int(np.count_nonzero(self.coef))

    def _extra_dict(self) -> dict[str, int]:
        return {"n_nonzero": self.n_nonzero}


def _resolve_method(model: RegressionModel, method: str) -> str:
    """``method`` with "auto" resolved; a method the model cannot use raises, saying why."""
    prior, lik = model.prior, model.likelihood
    if method == "auto" and not lik.is_smooth:
        return _resolve_non_smooth(model)
    if method == "auto":
        if unmet(_CLOSED_FORM, prior, lik) is None:
            return "closed_form"
        return "lbfgs" if unmet((SMOOTH_PRIOR,), prior, lik) is None else "fista"
    if method in _METHOD_NEEDS:
        needs, hint = _METHOD_NEEDS[method]
        reason = explain(f"map_estimate(method={method!r})", needs, prior, lik)
        if reason is not None:
            raise ValueError(f"{reason}. {hint}")
    return method


def _resolve_non_smooth(model: RegressionModel) -> str:
    """A likelihood that is not smooth: the linear program, or a message saying why not."""
    prior, lik = model.prior, model.likelihood
    if explain("map_estimate", LP_NEEDS, prior, lik) is None:
        return "linear_program"
    reason = explain("map_estimate", QP_NEEDS, prior, lik)
    if reason is None:
        return "quadratic_program"
    raise ValueError(
        f"{reason}. The likelihood is not smooth (Likelihood.is_smooth is False), so the "
        "gradient-based MAP solvers do not apply; its exact routes are a linear program (an "
        "L1 prior) and a quadratic program (a Gaussian or elastic-net prior). For this prior "
        "sample the posterior instead (sample_posterior / fit_method='sample')."
    )


def _initial_z(prob: MapProblem) -> np.ndarray:
    """u = 0 and the intercept of the null model (the likelihood's best constant predictor)."""
    z = np.zeros(prob.nz)
    if prob.fit_intercept:
        z[prob.p] = prob.model.likelihood.null_eta(prob.model.y) - prob.offset
    return z


def _init_z(prob: MapProblem, init: MapEstimate) -> np.ndarray:
    """z of a warm start, checked against the model."""
    if not isinstance(init, MapEstimate):
        raise TypeError(
            f"The 'init' parameter of map_estimate must be a MapEstimate or None. Got {init!r}."
        )
    coef = np.asarray(init.coef, dtype=np.float64)
    if coef.shape != (prob.p,) or not np.all(np.isfinite(coef)):
        raise ValueError(
            f"The 'init' parameter of map_estimate must have a finite coef of shape "
            f"({prob.p},); got shape {coef.shape}."
        )
    if init.sigma is not None and not (np.isfinite(init.sigma) and init.sigma > 0):
        raise ValueError(f"init.sigma must be a positive number; got {init.sigma!r}.")
    return prob.z_from_wb(coef, float(init.intercept) if prob.fit_intercept else 0.0)


def _prox_solve(
    prob: MapProblem,
    z0: np.ndarray,
    log_sigma: float | None,
    target: float,
    max_iter: int,
    accelerated: bool,
) -> tuple[np.ndarray, int, float]:
    """Proximal gradient at fixed sigma, with a Newton polish once the support is stable."""
    sigma = prob.sigma_of(log_sigma)
    lik = prob.model.likelihood

    def smooth(z):
        return prob.smooth_fg(z, log_sigma)

    def prox(v, t):
        return prob.prox_z(v, t, sigma)

    bound = lik.curvature_bound(sigma)
    if np.isfinite(bound):
        safe = 1.0 / max(bound * prob.design_norm2, 1e-300)
        # a quadratic likelihood's curvature bound is tight; others (Bernoulli: 1/4) are not,
        # so longer steps are tried first (backtracking keeps them safe)
        step0 = safe if lik.quadratic else 8.0 * safe
    else:
        step0, safe = _local_steps(prob, z0, sigma)
    state = prox_init(z0, step0)
    step = fista_step if accelerated else ista_step
    support = None
    stable, wait = 0, 3
    for k in range(1, max_iter + 1):
        state = step(state, smooth, prox, safe)
        new_support = state.x[: prob.p] != 0.0
        stable = stable + 1 if support is not None and np.array_equal(new_support, support) else 0
        support = new_support
        if state.grad_map <= target:
            _, g = smooth(state.x)
            r = prob.kkt_z(state.x, g, sigma)
            if r <= target:
                return state.x, k, r
        if stable == wait:
            polished = prob.newton_polish(state.x, log_sigma, target)
            if polished is not None:
                return polished[0], k, polished[1]
            wait *= 2
    _, g = smooth(state.x)
    return state.x, max_iter, prob.kkt_z(state.x, g, sigma)


def _local_steps(prob: MapProblem, z0: np.ndarray, sigma: float) -> tuple[float, float]:
    """(first step, floor) for a likelihood without a global curvature bound (Poisson): the
    inverse of the curvature bound at the start, ``max_i d_i(eta0) * ||[Z, 1]||^2``; the
    backtracking test decides every step above a floor of 1e-12 of it."""
    w, b = prob.wb_from_z(z0)
    d = prob.model.likelihood.curvature(prob.model.X @ w + b, prob.model.y, sigma)
    step0 = 1.0 / max(float(np.max(d, initial=0.0)) * prob.design_norm2, 1e-300)
    return step0, 1e-12 * step0


def _lbfgs(fun, x0: np.ndarray, target: float, max_iter: int, args: tuple = ()):
    """scipy's L-BFGS-B stopped on the gradient only (``ftol = 0``)."""
    return optimize.minimize(
        fun,
        x0,
        args=args,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "maxfun": 2 * max_iter, "ftol": 0.0, "gtol": target},
    )


def _lbfgs_solve(
    prob: MapProblem, z0: np.ndarray, log_sigma: float | None, target: float, max_iter: int
) -> tuple[np.ndarray, int, float]:
    """L-BFGS-B on the whole (smooth) objective at fixed sigma, then a Newton polish."""
    sigma = prob.sigma_of(log_sigma)
    res = _lbfgs(prob.full_fg, z0, target, max_iter, args=(log_sigma,))
    z = np.asarray(res.x, dtype=np.float64)
    _, g = prob.smooth_fg(z, log_sigma)
    r = prob.kkt_z(z, g, sigma)
    n_iter = int(res.nit)
    # always polish: L-BFGS can stop just under the KKT target with coefficients still ~1e-9
    # off (an ill-conditioned Hessian); Newton's step on the smooth problem lands on the
    # optimum to rounding, and is kept when its residual is no worse
    polished = prob.newton_polish(z, log_sigma, target)
    if polished is not None and (r > target or polished[1] <= r):
        z, r = polished
    return z, n_iter, r


def _closed_form_z(prob: MapProblem) -> np.ndarray:
    """Ridge at ``alpha = sigma^2 c`` (the penalty c ||w||^2 / 2 times sigma^2)."""
    sigma = prob.sigma_fixed
    _, c = prob.prior.elastic_coefs(sigma)
    return prob.ridge_z(sigma**2 * c)


def _working_set_solve(
    prob: MapProblem, z0: np.ndarray, log_sigma: float | None, target: float, max_iter: int
) -> tuple[np.ndarray, int, float]:
    """Working-set FISTA (pure numpy, Gram of the working set), certified by the evaluator.

    At fixed sigma the objective in z is ``||yc - Z u||^2 / (2 sigma^2) + n (b' - ybar)^2 /
    (2 sigma^2) + sum_j (a / s_j) |u_j| + (c / s_j^2) u_j^2 / 2`` (columns of Z centred), so
    b' = ybar and, multiplied by sigma^2, the u block is the problem of
    :func:`working_set_lasso` with ``lam = sigma^2 a / s`` and ``mu = sigma^2 c / s^2``; its
    KKT residual is sigma^2 times the residual in z.
    """
    sigma = prob.sigma_of(log_sigma)
    a, c = prob.prior.elastic_coefs(sigma)
    s, v = prob.scale, sigma**2
    p = prob.p
    # half the target: the evaluator's gradient differs from the Gram one's by rounding only
    res = working_set_lasso(
        prob.Z,
        prob.yc,
        v * a / s,
        v * c / s**2,
        z0[:p],
        0.5 * v * target,
        max_iter,
        gram=prob.data.gram_cache,
    )
    z = np.append(res.u, prob.y_mean - prob.offset) if prob.fit_intercept else res.u
    _, g = prob.smooth_fg(z, log_sigma)
    r = prob.kkt_z(z, g, sigma)
    if r <= target:
        return z, max(res.n_iter, 1), r
    z, k, r = _prox_solve(
        prob, z, log_sigma, target, max(max_iter - res.n_iter, 1), accelerated=True
    )
    return z, res.n_iter + k, r


def _sigma_update(prob: MapProblem, z: np.ndarray, log_sigma: float, log_floor: float) -> float:
    """Exact argmin over log sigma with (w, b) fixed: the root of a strictly increasing gradient.

    Every term of the objective (SSE e^{-2l}/2 + n l, the half-normal prior e^{2l}/(2 s^2), and
    for scale_by_sigma priors a e^{-l} + p l) is convex in l = log sigma, one strictly. When the
    root lies below ``log_floor`` (y fitted exactly: no minimum) ``log_floor`` is returned.
    """
    w, b = prob.wb_from_z(z)

    def h(ls):
        return prob.sigma_grad(w, b, ls)

    lo, hi = log_sigma - 0.5, log_sigma + 0.5
    for _ in range(200):
        if h(lo) < 0.0:
            break
        if lo <= log_floor:
            return log_floor
        lo = max(lo - 2.0 * (hi - lo), log_floor)
    for _ in range(200):
        if h(hi) > 0.0:
            break
        hi += 2.0 * (hi - lo)
    return float(optimize.brentq(h, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def _solve_block(
    prob: MapProblem,
    method: str,
    z: np.ndarray,
    log_sigma: float | None,
    target: float,
    max_iter: int,
) -> tuple[np.ndarray, int, float]:
    """The (w, b) block at fixed sigma: ``(z, iterations, KKT residual in z)``."""
    if method == "fista" and unmet(_WORKING_SET, prob.prior, prob.model.likelihood) is None:
        return _working_set_solve(prob, z, log_sigma, target, max_iter)
    if method in ("fista", "ista"):
        return _prox_solve(prob, z, log_sigma, target, max_iter, accelerated=method == "fista")
    if method == "lbfgs":
        return _lbfgs_solve(prob, z, log_sigma, target, max_iter)
    # closed_form (known sigma only)
    z = _closed_form_z(prob)
    _, g = prob.smooth_fg(z, log_sigma)
    return z, 1, prob.kkt_z(z, g, prob.sigma_of(log_sigma))


class _Solved(NamedTuple):
    """A solve's outcome: the point, iterations, KKT residual, its target, and why it stopped
    short when it is not a MAP (None otherwise)."""

    z: np.ndarray
    log_sigma: float | None
    n_iter: int
    residual: float
    target: float
    failure: str | None = None


def _null_residual(prob: MapProblem, log_sigma: float | None) -> float:
    """The (w, b) block's KKT residual at the null model (w = 0, the best constant intercept):
    the scale the relative tolerance refers to. Not at w = b = 0: there the intercept's
    gradient grows with the offset of y (n ybar / sigma^2), so a tolerance relative to it
    would stop far from the optimum for y + 1e6 (issue 11)."""
    null = _initial_z(prob)
    # z = 0 is the null model of a location family (the intercept coordinate is b' - mean(y)):
    # its gradient is cached per sigma, so a path over prior scales evaluates it once
    g = prob.zero_grad(log_sigma) if not null.any() else prob.smooth_fg(null, log_sigma)[1]
    return prob.kkt_z(null, g, prob.sigma_of(log_sigma))


def _solve_known_sigma(prob, method, z, tol, max_iter) -> _Solved:
    """The MAP with sigma known (or absent): one (w, b) block."""
    target = tol * max(1.0, _null_residual(prob, None))
    z, n_iter, r = _solve_block(prob, method, z, None, target, max_iter)
    return _Solved(z, None, n_iter, r, target)


def _collapsed(prob: MapProblem, floor: float) -> str:
    return (
        f"The noise sd collapsed below {floor:.3g} (sd(y) = {np.std(prob.model.y):.3g}): y is "
        "fitted exactly, so the joint MAP of (w, b, sigma) does not exist (the density grows "
        "without bound as sigma -> 0); returning the estimate at that floor. Pass a known "
        "sigma, or sample the posterior."
    )


def _block_target(prob: MapProblem, log_sigma: float, target: float) -> float:
    """The (w, b) block's tolerance inside the sigma loop: 1e-3 of the joint target, but not
    below what rounding lets the block reach at this sigma (1e-14 of its KKT residual at
    zero, which grows like 1/sigma^2): far below the starting sigma a tighter target would
    only spend ``max_iter`` iterations on rounding noise."""
    return max(1e-3 * target, 1e-14 * _null_residual(prob, log_sigma))


def _solve_estimated_sigma(prob, method, z, init, tol, max_iter) -> _Solved:
    """The joint MAP over (w, b, sigma): blocks (w, b) and sigma alternated.

    The (w, b) block is solved (to machine precision when the Newton polish applies) at each
    sigma, so the estimate is exactly the penalized solution at the reported sigma; the
    remaining residual is in the sigma block. For smooth priors a joint quasi-Newton run over
    (z, log sigma) is the warm start. sigma is kept above 1e-8 of its starting value: below
    that y is fitted exactly and there is no joint MAP (the objective -> -inf as sigma -> 0).
    """
    log_sigma = float(np.log(max(float(np.std(prob.model.y)), 1e-8)))
    log_floor = log_sigma + float(np.log(1e-8))
    # the tolerance is fixed at the null model and the default starting sigma, whatever the
    # warm start, and does not depend on an offset of y
    target = tol * max(
        1.0,
        _null_residual(prob, log_sigma),
        abs(prob.sigma_grad(*prob.wb_from_z(_initial_z(prob)), log_sigma)),
    )
    if init is not None and init.sigma is not None:
        log_sigma = float(np.log(init.sigma))
    n_iter = 0
    if prob.prior.is_smooth:
        res = _lbfgs(prob.full_fg_joint, np.append(z, log_sigma), target, max_iter)
        n_iter = int(res.nit)
        if np.all(np.isfinite(res.x)):
            z, log_sigma = res.x[: prob.nz].copy(), max(float(res.x[prob.nz]), log_floor)
    r = np.inf
    for _ in range(500):
        log_sigma = _sigma_update(prob, z, log_sigma, log_floor)
        if log_sigma <= log_floor:
            return _Solved(z, log_sigma, n_iter, r, target, _collapsed(prob, np.exp(log_floor)))
        block_target = _block_target(prob, log_sigma, target)
        z, k, r_wb = _solve_block(prob, method, z, log_sigma, block_target, max_iter)
        n_iter += k
        r = max(r_wb, abs(prob.sigma_grad(*prob.wb_from_z(z), log_sigma)))
        if r <= target:
            break
    return _Solved(z, log_sigma, n_iter, r, target)


#: below this n * p the solvers run with one BLAS thread: their products (p x p Gram columns,
#: n-vectors) are too small for threads to pay, and OpenBLAS threads spin against each other
#: on a busy machine (measured: Laplace MAP at n = 200, p = 1000 took 1.9-5.3x scikit-learn's
#: Lasso with default threads, 0.54x with one)
SINGLE_THREAD_MAX_SIZE = 5_000_000
_CONTROLLER: list = []


def _blas_threads_for(size: int):
    """A context limiting BLAS to one thread for problems of ``size = n * p`` below
    :data:`SINGLE_THREAD_MAX_SIZE` (the controller, which scans the loaded libraries, is made
    once)."""
    import contextlib

    if size > SINGLE_THREAD_MAX_SIZE:
        return contextlib.nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def map_estimate(
    model: RegressionModel,
    *,
    method: str = "auto",
    tol: float = 1e-10,
    max_iter: int = 20000,
    evaluator: str = "auto",
    warn: bool = True,
    init: MapEstimate | None = None,
) -> MapEstimate:
    """The maximum a posteriori estimate of ``model`` (= the penalized solution).

    Minimizes, jointly over (w, b) and sigma when it is estimated (no log-Jacobian)::

        F(w, b, sigma) = J0(X w + b; sigma) - log p(sigma) + P(w; sigma)

    where J0 is the data term (``SSE / (2 sigma^2) + n log sigma`` for a Gaussian likelihood,
    the cross-entropy for a Bernoulli one) and P the prior's penalty (``||w||^2 / (2 tau^2)``
    for Gaussian(tau), ``||w||_1 / b`` for Laplace(b)). See the module docstring for the
    methods and the convergence criterion.

    Parameters
    ----------
    model : RegressionModel
    method : {"auto", "closed_form", "fista", "ista", "lbfgs", "linear_program", \
"quadratic_program"}, default "auto"
    tol : float, default 1e-10
        Relative KKT tolerance.
    max_iter : int, default 20000
        Iterations of the inner solver (per sigma update when sigma is estimated).
    evaluator : {"auto", "graph", "numpy"}, default "auto"
        What evaluates the smooth part: the model's compiled PyTensor graph, or numpy (nothing
        compiled); "auto" takes numpy for ``n * p <= NUMPY_EVALUATOR_MAX_SIZE`` (50 000). Both
        give the same objective (:mod:`bayesreg.solvers._problem`).
    warn : bool, default True
        Issue a :class:`ConvergenceWarning` when the tolerance is not reached.
    init : MapEstimate, optional
        Warm start: the iterative solvers start from ``init.coef``, ``init.intercept`` (and
        ``init.sigma`` when sigma is estimated) instead of zero. The closed form ignores it.
        The stopping rule (relative to the KKT residual at the null model) does not depend on it.

    Returns
    -------
    MapEstimate

    Raises
    ------
    MapUndefinedError
        A prior without a MAP (a density unbounded at 0, such as the horseshoe).
    ValueError
        Unknown method or evaluator, or a method that the model's prior or likelihood cannot
        use (the message names the missing capability).
    """
    check_model(model, "map_estimate")
    check_choice(method, "MAP method", MAP_METHODS)
    tol = check_positive(tol, "tol", "map_estimate")
    max_iter = check_positive_int(max_iter, "max_iter", "map_estimate")
    require("map_estimate", [HAS_MAP, SHAPE_MAP], model.prior, model.likelihood)
    if model.likelihood.estimated_shapes:  # profile over the shape (bayesreg.solvers.shapes)
        inner = "numpy" if evaluator == "auto" else evaluator

        def solve(bound: RegressionModel, start: MapEstimate | None) -> MapEstimate:
            return map_estimate(bound, method=method, tol=tol, max_iter=max_iter,
                                evaluator=inner, warn=False, init=start)  # fmt: skip

        return shape_profile_map(model, solve, tol=tol, warn=warn)
    resolved = _resolve_method(model, method)
    if resolved in _PIECEWISE_SOLVERS:
        return _linear_program_estimate(model, resolved, tol, warn)
    start = time.perf_counter()
    with _blas_threads_for(model.n * model.p):
        prob = problem_for(model, evaluator=evaluator)
        z = _initial_z(prob) if init is None else _init_z(prob, init)
        if prob.sigma_estimated:
            out = _solve_estimated_sigma(prob, resolved, z, init, tol, max_iter)
        else:
            out = _solve_known_sigma(prob, resolved, z, tol, max_iter)
    z, log_sigma, r = out.z, out.log_sigma, out.residual
    converged = out.failure is None and bool(r <= out.target)
    if not converged and warn:
        message = out.failure or (
            f"map_estimate(method={resolved!r}) did not converge: KKT residual {r:.3g} > "
            f"tolerance {out.target:.3g} after {out.n_iter} iterations (max_iter={max_iter}). "
            "The estimate may be inaccurate; raise max_iter or tol."
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    w, b = prob.wb_from_z(z)
    return MapEstimate(
        coef=w,
        intercept=b,
        sigma=prob.sigma_of(log_sigma) if prob.sigma_estimated else None,
        method=resolved,
        n_iter=int(out.n_iter),
        converged=converged,
        optimality=float(prob.kkt_original(w, b, log_sigma)),
        objective=float(prob.objective(w, b, log_sigma)),
        tol=tol,
        seconds=time.perf_counter() - start,
        evaluator=prob.evaluator.kind,
    )


# -- the linear-program route (piecewise-linear likelihoods: bayesreg.solvers.linear_program) --
def _linear_program_estimate(
    model: RegressionModel, method: str, tol: float, warn: bool
) -> MapEstimate:
    """The MAP by the exact LP or QP (``method``), with its own certificate as the optimality
    (caller's units); with an estimated sigma, alternated with the exact sigma update
    (:func:`_lp_joint_sigma`)."""
    start = time.perf_counter()
    prob = problem_for(model, evaluator="numpy")
    solver = _PIECEWISE_SOLVERS[method]
    if prob.sigma_estimated:
        sol, log_sigma, r_sigma, target_sigma, failure = _lp_joint_sigma(prob, solver, tol)
    else:
        sol, log_sigma, r_sigma, target_sigma, failure = (
            solver(model, tol=tol), None, 0.0, 1.0, None
        )  # fmt: skip
    converged = failure is None and sol.converged and r_sigma <= target_sigma
    if not converged and warn:
        warnings.warn(
            failure
            or f"map_estimate(method={method!r}) did not converge: KKT residual "
            f"{sol.residual:.3g} (tolerance {sol.target:.3g}), sigma gradient {r_sigma:.3g} "
            f"(tolerance {target_sigma:.3g}), constraint violation {sol.infeasibility:.3g} "
            f"(HiGHS: {sol.message}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return MapEstimate(
        coef=sol.coef,
        intercept=sol.intercept,
        sigma=None if log_sigma is None else prob.sigma_of(log_sigma),
        method=method,
        n_iter=max(sol.n_iter, 1),
        converged=converged,
        optimality=float(max(sol.residual, r_sigma)),
        objective=float(prob.objective(sol.coef, sol.intercept, log_sigma)),
        tol=tol,
        seconds=time.perf_counter() - start,
        evaluator="highs",
    )


def _lp_joint_sigma(prob: MapProblem, solver, tol: float, max_rounds: int = 200):
    """The joint MAP over (w, b, sigma): the exact LP or QP (``solver``) in (w, b) at fixed
    sigma alternated with
    the exact update of log sigma (:func:`_sigma_update`; the objective is convex in it).

    Each step minimizes its block exactly, so the objective decreases; at a fixed point the
    (w, b) block is certified by the LP's KKT residual and the sigma block by its gradient.
    The objective ``A(w, b) / sigma + P(w; sigma) + smooth(sigma)`` (A convex, sigma > 0) has
    one-sided directional derivatives that add over the blocks, so that point is stationary
    for the whole problem. Returns ``(solution, log_sigma, |d/dlog sigma|, its target,
    failure or None)``.
    """
    y = prob.model.y
    log_sigma = float(np.log(max(float(np.mean(np.abs(y - np.median(y)))), 1e-8)))
    log_floor = log_sigma + float(np.log(1e-8))
    w0, b0 = prob.wb_from_z(_initial_z(prob))
    target_sigma = tol * max(1.0, abs(prob.sigma_grad(w0, b0, log_sigma)))
    sol, r_sigma, n_iter = None, np.inf, 0
    for _ in range(max_rounds):
        sol = solver(prob.model, tol=tol, sigma=prob.sigma_of(log_sigma))
        n_iter += sol.n_iter
        sol = sol._replace(n_iter=n_iter)  # simplex iterations of every round
        if not np.all(np.isfinite(sol.coef)):
            break
        r_sigma = abs(prob.sigma_grad(sol.coef, sol.intercept, log_sigma))
        if sol.converged and r_sigma <= target_sigma:
            break
        log_sigma = _sigma_update(
            prob, prob.z_from_wb(sol.coef, sol.intercept), log_sigma, log_floor
        )
        if log_sigma <= log_floor:
            return sol, log_sigma, r_sigma, target_sigma, _collapsed(prob, np.exp(log_floor))
    return sol, log_sigma, r_sigma, target_sigma, None
