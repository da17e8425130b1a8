"""Solvers: closed form, exact MAP estimates, penalized gradient descent.

* :func:`ridge_closed_form` - the ridge normal equations (Gaussian prior, Gaussian likelihood).
* :func:`map_estimate` - the MAP of any ``RegressionModel`` whose prior has one, to a KKT
  tolerance (closed form, FISTA + Newton polish, L-BFGS), exact zeros for L1.
* :func:`gradient_descent` - the seed's weight-decay update and its relatives (subgradient,
  ISTA, FISTA, Adam + L2, AdamW) with their trajectories, for teaching and verification.
"""

from bayesreg.solvers.closed_form import ridge_closed_form
from bayesreg.solvers.descent import DESCENT_METHODS, DescentResult, gradient_descent
from bayesreg.solvers.map import MAP_METHODS, ConvergenceWarning, MapEstimate, map_estimate

__all__ = [
    "DESCENT_METHODS",
    "MAP_METHODS",
    "ConvergenceWarning",
    "DescentResult",
    "MapEstimate",
    "gradient_descent",
    "map_estimate",
    "ridge_closed_form",
]
