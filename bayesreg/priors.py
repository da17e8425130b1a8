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

from abc import ABC, abstractmethod
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


def prior_from_name(name: str, scale: float = 1.0, **kwargs) -> Prior:
    """The prior class registered under ``name`` (its ``name`` attribute), built with ``scale``.

    Raises a ValueError naming the valid names when ``name`` is unknown.
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"The 'prior' parameter must be a str among {list(prior_names())} or a bayesreg "
            f"Prior. Got {name!r} instead."
        )
    return cls(scale, **kwargs)
