"""The collapsed horseshoe sampler (w integrated out): see :mod:`bayesreg.sampling.collapsed`.

Kept as a module of its own name for callers of the former layout; the code lives in the
sampling package, beside the backends that run it.
"""

from bayesreg.sampling.collapsed import (  # noqa: F401
    COLLAPSED_TARGET_ACCEPT,
    MAX_FEATURES,
    CollapsedHorseshoe,
    _MarginalLoglikOp,
    can_collapse,
    collapse_problem,
    conditional_weights,
    marginal_loglik,
)

__all__ = [
    "COLLAPSED_TARGET_ACCEPT",
    "MAX_FEATURES",
    "CollapsedHorseshoe",
    "can_collapse",
    "collapse_problem",
    "conditional_weights",
    "marginal_loglik",
]
