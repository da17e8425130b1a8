"""Priors on the weights, read as penalties.

A prior p(w) enters the negative log posterior as ``-log p(w)``; up to a constant that is the
penalty of a penalized objective:

========================  =================================  ===========================
prior                     -log p(w) (w-dependent part)       penalty
========================  =================================  ===========================
``Gaussian(tau)``         ||w||_2^2 / (2 tau^2)              L2, ridge, weight decay
``Laplace(b)``            ||w||_1 / b                        L1, lasso
``ElasticNet(s, rho)``    (rho ||w||_1 + (1-rho)/2 ||w||^2)/s  elastic net (glmnet form)
========================  =================================  ===========================

Each prior offers its numpy log-density, penalty value, gradient (where smooth), exact proximal
operator and the PyMC random variable on the ``feature`` dimension. With
``scale_by_sigma=True`` the prior's scale is ``scale * sigma`` (sigma the noise sd), the
conditional form of Park & Casella's Bayesian lasso.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from scipy import special

from bayesreg._lazy import lazy_module
from bayesreg._validation import check_positive, check_positive_vector, check_probability

# PyMC and PyTensor load when a model graph is first built (to_pymc), not at import
pm = lazy_module("pymc")
pt = lazy_module("pytensor.tensor")

__all__ = [
    "ElasticNet",
    "Gaussian",
    "Horseshoe",
    "Laplace",
    "MapUndefinedError",
    "Prior",
    "RegularizedHorseshoe",
    "elastic_log_normalizer",
    "horseshoe_conditional_logpdf",
    "prior_class",
    "prior_from_name",
    "prior_names",
    "soft_threshold",
]

#: every concrete prior class with a ``name``, filled by ``Prior.__init_subclass__``: the one
#: name table that estimators, selection, Gibbs, the report and the CLI read
_REGISTRY: dict[str, type[Prior]] = {}


def _check_scale(scale: object, cls: type) -> float | np.ndarray:
    """A prior's scale: a float > 0, or (``cls.per_coefficient_scale``) a read-only copy of a
    1-D array of finite reals > 0, one per coefficient."""
    owner = cls.__name__
    if np.ndim(scale) == 0:
        return check_positive(scale, "scale", owner)
    if not cls.per_coefficient_scale:
        raise ValueError(
            f"The 'scale' parameter of {owner} must be one float > 0 (its global scale); got "
            f"an array of shape {np.shape(scale)}. Per-coefficient scales are offered by "
            f"{', '.join(sorted(c.__name__ for c in _REGISTRY.values() if c.per_coefficient_scale))}."
        )
    return check_positive_vector(scale, "scale", owner)


def _scale_repr(scale: float | np.ndarray) -> str:
    if np.ndim(scale) == 0:
        return repr(scale)
    return np.array2string(np.asarray(scale), separator=", ", threshold=8, precision=6)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    return a == b


def _hashable(v: object) -> object:
    return (v.shape, v.tobytes()) if isinstance(v, np.ndarray) else v


def _per_coef_sum(values: float | np.ndarray, size: int) -> float:
    """sum over ``size`` coefficients of a per-coefficient constant (a float or shape (size,))."""
    return float(np.sum(np.broadcast_to(values, (size,))))


def soft_threshold(v: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """Soft-thresholding ``sign(v) * max(|v| - threshold, 0)``: the prox of ``threshold*||.||_1``."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


class Prior(ABC):
    """A prior on the weight vector w (p,), equivalently a penalty.

    Parameters
    ----------
    scale : float
        The prior's scale (> 0). Larger scale = weaker penalty.
    scale_by_sigma : bool, default False
        If True the effective scale is ``scale * sigma`` where sigma is the noise sd.
    """

    #: short name used in reports and the CLI
    name: ClassVar[str] = "prior"
    #: True when the penalty is differentiable everywhere (no prox needed)
    is_smooth: ClassVar[bool] = True
    #: True when MAP estimation is well defined (a bounded density at 0)
    has_map: ClassVar[bool] = True
    #: True when w | hyperparameters is Gaussian with sd :meth:`pymc_prior_sd`, so a Gaussian
    #: likelihood lets the collapsed sampler integrate w out (the horseshoe family)
    collapsible: ClassVar[bool] = False
    #: NUTS target acceptance the samplers use for this prior unless the caller sets one
    #: (None: the package default)
    default_target_accept: ClassVar[float | None] = None
    #: True when ``scale`` may be a vector, one scale per coefficient (priors whose
    #: coefficients are independent given their scales); False: one global scale only
    per_coefficient_scale: ClassVar[bool] = False
    #: True when the prior is built with ``groups`` (one label per coefficient): a prior
    #: chosen by name then takes its groups from a formula's terms (``bayesreg.fit``)
    needs_groups: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # a class that names itself joins the name table (a subclass that does not, does not)
        if "name" in cls.__dict__ and not getattr(cls, "__abstractmethods__", None):
            _REGISTRY[cls.name] = cls

    def __init__(self, scale: float | np.ndarray = 1.0, *, scale_by_sigma: bool = False) -> None:
        self.scale = _check_scale(scale, type(self))
        self.scale_by_sigma = bool(scale_by_sigma)

    # -- scale -----------------------------------------------------------------------------
    def effective_scale(self, sigma: float = 1.0) -> float | np.ndarray:
        """The scale actually used: ``scale * sigma`` if ``scale_by_sigma`` else ``scale``
        (a float, or an array of shape (p,) for per-coefficient scales)."""
        if self.scale_by_sigma:
            return self.scale * check_positive(sigma, "sigma")
        return self.scale

    def with_scale(self, scale: float | np.ndarray) -> Prior:
        """A copy of this prior with another scale (a float, or one per coefficient)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.scale = _check_scale(scale, type(self))
        return new

    def check_size(self, n_coefs: int, owner: str) -> None:
        """Raise unless a per-coefficient scale has one entry per coefficient of ``owner``."""
        if np.ndim(self.scale) == 1 and self.scale.size != n_coefs:
            raise ValueError(
                f"The 'scale' of {self!r} has {self.scale.size} entries (one per coefficient) "
                f"but {owner} has {n_coefs} coefficients; give {n_coefs} scales or one float."
            )

    def __repr__(self) -> str:
        extra = ", scale_by_sigma=True" if self.scale_by_sigma else ""
        return f"{type(self).__name__}(scale={_scale_repr(self.scale)}{extra})"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other) or self.__dict__.keys() != other.__dict__.keys():
            return False
        return all(_same(v, other.__dict__[k]) for k, v in self.__dict__.items())

    def __hash__(self) -> int:
        items = sorted((k, _hashable(v)) for k, v in self.__dict__.items())
        return hash((type(self).__name__, tuple(items)))

    # -- capabilities ----------------------------------------------------------------------
    def elastic_coefs(self, sigma: float = 1.0) -> tuple[float, float] | None:
        """(a, c) such that the penalty is ``a ||w||_1 + c ||w||_2^2 / 2``, or None.

        Priors of this form get the working-set solver, the closed form (a = 0), the static
        numba kernels and the scikit-learn verification rows; each coefficient's density is then
        ``exp(-a |w_j| - c w_j^2 / 2) / Z`` with ``log Z = elastic_log_normalizer(a, c)``.
        """
        return None

    def kkt_residual(self, w: np.ndarray, g_w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """dist(-g_w, subdifferential of the penalty at w) per coefficient, shape (p,).

        ``g_w`` is the gradient of the smooth rest of the objective; the residual is zero
        exactly at a stationary point. Closed form for elastic-form penalties; otherwise the
        prox-gradient mapping with unit step ``|w - prox(w - g_w, 1)|``, zero at the same points.
        """
        w = np.asarray(w, dtype=np.float64)
        g_w = np.asarray(g_w, dtype=np.float64)
        coefs = self.elastic_coefs(sigma)
        if coefs is None:
            return np.abs(w - self.prox(w - g_w, 1.0, sigma))
        a, c = coefs
        r = g_w + c * w
        return np.where(w != 0, np.abs(r + a * np.sign(w)), np.maximum(np.abs(r) - a, 0.0))

    def require_map(self, what: str = "MAP estimate") -> None:
        """Raise :class:`MapUndefinedError` (naming ``what``) when the prior has no MAP."""
        if not self.has_map:
            raise MapUndefinedError(
                f"{self!r} has no {what}: its density is unbounded at w = 0 "
                "(-log p(w) -> -inf as any w_j -> 0), so the MAP does not exist and there is no "
                "penalized-optimization counterpart. Sample the posterior instead "
                "(fit_method='sample' / bayesreg.sample_posterior)."
            )

    # -- numpy side ------------------------------------------------------------------------
    @abstractmethod
    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        """Sum over coefficients of log p(w_j), normalized."""

    @abstractmethod
    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        """The w-dependent part of -log p(w): ``-logpdf(w) - const``."""

    @abstractmethod
    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """Gradient of :meth:`penalty` (for non-smooth priors: a subgradient, 0 at 0)."""

    @abstractmethod
    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        """Proximal operator ``argmin_u step * penalty(u) + ||u - v||^2 / 2`` (exact)."""

    # -- PyMC side -------------------------------------------------------------------------
    def pymc_scale(self, scale: pt.TensorLike, sigma: pt.TensorLike | None) -> pt.TensorVariable:
        """The effective scale as a PyTensor expression of the ``prior_scale`` data and sigma."""
        if self.scale_by_sigma:
            if sigma is None:
                raise ValueError(f"{self!r} has scale_by_sigma=True but the model has no sigma.")
            return scale * sigma
        return pt.as_tensor_variable(scale)

    @abstractmethod
    def to_pymc(
        self,
        name: str,
        scale: pt.TensorLike,
        sigma: pt.TensorLike | None = None,
        dims: str = "feature",
    ) -> pt.TensorVariable:
        """Create the weights' random variable inside the current ``pm.Model`` context.

        ``scale`` is the (shared) ``prior_scale`` data, so the graph does not change when the
        scale does; ``sigma`` is the noise sd (random variable or data), used when
        ``scale_by_sigma`` is True.
        """


class Gaussian(Prior):
    """Gaussian prior w_j ~ N(0, tau^2), tau = scale (times sigma if ``scale_by_sigma``).

    Penalty ``||w||^2 / (2 tau^2)``: L2 / ridge / weight decay. Its prox is the shrinkage
    ``v / (1 + step / tau^2)``.
    """

    name = "gaussian"
    per_coefficient_scale = True

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        tau = self.effective_scale(sigma)
        w = np.asarray(w, dtype=np.float64)
        log_norm = _per_coef_sum(np.log(tau), w.size) + w.size * 0.5 * np.log(2 * np.pi)
        return float(-0.5 * np.sum(w**2 / tau**2) - log_norm)

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        tau = self.effective_scale(sigma)
        return float(0.5 * np.sum(np.asarray(w, dtype=np.float64) ** 2 / tau**2))

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        return np.asarray(w, dtype=np.float64) / self.effective_scale(sigma) ** 2

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        tau = self.effective_scale(sigma)
        return np.asarray(v, dtype=np.float64) / (1.0 + step / tau**2)

    def elastic_coefs(self, sigma: float = 1.0) -> tuple[float, float | np.ndarray]:
        return 0.0, 1.0 / self.effective_scale(sigma) ** 2

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        return pm.Normal(name, mu=0.0, sigma=self.pymc_scale(scale, sigma), dims=dims)


class Laplace(Prior):
    """Laplace prior w_j ~ Laplace(0, b), b = scale (times sigma if ``scale_by_sigma``).

    Penalty ``||w||_1 / b``: L1 / lasso. Not differentiable at 0; its prox is soft-thresholding
    at ``step / b``, which is where exact zeros come from.
    """

    name = "laplace"
    is_smooth = False
    per_coefficient_scale = True

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        b = self.effective_scale(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(-np.sum(np.abs(w) / b) - _per_coef_sum(np.log(2 * b), w.size))

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        b = self.effective_scale(sigma)
        return float(np.sum(np.abs(np.asarray(w, dtype=np.float64)) / b))

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        return np.sign(np.asarray(w, dtype=np.float64)) / self.effective_scale(sigma)

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        return soft_threshold(v, step / self.effective_scale(sigma))

    def elastic_coefs(self, sigma: float = 1.0) -> tuple[float | np.ndarray, float]:
        return 1.0 / self.effective_scale(sigma), 0.0

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        return pm.Laplace(name, mu=0.0, b=self.pymc_scale(scale, sigma), dims=dims)


def elastic_log_normalizer(a: float | np.ndarray, c: float | np.ndarray) -> float | np.ndarray:
    """log of Z = int exp(-a|w| - c w^2/2) dw (a, c >= 0, not both 0), elementwise.

    A float for scalar ``a`` and ``c``; otherwise an array of their broadcast shape (one
    constant per coefficient).
    """
    a_arr, c_arr = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(c, np.float64))
    quad = c_arr > 0.0
    safe_c = np.where(quad, c_arr, 1.0)
    safe_a = np.where(a_arr > 0.0, a_arr, 1.0)
    # Z = 2 sqrt(pi/(2c)) exp(a^2/(2c)) erfc(a/sqrt(2c)); erfcx keeps it finite for large a.
    gaussian_part = (
        np.log(2.0)
        + 0.5 * np.log(np.pi / (2.0 * safe_c))
        + np.log(special.erfcx(a_arr / np.sqrt(2.0 * safe_c)))
    )
    out = np.where(quad, gaussian_part, np.log(2.0 / safe_a))
    return float(out) if out.ndim == 0 else out


class ElasticNet(Prior):
    """Elastic-net prior: p(w_j) ∝ exp(-(rho |w_j| + (1 - rho) w_j^2 / 2) / scale).

    This is the glmnet / scikit-learn penalty ``lam * (rho ||w||_1 + (1-rho)/2 ||w||_2^2)`` with
    ``lam = 1 / scale`` and ``rho = l1_ratio``. ``l1_ratio=1`` is ``Laplace(scale)``;
    ``l1_ratio=0`` is ``Gaussian(sqrt(scale))``. The density is normalized exactly
    (Z = 2 sqrt(pi/2c) exp(a^2/2c) erfc(a/sqrt(2c)), a = rho/scale, c = (1-rho)/scale).
    """

    name = "elasticnet"
    is_smooth = False
    per_coefficient_scale = True

    def __init__(
        self,
        scale: float | np.ndarray = 1.0,
        l1_ratio: float = 0.5,
        *,
        scale_by_sigma: bool = False,
    ):
        super().__init__(scale)
        if scale_by_sigma:
            raise ValueError(
                "ElasticNet does not support scale_by_sigma=True: its two terms scale differently "
                "with sigma. Use scale_by_sigma=False."
            )
        self.l1_ratio = check_probability(l1_ratio, "l1_ratio", "ElasticNet")

    def __repr__(self) -> str:
        return f"ElasticNet(scale={_scale_repr(self.scale)}, l1_ratio={self.l1_ratio!r})"

    def elastic_coefs(self, sigma: float = 1.0) -> tuple[float | np.ndarray, float | np.ndarray]:
        lam = 1.0 / self.effective_scale(sigma)
        return lam * self.l1_ratio, lam * (1.0 - self.l1_ratio)

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        a, c = self.elastic_coefs(sigma)
        w = np.asarray(w, dtype=np.float64)
        log_z = _per_coef_sum(elastic_log_normalizer(a, c), w.size)
        return float(-self.penalty(w, sigma) - log_z)

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        a, c = self.elastic_coefs(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(np.sum(a * np.abs(w)) + 0.5 * np.sum(c * w**2))

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        a, c = self.elastic_coefs(sigma)
        w = np.asarray(w, dtype=np.float64)
        return a * np.sign(w) + c * w

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        a, c = self.elastic_coefs(sigma)
        return soft_threshold(v, step * a) / (1.0 + step * c)

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        rho = self.l1_ratio
        lam = 1.0 / self.pymc_scale(scale, sigma)

        def logp(value, lam_):
            a, c = lam_ * rho, lam_ * (1.0 - rho)
            if rho == 1.0:
                log_z = pt.log(2.0 / a)
            else:
                log_z = (
                    pt.log(2.0)
                    + 0.5 * pt.log(np.pi / (2.0 * c))
                    + pt.log(pt.erfcx(a / pt.sqrt(2.0 * c)))
                )
            return -a * pt.abs(value) - 0.5 * c * value**2 - log_z

        return pm.CustomDist(name, lam, logp=logp, dims=dims)


# -- horseshoe priors (Carvalho, Polson & Scott 2010; Piironen & Vehtari 2017) ------------------
#
# Their densities are unbounded at w = 0 (the spike that makes them shrink noise to zero), so the
# MAP does not exist: -log p(w) -> -inf as any w_j -> 0. They are for sampling only; anything
# that needs a penalty gradient or prox raises ``MapUndefinedError`` with the reason.

_HALF_LOG_2PI3 = 0.5 * np.log(2.0 * np.pi**3)


class MapUndefinedError(ValueError):
    """Raised when a MAP-style operation is requested for a prior with ``has_map = False``."""


def _log_exp_e1(u: np.ndarray) -> np.ndarray:
    """log(e^u E1(u)) for u > 0, stable for large u (E1 underflows past u ~ 700).

    Above u = 50 the asymptotic series e^u E1(u) = (1/u) sum_k (-1)^k k! / u^k with 10 terms
    has error below 11!/50^11 ~ 1e-11 (relative).
    """
    u = np.asarray(u, dtype=np.float64)
    out = np.empty_like(u)
    small = u <= 50.0
    us = u[small]
    out[small] = us + np.log(special.exp1(us))
    ul = u[~small]
    series = np.zeros_like(ul)
    term = np.ones_like(ul)
    for k in range(11):
        series += term
        term = -term * (k + 1) / ul
    out[~small] = np.log(series) - np.log(ul)
    return out


def horseshoe_conditional_logpdf(w: np.ndarray, tau: float | np.ndarray) -> np.ndarray:
    """log p(w_j | tau) of the horseshoe with lambda_j ~ C+(0, 1) integrated out, elementwise.

    Closed form (Carvalho, Polson & Scott 2010, with theta = w / tau):
    ``p(w | tau) = exp(u) E1(u) / (tau sqrt(2 pi^3))``, ``u = w^2 / (2 tau^2)``.
    +inf at w = 0. ``w`` and ``tau`` broadcast.
    """
    w = np.asarray(w, dtype=np.float64)
    tau = np.asarray(tau, dtype=np.float64)
    u = np.broadcast_to(0.5 * w**2 / tau**2, np.broadcast_shapes(w.shape, tau.shape))
    out = np.full(u.shape, np.inf)
    pos = u > 0
    out[pos] = _log_exp_e1(u[pos])
    return out - np.log(tau) - _HALF_LOG_2PI3


def _log_half_cauchy_in_log(s: np.ndarray) -> np.ndarray:
    """Log-density of s = log t for t ~ C+(0, 1): 1 / (pi cosh s)."""
    return -np.log(np.pi) - (np.logaddexp(s, -s) - np.log(2.0))


def _log_inv_gamma_in_log(x: np.ndarray, a: float, b: float) -> np.ndarray:
    """Log-density of x = log v for v ~ InvGamma(a, b)."""
    return a * np.log(b) - special.gammaln(a) - a * x - b * np.exp(-x)


def _trapezoid_logsumexp(logf: np.ndarray, step: float, axis: int = 0) -> np.ndarray:
    """log of the trapezoid rule on a uniform grid wide enough that the ends are negligible.

    The integrands below, written in log-scale variables, are analytic and decay exponentially
    at both ends, so the plain trapezoid rule converges geometrically in 1/step.
    """
    return special.logsumexp(logf, axis=axis) + np.log(step)


class Horseshoe(Prior):
    """Horseshoe prior (Carvalho, Polson & Scott 2010), written non-centred.

    ``w_j = z_j * lambda_j * tau`` with ``z_j ~ N(0, 1)``, ``lambda_j ~ C+(0, 1)`` (local scales)
    and ``tau = tau0 * t``, ``t ~ C+(0, 1)`` (global scale ``tau ~ C+(0, tau0)``), where
    ``tau0 = scale`` (times sigma if ``scale_by_sigma``). Use
    :meth:`from_expected_nonzeros` to set tau0 from a guess of the number of non-zero weights.

    Why non-centred: in the centred form ``w_j ~ N(0, lambda_j^2 tau^2)`` the posterior of
    (w_j, log lambda_j, log tau) is a funnel, and NUTS diverges at its neck; sampling
    (z, log lambda, log t) instead gives a-priori independent coordinates. PyMC variables
    ``{name}_z``, ``{name}_lambda``, ``{name}_tau_raw``; deterministics ``{name}_tau`` and
    ``{name}``.

    Sampling: with a Gaussian likelihood ``sample_posterior`` integrates w out
    (``bayesreg.sampling.collapsed``): NUTS samples (log lambda, log tau, [log c^2], log sigma) from
    their marginal posterior and each w is drawn from its Gaussian conditional. That removes
    the funnel that the non-centred graph still has for null coefficients, where the data pin
    w_j = z_j tau lambda_j near 0: on ``benchmarks/bench_horseshoe.py`` (n=1000, p=100) the
    collapsed graph gives 0 divergences at target_accept 0.9 and mean tree depth 4, and 4.9x
    the ESS/s of the non-centred one, which needs 0.995 and depth 8 and still diverged in some
    runs (2 in 4000 draws; 11 in 2000 for a plain horseshoe on the n=100 test problem). The non-centred graph
    (``collapse=False``, or a Bernoulli likelihood) runs at ``default_target_accept``.
    ``bayesreg.diagnostics.diagnose`` reports any divergences.

    The density is unbounded at w_j = 0, so there is no MAP (``has_map = False``): a MAP request,
    a penalty gradient or a prox raises :class:`MapUndefinedError`. ``logpdf`` is the exact
    marginal density (tau integrated by quadrature), +inf if some w_j is exactly 0.
    """

    name = "horseshoe"
    is_smooth = False
    has_map = False
    collapsible = True
    #: NUTS target acceptance that ``sample_posterior`` uses for this prior's non-centred graph
    #: unless the caller passes ``target_accept``: even non-centred, the posterior of (log lambda_j, log tau)
    #: near w_j = 0 is sharply curved, and the usual 0.8 leaves divergences (measured with
    #: nutpie and PyMC; brms and rstanarm recommend adapt_delta >= 0.99 for horseshoe priors;
    #: 0.995 measured fewer divergences than 0.99 on benchmarks/bench_horseshoe.py)
    default_target_accept = 0.995

    @staticmethod
    def global_scale(
        n_nonzero: float, n_features: int, n_samples: int, sigma: float = 1.0
    ) -> float:
        """Piironen & Vehtari's (2017, eq. 3.12) tau0 = p0 / (p - p0) * sigma / sqrt(n).

        The prior guess of the number of relevant features p0 becomes the global scale for which
        the prior's effective number of non-zeros ``m_eff`` is centred near p0.
        """
        p = int(n_features)
        n = int(n_samples)
        if p < 2 or n < 1:
            raise ValueError(f"need n_features >= 2 and n_samples >= 1; got p={p!r}, n={n!r}.")
        p0 = float(n_nonzero)
        if not 0.0 < p0 < p:
            raise ValueError(
                f"The 'n_nonzero' parameter must be a float in the range (0, n_features={p}). "
                f"Got {n_nonzero!r} instead."
            )
        return p0 / (p - p0) * check_positive(sigma, "sigma") / np.sqrt(n)

    @classmethod
    def from_expected_nonzeros(
        cls,
        n_nonzero: float,
        n_features: int,
        n_samples: int,
        *,
        pseudo_sigma: float | None = None,
        **kwargs,
    ) -> Horseshoe:
        """The prior with tau0 = p0 / (p - p0) * sigma / sqrt(n) (Piironen & Vehtari 2017).

        With ``pseudo_sigma=None`` (Gaussian likelihood) the prior is ``scale_by_sigma=True``
        with ``scale = p0 / (p - p0) / sqrt(n)``, so tau0 follows the model's sigma. For a
        Bernoulli likelihood pass a pseudo-sigma (Piironen & Vehtari suggest 2 for logistic
        regression, 1 / sqrt(mu (1 - mu)) at mu = 1/2).
        """
        if pseudo_sigma is None:
            scale = cls.global_scale(n_nonzero, n_features, n_samples, 1.0)
            return cls(scale, scale_by_sigma=True, **kwargs)
        scale = cls.global_scale(n_nonzero, n_features, n_samples, pseudo_sigma)
        return cls(scale, scale_by_sigma=False, **kwargs)

    # -- numpy side ------------------------------------------------------------------------
    #: log-scale quadrature grid for the global scale t (tau = tau0 t): ends decay like e^-40
    _GRID = np.arange(-40.0, 40.0 + 1e-9, 0.05)

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        w = np.atleast_1d(np.asarray(w, dtype=np.float64)).ravel()
        if np.any(w == 0.0):
            return float(np.inf)
        tau0 = self.effective_scale(sigma)
        s = self._GRID
        cond = horseshoe_conditional_logpdf(w[None, :], tau0 * np.exp(s)[:, None]).sum(axis=1)
        return float(_trapezoid_logsumexp(_log_half_cauchy_in_log(s) + cond, s[1] - s[0]))

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        """``-logpdf(w)``: not separable over coefficients, and -inf at any w_j = 0."""
        return -self.logpdf(w, sigma)

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        self.require_map("penalty gradient for MAP solvers")

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        self.require_map("proximal operator")

    # -- PyMC side -------------------------------------------------------------------------
    @staticmethod
    def _half_cauchy(name: str, dims: str | None = None) -> pt.TensorVariable:
        """C+(0, 1), sampled on the log scale by PyMC.

        Piironen & Vehtari's alternative ``|N(0,1)| * sqrt(InvGamma(1/2, 1/2))`` was tried and
        diverged more often with PyMC's NUTS on our test problems (2-9 vs 0-1 divergences).
        """
        kw = {} if dims is None else {"dims": dims}
        return pm.HalfCauchy(name, beta=1.0, **kw)

    def _global(self, name: str, scale, sigma) -> pt.TensorVariable:
        # tau = tau0 * t with t ~ C+(0, 1): the sampled variables do not depend on the scale,
        # so changing prior_scale (pm.Data) never changes the sampler's geometry.
        t = self._half_cauchy(f"{name}_tau_raw")
        return pm.Deterministic(f"{name}_tau", self.pymc_scale(scale, sigma) * t)

    def pymc_prior_sd(self, name, scale, sigma=None, dims="feature") -> pt.TensorVariable:
        """The hyperprior variables, and the conditional prior sd of w given them.

        ``w_j | hyperparameters ~ N(0, sd_j^2)`` with ``sd_j = tau * lambda_j``. Creates
        ``{name}_tau_raw``, ``{name}_tau`` and ``{name}_lambda`` in the current PyMC model but not
        ``{name}_z``: ``to_pymc`` adds it; the collapsed sampler (``bayesreg.sampling.collapsed``)
        integrates w out instead.
        """
        tau = self._global(name, scale, sigma)
        lam = self._half_cauchy(f"{name}_lambda", dims)
        return tau * lam

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        sd = self.pymc_prior_sd(name, scale, sigma, dims)
        z = pm.Normal(f"{name}_z", mu=0.0, sigma=1.0, dims=dims)
        return pm.Deterministic(name, z * sd, dims=dims)


class RegularizedHorseshoe(Horseshoe):
    """Regularized horseshoe (Piironen & Vehtari 2017, "the Finnish horseshoe"), non-centred.

    ``w_j = z_j * tau * lambda_tilde_j`` with
    ``lambda_tilde_j^2 = c^2 lambda_j^2 / (c^2 + tau^2 lambda_j^2)``, ``z_j ~ N(0, 1)``,
    ``lambda_j ~ C+(0, 1)``, ``tau ~ C+(0, tau0)``, and the slab ``c^2 ~ InvGamma(nu/2,
    nu s^2/2)`` (``s = slab_scale``, ``nu = slab_df``; marginally a Student-t_nu(0, s) slab).
    Small coefficients are shrunk like the horseshoe; large ones like a Gaussian N(0, c^2),
    which keeps them (and the posterior geometry) finite when the data are weakly identifying.
    ``tau0 = scale`` (times sigma if ``scale_by_sigma``); see :meth:`from_expected_nonzeros`.

    Parameters
    ----------
    scale : float
        tau0, the global scale's half-Cauchy scale.
    slab_scale : float, default 2.0
        s, the scale of the slab (in units of w), brms's default.
    slab_df : float, default 4.0
        nu, the slab's degrees of freedom, brms's default.
    scale_by_sigma : bool, default False
        tau0 = scale * sigma. The slab is not scaled by sigma (it is in units of w).
    """

    name = "regularized_horseshoe"

    def __init__(
        self,
        scale: float = 1.0,
        *,
        slab_scale: float = 2.0,
        slab_df: float = 4.0,
        scale_by_sigma: bool = False,
    ) -> None:
        super().__init__(scale, scale_by_sigma=scale_by_sigma)
        self.slab_scale = check_positive(slab_scale, "slab_scale", "RegularizedHorseshoe")
        self.slab_df = check_positive(slab_df, "slab_df", "RegularizedHorseshoe")

    def __repr__(self) -> str:
        extra = ", scale_by_sigma=True" if self.scale_by_sigma else ""
        return (
            f"RegularizedHorseshoe(scale={self.scale!r}, slab_scale={self.slab_scale!r}, "
            f"slab_df={self.slab_df!r}{extra})"
        )

    #: log-scale quadrature step for the three nested integrals (tau, c^2, lambda_j)
    _STEP = 0.1

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        """Exact marginal log-density, by quadrature over (tau, c^2, lambda_j).

        The prior variance of w_j given (tau, c, lambda_j) depends on tau and lambda_j only
        through r = log(tau lambda_j), so the lambda-integral for every tau on the grid is one
        discrete convolution in log space (a matrix product), done once per value of c^2.
        """
        w = np.atleast_1d(np.asarray(w, dtype=np.float64)).ravel()
        if np.any(w == 0.0):
            return float(np.inf)
        tau0 = self.effective_scale(sigma)
        h = self._STEP
        a = 0.5 * self.slab_df
        # x = log v, v = c^2 / s^2 ~ InvGamma(a, a): tails decay like e^{-a x} and e^{-a e^{-x}}
        xs = np.arange(np.log(a) - 6.0, np.log(a) + 40.0 / a, h)
        log_pc = _log_inv_gamma_in_log(xs, a, a)
        st = np.arange(-30.0, 30.0 + 1e-9, h)  # s = log(tau / tau0), tau / tau0 ~ C+(0, 1)
        rs = np.arange(-60.0, 60.0 + 1e-9, h)  # r - log(tau0) = s + log(lambda_j)
        log_pt = _log_half_cauchy_in_log(st)
        # kernel K[i, k] = density of log(lambda) = rs[k] - st[i], lambda ~ C+(0, 1)
        kernel = np.exp(_log_half_cauchy_in_log(rs[None, :] - st[:, None]))
        tl2 = (tau0 * np.exp(rs)) ** 2  # (tau lambda)^2 on the r grid
        per_c = np.empty(xs.size)
        for i, x in enumerate(xs):
            c2 = self.slab_scale**2 * np.exp(x)
            var = 1.0 / (1.0 / tl2 + 1.0 / c2)  # (R,)
            logn = -0.5 * (np.log(2 * np.pi * var)[:, None] + w[None, :] ** 2 / var[:, None])
            top = logn.max(axis=0)
            with np.errstate(divide="ignore"):
                per_w = np.log(kernel @ np.exp(logn - top)) + top + np.log(h)  # (T, p)
            per_c[i] = _trapezoid_logsumexp(per_w.sum(axis=1) + log_pt, h)
        return float(_trapezoid_logsumexp(per_c + log_pc, h))

    def pymc_prior_sd(self, name, scale, sigma=None, dims="feature") -> pt.TensorVariable:
        """Hyperprior variables (``{name}_c2_aux`` and ``{name}_c2`` too) and ``tau * lambda_tilde``."""
        tau = self._global(name, scale, sigma)
        lam = self._half_cauchy(f"{name}_lambda", dims)
        half_nu = 0.5 * self.slab_df
        # c^2 = s^2 * v, v ~ InvGamma(nu/2, nu/2): the slab scale is a constant, not sampled on
        c2_aux = pm.InverseGamma(f"{name}_c2_aux", alpha=half_nu, beta=half_nu)
        c2 = pm.Deterministic(f"{name}_c2", self.slab_scale**2 * c2_aux)
        lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
        return tau * lam_tilde


def prior_names() -> tuple[str, ...]:
    """The names :func:`prior_from_name` accepts, sorted."""
    return tuple(sorted(_REGISTRY))


def prior_class(name: str) -> type[Prior]:
    """The prior class registered under ``name`` (its ``name`` attribute).

    Raises a ValueError naming the valid names when ``name`` is unknown.
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"The 'prior' parameter must be a str among {list(prior_names())} or a bayesreg "
            f"Prior. Got {name!r} instead."
        )
    return cls


def prior_from_name(name: str, scale: float = 1.0, **kwargs) -> Prior:
    """The prior class registered under ``name`` (:func:`prior_class`), built with ``scale``."""
    return prior_class(name)(scale, **kwargs)


# -- horseshoe+ and grouped priors (Bhadra et al. 2017; Kyung et al. 2010) ---------------------
#
# Added after the name table so that the classes above stay as they are; they register by name
# like every other prior.

__all__ += [
    "GroupLaplace",
    "GroupedHorseshoe",
    "HorseshoePlus",
    "group_index",
    "group_laplace_log_normalizer",
]


def _check_groups(groups: object, owner: str) -> tuple[int, ...]:
    """``groups`` as a tuple of Python ints (one label per coefficient), or a clear ValueError."""
    allowed = (
        f"The 'groups' parameter of {owner} must be a non-empty 1-D sequence of integer group "
        "labels, one per coefficient (e.g. [0, 0, 1, 2, 2])."
    )
    if groups is None or isinstance(groups, str | bytes):
        raise ValueError(f"{allowed} Got {groups!r} instead.")
    try:
        arr = np.asarray(groups)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{allowed} Got {groups!r} instead.") from exc
    if arr.ndim != 1 or arr.size == 0 or arr.dtype == bool:
        raise ValueError(f"{allowed} Got {groups!r} instead.")
    # integers, or floats that are whole numbers (labels read from a float column)
    whole = np.issubdtype(arr.dtype, np.integer) or (
        np.issubdtype(arr.dtype, np.floating)
        and bool(np.all(np.isfinite(arr)))
        and bool(np.all(arr == np.round(arr)))
    )
    if not whole:
        raise ValueError(f"{allowed} Got {groups!r} instead.")
    return tuple(int(g) for g in arr)


@functools.lru_cache(maxsize=64)
def group_index(groups: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(index, sizes)`` of group labels: ``index[j]`` is the group number (0..G-1, labels
    sorted) of coefficient j and ``sizes[g]`` the number of coefficients of group g.

    Cached per labels tuple; the arrays are read-only.
    """
    _, index, sizes = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    index = np.asarray(index, dtype=np.intp).ravel()
    sizes = np.asarray(sizes, dtype=np.float64)
    index.setflags(write=False)
    sizes.setflags(write=False)
    return index, sizes


class _Grouped:
    """Mixin of the grouped priors: the ``groups`` labels and the checks against w and the model."""

    groups: tuple[int, ...]
    needs_groups = True

    @property
    def n_groups(self) -> int:
        """Number of distinct group labels."""
        return int(group_index(self.groups)[1].size)

    def check_n_features(self, p: int) -> None:
        """Raise a ValueError naming ``groups`` unless there is one label per coefficient."""
        if int(p) != len(self.groups):
            raise ValueError(
                f"The 'groups' parameter of {type(self).__name__} has {len(self.groups)} labels "
                f"but the model has {int(p)} coefficients (features): give one group label per "
                "coefficient."
            )

    def _vector(self, w: np.ndarray) -> np.ndarray:
        w = np.atleast_1d(np.asarray(w, dtype=np.float64))
        if w.ndim != 1:
            raise ValueError(f"{type(self).__name__} takes a 1-D weight vector; got {w.shape}.")
        self.check_n_features(w.size)
        return w

    def _model_features(self, dims: str) -> int:
        """The length of the ``dims`` coordinate of the PyMC model being built, checked."""
        p = len(pm.modelcontext(None).coords[dims])
        self.check_n_features(p)
        return p

    def _groups_repr(self) -> str:
        return f"groups={list(self.groups)!r}"


def _log_horseshoe_plus_local_in_log(s: np.ndarray) -> np.ndarray:
    """Log-density of s = log lambda for the horseshoe+ local scale lambda = eta * nu.

    With eta, nu iid C+(0, 1), ``p(lambda) = 4 log(lambda) / (pi^2 (lambda^2 - 1))`` (Bhadra et
    al. 2017), so ``p(s) = lambda p(lambda) = 2 s / (pi^2 sinh s)`` (2 / pi^2 at s = 0).
    """
    a = np.abs(np.asarray(s, dtype=np.float64))
    big = a > 1e-4
    safe = np.where(big, a, 1.0)
    # log(a / sinh a) = log a - a - log(1 - e^{-2a}) + log 2; -a^2/6 + O(a^4) near 0
    log_ratio = np.where(
        big, np.log(safe) - safe - np.log(-np.expm1(-2.0 * safe)) + np.log(2.0), -(a**2) / 6.0
    )
    return np.log(2.0 / np.pi**2) + log_ratio


def _global_local_logpdf(
    sumsq: np.ndarray, sizes: np.ndarray, tau0: float, log_local: Callable, step: float = 0.1
) -> float:
    """log p(w) of ``w_g | tau, lambda_g ~ N(0, tau^2 lambda_g^2 I)``, ``tau ~ C+(0, tau0)``,
    lambda_g iid with log-scale density ``log_local``, by quadrature over (log tau, log lambda).

    Parameters
    ----------
    sumsq, sizes : ndarray of shape (G,)
        ``||w_g||^2`` and ``|g|`` of each group (each > 0); the prior of a coefficient with its
        own local scale is the case ``sizes = 1``.
    tau0 : float
    log_local : callable
        Log-density of ``log lambda_g``.
    step : float
        Step of the log-scale grids.

    The conditional density of w_g depends on (tau, lambda_g) only through
    ``r = log(tau lambda_g / tau0)``, so the lambda integral at every tau of the grid is one
    discrete convolution in log space (a matrix product); the integrands are analytic and decay
    exponentially at both ends, so the trapezoid rule converges geometrically in 1 / step.
    """
    _, rs, kernel, log_pt = _global_local_grids(log_local, step)
    var = (tau0 * np.exp(rs)) ** 2  # (R,)
    logn = -0.5 * (sizes[None, :] * np.log(2.0 * np.pi * var)[:, None] + sumsq / var[:, None])
    top = logn.max(axis=0)
    with np.errstate(divide="ignore"):
        per_group = np.log(kernel @ np.exp(logn - top)) + top + np.log(step)  # (T, G)
    return float(_trapezoid_logsumexp(per_group.sum(axis=1) + log_pt, step))


@functools.lru_cache(maxsize=8)
def _global_local_grids(log_local: Callable, step: float):
    """The grids of :func:`_global_local_logpdf` (they depend on neither w nor tau0): s = log(tau
    / tau0) (T,), r = log(tau lambda / tau0) (R,), the kernel ``K[i, k] = p(log lambda = r_k -
    s_i)`` (T, R) and ``log p(s)`` of tau / tau0 ~ C+(0, 1); computed once per local density."""
    st = np.arange(-30.0, 30.0 + 1e-9, step)
    rs = np.arange(-60.0, 60.0 + 1e-9, step)
    kernel = np.exp(log_local(rs[None, :] - st[:, None]))
    for a in (st, rs, kernel):
        a.setflags(write=False)
    return st, rs, kernel, _log_half_cauchy_in_log(st)


class HorseshoePlus(Horseshoe):
    """Horseshoe+ prior (Bhadra, Datta, Polson & Willard 2017), written non-centred.

    ``w_j ~ N(0, lambda_j^2 tau^2)``, ``lambda_j ~ C+(0, eta_j)``, ``eta_j ~ C+(0, 1)``,
    ``tau ~ C+(0, tau0)``, ``tau0 = scale`` (times sigma if ``scale_by_sigma``). The extra
    half-Cauchy level makes the local scale ``lambda_j = eta_j nu_j`` (nu_j ~ C+(0, 1)) heavier
    tailed at both ends, ``p(lambda) = 4 log(lambda) / (pi^2 (lambda^2 - 1))``: more mass near
    0 (noise shrunk harder) and heavier tails (signals shrunk less) than the horseshoe.

    Non-centred graph: ``w_j = z_j tau eta_j nu_j`` with PyMC variables ``{name}_z``,
    ``{name}_eta``, ``{name}_lambda_raw`` (nu), ``{name}_tau_raw``; deterministics
    ``{name}_lambda`` (= eta nu, the local scale), ``{name}_tau`` and ``{name}``.
    ``w | (tau, eta, nu)`` is Gaussian, so with a Gaussian likelihood the collapsed sampler
    integrates w out (``collapsible``, :meth:`pymc_prior_sd`). :meth:`from_expected_nonzeros`
    uses the horseshoe's rule for tau0 (Piironen & Vehtari 2017), a rough guide here.

    Like the horseshoe, the density is unbounded at w_j = 0: no MAP (``has_map = False``).
    ``logpdf`` is the exact marginal log-density (tau and each lambda_j integrated by
    quadrature), +inf if some w_j is exactly 0.
    """

    name = "horseshoe_plus"

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        w = np.atleast_1d(np.asarray(w, dtype=np.float64)).ravel()
        if np.any(w == 0.0):
            return float(np.inf)
        return _global_local_logpdf(
            w**2, np.ones(w.size), self.effective_scale(sigma), _log_horseshoe_plus_local_in_log
        )

    def pymc_prior_sd(self, name, scale, sigma=None, dims="feature") -> pt.TensorVariable:
        """Hyperprior variables (``{name}_eta``, ``{name}_lambda_raw``, the global ones) and the
        conditional prior sd ``tau * eta_j * nu_j`` of w_j; ``to_pymc`` adds ``{name}_z``."""
        tau = self._global(name, scale, sigma)
        eta = self._half_cauchy(f"{name}_eta", dims)
        nu = self._half_cauchy(f"{name}_lambda_raw", dims)
        lam = pm.Deterministic(f"{name}_lambda", eta * nu, dims=dims)
        return tau * lam


def group_laplace_log_normalizer(size: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """log Z of ``exp(-rate ||v||_2)`` over R^size, elementwise.

    ``Z = 2 pi^(d/2) Gamma(d) / (Gamma(d/2) a^d)`` (d = size, a = rate): the surface of the unit
    sphere ``2 pi^(d/2) / Gamma(d/2)`` times the radial integral ``Gamma(d) / a^d``; d = 1 gives
    the Laplace's ``2 / a``.
    """
    d = np.asarray(size, dtype=np.float64)
    a = np.asarray(rate, dtype=np.float64)
    return (
        np.log(2.0)
        + 0.5 * d * np.log(np.pi)
        + special.gammaln(d)
        - special.gammaln(0.5 * d)
        - d * np.log(a)
    )


class GroupLaplace(_Grouped, Prior):
    """Group lasso prior: a multivariate Laplace on each group (Kyung, Gill, Ghosh & Casella 2010).

    ``p(w) = prod_g exp(-a_g ||w_g||_2) / Z_g`` with ``a_g = sqrt(|g|) / b``, ``b = scale``
    (times sigma if ``scale_by_sigma``) and ``|g|`` the size of group g (Yuan & Lin's
    sqrt-size weights): penalty ``sum_g sqrt(|g|) ||w_g||_2 / b``. A group of one coefficient is
    ``Laplace(b)``; the whole group is zero or not at the MAP, never part of it.

    Normalized exactly (:func:`group_laplace_log_normalizer`). Gaussian likelihood with noise sd
    sigma: the MAP minimizes ``SSE / (2 n) + alpha sum_g sqrt(|g|) ||w_g||`` with
    ``alpha = sigma^2 / (n b)``, skglm's ``GroupLasso(alpha, weights=sqrt(|g|))``.

    Parameters
    ----------
    scale : float
        b (> 0); larger = weaker penalty.
    groups : sequence of int, shape (p,)
        The group label of each coefficient (any integers; equal labels = one group).
    scale_by_sigma : bool, default False

    The PyMC variable is ``w`` itself with this exact density (``pm.CustomDist``), not Kyung et
    al.'s scale mixture ``w_g | s_g ~ N(0, s_g I)``, ``s_g ~ Gamma((|g|+1)/2, a_g^2/2)``: the
    density is log-concave, so with a log-concave likelihood the posterior is too and NUTS needs
    no latent scales (which would bring back a funnel between s_g and w_g when the data are
    weak); the only non-smooth point, w_g = 0, has measure zero, as for ``Laplace``. It also
    keeps w a value variable, so the graph evaluator of the MAP solvers applies.
    """

    name = "group_lasso"
    is_smooth = False

    def __init__(
        self, scale: float = 1.0, groups: object = None, *, scale_by_sigma: bool = False
    ) -> None:
        super().__init__(scale, scale_by_sigma=scale_by_sigma)
        self.groups = _check_groups(groups, "GroupLaplace")

    def __repr__(self) -> str:
        extra = ", scale_by_sigma=True" if self.scale_by_sigma else ""
        return f"GroupLaplace(scale={self.scale!r}, {self._groups_repr()}{extra})"

    def group_rates(self, sigma: float = 1.0) -> np.ndarray:
        """``a_g = sqrt(|g|) / b`` per group, shape (G,)."""
        return np.sqrt(group_index(self.groups)[1]) / self.effective_scale(sigma)

    def group_lasso_coefs(self, sigma: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """``(index, rates)``: the penalty is ``sum_g rates[g] ||w_g||_2`` with ``index[j]`` the
        group of coefficient j, shape (p,), and ``rates`` shape (G,). The capability that
        group-lasso solvers and verification rows ask (``_capabilities.GROUP_LASSO_PENALTY``)."""
        return group_index(self.groups)[0], self.group_rates(sigma)

    def group_norms(self, w: np.ndarray) -> np.ndarray:
        """``||w_g||_2`` per group, shape (G,)."""
        index, sizes = group_index(self.groups)
        w = self._vector(w)
        return np.sqrt(np.bincount(index, weights=w * w, minlength=sizes.size))

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        rates = self.group_rates(sigma)
        log_z = group_laplace_log_normalizer(group_index(self.groups)[1], rates)
        return float(-rates @ self.group_norms(w) - np.sum(log_z))

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        return float(self.group_rates(sigma) @ self.group_norms(w))

    def _unit_directions(self, w: np.ndarray) -> np.ndarray:
        """``w_g / ||w_g||`` per coefficient (0 on zero groups), shape (p,)."""
        index = group_index(self.groups)[0]
        norms = self.group_norms(w)[index]
        return np.divide(w, norms, out=np.zeros_like(w), where=norms > 0)

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """``a_g w_g / ||w_g||`` (the gradient where w_g != 0; the subgradient 0 on zero groups)."""
        w = self._vector(w)
        return self.group_rates(sigma)[group_index(self.groups)[0]] * self._unit_directions(w)

    def prox(self, v: np.ndarray, step: float | np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """``argmin_u penalty(u) + sum_j (u_j - v_j)^2 / (2 step_j)``, exact.

        A scalar step is the block soft-threshold ``v_g max(0, 1 - step a_g / ||v_g||)``. A
        per-coefficient step (the solvers' rescaled coordinates) is a diagonal metric: u_g = 0
        iff ``||v_g / step_g|| <= a_g``, else ``u_j = v_j r / (r + a_g step_j)`` with r = ||u_g||
        the root of ``sum_j v_j^2 / (r + a_g step_j)^2 = 1`` (convex and decreasing in r, so
        Newton's method from the lower bound ``||v_g|| - a_g max step`` rises monotonically to it).
        """
        v = self._vector(v)
        t = np.broadcast_to(np.asarray(step, dtype=np.float64), v.shape)
        index, sizes = group_index(self.groups)
        rates = self.group_rates(sigma)
        out = np.zeros_like(v)
        for g in range(sizes.size):
            members = index == g
            out[members] = _group_prox(v[members], t[members], rates[g])
        return out

    def kkt_residual(self, w: np.ndarray, g_w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """Per coefficient, the components of ``-g_w`` minus its projection on the group
        subdifferential: ``g_g + a_g w_g / ||w_g||`` where w_g != 0, ``g_g max(0, 1 - a_g /
        ||g_g||)`` on zero groups (the ball of radius a_g). Each group's Euclidean norm is its
        distance to the subdifferential; all are zero exactly at a stationary point."""
        w = self._vector(w)
        g_w = np.asarray(g_w, dtype=np.float64)
        index, sizes = group_index(self.groups)
        rates = self.group_rates(sigma)[index]
        g_norms = np.sqrt(np.bincount(index, weights=g_w * g_w, minlength=sizes.size))[index]
        zero = self.group_norms(w)[index] == 0.0
        ratio = np.divide(rates, g_norms, out=np.ones_like(g_w), where=g_norms > 0)
        shrink = np.maximum(1.0 - ratio, 0.0)
        return np.abs(np.where(zero, g_w * shrink, g_w + rates * self._unit_directions(w)))

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        p = self._model_features(dims)
        index, sizes = group_index(self.groups)
        onehot = np.zeros((sizes.size, p))
        onehot[index, np.arange(p)] = 1.0
        root = np.sqrt(sizes)
        # log Z_g = c_g + |g| log b, c_g the normalizer at b = 1 (rate sqrt(|g|))
        const = float(np.sum(group_laplace_log_normalizer(sizes, root)))
        b = self.pymc_scale(scale, sigma)

        def logp(value, b_, _shape):
            sq = pt.dot(onehot, value**2)
            pos = sq > 0.0
            # ||w_g||, with gradient 0 (not nan) at w_g = 0: sqrt is never evaluated at 0
            norm = pt.switch(pos, pt.sqrt(pt.switch(pos, sq, 1.0)), 0.0)
            return -pt.sum(root * norm) / b_ - const - p * pt.log(b_)

        # the second parameter only carries the core shape (p,) of the support
        return pm.CustomDist(name, b, np.zeros(p), logp=logp, signature="(),(p)->(p)", dims=dims)


def _group_prox(v: np.ndarray, t: np.ndarray, rate: float) -> np.ndarray:
    """``argmin_u rate ||u|| + sum_j (u_j - v_j)^2 / (2 t_j)`` for one group (see
    :meth:`GroupLaplace.prox`)."""
    if np.sqrt(np.sum((v / t) ** 2)) <= rate:
        return np.zeros_like(v)
    lt = rate * t
    if np.all(t == t[0]):
        return v * (1.0 - lt[0] / np.sqrt(v @ v))
    r = max(np.sqrt(v @ v) - float(lt.max()), 0.0)
    for _ in range(200):
        q = v / (r + lt)
        phi = float(q @ q) - 1.0
        dphi = -2.0 * float(q @ (q / (r + lt)))
        r_new = r - phi / dphi
        if not r_new > r * (1.0 + 4.0 * np.finfo(float).eps):
            break
        r = r_new
    return v * (r / (r + lt))


class GroupedHorseshoe(_Grouped, Horseshoe):
    """Grouped horseshoe: one local scale per group (global-local shrinkage of whole groups).

    ``w_j ~ N(0, tau^2 lambda_g^2)`` for j in group g, ``lambda_g ~ C+(0, 1)``,
    ``tau ~ C+(0, tau0)``, ``tau0 = scale`` (times sigma if ``scale_by_sigma``): the dummies of
    one factor (or any user-given group) are shrunk together, strongly when the group is noise.
    A group of one coefficient is the horseshoe's own local scale, so singleton groups give
    :class:`Horseshoe`.

    Non-centred graph: ``w_j = z_j tau lambda_g`` with ``{name}_z``, ``{name}_lambda_group``
    (one per group, labels sorted), ``{name}_tau_raw``; deterministics ``{name}_lambda``
    (lambda_g of each coefficient), ``{name}_tau`` and ``{name}``. Collapsible like the
    horseshoe; no MAP. ``logpdf`` is the exact marginal log-density (tau and each lambda_g
    integrated by quadrature), +inf if a whole group is exactly 0.

    Parameters
    ----------
    scale : float
        tau0.
    groups : sequence of int, shape (p,)
        The group label of each coefficient.
    scale_by_sigma : bool, default False
    """

    name = "grouped_horseshoe"

    def __init__(
        self, scale: float = 1.0, groups: object = None, *, scale_by_sigma: bool = False
    ) -> None:
        super().__init__(scale, scale_by_sigma=scale_by_sigma)
        self.groups = _check_groups(groups, "GroupedHorseshoe")

    def __repr__(self) -> str:
        extra = ", scale_by_sigma=True" if self.scale_by_sigma else ""
        return f"GroupedHorseshoe(scale={self.scale!r}, {self._groups_repr()}{extra})"

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        index, sizes = group_index(self.groups)
        w = self._vector(w)
        sumsq = np.bincount(index, weights=w * w, minlength=sizes.size)
        if np.any(sumsq == 0.0):
            return float(np.inf)
        return _global_local_logpdf(
            sumsq, sizes, self.effective_scale(sigma), _log_half_cauchy_in_log
        )

    def pymc_prior_sd(self, name, scale, sigma=None, dims="feature") -> pt.TensorVariable:
        """Hyperprior variables (``{name}_lambda_group``, the global ones) and the conditional
        prior sd ``tau * lambda_g`` of each w_j; ``to_pymc`` adds ``{name}_z``."""
        self._model_features(dims)
        index, sizes = group_index(self.groups)
        tau = self._global(name, scale, sigma)
        lam_group = pm.HalfCauchy(f"{name}_lambda_group", beta=1.0, shape=sizes.size)
        lam = pm.Deterministic(f"{name}_lambda", lam_group[index], dims=dims)
        return tau * lam
