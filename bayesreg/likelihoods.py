"""Likelihoods, read as data-fit losses J0.

The linear predictor is ``eta = X w + b`` (n,). The negative log-likelihood is, up to a constant,

* ``GaussianLikelihood``: ``J0 = SSE / (2 sigma^2)``, SSE = ||y - eta||^2 (squared error);
* ``StudentTLikelihood``: ``J0 = (nu + 1) / 2 sum log(1 + r^2 / (nu sigma^2))``, r = y - eta
  (robust regression: the loss grows like log |r|); nu known, or estimated (``nu=None``) with
  the prior ``nu ~ Gamma(2, 0.1)``;
* ``BernoulliLikelihood``: ``J0 = -sum[y log p + (1 - y) log(1 - p)]``, p = sigmoid(eta)
  (cross-entropy, the seed's J0 for classification);
* ``PoissonLikelihood``: ``J0 = sum[exp(eta) - y eta]`` (log link; counts);
* ``NegativeBinomialLikelihood``: ``J0 = sum[(y + r) log(r + e^eta) - y eta]``, r = 1 / alpha
  (over-dispersed counts, Var = mu + alpha mu^2; alpha = 1 is the geometric); alpha known, or
  estimated (``alpha=None``) with the prior ``sqrt(alpha) ~ HalfNormal(1)``;
* ``LaplaceLikelihood``: ``J0 = sum |r| / sigma`` (least absolute deviations; not smooth).

Each offers the loss, its gradient with respect to eta (chain rule gives w and b), a Lipschitz
bound of the gradient with respect to (w, b) for step sizes, the full numpy log-likelihood and
the PyMC observed variable.

**Estimated shape parameters.** A likelihood may declare positive parameters besides eta and
sigma that are estimated rather than known (:attr:`Likelihood.estimated_shapes`, each a
:class:`ShapeParameter`: its name and Gamma prior). The model graph makes each a free variable
(sampled as ``log`` of it), passes it to :meth:`Likelihood.to_pymc` through :meth:`Likelihood.at`,
and the numpy consumers (pointwise log-likelihood, predictive draws and variances) take the
likelihood ``at`` each posterior draw's values, arrays of shape (chain, draw, 1) that broadcast
against eta (chain, draw, n). Without a value its numpy methods raise, naming :meth:`at`.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import optimize, special

from bayesreg._lazy import lazy_module
from bayesreg._validation import check_binary_labels, check_positive

# PyMC and PyTensor load when a model graph is first built (to_pymc), not at import
pm = lazy_module("pymc")
pt = lazy_module("pytensor.tensor")

__all__ = [
    "BernoulliLikelihood",
    "GaussianLikelihood",
    "LaplaceLikelihood",
    "Likelihood",
    "NegativeBinomialLikelihood",
    "PoissonLikelihood",
    "ScaleLikelihood",
    "ShapeParameter",
    "StudentTLikelihood",
    "design_lipschitz",
    "likelihood_from_name",
    "likelihood_names",
]

#: every concrete likelihood class with a ``name``, filled by ``Likelihood.__init_subclass__``
_REGISTRY: dict[str, type[Likelihood]] = {}


def design_lipschitz(X: np.ndarray, fit_intercept: bool = True) -> float:
    """Largest eigenvalue of Z'Z, Z = [X, 1] (or X): the Lipschitz constant of grad SSE/2."""
    X = np.asarray(X, dtype=np.float64)
    Z = np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X
    return float(np.linalg.norm(Z, ord=2) ** 2)


@dataclass(frozen=True)
class ShapeParameter:
    """A positive likelihood parameter estimated with a Gamma prior (Student-t's nu, the
    negative binomial's alpha).

    ``p(theta) = b^a theta^(a - 1) exp(-b theta) / Gamma(a)`` for ``theta > 0`` (shape ``a``,
    rate ``b``; scipy's ``gamma(a, scale=1 / b)``, PyMC's ``Gamma(alpha=a, beta=b)``). In the
    model graph it is the free variable ``name``, sampled on the log scale (PyMC's default
    transform for a positive variable: value variable ``{name}_log__``, with its log-Jacobian
    ``log theta`` in the sampled density); the posterior keeps it under ``name``.

    Attributes
    ----------
    name : str
        The variable's name in the graph and the posterior, and the likelihood's attribute
        (constructor argument) that :meth:`Likelihood.at` sets.
    shape, rate : float
        The Gamma prior's shape ``a`` and rate ``b``.
    """

    name: str
    shape: float
    rate: float

    def logpdf(self, value: Any) -> np.ndarray:
        """log p(value) under the prior, elementwise (numpy): ``a log b - log Gamma(a) +
        (a - 1) log value - b value``."""
        v = np.asarray(value, dtype=np.float64)
        a, b = self.shape, self.rate
        return a * np.log(b) - special.gammaln(a) + (a - 1.0) * np.log(v) - b * v

    def to_pymc(self) -> pt.TensorVariable:
        """The free variable, inside the current ``pm.Model`` context."""
        return pm.Gamma(self.name, alpha=self.shape, beta=self.rate)

    def __str__(self) -> str:
        return f"{self.name} ~ Gamma({self.shape:g}, {self.rate:g})"


def _known_or_estimated(value: object, name: str, owner: str) -> float | None:
    """``None`` (estimated), else ``value`` as a float > 0; raise naming ``name`` otherwise."""
    if value is None:
        return None
    try:
        return check_positive(value, name, owner)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc} Or None: {name} is then estimated with its prior.") from None


class Likelihood(ABC):
    """A data-fit loss J0(eta; y) = -log p(y | eta) + const.

    Capabilities (class attributes that solvers, samplers and verification rows ask instead of
    the class): ``has_sigma`` (a noise scale sigma exists: known, or estimated with a
    HalfNormal prior, see :meth:`resolved_sigma_prior_scale`), ``quadratic`` (J0 is quadratic
    in eta: closed-form ridge, Gram-matrix working sets, sufficient statistics),
    ``kernel`` (the id of its static numba log-density kernel, or None) and
    ``sklearn_loss`` (the scikit-learn loss whose penalized solvers share its MAP, or None),
    ``is_smooth`` (J0 is twice differentiable in eta: the gradient-based MAP solvers apply),
    ``curvature_bound`` (``inf`` when the curvature is unbounded: no fixed step size is safe),
    :meth:`linear_pieces` (J0 is piecewise linear in the residual: an LP gives its MAP) and
    :attr:`estimated_shapes` (shape parameters with a prior, such as Student-t's ``nu=None``:
    the model graph samples them; the MAP solvers and the static kernels refuse them).
    """

    name: ClassVar[str] = "likelihood"
    #: True when the model has a noise scale sigma (a free parameter or a known constant)
    has_sigma: ClassVar[bool] = False
    #: True when J0 is a quadratic function of eta (the curvature is 1/sigma^2 everywhere)
    quadratic: ClassVar[bool] = False
    #: id of the static numba kernel of ``bayesreg._fastlogp`` that evaluates it, or None
    kernel: ClassVar[str | None] = None
    #: scikit-learn loss with the same MAP ("squared_error", "log_loss"), or None
    sklearn_loss: ClassVar[str | None] = None
    #: dtype of the observed data in the PyMC graph (integers for discrete targets)
    observed_dtype: ClassVar[str] = "float64"
    #: True when p(y | eta) depends on y - eta only (a location family): solvers may then
    #: shift y and eta by the same constant (e.g. mean(y)) to avoid cancellation
    location_family: ClassVar[bool] = False
    #: True when J0 is twice continuously differentiable in eta (L-BFGS, proximal gradient and
    #: Newton's method apply); False for a kinked loss such as the absolute error
    is_smooth: ClassVar[bool] = True
    #: True when y is a class label (the classifier facade takes it, the regressor refuses it)
    classifier: ClassVar[bool] = False
    #: True when :meth:`dlogpdf_dlogshape` is implemented (the joint MAP over a shape)
    shape_gradients: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and not getattr(cls, "__abstractmethods__", None):
            _REGISTRY[cls.name] = cls

    def __eq__(self, other: object) -> bool:
        """Same class and same constructor arguments (likelihoods are plain values)."""
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, *sorted(self.__dict__.items())))

    @property
    def estimates_sigma(self) -> bool:
        """True when sigma is a free parameter (has a prior) rather than known."""
        return self.has_sigma and self.fixed_sigma is None

    @property
    def fixed_sigma(self) -> float | None:
        """The known noise scale, or None (estimated, or no sigma at all)."""
        return None

    @property
    def estimated_shapes(self) -> tuple[ShapeParameter, ...]:
        """The shape parameters estimated with a prior (empty when every one is known)."""
        return ()

    def at(self, **values: Any) -> Likelihood:
        """This likelihood with its estimated shape parameters set to ``values``.

        Each value may be a float, an array (one per posterior draw, shaped to broadcast
        against eta: ``(chain, draw, 1)``) or a PyTensor variable (the model graph's free
        variable, for :meth:`to_pymc`). The copy has no estimated shapes left; this one is not
        changed.
        """
        allowed = [s.name for s in self.estimated_shapes]
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise ValueError(
                f"The shape parameters {unknown} passed to {self!r}.at are not estimated by "
                f"it; allowed: {allowed}."
            )
        new = copy.copy(self)
        new.__dict__.update(values)
        return new

    def _shape_value(self, name: str) -> Any:
        """The value of shape parameter ``name``; raise when it is estimated and unbound."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(
                f"{self!r} estimates {name} (it has a prior): its numpy density, moments and "
                f"draws need a value. Take them at a posterior draw: .at({name}=...)."
            )
        return value

    def resolved_sigma_prior_scale(self, y: np.ndarray) -> float:
        """The HalfNormal scale of sigma's prior for target y (only when sigma is estimated)."""
        return self.sigma_prior_scale_for_sd(float(np.std(y)))

    def sigma_prior_scale_for_sd(self, sd_y: float) -> float:
        """The HalfNormal scale of sigma's prior for a target of standard deviation ``sd_y``
        (population sd, ``np.std``): what :meth:`resolved_sigma_prior_scale` uses, for data
        known only through its moments."""
        raise ValueError(f"{self!r} has no estimated noise scale sigma.")

    def check_y(self, y: np.ndarray) -> np.ndarray:
        """Validate the target for this likelihood (hook for subclasses)."""
        return y

    def dlogpdf_dlogsigma(self, eta: np.ndarray, y: np.ndarray, sigma: float) -> float:
        """d logpdf(eta, y, sigma) / d log(sigma), the full normalized log-likelihood's
        derivative (for the sigma block of the MAP solvers); only when ``has_sigma``."""
        raise ValueError(f"{self!r} has no noise scale sigma.")

    def dlogpdf_dlogshape(self, name: str, eta: np.ndarray, y: np.ndarray, sigma: float) -> float:
        """d logpdf(eta, y, sigma) / d log(theta) for the bound shape parameter ``name`` (the
        full normalized log-likelihood; for the shape block of the joint MAP); only where
        ``shape_gradients``."""
        raise ValueError(f"{self!r} has no derivative in its shape parameter {name!r}.")

    def mean(self, eta: np.ndarray) -> np.ndarray:
        """E[y | eta], elementwise (the inverse link): the predictive mean of one draw."""
        return np.asarray(eta, dtype=np.float64)

    def variance(self, eta: np.ndarray, sigma: float | np.ndarray = 1.0) -> np.ndarray:
        """Var[y | eta, sigma], elementwise: with :meth:`mean`, the law of total variance gives
        a predictive sd from posterior draws without Monte Carlo."""
        raise NotImplementedError(f"{self!r} has no predictive variance.")

    def draw(
        self, eta: np.ndarray, sigma: float | np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """One y ~ p(y | eta, sigma) per element of ``eta`` (posterior predictive draws)."""
        raise NotImplementedError(f"{self!r} cannot draw predictive samples.")

    def null_eta(self, y: np.ndarray) -> float:
        """The constant linear predictor that minimizes J0 (the intercept-only fit's start)."""
        return float(np.mean(y))

    def linear_pieces(self, sigma: float = 1.0) -> tuple[float, float] | None:
        """``(c_pos, c_neg)`` when ``J0 = sum_i c_pos max(r_i, 0) + c_neg max(-r_i, 0)`` with
        ``r = y - eta`` (a piecewise-linear loss: with an L1 penalty the MAP is a linear
        program), else None."""
        return None

    @abstractmethod
    def curvature(self, eta: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """d^2 J0 / d eta_i^2, shape (n,) (the Newton / IRLS weights)."""

    def pointwise_logpdf(self, eta: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """log p(y_i | eta_i), shape (n,): the terms of :meth:`logpdf` (LOO, WAIC)."""
        eta = np.asarray(eta, dtype=np.float64)
        return np.array([self.logpdf(eta[i : i + 1], y[i : i + 1], sigma) for i in range(eta.size)])

    @abstractmethod
    def loss(self, eta: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> float:
        """J0: the eta-dependent part of the negative log-likelihood."""

    @abstractmethod
    def loss_grad(self, eta: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        """dJ0/deta, shape (n,)."""

    @abstractmethod
    def logpdf(self, eta: np.ndarray, y: np.ndarray, sigma: float = 1.0) -> float:
        """Full log-likelihood sum_i log p(y_i | eta_i), normalized."""

    @abstractmethod
    def curvature_bound(self, sigma: float = 1.0) -> float:
        """Upper bound of d^2 J0 / d eta_i^2 (1/sigma^2 for Gaussian, 1/4 for Bernoulli)."""

    @abstractmethod
    def to_pymc(
        self,
        name: str,
        eta: pt.TensorVariable,
        observed: pt.TensorVariable,
        sigma: pt.TensorLike | None = None,
        dims: str = "obs",
    ) -> pt.TensorVariable:
        """The observed random variable, inside the current ``pm.Model`` context."""


class ScaleLikelihood(Likelihood):
    """A likelihood with a noise scale sigma: known, or estimated with a HalfNormal prior.

    Parameters
    ----------
    sigma : float or None, default None
        Known noise scale. ``None`` means sigma is estimated with the weakly informative prior
        ``sigma ~ HalfNormal(sigma_prior_scale)``.
    sigma_prior_scale : float or None, default None
        Scale of the half-normal prior on sigma when it is estimated. ``None`` means
        ``2.5 * sd(y)``, scaled to the data (the scale brms and rstanarm use for their defaults):
        it puts prior mass on any noise level up to a few times the spread of y.
    """

    has_sigma = True

    def __init__(self, sigma: float | None = None, *, sigma_prior_scale: float | None = None):
        owner = type(self).__name__
        self.sigma = None if sigma is None else check_positive(sigma, "sigma", owner)
        self.sigma_prior_scale = (
            None
            if sigma_prior_scale is None
            else check_positive(sigma_prior_scale, "sigma_prior_scale", owner)
        )

    @property
    def fixed_sigma(self) -> float | None:
        return self.sigma

    def _repr_args(self) -> list[str]:
        """Constructor arguments shown by repr, beyond sigma (subclasses extend)."""
        return []

    def __repr__(self) -> str:
        args = self._repr_args() + ([] if self.sigma is None else [f"sigma={self.sigma!r}"])
        if self.sigma_prior_scale is not None:
            args.append(f"sigma_prior_scale={self.sigma_prior_scale!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def sigma_prior_scale_for_sd(self, sd_y: float) -> float:
        """The half-normal scale of sigma's prior: ``sigma_prior_scale``, else ``2.5 sd(y)``."""
        if self.sigma_prior_scale is not None:
            return self.sigma_prior_scale
        return 2.5 * sd_y if sd_y > 0 else 1.0


class GaussianLikelihood(ScaleLikelihood):
    """y_i ~ N(eta_i, sigma^2): squared-error loss ``SSE / (2 sigma^2)``.

    Parameters
    ----------
    sigma : float or None, default None
        Known noise sd; ``None``: estimated (see :class:`ScaleLikelihood`).
    sigma_prior_scale : float or None, default None
        HalfNormal scale of sigma's prior; ``None``: ``2.5 * sd(y)``.
    """

    name = "gaussian"
    quadratic = True
    location_family = True
    kernel = "gaussian"
    sklearn_loss = "squared_error"

    def loss(self, eta, y, sigma=1.0):
        r = np.asarray(y, dtype=np.float64) - np.asarray(eta, dtype=np.float64)
        return float(0.5 * np.dot(r, r) / sigma**2)

    def loss_grad(self, eta, y, sigma=1.0):
        return (np.asarray(eta, dtype=np.float64) - np.asarray(y, dtype=np.float64)) / sigma**2

    def logpdf(self, eta, y, sigma=1.0):
        n = np.size(y)
        return float(-self.loss(eta, y, sigma) - n * (np.log(sigma) + 0.5 * np.log(2 * np.pi)))

    def curvature_bound(self, sigma=1.0):
        return 1.0 / sigma**2

    def curvature(self, eta, y, sigma=1.0):
        return np.full(np.shape(eta), 1.0 / sigma**2)

    def variance(self, eta, sigma=1.0):
        return np.broadcast_to(np.asarray(sigma, dtype=np.float64) ** 2, np.shape(eta))

    def draw(self, eta, sigma, rng):
        eta = np.asarray(eta, dtype=np.float64)
        return eta + sigma * rng.standard_normal(eta.shape)

    def dlogpdf_dlogsigma(self, eta, y, sigma):
        # logpdf = -SSE / (2 sigma^2) - n log sigma + const
        return float(2.0 * self.loss(eta, y, sigma) - np.size(y))

    def pointwise_logpdf(self, eta, y, sigma=1.0):
        r = np.asarray(y, dtype=np.float64) - np.asarray(eta, dtype=np.float64)
        return -0.5 * (r / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)

    def to_pymc(self, name, eta, observed, sigma=None, dims="obs"):
        if sigma is None:
            raise ValueError("GaussianLikelihood.to_pymc needs sigma (data or random variable).")
        return pm.Normal(name, mu=eta, sigma=sigma, observed=observed, dims=dims)


class StudentTLikelihood(ScaleLikelihood):
    """y_i ~ t_nu(eta_i, sigma): robust regression with Student-t noise.

    ``p(y | eta, sigma, nu) = Gamma((nu + 1) / 2) / (Gamma(nu / 2) sqrt(nu pi) sigma)
    (1 + r^2 / (nu sigma^2))^(-(nu + 1) / 2)`` with ``r = y - eta`` (scipy's
    ``t(df=nu, loc=eta, scale=sigma)``), so
    ``J0 = (nu + 1) / 2 * sum_i log(1 + r_i^2 / (nu sigma^2))``: the loss grows
    like ``log |r|`` instead of ``r^2``, so gross outliers pull the fit far less than under the
    Gaussian likelihood (which is the limit nu -> inf). J0 is not convex in eta: its curvature
    ``(nu + 1)(nu sigma^2 - r^2) / (nu sigma^2 + r^2)^2`` is negative for ``|r| > sqrt(nu)
    sigma``, so the MAP can have several local optima when outliers are extreme; the solvers
    start from the null fit and certify a stationary point (KKT residual).

    Parameters
    ----------
    nu : float or None, default 4.0
        Degrees of freedom: known (> 0; 4 is a common robust default: finite variance, heavy
        tails), or ``None``: estimated with the prior ``nu ~ Gamma(2, nu_prior_rate)``, density
        ``b^2 nu exp(-b nu)`` with ``b = 0.1`` by default (Juarez & Steel 2010, the prior the
        Stan prior-choice recommendations give): mean 20, mode 10, ``P(nu < 2) = 1.8%``, so it
        lets the data choose between heavy tails and near-Gaussian noise. NUTS samples
        ``log nu``; the posterior has ``nu``. ``map_estimate`` gives the joint MAP over nu too
        (profiled: ``MapEstimate.shapes["nu"]``); the estimators' MAP refuses it.
    sigma : float or None, default None
        Known scale; ``None``: estimated with a HalfNormal prior (see :class:`ScaleLikelihood`).
    sigma_prior_scale : float or None, default None
        HalfNormal scale of sigma's prior; ``None``: ``2.5 * sd(y)``.
    nu_prior_rate : float or None, default None
        The rate ``b`` of nu's Gamma(2, b) prior (prior mean ``2 / b``); ``None``: 0.1. Only
        with ``nu=None``.
    """

    name = "student_t"
    location_family = True
    #: the shape of nu's Gamma prior and its default rate (Juarez & Steel 2010)
    NU_PRIOR_SHAPE: ClassVar[float] = 2.0
    NU_PRIOR_RATE: ClassVar[float] = 0.1

    def __init__(
        self,
        nu: float | None = 4.0,
        sigma: float | None = None,
        *,
        sigma_prior_scale: float | None = None,
        nu_prior_rate: float | None = None,
    ) -> None:
        super().__init__(sigma, sigma_prior_scale=sigma_prior_scale)
        owner = "StudentTLikelihood"
        self.nu = _known_or_estimated(nu, "nu", owner)
        if nu_prior_rate is not None:
            if self.nu is not None:
                raise ValueError(
                    f"The 'nu_prior_rate' parameter of {owner} applies only with nu=None (nu "
                    f"estimated); got nu={nu!r} and nu_prior_rate={nu_prior_rate!r}."
                )
            nu_prior_rate = check_positive(nu_prior_rate, "nu_prior_rate", owner)
        self.nu_prior_rate = nu_prior_rate

    def _repr_args(self) -> list[str]:
        args = [f"nu={self.nu!r}"]
        if self.nu_prior_rate is not None:
            args.append(f"nu_prior_rate={self.nu_prior_rate!r}")
        return args

    @property
    def estimated_shapes(self) -> tuple[ShapeParameter, ...]:
        if self.nu is not None:
            return ()
        rate = self.NU_PRIOR_RATE if self.nu_prior_rate is None else self.nu_prior_rate
        return (ShapeParameter("nu", self.NU_PRIOR_SHAPE, rate),)

    def _nu(self) -> Any:
        return self._shape_value("nu")

    def null_eta(self, y):
        """The constant minimizing J0: a robust location (not the mean), at the known sigma or
        the normalized median absolute deviation of y (and, when nu is estimated, at the mode
        ``(a - 1) / b`` of its prior: 10 by default)."""
        y = np.asarray(y, dtype=np.float64)
        med = float(np.median(y))
        mad = 1.4826 * float(np.median(np.abs(y - med)))
        sigma = self.sigma if self.sigma is not None else (mad if mad > 0 else 1.0)
        spread = max(mad, float(np.std(y)), 1e-12)
        lik = self
        if self.nu is None:
            prior = self.estimated_shapes[0]
            lik = self.at(nu=max(prior.shape - 1.0, 1.0) / prior.rate)
        res = optimize.minimize_scalar(
            lambda c: lik.loss(np.full(y.shape, c), y, sigma),
            bounds=(med - 10 * spread, med + 10 * spread),
            method="bounded",
            options={"xatol": 1e-10 * max(1.0, abs(med))},
        )
        return float(res.x)

    def _r2(self, eta, y) -> tuple[np.ndarray, np.ndarray]:
        r = np.asarray(y, dtype=np.float64) - np.asarray(eta, dtype=np.float64)
        return r, r * r

    def loss(self, eta, y, sigma=1.0):
        _, r2 = self._r2(eta, y)
        nu = self._nu()
        return float(np.sum(0.5 * (nu + 1.0) * np.log1p(r2 / (nu * sigma**2))))

    def loss_grad(self, eta, y, sigma=1.0):
        r, r2 = self._r2(eta, y)
        nu = self._nu()
        return -(nu + 1.0) * r / (nu * sigma**2 + r2)

    def curvature(self, eta, y, sigma=1.0):
        _, r2 = self._r2(eta, y)
        nu = self._nu()
        v = nu * sigma**2
        return (nu + 1.0) * (v - r2) / (v + r2) ** 2

    def curvature_bound(self, sigma=1.0):
        # (nu + 1) / (nu sigma^2) is unbounded as nu -> 0: no bound when nu is estimated
        if self.nu is None:
            return np.inf
        return (self.nu + 1.0) / (self.nu * sigma**2)

    def pointwise_logpdf(self, eta, y, sigma=1.0):
        _, r2 = self._r2(eta, y)
        nu = self._nu()
        log_norm = (
            special.gammaln(0.5 * (nu + 1.0))
            - special.gammaln(0.5 * nu)
            - 0.5 * np.log(nu * np.pi)
            - np.log(sigma)
        )
        return log_norm - 0.5 * (nu + 1.0) * np.log1p(r2 / (nu * sigma**2))

    def logpdf(self, eta, y, sigma=1.0):
        return float(np.sum(self.pointwise_logpdf(eta, y, sigma)))

    def dlogpdf_dlogsigma(self, eta, y, sigma):
        # d/dlog(sigma) of -n log sigma - (nu+1)/2 sum log(1 + r^2 / (nu sigma^2))
        _, r2 = self._r2(eta, y)
        nu = self._nu()
        return float(-np.size(r2) + (nu + 1.0) * np.sum(r2 / (nu * sigma**2 + r2)))

    shape_gradients = True

    def dlogpdf_dlogshape(self, name, eta, y, sigma):
        # nu d/dnu of the log density: (nu / 2) [psi((nu + 1) / 2) - psi(nu / 2) - 1 / nu
        # - log(1 + z^2 / nu) + (nu + 1) z^2 / (nu (nu + z^2))], z = r / sigma
        if name != "nu":
            return super().dlogpdf_dlogshape(name, eta, y, sigma)
        _, r2 = self._r2(eta, y)
        nu, z2 = self._nu(), r2 / sigma**2
        per_row = (
            special.digamma(0.5 * (nu + 1.0)) - special.digamma(0.5 * nu) - 1.0 / nu
            - np.log1p(z2 / nu) + (nu + 1.0) * z2 / (nu * (nu + z2))
        )  # fmt: skip
        return float(0.5 * nu * np.sum(per_row))

    def variance(self, eta, sigma=1.0):
        # sigma^2 nu / (nu - 2) for nu > 2; infinite (heavier tails than any variance) otherwise
        nu = np.asarray(self._nu(), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(nu > 2.0, nu / (nu - 2.0), np.inf)
        return np.broadcast_to(factor * np.asarray(sigma, dtype=np.float64) ** 2, np.shape(eta))

    def draw(self, eta, sigma, rng):
        eta = np.asarray(eta, dtype=np.float64)
        return eta + sigma * rng.standard_t(self._nu(), size=eta.shape)

    def to_pymc(self, name, eta, observed, sigma=None, dims="obs"):
        if sigma is None:
            raise ValueError("StudentTLikelihood.to_pymc needs sigma (data or random variable).")
        return pm.StudentT(name, nu=self._nu(), mu=eta, sigma=sigma, observed=observed, dims=dims)


class BernoulliLikelihood(Likelihood):
    """y_i ~ Bernoulli(sigmoid(eta_i)): cross-entropy ``-sum[y log p + (1-y) log(1-p)]``.

    Labels must be 0 or 1. There is no noise scale: conventions treat it as sigma = 1.
    """

    name = "bernoulli"
    classifier = True
    kernel = "bernoulli"
    sklearn_loss = "log_loss"
    observed_dtype = "int64"

    def __repr__(self) -> str:
        return "BernoulliLikelihood()"

    def check_y(self, y):
        return check_binary_labels(y)

    def loss(self, eta, y, sigma=1.0):
        eta = np.asarray(eta, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        # -log p = log(1 + e^eta) - y eta, computed stably with logaddexp
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta))

    def loss_grad(self, eta, y, sigma=1.0):
        return special.expit(np.asarray(eta, dtype=np.float64)) - np.asarray(y, dtype=np.float64)

    def logpdf(self, eta, y, sigma=1.0):
        return -self.loss(eta, y)

    def curvature_bound(self, sigma=1.0):
        return 0.25

    def curvature(self, eta, y, sigma=1.0):
        p = special.expit(np.asarray(eta, dtype=np.float64))
        return p * (1.0 - p)

    def pointwise_logpdf(self, eta, y, sigma=1.0):
        eta = np.asarray(eta, dtype=np.float64)
        return np.asarray(y, dtype=np.float64) * eta - np.logaddexp(0.0, eta)

    def null_eta(self, y):
        return float(special.logit(np.clip(np.mean(y), 1e-6, 1 - 1e-6)))

    def mean(self, eta):
        return special.expit(np.asarray(eta, dtype=np.float64))

    def variance(self, eta, sigma=1.0):
        p = self.mean(eta)
        return p * (1.0 - p)

    def draw(self, eta, sigma, rng):
        return (rng.random(np.shape(eta)) < self.mean(eta)).astype(np.int64)

    def to_pymc(self, name, eta, observed, sigma=None, dims="obs"):
        return pm.Bernoulli(name, logit_p=eta, observed=observed, dims=dims)


def _check_counts(y: np.ndarray, owner: str) -> np.ndarray:
    """Raise unless y holds finite non-negative integers, not all 0 (a count likelihood)."""
    y = np.asarray(y, dtype=np.float64)
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"The 'y' parameter of {owner} must hold counts (non-negative integers); got "
            f"y[{i}] = {float(y[i])!r} ({int(bad.sum())} such values)."
        )
    if y.size and not np.any(y > 0):
        # every count 0: the likelihood grows without bound as the intercept -> -inf
        raise ValueError(
            f"The 'y' parameter of {owner} has every count equal to 0: the intercept's MAP is "
            "at -infinity (log of a zero mean)."
        )
    return y


class _CountLikelihood(Likelihood):
    """Shared parts of the log-link count likelihoods: mu = exp(eta), integer data."""

    observed_dtype = "int64"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self._repr_args())})"

    def _repr_args(self) -> list[str]:
        return []

    def check_y(self, y):
        return _check_counts(y, type(self).__name__)

    def null_eta(self, y):
        """log(mean(y)): the constant fit's score equation sets the fitted mean to mean(y)."""
        return float(np.log(np.mean(y)))

    def curvature_bound(self, sigma=1.0):
        # the curvature grows like exp(eta): no global Lipschitz bound of the gradient
        return np.inf

    def mean(self, eta):
        return np.exp(np.asarray(eta, dtype=np.float64))

    def logpdf(self, eta, y, sigma=1.0):
        return float(np.sum(self.pointwise_logpdf(eta, y, sigma)))


class PoissonLikelihood(_CountLikelihood):
    """y_i ~ Poisson(exp(eta_i)) (log link): ``J0 = sum_i [exp(eta_i) - y_i eta_i]``.

    The full log-likelihood adds ``-sum log(y_i!)``. Counts only (non-negative integers). With a
    Gaussian prior its MAP is scikit-learn's ``PoissonRegressor(alpha = 1 / (n tau^2))``: that
    estimator minimizes the half mean deviance ``(1/n) sum [y log(y / mu) - y + mu]`` plus
    ``alpha ||w||^2 / 2``, which is ``J0 / n + ||w||^2 / (2 n tau^2)`` up to a constant
    (:mod:`bayesreg.conventions`, ``"sklearn_poisson"``).
    """

    name = "poisson"
    sklearn_loss = "poisson"

    def loss(self, eta, y, sigma=1.0):
        eta = np.asarray(eta, dtype=np.float64)
        return float(np.sum(np.exp(eta) - np.asarray(y, dtype=np.float64) * eta))

    def loss_grad(self, eta, y, sigma=1.0):
        return np.exp(np.asarray(eta, dtype=np.float64)) - np.asarray(y, dtype=np.float64)

    def curvature(self, eta, y, sigma=1.0):
        return np.exp(np.asarray(eta, dtype=np.float64))

    def pointwise_logpdf(self, eta, y, sigma=1.0):
        eta = np.asarray(eta, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        return y * eta - np.exp(eta) - special.gammaln(y + 1.0)

    def variance(self, eta, sigma=1.0):
        return self.mean(eta)

    def draw(self, eta, sigma, rng):
        return rng.poisson(self.mean(eta)).astype(np.int64)

    def to_pymc(self, name, eta, observed, sigma=None, dims="obs"):
        return pm.Poisson(name, mu=pt.exp(eta), observed=observed, dims=dims)


class NegativeBinomialLikelihood(_CountLikelihood):
    """Over-dispersed counts: y_i ~ NB(mean mu_i = exp(eta_i), Var = mu_i + alpha mu_i^2).

    With r = 1 / alpha (the size), ``p(y | mu) = Gamma(y + r) / (Gamma(r) y!) (r / (r + mu))^r
    (mu / (r + mu))^y`` (scipy's ``nbinom(n=r, p=r / (r + mu))``), so
    ``J0 = sum_i [(y_i + r) log(r + e^eta_i) - y_i eta_i]``. alpha -> 0 is the Poisson;
    alpha = 1 is the geometric distribution (R bayesreg's "geometric" target).

    Parameters
    ----------
    alpha : float or None, default 1.0
        The over-dispersion (> 0), known (default 1: the geometric), or ``None``: estimated
        with the prior ``sqrt(alpha) ~ HalfNormal(alpha_prior_scale)``, i.e.
        ``alpha ~ Gamma(1/2, 1 / (2 s^2))``, density ``exp(-alpha / (2 s^2)) /
        (s sqrt(2 pi alpha))``. Why this one: the negative binomial is a Poisson whose mean is
        multiplied by a Gamma(r, r) frailty of mean 1 and sd ``sqrt(alpha)``, so ``sqrt(alpha)``
        is the scale of the extra noise and gets the half-normal a scale gets (as sigma does
        here). In Stan's parametrization (phi = r) it is ``1 / sqrt(phi) ~ HalfNormal(1)``.
        Like a penalized-complexity prior it puts the most density of ``sqrt(alpha)`` at the
        Poisson (alpha = 0) and decays away from it, yet leaves ``P(alpha > 1) = 32%`` and
        ``P(alpha > 4) = 4.6%``: weakly informative on the scale of the frailty sd. NUTS
        samples ``log alpha``; the posterior has ``alpha``. The MAP solvers refuse an estimated
        alpha: this prior's density is unbounded as alpha -> 0, so the joint MAP does not
        exist (sample the posterior instead).
    alpha_prior_scale : float or None, default None
        The half-normal scale ``s`` of ``sqrt(alpha)``'s prior; ``None``: 1. Only with
        ``alpha=None``.
    """

    name = "negbin"

    def __init__(self, alpha: float | None = 1.0, *, alpha_prior_scale: float | None = None):
        owner = "NegativeBinomialLikelihood"
        self.alpha = _known_or_estimated(alpha, "alpha", owner)
        if alpha_prior_scale is not None:
            if self.alpha is not None:
                raise ValueError(
                    f"The 'alpha_prior_scale' parameter of {owner} applies only with alpha=None "
                    f"(alpha estimated); got alpha={alpha!r} and "
                    f"alpha_prior_scale={alpha_prior_scale!r}."
                )
            alpha_prior_scale = check_positive(alpha_prior_scale, "alpha_prior_scale", owner)
        self.alpha_prior_scale = alpha_prior_scale

    def _repr_args(self) -> list[str]:
        args = [f"alpha={self.alpha!r}"]
        if self.alpha_prior_scale is not None:
            args.append(f"alpha_prior_scale={self.alpha_prior_scale!r}")
        return args

    @property
    def estimated_shapes(self) -> tuple[ShapeParameter, ...]:
        if self.alpha is not None:
            return ()
        s = 1.0 if self.alpha_prior_scale is None else self.alpha_prior_scale
        # s * |z| squared, z ~ N(0, 1): s^2 chi^2_1 = Gamma(1/2, rate 1 / (2 s^2))
        return (ShapeParameter("alpha", 0.5, 0.5 / s**2),)

    @property
    def size(self) -> Any:
        """r = 1 / alpha, the distribution's size (PyMC's ``alpha``, scipy's ``n``)."""
        return 1.0 / self._shape_value("alpha")

    def _terms(self, eta, y):
        eta = np.asarray(eta, dtype=np.float64)
        log_r = np.log(self.size)
        # log(r + mu) = logaddexp(log r, eta): no overflow for large eta
        return eta, np.asarray(y, dtype=np.float64), np.logaddexp(log_r, eta), log_r

    def loss(self, eta, y, sigma=1.0):
        eta, y, log_rmu, _ = self._terms(eta, y)
        return float(np.sum((y + self.size) * log_rmu - y * eta))

    def loss_grad(self, eta, y, sigma=1.0):
        eta, y, _, log_r = self._terms(eta, y)
        # (y + r) mu / (r + mu) - y
        return (y + self.size) * special.expit(eta - log_r) - y

    def curvature(self, eta, y, sigma=1.0):
        eta, y, _, log_r = self._terms(eta, y)
        q = special.expit(eta - log_r)
        return (y + self.size) * q * (1.0 - q)

    def pointwise_logpdf(self, eta, y, sigma=1.0):
        eta, y, log_rmu, log_r = self._terms(eta, y)
        r = self.size
        return (
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1.0)
            + r * (log_r - log_rmu)
            + y * (eta - log_rmu)
        )

    def variance(self, eta, sigma=1.0):
        mu = self.mean(eta)
        return mu + self._shape_value("alpha") * mu**2

    def draw(self, eta, sigma, rng):
        mu, r = self.mean(eta), self.size
        return rng.negative_binomial(r, r / (r + mu)).astype(np.int64)

    def to_pymc(self, name, eta, observed, sigma=None, dims="obs"):
        # PyMC's alpha is the size r (Var = mu + mu^2 / alpha_pymc)
        return pm.NegativeBinomial(
            name, mu=pt.exp(eta), alpha=self.size, observed=observed, dims=dims
        )


class LaplaceLikelihood(ScaleLikelihood):
    """y_i ~ Laplace(eta_i, sigma): least absolute deviations, ``J0 = sum_i |y_i - eta_i| /
    sigma``.

    The density is ``exp(-|r| / sigma) / (2 sigma)`` (scipy's ``laplace(loc=eta, scale=sigma)``);
    the MAP of the intercept alone is the median. J0 is **not smooth** (``is_smooth = False``):
    the gradient-based MAP solvers refuse it, and with a Laplace (L1) prior the MAP at fixed
    sigma is the linear program of :mod:`bayesreg.solvers.linear_program` (the same problem as
    scikit-learn's ``QuantileRegressor(quantile=0.5, alpha = sigma / (2 n b))``). NUTS samples
    it (the posterior is continuous; the log density has kinks only on a null set).

    Parameters
    ----------
    sigma : float or None, default None
        The Laplace scale (mean absolute deviation of the noise), known; ``None``: estimated with
        a HalfNormal prior (the joint MAP alternates the LP with an exact sigma update).
    sigma_prior_scale : float or None, default None
        HalfNormal scale of sigma's prior; ``None``: ``2.5 * sd(y)``.
    """

    name = "laplace"
    location_family = True
    is_smooth = False
    sklearn_loss = "absolute_error"

    def linear_pieces(self, sigma=1.0):
        return (1.0 / sigma, 1.0 / sigma)

    def null_eta(self, y):
        return float(np.median(y))

    def _abs_r(self, eta, y) -> np.ndarray:
        return np.abs(np.asarray(y, dtype=np.float64) - np.asarray(eta, dtype=np.float64))

    def loss(self, eta, y, sigma=1.0):
        return float(np.sum(self._abs_r(eta, y)) / sigma)

    def loss_grad(self, eta, y, sigma=1.0):
        """A subgradient: ``sign(eta - y) / sigma`` (0 where the residual is exactly 0)."""
        r = np.asarray(y, dtype=np.float64) - np.asarray(eta, dtype=np.float64)
        return -np.sign(r) / sigma

    def curvature(self, eta, y, sigma=1.0):
        # 0 wherever the loss is differentiable (the kink at r = 0 has no second derivative)
        return np.zeros(np.shape(eta))

    def curvature_bound(self, sigma=1.0):
        # the gradient jumps by 2 / sigma at r = 0: it has no Lipschitz constant
        return np.inf

    def pointwise_logpdf(self, eta, y, sigma=1.0):
        return -self._abs_r(eta, y) / sigma - np.log(2.0 * sigma)

    def logpdf(self, eta, y, sigma=1.0):
        return float(np.sum(self.pointwise_logpdf(eta, y, sigma)))

    def dlogpdf_dlogsigma(self, eta, y, sigma):
        # d/dlog(sigma) of -sum |r| / sigma - n log sigma
        return float(np.sum(self._abs_r(eta, y)) / sigma - np.size(y))

    def variance(self, eta, sigma=1.0):
        return np.broadcast_to(2.0 * np.asarray(sigma, dtype=np.float64) ** 2, np.shape(eta))

    def draw(self, eta, sigma, rng):
        eta = np.asarray(eta, dtype=np.float64)
        return eta + sigma * rng.laplace(size=eta.shape)

    def to_pymc(self, name, eta, observed, sigma=None, dims="obs"):
        if sigma is None:
            raise ValueError("LaplaceLikelihood.to_pymc needs sigma (data or random variable).")
        return pm.Laplace(name, mu=eta, b=sigma, observed=observed, dims=dims)


def likelihood_names() -> tuple[str, ...]:
    """The names :func:`likelihood_from_name` accepts, sorted."""
    return tuple(sorted(_REGISTRY))


def likelihood_from_name(name: str, **kwargs) -> Likelihood:
    """The likelihood registered under ``name`` (its ``name`` attribute), built with kwargs.

    Raises a ValueError naming the valid names when ``name`` is unknown.
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"The 'likelihood' parameter must be a str among {list(likelihood_names())} or a "
            f"bayesreg Likelihood. Got {name!r} instead."
        )
    return cls(**kwargs)
