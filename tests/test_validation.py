"""Bad input gets a clear error naming the argument, the bad value and what is allowed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesreg import (
    BernoulliLikelihood,
    Gaussian,
    GaussianLikelihood,
    Laplace,
    RegressionModel,
    load_diabetes,
    make_sparse_regression,
)


@pytest.fixture
def Xy(rng):
    return rng.normal(size=(20, 3)), rng.normal(size=20)


def test_nan_in_X(Xy):
    X, y = Xy
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"Input X contains NaN \(first at index \(4, 1\)\)"):
        RegressionModel(X, y, Gaussian(1.0))


def test_inf_in_y(Xy):
    X, y = Xy
    y[7] = -np.inf
    with pytest.raises(ValueError, match=r"Input y contains infinity \(first at index \(7,\)\)"):
        RegressionModel(X, y, Gaussian(1.0))


def test_one_dimensional_X(Xy):
    X, y = Xy
    with pytest.raises(
        ValueError,
        match=r"Expected a 2D array for X, got a 1D array of shape \(20,\).*array\.reshape\(-1, 1\)",
    ):
        RegressionModel(X[:, 0], y, Gaussian(1.0))


def test_empty_X():
    with pytest.raises(ValueError, match=r"Found array with 0 elements in X \(shape=\(0, 3\)\)"):
        RegressionModel(np.empty((0, 3)), np.empty(0), Gaussian(1.0))


def test_mismatched_lengths(Xy):
    X, y = Xy
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: X has 20 rows, y has 19"
    ):
        RegressionModel(X, y[:-1], Gaussian(1.0))


def test_non_numeric_X():
    X = pd.DataFrame({"a": ["x", "y", "z"], "b": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match=r"X must be numeric"):
        RegressionModel(X, np.arange(3.0), Gaussian(1.0))


def test_non_binary_labels(Xy):
    X, _ = Xy
    y = np.r_[np.zeros(10), np.ones(8), 2.0, -1.0]
    with pytest.raises(ValueError, match=r"labels y in \{0, 1\}; got values \[-1.0, 2.0\]"):
        RegressionModel(X, y, Laplace(1.0), BernoulliLikelihood())


@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan])
def test_non_positive_scales_and_sigma(bad):
    with pytest.raises(
        ValueError, match=r"'scale' parameter of Gaussian must be a float in the range \(0, inf\)"
    ):
        Gaussian(bad)
    with pytest.raises(ValueError, match=r"'sigma' parameter of GaussianLikelihood"):
        GaussianLikelihood(sigma=bad)


def test_scale_of_wrong_type():
    with pytest.raises(
        TypeError, match=r"'scale' parameter of Laplace must be a float .* Got '1' instead"
    ):
        Laplace("1")


def test_wrong_prior_and_likelihood_types(Xy):
    X, y = Xy
    with pytest.raises(
        TypeError, match=r"'prior' parameter of RegressionModel must be a bayesreg Prior"
    ):
        RegressionModel(X, y, "gaussian")
    with pytest.raises(TypeError, match=r"'likelihood' parameter of RegressionModel"):
        RegressionModel(X, y, Gaussian(1.0), likelihood="normal")


def test_scale_by_sigma_needs_a_gaussian_likelihood(Xy):
    X, _ = Xy
    y = (X[:, 0] > 0).astype(float)
    with pytest.raises(ValueError, match=r"scale_by_sigma=True, which needs a GaussianLikelihood"):
        RegressionModel(X, y, Laplace(1.0, scale_by_sigma=True), BernoulliLikelihood())


def test_feature_names_checked(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match=r"feature_names has 2 names but X has 3 columns"):
        RegressionModel(X, y, Gaussian(1.0), feature_names=["a", "b"])
    with pytest.raises(ValueError, match=r"feature_names must be unique"):
        RegressionModel(X, y, Gaussian(1.0), feature_names=["a", "a", "b"])


def test_unknown_dataset_scaling():
    with pytest.raises(
        ValueError, match=r"'minmax' is not a supported scaling\. Must be one of: 'unit_norm'"
    ):
        load_diabetes("minmax")


def test_never_mutates_the_callers_arrays(Xy):
    X, y = Xy
    X_before, y_before = X.copy(), y.copy()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame_before = frame.copy()
    model = RegressionModel(frame, y, Laplace(0.5))
    model.logp_dlogp_function()(model.initial_point() + 1.0)
    model.set_prior_scale(2.0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    pd.testing.assert_frame_equal(frame, frame_before)
    # the model holds its own read-only copies: a later change by the caller does not leak in
    y[0] = 1e6
    assert model.y[0] == y_before[0]
    with pytest.raises(ValueError, match="read-only"):
        model.X[0, 0] = 1.0


def test_datasets_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"n_nonzero must be in \[0, n_features=5\]; got 9"):
        make_sparse_regression(n_features=5, n_nonzero=9)
    with pytest.raises(
        ValueError, match=r"'noise_sd' parameter of make_sparse_regression .* Got -1"
    ):
        make_sparse_regression(noise_sd=-1)


# -- issue 11: bad input gets a clear error naming the argument ------------------------------
def test_complex_input_is_refused(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match="X must be real-valued"):
        RegressionModel(X + 1j, y, Laplace(1.0))
    with pytest.raises(ValueError, match="y must be real-valued"):
        RegressionModel(X, y + 0j * 1j + 1j, Laplace(1.0))


def test_sparse_and_missing_inputs_get_a_hint(Xy):
    import pandas as pd
    from scipy import sparse

    X, y = Xy
    with pytest.raises(ValueError, match=r"X must be a dense.*\.toarray\(\)"):
        RegressionModel(sparse.csr_matrix(X), y, Laplace(1.0))
    frame = pd.DataFrame(X).astype("Float64")
    frame.iloc[0, 0] = pd.NA
    with pytest.raises(ValueError, match=r"pd\.NA.*impute or drop"):
        RegressionModel(frame, y, Laplace(1.0))


def test_duplicated_column_names_are_refused(Xy):
    import pandas as pd

    X, y = Xy
    frame = pd.DataFrame(X, columns=["a"] * X.shape[1])
    with pytest.raises(ValueError, match=r"duplicated column names \['a'\]"):
        RegressionModel(frame, y, Laplace(1.0))


def test_overflowing_magnitudes_name_the_argument(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match=r"X has values up to [0-9.]+e\+200.*Rescale X"):
        RegressionModel(X * 1e200, y, Laplace(1.0))
    with pytest.raises(ValueError, match=r"y has values up to [0-9.]+e\+200.*Rescale y"):
        RegressionModel(X, y * 1e200 + 1e200, Laplace(1.0))


def test_single_class_labels_are_refused(Xy):
    X, _ = Xy
    with pytest.raises(ValueError, match="needs both classes in y; every label is 1"):
        RegressionModel(X, np.ones(len(X)), Laplace(1.0), BernoulliLikelihood())


def test_unclear_messages_of_issue_11_name_the_argument(Xy):
    import bayesreg as br

    X, y = Xy
    with pytest.raises(ValueError, match="'validation_fraction' parameter of validation_search"):
        br.validation_search(X, y, validation_fraction="a")
    with pytest.raises(ValueError, match=r"pass n \(an int >= 1\). Got n='10'"):
        br.penalty_to_prior("sklearn_lasso", 0.3, sigma=1.0, n="10")
    with pytest.raises(ValueError, match="'prior_scale' parameter of BayesianLinearRegression"):
        br.BayesianLinearRegression(prior_scale=np.inf).fit(X, y)
    with pytest.raises(ValueError, match=r"'random_state'.*numpy.random.RandomState"):
        br.BayesianLinearRegression(fit_method="sample", random_state="abc").fit(X, y)
