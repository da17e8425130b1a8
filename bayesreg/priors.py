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
import pymc as pm
import pytensor.tensor as pt
from scipy import special

from bayesreg._validation import check_positive, check_probability

__all__ = ["ElasticNet", "Gaussian", "Laplace", "Prior", "soft_threshold"]


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

    def __init__(self, scale: float = 1.0, *, scale_by_sigma: bool = False) -> None:
        self.scale = check_positive(scale, "scale", type(self).__name__)
        self.scale_by_sigma = bool(scale_by_sigma)

    # -- scale -----------------------------------------------------------------------------
    def effective_scale(self, sigma: float = 1.0) -> float:
        """The scale actually used: ``scale * sigma`` if ``scale_by_sigma`` else ``scale``."""
        if self.scale_by_sigma:
            return self.scale * check_positive(sigma, "sigma")
        return self.scale

    def with_scale(self, scale: float) -> Prior:
        """A copy of this prior with another scale."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.scale = check_positive(scale, "scale", type(self).__name__)
        return new

    def __repr__(self) -> str:
        extra = ", scale_by_sigma=True" if self.scale_by_sigma else ""
        return f"{type(self).__name__}(scale={self.scale!r}{extra})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.__dict__.items()))))

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

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        tau = self.effective_scale(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(-0.5 * np.sum(w**2) / tau**2 - w.size * (np.log(tau) + 0.5 * np.log(2 * np.pi)))

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        tau = self.effective_scale(sigma)
        return float(0.5 * np.sum(np.asarray(w, dtype=np.float64) ** 2) / tau**2)

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        return np.asarray(w, dtype=np.float64) / self.effective_scale(sigma) ** 2

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        tau = self.effective_scale(sigma)
        return np.asarray(v, dtype=np.float64) / (1.0 + step / tau**2)

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        return pm.Normal(name, mu=0.0, sigma=self.pymc_scale(scale, sigma), dims=dims)


class Laplace(Prior):
    """Laplace prior w_j ~ Laplace(0, b), b = scale (times sigma if ``scale_by_sigma``).

    Penalty ``||w||_1 / b``: L1 / lasso. Not differentiable at 0; its prox is soft-thresholding
    at ``step / b``, which is where exact zeros come from.
    """

    name = "laplace"
    is_smooth = False

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        b = self.effective_scale(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(-np.sum(np.abs(w)) / b - w.size * np.log(2 * b))

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        return float(np.sum(np.abs(np.asarray(w, dtype=np.float64))) / self.effective_scale(sigma))

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        return np.sign(np.asarray(w, dtype=np.float64)) / self.effective_scale(sigma)

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        return soft_threshold(v, step / self.effective_scale(sigma))

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        return pm.Laplace(name, mu=0.0, b=self.pymc_scale(scale, sigma), dims=dims)


def _elastic_net_log_normalizer(a: float, c: float) -> float:
    """log of Z = int exp(-a|w| - c w^2/2) dw (a, c >= 0, not both 0)."""
    if c == 0.0:
        return float(np.log(2.0 / a))
    # Z = 2 sqrt(pi/(2c)) exp(a^2/(2c)) erfc(a/sqrt(2c)); erfcx keeps it finite for large a.
    return float(np.log(2.0) + 0.5 * np.log(np.pi / (2.0 * c)) + np.log(special.erfcx(a / np.sqrt(2.0 * c))))


class ElasticNet(Prior):
    """Elastic-net prior: p(w_j) ∝ exp(-(rho |w_j| + (1 - rho) w_j^2 / 2) / scale).

    This is the glmnet / scikit-learn penalty ``lam * (rho ||w||_1 + (1-rho)/2 ||w||_2^2)`` with
    ``lam = 1 / scale`` and ``rho = l1_ratio``. ``l1_ratio=1`` is ``Laplace(scale)``;
    ``l1_ratio=0`` is ``Gaussian(sqrt(scale))``. The density is normalized exactly
    (Z = 2 sqrt(pi/2c) exp(a^2/2c) erfc(a/sqrt(2c)), a = rho/scale, c = (1-rho)/scale).
    """

    name = "elasticnet"
    is_smooth = False

    def __init__(self, scale: float = 1.0, l1_ratio: float = 0.5, *, scale_by_sigma: bool = False):
        super().__init__(scale)
        if scale_by_sigma:
            raise ValueError(
                "ElasticNet does not support scale_by_sigma=True: its two terms scale differently "
                "with sigma. Use scale_by_sigma=False."
            )
        self.l1_ratio = check_probability(l1_ratio, "l1_ratio", "ElasticNet")

    def __repr__(self) -> str:
        return f"ElasticNet(scale={self.scale!r}, l1_ratio={self.l1_ratio!r})"

    def _coefs(self, sigma: float = 1.0) -> tuple[float, float]:
        lam = 1.0 / self.effective_scale(sigma)
        return lam * self.l1_ratio, lam * (1.0 - self.l1_ratio)

    def logpdf(self, w: np.ndarray, sigma: float = 1.0) -> float:
        a, c = self._coefs(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(-self.penalty(w, sigma) - w.size * _elastic_net_log_normalizer(a, c))

    def penalty(self, w: np.ndarray, sigma: float = 1.0) -> float:
        a, c = self._coefs(sigma)
        w = np.asarray(w, dtype=np.float64)
        return float(a * np.sum(np.abs(w)) + 0.5 * c * np.sum(w**2))

    def penalty_grad(self, w: np.ndarray, sigma: float = 1.0) -> np.ndarray:
        a, c = self._coefs(sigma)
        w = np.asarray(w, dtype=np.float64)
        return a * np.sign(w) + c * w

    def prox(self, v: np.ndarray, step: float, sigma: float = 1.0) -> np.ndarray:
        a, c = self._coefs(sigma)
        return soft_threshold(v, step * a) / (1.0 + step * c)

    def to_pymc(self, name, scale, sigma=None, dims="feature"):
        rho = self.l1_ratio
        lam = 1.0 / self.pymc_scale(scale, sigma)

        def logp(value, lam_):
            a, c = lam_ * rho, lam_ * (1.0 - rho)
            if rho == 1.0:
                log_z = pt.log(2.0 / a)
            else:
                log_z = pt.log(2.0) + 0.5 * pt.log(np.pi / (2.0 * c)) + pt.log(pt.erfcx(a / pt.sqrt(2.0 * c)))
            return -a * pt.abs(value) - 0.5 * c * value**2 - log_z

        return pm.CustomDist(name, lam, logp=logp, dims=dims)
