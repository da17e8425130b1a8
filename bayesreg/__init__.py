"""bayesreg: a penalty is a prior.

L2 regularization is a Gaussian prior, L1 a Laplace prior. bayesreg builds those models in PyMC,
finds their MAP estimates (which equal the penalized solutions), samples the full posteriors and
shows what the posterior adds.
"""

from bayesreg.conventions import CONVENTIONS, penalty_to_prior, prior_to_penalty
from bayesreg.datasets import load_diabetes, make_sparse_classification, make_sparse_regression
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood, Likelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import ElasticNet, Gaussian, Laplace, Prior

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "BernoulliLikelihood",
    "ElasticNet",
    "Gaussian",
    "GaussianLikelihood",
    "Laplace",
    "Likelihood",
    "Prior",
    "RegressionModel",
    "__version__",
    "load_diabetes",
    "make_sparse_classification",
    "make_sparse_regression",
    "penalty_to_prior",
    "prior_to_penalty",
]
