"""bayesreg: a penalty is a prior.

L2 regularization is a Gaussian prior, L1 a Laplace prior. bayesreg builds those models in PyMC,
finds their MAP estimates (which equal the penalized solutions), samples the full posteriors and
shows what the posterior adds.
"""

# Before anything compiles: point PyTensor's C BLAS ops at scipy's OpenBLAS (pip-installed
# PyTensor links none; 1.8x faster sampling). Opt out with BAYESREG_NO_BLAS=1.
from bayesreg._blas import link_scipy_openblas as _link_scipy_openblas

_link_scipy_openblas()

from bayesreg.conventions import CONVENTIONS, penalty_to_prior, prior_to_penalty
from bayesreg.datasets import (
    Dataset,
    load_diabetes,
    make_sparse_classification,
    make_sparse_regression,
)
from bayesreg.diagnostics import Diagnosis, ModelComparison, Problem, compare_models, diagnose
from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood, Likelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import (
    ElasticNet,
    Gaussian,
    Horseshoe,
    Laplace,
    MapUndefinedError,
    Prior,
    RegularizedHorseshoe,
)
from bayesreg.sampling import (
    ConjugatePosterior,
    PosteriorPath,
    conjugate_posterior,
    posterior_path,
    sample_posterior,
)
from bayesreg.selection import (
    SelectionResult,
    compare_selection,
    full_bayes,
    kfold_search,
    mcem_lambda,
    psis_loo_search,
    ridge_evidence,
    validation_search,
)
from bayesreg.shrinkage import (
    ShrinkageSummary,
    SparsitySummary,
    effective_degrees_of_freedom,
    effective_nonzeros,
    posterior_shrinkage,
    prior_effective_nonzeros,
    ridge_shrinkage_factors,
    scale_mixture_kappa,
    sparsity_summary,
)
from bayesreg.solvers import (
    ConvergenceWarning,
    DescentResult,
    MapEstimate,
    MapPath,
    gradient_descent,
    map_estimate,
    map_path,
    ridge_closed_form,
)
from bayesreg.verify import VerificationReport, verify

__version__ = "0.1.0"

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
    "conjugate_posterior",
    "diagnose",
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
    "penalty_to_prior",
    "posterior_path",
    "posterior_shrinkage",
    "prior_effective_nonzeros",
    "prior_to_penalty",
    "psis_loo_search",
    "ridge_closed_form",
    "ridge_evidence",
    "ridge_shrinkage_factors",
    "sample_posterior",
    "scale_mixture_kappa",
    "sparsity_summary",
    "validation_search",
    "verify",
]
