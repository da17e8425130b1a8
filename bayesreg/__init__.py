"""bayesreg: a penalty is a prior.

L2 regularization is a Gaussian prior, L1 a Laplace prior. bayesreg builds those models in PyMC,
finds their MAP estimates (which equal the penalized solutions), samples the full posteriors and
shows what the posterior adds.
"""

from bayesreg.conventions import CONVENTIONS, penalty_to_prior, prior_to_penalty
from bayesreg.datasets import (
    Dataset,
    load_diabetes,
    make_sparse_classification,
    make_sparse_regression,
)
from bayesreg.diagnostics import Diagnosis, ModelComparison, Problem, compare_models, diagnose
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood, Likelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import ElasticNet, Gaussian, Laplace, Prior
from bayesreg.sampling import (
    ConjugatePosterior,
    PosteriorPath,
    conjugate_posterior,
    posterior_path,
    sample_posterior,
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
    gradient_descent,
    map_estimate,
    ridge_closed_form,
)
from bayesreg.verify import VerificationReport, verify

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "BernoulliLikelihood",
    "ConjugatePosterior",
    "ConvergenceWarning",
    "Dataset",
    "DescentResult",
    "Diagnosis",
    "ElasticNet",
    "Gaussian",
    "GaussianLikelihood",
    "Laplace",
    "Likelihood",
    "MapEstimate",
    "ModelComparison",
    "PosteriorPath",
    "Prior",
    "Problem",
    "RegressionModel",
    "ShrinkageSummary",
    "SparsitySummary",
    "VerificationReport",
    "__version__",
    "compare_models",
    "conjugate_posterior",
    "diagnose",
    "effective_degrees_of_freedom",
    "effective_nonzeros",
    "gradient_descent",
    "load_diabetes",
    "make_sparse_classification",
    "make_sparse_regression",
    "map_estimate",
    "penalty_to_prior",
    "posterior_path",
    "posterior_shrinkage",
    "prior_effective_nonzeros",
    "prior_to_penalty",
    "ridge_closed_form",
    "ridge_shrinkage_factors",
    "sample_posterior",
    "scale_mixture_kappa",
    "sparsity_summary",
    "verify",
]
