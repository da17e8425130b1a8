"""Formulas and DataFrames: ``bayesreg.fit``, the estimators' ``formula=``, the CLI's ``--formula``.

Every design is checked against one made by hand (pandas.get_dummies with the same reference
level), every MAP against scikit-learn or the ridge normal equations on that hand-made matrix,
every prediction against ``X_new @ w + b`` written out.
"""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("formulae")

import bayesreg
from bayesreg import (
    BayesianLinearRegression,
    BayesianLogisticRegression,
    Gaussian,
    GaussianLikelihood,
    RegressionModel,
    map_estimate,
)
from bayesreg.cli import build_parser, load_data, main
from bayesreg.formula import formula_design

REGIONS = ["west", "north", "south"]  # first seen != sorted: the reference is "north" (sorted)


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(0.5, 3.0, size=n),
            "region": np.array(REGIONS)[np.arange(n) % 3],
        }
    )
    effect = frame["region"].map({"north": 0.0, "south": -1.0, "west": 1.5})
    frame["y"] = 1.0 + 2.0 * frame["x1"] - 0.7 * frame["x2"] + effect + rng.normal(size=n)
    frame["b"] = (frame["y"] > frame["y"].median()).astype(int)
    return frame


def _hand_design(frame: pd.DataFrame, levels=("north", "south", "west")) -> pd.DataFrame:
    """x1, x2 and treatment dummies of region, reference = the first sorted level."""
    region = pd.Categorical(frame["region"], categories=list(levels))
    dummies = pd.get_dummies(region, drop_first=True, dtype=float)
    dummies.columns = [f"C(region)[{c}]" for c in dummies.columns]
    dummies.index = frame.index
    return pd.concat([frame[["x1", "x2"]], dummies], axis=1)


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """min ||y - X w - b||^2 + alpha ||w||^2 (flat b) by the centred normal equations."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ yc)
    return w, float(y.mean() - X.mean(axis=0) @ w)


# -- the design -------------------------------------------------------------------------------
def test_design_equals_the_hand_made_one_with_groups(df):
    design, X, y = formula_design("y ~ x1 + x2 + C(region)", df)
    hand = _hand_design(df)
    assert list(X.columns) == list(hand.columns) == list(design.columns)
    np.testing.assert_array_equal(X.to_numpy(), hand.to_numpy())
    np.testing.assert_array_equal(y, df["y"].to_numpy())
    assert design.groups == {"x1": (0,), "x2": (1,), "C(region)": (2, 3)}
    np.testing.assert_array_equal(design.group_ids, [0, 1, 2, 2])
    assert design.fit_intercept and design.response == "y"
    # a text column without C() is categorical too; interactions and transforms by hand
    design2, X2, _ = formula_design("y ~ region + x1:C(region) + np.log(x2)", df)
    d = _hand_design(df).iloc[:, 2:].to_numpy()
    full = pd.get_dummies(pd.Categorical(df["region"]), dtype=float).to_numpy()  # all 3 levels
    expected = np.column_stack([d, df["x1"].to_numpy()[:, None] * full, np.log(df["x2"])])
    np.testing.assert_allclose(X2.to_numpy(), expected, rtol=0, atol=1e-15)
    assert design2.groups == {"region": (0, 1), "x1:C(region)": (2, 3, 4), "np.log(x2)": (5,)}
    # another reference level
    _, X4, _ = formula_design('y ~ C(region, Treatment("west"))', df)
    np.testing.assert_array_equal(X4.to_numpy(), _hand_design(df, ("west", "north", "south"))
                                  .iloc[:, 2:].to_numpy())  # fmt: skip
    # a transformed response: new rows need the predictors only
    design3, _, y3 = formula_design("np.log(x2) ~ x1 + C(region)", df)
    np.testing.assert_allclose(y3, np.log(df["x2"]), rtol=1e-15)
    assert design3.variables == ("region", "x1") and design3.response == "np.log(x2)"
    assert design3.transform(df[["region", "x1"]]).shape == (len(df), 3)


def test_no_intercept_formula_fits_none_and_codes_every_level(df):
    for formula in ("y ~ 0 + x1 + C(region)", "y ~ x1 + C(region) - 1"):
        res = bayesreg.fit(formula, df, prior=Gaussian(10.0), likelihood=GaussianLikelihood(1.0))
        assert not res.model.fit_intercept and not res.design.fit_intercept
        assert res.feature_names == ["x1", *(f"C(region)[{r}]" for r in sorted(REGIONS))]
        assert "intercept" not in res.coefficients().index and res.intercept == 0.0


# -- the MAP ----------------------------------------------------------------------------------
def test_map_through_fit_equals_the_hand_made_matrix(df):
    from sklearn.linear_model import Lasso

    hand = _hand_design(df)
    X, y = hand.to_numpy(), df["y"].to_numpy()
    tau, sigma = 0.8, 1.0
    res = bayesreg.fit(
        "y ~ x1 + x2 + C(region)", df, prior=Gaussian(tau), likelihood=GaussianLikelihood(sigma)
    )
    direct = map_estimate(RegressionModel(X, y, Gaussian(tau), GaussianLikelihood(sigma)))
    np.testing.assert_allclose(res.map.coef, direct.coef, rtol=1e-12, atol=1e-14)
    # independent: ridge with alpha = sigma^2 / tau^2 (tolerance: the MAP's KKT tol 1e-10)
    w, b = _ridge(X, y, sigma**2 / tau**2)
    np.testing.assert_allclose(res.coef.to_numpy(), w, rtol=1e-8)
    assert res.intercept == pytest.approx(b, rel=1e-8)
    table = res.coefficients()
    assert list(table.index) == [*hand.columns, "intercept"]
    np.testing.assert_allclose(table["map"].to_numpy(), [*w, b], rtol=1e-8)
    # Laplace(b) = Lasso(alpha = sigma^2 / (n b)), zeros included
    scale = 0.02
    lasso = Lasso(alpha=sigma**2 / (len(y) * scale), tol=1e-12, max_iter=100_000).fit(X, y)
    res_l = bayesreg.fit(
        "y ~ x1 + x2 + C(region)", df, prior="laplace", prior_scale=scale,
        likelihood=GaussianLikelihood(sigma),
    )  # fmt: skip
    np.testing.assert_allclose(res_l.coef.to_numpy(), lasso.coef_, atol=1e-7)
    np.testing.assert_array_equal(res_l.coef.to_numpy() == 0, lasso.coef_ == 0)
    assert (lasso.coef_ == 0).any()  # the test exercises a zero
    json.dumps(res.to_dict())  # JSON-safe, labelled
    assert res.to_dict()["coefficients"][2]["name"] == "C(region)[south]"


def test_bernoulli_formula_equals_sklearn_logistic(df):
    from sklearn.linear_model import LogisticRegression

    tau = 1.5
    res = bayesreg.fit("b ~ x1 + C(region)", df, prior=Gaussian(tau), likelihood="bernoulli")
    hand = _hand_design(df).drop(columns="x2").to_numpy()
    ref = LogisticRegression(C=tau**2, tol=1e-12, max_iter=10_000).fit(hand, df["b"])
    # the MAP's KKT tol 1e-10 vs lbfgs at tol 1e-12: agreement to ~1e-6
    np.testing.assert_allclose(res.coef.to_numpy(), ref.coef_[0], rtol=1e-5, atol=1e-6)
    new = df.iloc[:5]
    p = 1 / (1 + np.exp(-(hand[:5] @ res.coef.to_numpy() + res.intercept)))
    np.testing.assert_allclose(res.predict(new), p, rtol=1e-12)


# -- predictions on new data --------------------------------------------------------------------
def test_predict_on_new_data_uses_the_training_encoding(df):
    res = bayesreg.fit(
        "y ~ x1 + scale(x2) + C(region)", df, prior=Gaussian(1.0),
        likelihood=GaussianLikelihood(1.0),
    )  # fmt: skip
    new = pd.DataFrame(
        {"region": ["south", "north", "west"], "x2": [1.0, 2.0, 9.0], "x1": [0.5, -1.0, 0.0]}
    )  # other column order, other level order, one level missing from nothing
    by_hand = _hand_design(new)
    x2 = df["x2"].to_numpy()
    by_hand["x2"] = (new["x2"] - x2.mean()) / x2.std()  # scale() with the training mean, sd
    by_hand = by_hand.rename(columns={"x2": "scale(x2)"})
    assert list(res.design.transform(new).columns) == list(by_hand.columns)
    expected = by_hand.to_numpy() @ res.coef.to_numpy() + res.intercept
    np.testing.assert_allclose(res.predict(new), expected, rtol=1e-12)
    np.testing.assert_allclose(res.linear_predictor(new.iloc[:1]), expected[:1], rtol=1e-12)
    # a pickled fit predicts the same (formulae's encoding is rebuilt from the training columns)
    again = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(again.predict(new), res.predict(new))
    assert again.design == res.design
    with pytest.raises(ValueError, match=r"levels \(east\) in 'C\(region\)'.*unseen"):
        res.predict(new.assign(region=["east", "north", "west"]))
    with pytest.raises(ValueError, match=r"names column\(s\) 'x1'.*Available columns: region"):
        res.predict(new.drop(columns="x1"))
    with pytest.raises(ValueError, match=r"1 new row\(s\) have missing"):
        res.predict(new.assign(x1=[np.nan, 0.0, 0.0]))


# -- errors and the caller's frame --------------------------------------------------------------
def test_errors_name_the_problem_and_the_frame_is_not_modified(df):
    before = df.copy()
    with pytest.raises(ValueError, match=r"names column\(s\) 'x3'.*Available columns: x1, x2, reg"):
        bayesreg.fit("y ~ x1 + x3", df)
    with pytest.raises(TypeError, match=r"'data' parameter must be a pandas DataFrame.*ndarray"):
        bayesreg.fit("y ~ x1", df.to_numpy())
    with pytest.raises(ValueError, match=r"cannot parse the formula 'y ~ x1 \+'"):
        bayesreg.fit("y ~ x1 +", df)
    with pytest.raises(ValueError, match=r"'formula' parameter must be a str 'response ~ terms'"):
        bayesreg.fit("x1 + x2", df)
    with pytest.raises(ValueError, match=r"group-specific terms"):
        bayesreg.fit("y ~ x1 + (1|region)", df)
    with pytest.raises(ValueError, match=r"no predictor"):
        bayesreg.fit("y ~ 1", df)
    with pytest.raises(ValueError, match=r"categorical with levels.*'region\[west\] ~ \.\.\.'"):
        bayesreg.fit("region ~ x1", df)
    with pytest.raises(ValueError, match=r"'sampel' is not a supported method"):
        bayesreg.fit("y ~ x1", df, method="sampel")
    with pytest.raises(ValueError, match=r"'ridge' is not a supported prior"):
        bayesreg.fit("y ~ x1", df, prior="ridge")
    with pytest.raises(ValueError, match=r"\['draws'\] that map_estimate does not take"):
        bayesreg.fit("y ~ x1", df, draws=100)
    holes = df.copy()
    holes.loc[[3, 8], "x1"] = np.nan
    with pytest.raises(ValueError, match=r"2 row\(s\) have missing values in column\(s\) \['x1'\]"):
        bayesreg.fit("y ~ x1 + C(region)", holes)
    _, X, y = formula_design("y ~ x1 + C(region)", holes, na_action="drop")
    assert len(X) == len(y) == len(df) - 2 and 3 not in X.index
    # the caller's frame: same values, same dtypes, same columns
    bayesreg.fit("y ~ x1 + scale(x2) + region", df, prior="laplace")
    pd.testing.assert_frame_equal(df, before)


# -- a tiny sampling run: names on the draws -------------------------------------------------------
def test_sampled_fit_labels_the_draws_and_predicts_the_posterior_mean(df):
    tau, sigma = 0.8, 1.0
    res = bayesreg.fit(
        "y ~ x1 + x2 + C(region)", df, prior=Gaussian(tau), likelihood=GaussianLikelihood(sigma),
        method="sample", backend="exact", draws=2000, chains=2, random_seed=1, progressbar=False,
    )  # fmt: skip
    hand = _hand_design(df)
    assert list(res.idata.posterior["w"].coords["feature"].values) == list(hand.columns)
    table = res.coefficients()
    assert list(table.index) == [*hand.columns, "intercept"]
    # the conjugate posterior mean is the ridge solution; 4000 i.i.d. draws: 5 MCSE = 5 sd/63
    w, b = _ridge(hand.to_numpy(), df["y"].to_numpy(), sigma**2 / tau**2)
    assert np.all(np.abs(table["mean"].to_numpy() - [*w, b]) < 5 * table["sd"].to_numpy() / 63)
    # the posterior mean prediction of a Gaussian model = eta at the posterior means
    new = df.iloc[:4]
    expected = hand.iloc[:4].to_numpy() @ res.coef.to_numpy() + res.intercept
    np.testing.assert_allclose(res.predict(new), expected, rtol=1e-10)


# -- the estimators' formula= ---------------------------------------------------------------------
def test_estimator_formula_fits_and_predicts_data_frames(df):
    from sklearn.base import clone

    est = BayesianLinearRegression(
        formula="y ~ x1 + x2 + C(region)", prior_scale=0.8, sigma=1.0
    ).fit(df)
    hand = _hand_design(df)
    w, b = _ridge(hand.to_numpy(), df["y"].to_numpy(), 1.0 / 0.8**2)
    np.testing.assert_allclose(est.coef_, w, rtol=1e-8)
    assert est.intercept_ == pytest.approx(b, rel=1e-8)
    assert list(est.feature_names_in_) == list(hand.columns) and est.n_features_in_ == 4
    assert est.design_.groups["C(region)"] == (2, 3)
    new = df.iloc[:7].drop(columns="y")
    np.testing.assert_allclose(est.predict(new), hand.iloc[:7].to_numpy() @ w + b, rtol=1e-8)
    _, sd = est.predict(new, return_std=True)
    assert np.all(sd > 1.0)  # the predictive sd of a new observation exceeds sigma
    assert clone(est).get_params()["formula"] == "y ~ x1 + x2 + C(region)"
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(new), est.predict(new))
    # the formula decides the intercept; a clash is an error, y is the formula's
    est0 = BayesianLinearRegression(formula="y ~ 0 + x1", sigma=1.0).fit(df)
    assert est0.intercept_ == 0.0
    with pytest.raises(ValueError, match=r"fit_intercept=False but the formula"):
        BayesianLinearRegression(formula="y ~ x1", fit_intercept=False).fit(df)
    with pytest.raises(ValueError, match=r"the formula names the response"):
        BayesianLinearRegression(formula="y ~ x1").fit(df, df["y"])
    # without formula the estimator is unchanged: plain arrays, no design_
    plain = BayesianLinearRegression(prior_scale=0.8, sigma=1.0).fit(hand.to_numpy(), df["y"])
    np.testing.assert_allclose(plain.coef_, est.coef_, rtol=1e-10)
    assert not hasattr(plain, "design_")
    clf = BayesianLogisticRegression(formula="region[west] ~ x1 + x2", prior_scale=2.0).fit(df)
    assert list(clf.classes_) == [0.0, 1.0] and list(clf.feature_names_in_) == ["x1", "x2"]
    assert clf.predict_proba(df.iloc[:3]).shape == (3, 2)


# -- the CLI's --formula ---------------------------------------------------------------------------
def _bad(capsys, argv, pattern):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and re.search(pattern, err), err


def test_cli_formula_chooses_the_columns(capsys, df, tmp_path):
    path = str(tmp_path / "data.csv")
    df.to_csv(path, index=False)
    argv = ["verify", "--data", path, "--formula", "y ~ x1 + x2 + C(region)"]
    X, y, info = load_data(build_parser().parse_args(argv))
    hand = _hand_design(df)
    assert list(X.columns) == list(hand.columns) and info["formula"] == argv[-1]
    assert info["target"] == "y"
    standardized = (hand - hand.mean()) / hand.std(ddof=0)  # the CLI's default scaling
    np.testing.assert_allclose(X.to_numpy(), standardized.to_numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(y, df["y"].to_numpy())
    _bad(capsys, [*argv, "--target", "y"], r"--formula chooses the target")
    missing = r"--formula in .*names column\(s\) 'x9'.*Available columns: x1, x2, region, y, b"
    _bad(capsys, ["verify", "--data", path, "--formula", "y ~ x9"], missing)
    _bad(capsys, ["verify", "--data", path, "--formula", "y ~ 0 + x1"], r"has no intercept")
    _bad(capsys, ["verify", "--formula", "y ~ x1"], r"so does --formula")


@pytest.mark.slow
def test_cli_formula_verify_end_to_end(capsys, df, tmp_path):
    # about 20 s on 2 busy cores (pm.find_MAP's row compiles the PyMC graph)
    path = str(tmp_path / "data.csv")
    df.to_csv(path, index=False)
    argv = ["verify", "--data", path, "--formula", "y ~ x1 + x2 + C(region)"]
    assert main([*argv, "--prior", "gaussian"]) == 0
    out = capsys.readouterr().out
    assert f"n={len(df)}  p=4" in out
    assert out.strip().endswith("PASS: MAP == penalized solvers == scikit-learn")


@pytest.mark.slow
def test_horseshoe_formula_samples_like_the_estimator(df):
    # about 30 s: the collapsed horseshoe (Gaussian likelihood) compiles and samples 2 chains
    formula = "y ~ x1 + x2 + C(region)"
    kw = {"draws": 300, "tune": 300, "chains": 2}
    res = bayesreg.fit(formula, df, prior="horseshoe", method="sample", random_seed=3,
                       progressbar=False, **kw)  # fmt: skip
    est = BayesianLinearRegression(
        formula=formula, prior="horseshoe", fit_method="sample", random_state=3, **kw
    ).fit(df)
    # one name means one model: tau ~ C+(0, sigma) in both, hence the same draws
    assert res.model.prior == est.prior_ and res.model.prior.scale_by_sigma
    names = list(_hand_design(df).columns)
    for idata in (res.idata, est.idata_):
        assert list(idata.posterior["w"].coords["feature"].values) == names
    np.testing.assert_allclose(res.coef.to_numpy(), est.coef_, rtol=1e-12)
    np.testing.assert_allclose(res.predict(df.iloc[:5]), est.predict(df.iloc[:5]), rtol=1e-10)


def test_without_formulae_the_error_says_what_to_install(monkeypatch, df, capsys, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "formulae", None)  # import formulae -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'bayesreg\[formula\]'"):
        bayesreg.fit("y ~ x1", df)
    path = str(tmp_path / "data.csv")
    df.to_csv(path, index=False)
    _bad(
        capsys,
        ["verify", "--data", path, "--formula", "y ~ x1"],
        r"Formulas need the 'formulae' package",
    )


def test_a_grouped_prior_by_name_takes_the_formula_terms_as_groups(df):
    """prior="group_lasso" through a formula: C(region)'s two dummies are one group, so they
    are zero together or not at all. Checked against the same MAP on the hand-made matrix
    with the groups written out, and by the group-lasso optimality conditions themselves."""
    from bayesreg import GroupLaplace

    lik = GaussianLikelihood(sigma=1.0)  # known sigma: the penalized objective is fixed
    groups, b = (0, 1, 2, 2), 0.03  # at b = 0.03 region's group is zero, x1 is not
    fit = bayesreg.fit("y ~ x1 + x2 + C(region)", df, prior="group_lasso", prior_scale=b,
                       likelihood=lik, tol=1e-12)  # fmt: skip
    assert fit.model.prior.groups == groups
    X, y = _hand_design(df).to_numpy(), df["y"].to_numpy()
    ref = map_estimate(RegressionModel(X, y, GroupLaplace(b, list(groups)), lik), tol=1e-12)
    coef = fit.map.coef
    np.testing.assert_allclose(coef, ref.coef, atol=1e-10)  # both solved to the 1e-12 KKT tol
    assert coef[2] == coef[3] == 0.0 and abs(coef[0]) > 0.5
    # the optimality conditions of SSE/2 + sum_g sqrt(|g|) ||w_g|| / b at the returned point
    # (written out here, independent of the solver): a zero group's gradient norm is at most
    # its rate sqrt(|g|) / b; a non-zero group's gradient is -rate * w_g / ||w_g||
    Xc, yc = X - X.mean(0), y - y.mean()
    grad = Xc.T @ (Xc @ coef - yc)
    for g in set(groups):
        idx = [j for j, label in enumerate(groups) if label == g]
        rate, wg = np.sqrt(len(idx)) / b, coef[idx]
        if np.all(wg == 0.0):
            assert np.linalg.norm(grad[idx]) <= rate
        else:
            np.testing.assert_allclose(grad[idx], -rate * wg / np.linalg.norm(wg), rtol=1e-8)
    # the estimators' formula= does the same; without a formula the name needs its groups
    est = BayesianLinearRegression(prior="group_lasso", prior_scale=b, tol=1e-12,
                                   formula="y ~ x1 + x2 + C(region)")  # fmt: skip
    assert est.fit(df).prior_.groups == groups
    with pytest.raises(ValueError, match="prior='group_lasso' in BayesianLinearRegression shrinks"):
        BayesianLinearRegression(prior="group_lasso").fit(X, y)
