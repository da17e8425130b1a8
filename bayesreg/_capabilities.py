"""What each solver, sampler backend, kernel and verification row needs, asked in one way.

Priors and likelihoods declare capabilities (``Prior.has_map``, ``Prior.elastic_coefs``,
``Prior.collapsible``, ``Likelihood.quadratic``, ``Likelihood.kernel``, ...). A consumer lists
the :class:`Need` s it has; :func:`unmet` says which is missing (or None) and :func:`require`
raises one message that names the consumer, the prior, the likelihood and the missing
capability. Nothing here imports PyMC: it runs before any model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesreg.priors import MapUndefinedError

__all__ = [
    "BERNOULLI_LIKELIHOOD",
    "BOUNDED_CURVATURE",
    "COLLAPSIBLE_PRIOR",
    "ELASTIC_PENALTY",
    "FIXED_SIGMA",
    "GAUSSIAN_PENALTY",
    "GROUP_LASSO_PENALTY",
    "HAS_MAP",
    "KERNEL_LIKELIHOOD",
    "KNOWN_SHAPE",
    "L1_ONLY",
    "L1_PART",
    "PIECEWISE_LINEAR_LIKELIHOOD",
    "QUADRATIC_LIKELIHOOD",
    "SCALAR_SCALE",
    "SHAPE_MAP",
    "SKLEARN_LOSS",
    "SMOOTH_LIKELIHOOD",
    "SMOOTH_PRIOR",
    "MapUndefinedError",
    "Need",
    "explain",
    "require",
    "unmet",
]


@dataclass(frozen=True)
class Need:
    """One capability a consumer needs: a description and a test on (prior, likelihood)."""

    description: str
    test: Callable[[Any, Any], bool]

    def met(self, prior: Any, likelihood: Any) -> bool:
        return bool(self.test(prior, likelihood))


HAS_MAP = Need("a prior with a MAP (Prior.has_map)", lambda p, lik: p.has_map)
SMOOTH_PRIOR = Need("a smooth prior (Prior.is_smooth)", lambda p, lik: p.is_smooth)
ELASTIC_PENALTY = Need(
    "a penalty of the form a*||w||_1 + c*||w||^2/2 (Prior.elastic_coefs)",
    lambda p, lik: p.elastic_coefs(1.0) is not None,
)
GAUSSIAN_PENALTY = Need(
    "a Gaussian penalty c*||w||^2/2 (Prior.elastic_coefs with a = 0)",
    lambda p, lik: bool(np.all(np.asarray((p.elastic_coefs(1.0) or (1.0, 0.0))[0]) == 0.0)),
)
L1_PART = Need(
    "a penalty with an L1 part (Prior.elastic_coefs with a > 0)",
    lambda p, lik: bool(np.any(np.asarray((p.elastic_coefs(1.0) or (0.0, 0.0))[0]) > 0.0)),
)
SCALAR_SCALE = Need(
    "one prior scale shared by every coefficient (a float Prior.scale, not one per coefficient)",
    lambda p, lik: np.ndim(p.scale) == 0,
)


def _l1_only(prior: Any) -> bool:
    coefs = prior.elastic_coefs(1.0)
    return coefs is not None and bool(np.all(coefs[0] > 0.0) and np.all(coefs[1] == 0.0))


L1_ONLY = Need(
    "an L1 penalty a*||w||_1 (Prior.elastic_coefs with a > 0 and c = 0)",
    lambda p, lik: _l1_only(p),
)
GROUP_LASSO_PENALTY = Need(
    "a group-lasso penalty sum_g a_g*||w_g||_2 (Prior.group_lasso_coefs)",
    lambda p, lik: callable(getattr(p, "group_lasso_coefs", None)),
)
COLLAPSIBLE_PRIOR = Need(
    "a conditionally Gaussian prior on w (Prior.collapsible)", lambda p, lik: p.collapsible
)
QUADRATIC_LIKELIHOOD = Need(
    "a likelihood quadratic in eta (Likelihood.quadratic)", lambda p, lik: lik.quadratic
)
SMOOTH_LIKELIHOOD = Need("a smooth likelihood (Likelihood.is_smooth)", lambda p, lik: lik.is_smooth)
BOUNDED_CURVATURE = Need(
    "a likelihood whose curvature is bounded (a finite Likelihood.curvature_bound, which "
    "fixes a safe step size)",
    lambda p, lik: bool(np.isfinite(lik.curvature_bound(1.0))),
)
PIECEWISE_LINEAR_LIKELIHOOD = Need(
    "a piecewise-linear likelihood loss (Likelihood.linear_pieces)",
    lambda p, lik: lik.linear_pieces(1.0) is not None,
)
FIXED_SIGMA = Need(
    "a known noise scale (Likelihood.fixed_sigma)", lambda p, lik: lik.fixed_sigma is not None
)
KNOWN_SHAPE = Need(
    "a likelihood whose shape parameters are known (no Likelihood.estimated_shapes: "
    "StudentTLikelihood(nu=None) and NegativeBinomialLikelihood(alpha=None) estimate theirs)",
    lambda p, lik: not lik.estimated_shapes,
)
SHAPE_MAP = Need(
    "a likelihood whose shape parameters are known, or one estimated shape whose prior density "
    "is bounded at 0 (a Gamma shape >= 1, as StudentTLikelihood(nu=None)'s Gamma(2, b)) and "
    "with an analytic derivative (Likelihood.shape_gradients); NegativeBinomialLikelihood("
    "alpha=None)'s Gamma(1/2, .) density is unbounded as alpha -> 0, so its joint MAP does not "
    "exist",
    lambda p, lik: (
        not lik.estimated_shapes
        or (
            len(lik.estimated_shapes) == 1
            and lik.shape_gradients
            and all(s.shape >= 1.0 for s in lik.estimated_shapes)
        )
    ),
)
BERNOULLI_LIKELIHOOD = Need(
    "a Bernoulli (logistic) likelihood (Likelihood.kernel == 'bernoulli')",
    lambda p, lik: lik.kernel == "bernoulli",
)
KERNEL_LIKELIHOOD = Need(
    "a likelihood with a static numba kernel (Likelihood.kernel)",
    lambda p, lik: lik.kernel is not None,
)
SKLEARN_LOSS = Need(
    "a likelihood with a scikit-learn twin (Likelihood.sklearn_loss)",
    lambda p, lik: lik.sklearn_loss is not None,
)


def unmet(needs: Iterable[Need], prior: Any, likelihood: Any) -> Need | None:
    """The first need that (prior, likelihood) does not meet, or None."""
    for need in needs:
        if not need.met(prior, likelihood):
            return need
    return None


def explain(who: str, needs: Iterable[Need], prior: Any, likelihood: Any) -> str | None:
    """Why ``who`` cannot run (prior, likelihood), as one sentence, or None when it can."""
    need = unmet(needs, prior, likelihood)
    if need is None:
        return None
    return f"{who} needs {need.description}; {prior!r} with {likelihood!r} does not offer it"


def require(who: str, needs: Iterable[Need], prior: Any, likelihood: Any) -> None:
    """Raise when (prior, likelihood) lacks a capability ``who`` needs.

    A missing MAP raises :class:`~bayesreg.priors.MapUndefinedError` (a ValueError) with the
    prior's own reason; anything else a ValueError from :func:`explain`.
    """
    needs = tuple(needs)
    if HAS_MAP in needs and not prior.has_map:
        prior.require_map(f"MAP, which {who} needs")
    reason = explain(who, needs, prior, likelihood)
    if reason is not None:
        raise ValueError(reason + ".")
