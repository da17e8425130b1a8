"""Solvers: closed form, exact MAP estimates, penalized gradient descent.

* :func:`ridge_closed_form` - the ridge normal equations (Gaussian prior, Gaussian likelihood).
* :func:`map_estimate` - the MAP of any ``RegressionModel`` whose prior has one, to a KKT
  tolerance (closed form, FISTA + Newton polish, L-BFGS), exact zeros for L1. The smooth part
  is evaluated by the model's compiled graph or, for small problems, by plain numpy (one
  objective, two evaluators: :mod:`bayesreg.solvers._problem`).
* :func:`map_path` - the MAP at many prior scales (a regularization path), warm-started from
  the strongest penalty down, one compiled graph for all of them.
* :func:`gradient_descent` - the seed's weight-decay update and its relatives (subgradient,
  ISTA, FISTA, Adam + L2, AdamW) with their trajectories, for teaching and verification.
"""

from bayesreg.solvers.closed_form import ridge_closed_form
from bayesreg.solvers.descent import DESCENT_METHODS, DescentResult, gradient_descent
from bayesreg.solvers.map import MAP_METHODS, ConvergenceWarning, MapEstimate, map_estimate
from bayesreg.solvers.path import MapPath, map_path

__all__ = [
    "DESCENT_METHODS",
    "MAP_METHODS",
    "ConvergenceWarning",
    "DescentResult",
    "MapEstimate",
    "MapPath",
    "gradient_descent",
    "map_estimate",
    "map_path",
    "ridge_closed_form",
]
