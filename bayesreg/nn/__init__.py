"""Neural networks whose weight decay is a prior (issue 13, item 5).

- :class:`MLPModel`: the PyMC network (weights ~ prior on named dims, flat or wide biases);
- :func:`map_mlp`: L-BFGS MAP; :func:`train_mlp`: weight decay, Adam + L2, AdamW;
- :mod:`bayesreg.nn.sklearn`: scikit-learn's ``alpha`` <-> prior scale, its weight layout;
- :func:`sample_mlp`, :func:`diagnose_mlp`: NUTS and the diagnostics that still mean something;
- :func:`train_dropout`, :func:`mc_dropout_predict`: MC dropout;
- :func:`overfitting_curve`, :func:`plot_overfitting`: the lesson's overfitting picture;
- :func:`network_equivalences`: each claim above as a row with its measured error.

Importing this package loads PyMC lazily (on the first model graph), like the rest.
"""

from bayesreg.nn.dropout import mc_dropout_predict, mlp_loss_grad, train_dropout
from bayesreg.nn.equivalences import network_equivalences
from bayesreg.nn.map import MLPMapResult, map_mlp, negative_log_posterior
from bayesreg.nn.model import ACTIVATIONS, MLPModel, mlp_forward
from bayesreg.nn.optim import OPTIMIZERS, make_optimizer, run_optimizer, train_mlp
from bayesreg.nn.overfit import OverfittingCurve, overfitting_curve, plot_overfitting
from bayesreg.nn.predictive import (
    MLPChainSummary,
    diagnose_mlp,
    plot_predictive_bands,
    posterior_eta,
    sample_mlp,
)
from bayesreg.nn.sklearn import alpha_to_prior_scale, prior_scale_to_alpha, to_sklearn_layout

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "MLPChainSummary",
    "MLPMapResult",
    "MLPModel",
    "OverfittingCurve",
    "alpha_to_prior_scale",
    "diagnose_mlp",
    "make_optimizer",
    "map_mlp",
    "mc_dropout_predict",
    "mlp_forward",
    "mlp_loss_grad",
    "negative_log_posterior",
    "network_equivalences",
    "overfitting_curve",
    "plot_overfitting",
    "plot_predictive_bands",
    "posterior_eta",
    "prior_scale_to_alpha",
    "run_optimizer",
    "sample_mlp",
    "to_sklearn_layout",
    "train_dropout",
    "train_mlp",
]
