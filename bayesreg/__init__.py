"""bayesreg: a penalty is a prior.

L2 regularization is a Gaussian prior, L1 a Laplace prior. bayesreg builds those models in PyMC,
finds their MAP estimates (which equal the penalized solutions), samples the full posteriors and
shows what the posterior adds.

``import bayesreg`` is fast and changes no global configuration: the public names below load
their modules on first access (PEP 562), PyMC loads when the first model graph is built, and
the BLAS link of PyTensor (:func:`configure_blas`) is made then too.
"""

from __future__ import annotations

import importlib
from typing import Any

from bayesreg._blas import configure_blas
from bayesreg._version import __version__

#: public name -> the module that defines it (imported on first access)
_LAZY = {
    "BayesianLinearRegression": "bayesreg.estimators",
    "BayesianLogisticRegression": "bayesreg.estimators",
    "BernoulliLikelihood": "bayesreg.likelihoods",
    "CONVENTIONS": "bayesreg.conventions",
    "ConjugatePosterior": "bayesreg.sampling",
    "ConvergenceWarning": "bayesreg.solvers",
    "Dataset": "bayesreg.datasets",
    "DescentResult": "bayesreg.solvers",
    "Diagnosis": "bayesreg.diagnostics",
    "ElasticNet": "bayesreg.priors",
    "Gaussian": "bayesreg.priors",
    "GaussianLikelihood": "bayesreg.likelihoods",
    "Horseshoe": "bayesreg.priors",
    "Laplace": "bayesreg.priors",
    "Likelihood": "bayesreg.likelihoods",
    "MapEstimate": "bayesreg.solvers",
    "MapPath": "bayesreg.solvers",
    "MapUndefinedError": "bayesreg.priors",
    "ModelComparison": "bayesreg.diagnostics",
    "PosteriorPath": "bayesreg.paths",
    "Prior": "bayesreg.priors",
    "Problem": "bayesreg.diagnostics",
    "RegressionModel": "bayesreg.model",
    "RegularizedHorseshoe": "bayesreg.priors",
    "SelectionResult": "bayesreg.selection",
    "ShrinkageSummary": "bayesreg.shrinkage",
    "SparsitySummary": "bayesreg.shrinkage",
    "VerificationReport": "bayesreg.verification",
    "compare_models": "bayesreg.diagnostics",
    "compare_selection": "bayesreg.selection",
    "conjugate_posterior": "bayesreg.sampling",
    "diagnose": "bayesreg.diagnostics",
    "dropout_map": "bayesreg.regularizers",
    "dropout_prior_scales": "bayesreg.regularizers",
    "dropout_sgd": "bayesreg.regularizers",
    "early_stopping_df_lambda": "bayesreg.regularizers",
    "early_stopping_iterate": "bayesreg.regularizers",
    "early_stopping_ridge_lambda": "bayesreg.regularizers",
    "effective_degrees_of_freedom": "bayesreg.shrinkage",
    "effective_nonzeros": "bayesreg.shrinkage",
    "full_bayes": "bayesreg.selection",
    "gradient_descent": "bayesreg.solvers",
    "kfold_search": "bayesreg.selection",
    "load_diabetes": "bayesreg.datasets",
    "make_sparse_classification": "bayesreg.datasets",
    "make_sparse_regression": "bayesreg.datasets",
    "map_estimate": "bayesreg.solvers",
    "map_path": "bayesreg.solvers",
    "mcem_lambda": "bayesreg.selection",
    "noise_prior_scale": "bayesreg.regularizers",
    "noise_ridge_alpha": "bayesreg.regularizers",
    "penalty_to_prior": "bayesreg.conventions",
    "plot_early_stopping_vs_ridge": "bayesreg.regularizer_plots",
    "posterior_path": "bayesreg.paths",
    "posterior_predictive": "bayesreg.sampling",
    "prior_predictive": "bayesreg.sampling",
    "posterior_shrinkage": "bayesreg.shrinkage",
    "prior_effective_nonzeros": "bayesreg.shrinkage",
    "prior_to_penalty": "bayesreg.conventions",
    "psis_loo_search": "bayesreg.selection",
    "regularizer_equivalences": "bayesreg.regularizers",
    "ridge_closed_form": "bayesreg.solvers",
    "ridge_evidence": "bayesreg.selection",
    "ridge_shrinkage_factors": "bayesreg.shrinkage",
    "sample_posterior": "bayesreg.sampling",
    "scale_mixture_kappa": "bayesreg.shrinkage",
    "sparsity_summary": "bayesreg.shrinkage",
    "validation_search": "bayesreg.selection",
    "verify": "bayesreg.verification",
}

__all__ = [
    "CONVENTIONS",
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "BernoulliLikelihood",
    "ConjugatePosterior",
    "ConvergenceWarning",
    "Dataset",
    "DescentResult",
    "Diagnosis",
    "ElasticNet",
    "Gaussian",
    "GaussianLikelihood",
    "Horseshoe",
    "Laplace",
    "Likelihood",
    "MapEstimate",
    "MapPath",
    "MapUndefinedError",
    "ModelComparison",
    "PosteriorPath",
    "Prior",
    "Problem",
    "RegressionModel",
    "RegularizedHorseshoe",
    "SelectionResult",
    "ShrinkageSummary",
    "SparsitySummary",
    "VerificationReport",
    "__version__",
    "compare_models",
    "compare_selection",
    "configure_blas",
    "conjugate_posterior",
    "diagnose",
    "dropout_map",
    "dropout_prior_scales",
    "dropout_sgd",
    "early_stopping_df_lambda",
    "early_stopping_iterate",
    "early_stopping_ridge_lambda",
    "effective_degrees_of_freedom",
    "effective_nonzeros",
    "full_bayes",
    "gradient_descent",
    "kfold_search",
    "load_diabetes",
    "make_sparse_classification",
    "make_sparse_regression",
    "map_estimate",
    "map_path",
    "mcem_lambda",
    "noise_prior_scale",
    "noise_ridge_alpha",
    "penalty_to_prior",
    "plot_early_stopping_vs_ridge",
    "posterior_path",
    "posterior_predictive",
    "posterior_shrinkage",
    "prior_effective_nonzeros",
    "prior_predictive",
    "prior_to_penalty",
    "psis_loo_search",
    "regularizer_equivalences",
    "ridge_closed_form",
    "ridge_evidence",
    "ridge_shrinkage_factors",
    "sample_posterior",
    "scale_mixture_kappa",
    "sparsity_summary",
    "validation_search",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bayesreg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
