"""The scikit-learn facade: estimator contract, agreement with scikit-learn, GridSearchCV."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from bayesreg.conventions import penalty_to_prior
from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.likelihoods import GaussianLikelihood
from bayesreg.priors import Gaussian, Horseshoe, Laplace, MapUndefinedError

# Checks we expect to fail, with the reason (none so far: the MAP path passes them all).
EXPECTED_FAILED: dict[str, str] = {}


@parametrize_with_checks(
    [
        BayesianLinearRegression(fit_method="map"),
        BayesianLinearRegression(prior="laplace", fit_method="map"),
        BayesianLogisticRegression(fit_method="map"),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


SIGMA = 1.5


@pytest.mark.parametrize(
    ("convention", "alpha", "l1_ratio", "sk"),
    [
        ("sklearn_lasso", 0.1, None, lambda a, r: Lasso(alpha=a, tol=1e-14, max_iter=100_000)),
        ("sklearn_ridge", 3.0, None, lambda a, r: Ridge(alpha=a)),
        (
            "sklearn_elasticnet",
            0.1,
            0.7,
            lambda a, r: SkElasticNet(alpha=a, l1_ratio=r, tol=1e-14, max_iter=100_000),
        ),
    ],
)
def test_map_matches_sklearn_with_identical_zeros(
    sparse_regression, convention, alpha, l1_ratio, sk
):
    X, y = sparse_regression.X.to_numpy(), sparse_regression.y
    prior = penalty_to_prior(convention, alpha, sigma=SIGMA, n=len(y), l1_ratio=l1_ratio)
    ours = BayesianLinearRegression(prior=prior, sigma=SIGMA).fit(X, y)
    ref = sk(alpha, l1_ratio).fit(X, y)
    # both solved to ~1e-12 KKT; 1e-6 relative leaves room for scikit-learn's own tolerance
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.coef_ == 0.0, ref.coef_ == 0.0)
    if convention != "sklearn_ridge":
        assert np.any(ours.coef_ == 0.0)  # the comparison of zero patterns is not vacuous


def test_elasticnet_prior_by_name_matches_sklearn(sparse_regression):
    X, y = sparse_regression.X.to_numpy(), sparse_regression.y
    n = len(y)
    alpha, rho = 0.2, 0.4
    prior = penalty_to_prior("sklearn_elasticnet", alpha, sigma=SIGMA, n=n, l1_ratio=rho)
    ours = BayesianLinearRegression(
        prior="elasticnet", prior_scale=prior.scale, l1_ratio=rho, sigma=SIGMA
    ).fit(X, y)
    ref = SkElasticNet(alpha=alpha, l1_ratio=rho, tol=1e-14, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.coef_ == 0.0, ref.coef_ == 0.0)


def test_logistic_map_matches_sklearn(sparse_classification):
    X, y = sparse_classification.X.to_numpy(), sparse_classification.y
    C = 0.5
    prior = penalty_to_prior("sklearn_logistic", C)  # Gaussian(tau = sqrt(C))
    ours = BayesianLogisticRegression(prior=prior).fit(X, y)
    ref = LogisticRegression(C=C, l1_ratio=0.0, tol=1e-12, max_iter=10_000).fit(X, y)
    # lbfgs at gtol 1e-12 vs our KKT 1e-10: agreement to 1e-6 relative
    np.testing.assert_allclose(ours.coef_, ref.coef_[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)


def test_numpy_map_matches_compiled_map_estimate(sparse_regression):
    """solver='fista' (numpy) and solver='map_estimate' (PyTensor graph) solve the same problem,
    with sigma estimated: the joint (w, b, sigma) MAP must agree."""
    X, y = sparse_regression.X.to_numpy(), sparse_regression.y
    kw = {"prior": "laplace", "prior_scale": 0.3}
    fast = BayesianLinearRegression(solver="fista", **kw).fit(X, y)
    slow = BayesianLinearRegression(solver="map_estimate", **kw).fit(X, y)
    np.testing.assert_allclose(fast.coef_, slow.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(fast.sigma_, slow.sigma_, rtol=1e-7)
    np.testing.assert_array_equal(fast.coef_ == 0.0, slow.coef_ == 0.0)


def test_small_map_fit_compiles_nothing():
    """A small MAP fit goes through map_estimate's numpy evaluator: PyMC and PyTensor are
    never imported (a fresh interpreter, so nothing else in the test session imported them)."""
    code = (
        "import sys, numpy as np\n"
        "from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((60, 5)); y = X @ [1.0, 0, 0, -2.0, 0] + rng.standard_normal(60)\n"
        "for prior in ('gaussian', 'laplace', 'elasticnet'):\n"
        "    BayesianLinearRegression(prior=prior).fit(X, y)\n"
        "BayesianLogisticRegression(prior='laplace').fit(X, (y > 0).astype(int))\n"
        "print(sorted(m for m in ('pymc', 'pytensor') if m in sys.modules))\n"
    )
    root = pathlib.Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_random_state_is_converted_once_and_x_is_copied(sparse_regression):
    X, y = sparse_regression.X.to_numpy().copy(), sparse_regression.y
    with pytest.raises(ValueError, match=r"'random_state' parameter of BayesianLinearRegression"):
        BayesianLinearRegression(fit_method="sample", random_state="abc").fit(X, y)
    est = BayesianLinearRegression(prior=Gaussian(0.5), sigma=1.0).fit(X, y)
    before = est.predict(X[:3], return_std=True)
    X[:] = 0.0  # the caller overwrites its own array: the fitted estimator is unaffected
    after = est.predict(sparse_regression.X.to_numpy()[:3], return_std=True)
    np.testing.assert_array_equal(before[1], after[1])


def test_gridsearch_over_prior_scale_in_a_pipeline(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    pipe = make_pipeline(StandardScaler(), BayesianLinearRegression(prior="laplace"))
    scales = [1e-3, 1e-2, 0.1, 1.0, 10.0]
    search = GridSearchCV(
        pipe,
        {"bayesianlinearregression__prior_scale": scales},
        cv=KFold(4, shuffle=True, random_state=0),
    ).fit(X, y)
    best = search.best_params_["bayesianlinearregression__prior_scale"]
    # 1e-3 shrinks everything to 0 (R^2 <= 0); the data (3 strong effects, noise 1) want a weak prior
    assert best >= 0.1
    # a tuned prior does at least as well as unpenalized least squares on the same folds
    ols = cross_val_score(LinearRegression(), X, y, cv=KFold(4, shuffle=True, random_state=0))
    assert search.best_score_ >= ols.mean() - 0.01
    direct = BayesianLinearRegression(prior="laplace").fit(X, y)  # a DataFrame keeps its names
    np.testing.assert_array_equal(direct.feature_names_in_, np.asarray(X.columns, dtype=object))
    assert direct.n_features_in_ == X.shape[1]
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] < 0.1 < scores[-1]


def test_horseshoe_map_request_raises(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    for prior in ("horseshoe", "regularized_horseshoe", Horseshoe(0.1)):
        with pytest.raises(MapUndefinedError, match="unbounded at w = 0"):
            BayesianLinearRegression(prior=prior).fit(X, y)
    from bayesreg.model import RegressionModel
    from bayesreg.solvers import map_estimate

    with pytest.raises(ValueError, match="unbounded at w = 0"):
        map_estimate(RegressionModel(X, y, Horseshoe(0.1)))


def test_parameter_errors_name_argument_and_value(sparse_regression):
    X, y = sparse_regression.X, sparse_regression.y
    with pytest.raises(ValueError, match=r"'ridge' is not a supported prior\. Must be one of"):
        BayesianLinearRegression(prior="ridge").fit(X, y)
    with pytest.raises(ValueError, match=r"The 'prior_scale' parameter .* Got -1"):
        BayesianLinearRegression(prior_scale=-1).fit(X, y)
    with pytest.raises(ValueError, match="'mcmc' is not a supported fit_method"):
        BayesianLinearRegression(fit_method="mcmc").fit(X, y)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        BayesianLogisticRegression().fit(X, np.arange(len(y)) % 3)


def test_prior_object_scale_override_and_no_mutation(sparse_regression):
    X = sparse_regression.X.to_numpy()
    y = sparse_regression.y.copy()
    X0, y0 = X.copy(), y.copy()
    prior = Laplace(0.05)
    est = BayesianLinearRegression(prior=prior, prior_scale=2.0, sigma=1.0).fit(X, y)
    assert est.prior_ == Laplace(2.0) and prior == Laplace(0.05)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_return_std_is_the_exact_gaussian_posterior(sparse_regression):
    """For a Gaussian prior and known sigma, predict(return_std=True) after a MAP fit is the
    conjugate posterior predictive: compare with a brute-force Gaussian computation in which
    the flat intercept prior is the limit of a very wide Gaussian."""
    X, y = sparse_regression.X.to_numpy(), sparse_regression.y
    sigma, tau = 1.2, 0.5
    est = BayesianLinearRegression(prior=Gaussian(tau), sigma=sigma).fit(X, y)
    Xn = X[:5] + 0.3
    mean, std = est.predict(Xn, return_std=True)
    Z = np.column_stack([X, np.ones(len(y))])
    prec = Z.T @ Z / sigma**2 + np.diag(np.r_[np.full(X.shape[1], 1 / tau**2), 1e-12])
    cov = np.linalg.inv(prec)
    mu = cov @ Z.T @ y / sigma**2
    Zn = np.column_stack([Xn, np.ones(5)])
    np.testing.assert_allclose(mean, Zn @ mu, rtol=1e-8)
    np.testing.assert_allclose(
        std, np.sqrt(np.einsum("ij,jk,ik->i", Zn, cov, Zn) + sigma**2), rtol=1e-8
    )
    with pytest.raises(ValueError, match="Gaussian prior"):
        BayesianLinearRegression(prior="laplace").fit(X, y).predict(Xn, return_std=True)


@pytest.mark.slow
def test_sampled_estimator_has_idata_and_uncertainty(sparse_classification):
    X, y = sparse_classification.X, sparse_classification.y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = BayesianLogisticRegression(
            fit_method="sample", draws=200, tune=200, chains=2, random_state=3
        ).fit(X, y)
    assert est.idata_.posterior["w"].shape == (2, 200, X.shape[1])
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert est.score(X, y) > 0.7
    mapfit = BayesianLogisticRegression().fit(X, y)
    # the posterior mean sits near the MAP for n=200, p=6 (within a few posterior sds)
    sd = est.idata_.posterior["w"].std(("chain", "draw")).values
    assert np.all(np.abs(est.coef_ - mapfit.coef_) < 3 * sd)


# -- the likelihood by name, the predictive sd and interval, feature names in idata_ ---------
def test_likelihood_by_name_and_object_and_bad_names():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, 0.0, -1.0]) + rng.normal(size=40)
    a = BayesianLinearRegression(likelihood="gaussian", sigma=1.0).fit(X, y)
    b = BayesianLinearRegression(likelihood=GaussianLikelihood(1.0)).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    with pytest.raises(ValueError, match=r"'likelihood' parameter.*'gaussian'"):
        BayesianLinearRegression(likelihood="gausian").fit(X, y)
    with pytest.raises(ValueError, match=r"must be a regression likelihood.*classifier"):
        BayesianLinearRegression(likelihood="bernoulli").fit(X, (y > 0).astype(float))
    with pytest.raises(ValueError, match="pass sigma inside the Likelihood object"):
        BayesianLinearRegression(likelihood=GaussianLikelihood(1.0), sigma=2.0).fit(X, y)


@pytest.mark.slow
def test_sampled_predictive_sd_and_interval_agree_with_predictive_draws():
    import pandas as pd

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(50, 2)), columns=["height", "weight"])
    y = X.to_numpy() @ np.array([1.0, -0.5]) + 0.8 * rng.normal(size=50)
    est = BayesianLinearRegression(
        fit_method="sample", draws=500, tune=300, chains=2, random_state=3
    ).fit(X, y)
    assert list(est.idata_.posterior["feature"].values) == ["height", "weight"]
    Xn = X.iloc[:5]
    mean, sd = est.predict(Xn, return_std=True)
    lo, hi = est.predict_interval(Xn, prob=0.9).T
    # 1000 predictive draws: the 90% interval of a near-normal predictive is mean +- 1.645 sd,
    # its endpoints within ~0.1 sd (quantile MC error) of that
    np.testing.assert_allclose(lo, mean - 1.645 * sd, atol=0.15 * sd.max())
    np.testing.assert_allclose(hi, mean + 1.645 * sd, atol=0.15 * sd.max())
    with pytest.raises(ValueError, match="a MAP fit is a point estimate"):
        BayesianLinearRegression().fit(X, y).predict_interval(Xn)


def test_map_std_needs_a_gaussian_prior_and_says_why():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] + rng.normal(size=30)
    est = BayesianLinearRegression(prior="laplace").fit(X, y)
    with pytest.raises(ValueError, match="A MAP is a point: it has no spread"):
        est.predict(X, return_std=True)
