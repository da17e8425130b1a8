"""The verification report: passes for every prior x likelihood pair, and can fail."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from bayesreg.conventions import penalty_to_prior
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.verification import VerificationReport, verify

SIGMA = 54.0


def _models(name, data):
    X, y = data.X, data.y
    n = len(y)
    sigma = SIGMA if name == "diabetes" else 1.0
    # strengths at which the penalty matters on each data set (so AdamW visibly differs)
    ridge_alpha = 0.1 if name == "diabetes" else 20.0
    lasso_alpha = 0.5 if name == "diabetes" else 0.1
    yb = (y > np.median(y)).astype(float)
    return {
        "ridge": RegressionModel(
            X,
            y,
            penalty_to_prior("sklearn_ridge", ridge_alpha, sigma=sigma),
            GaussianLikelihood(),
        ),
        "lasso": RegressionModel(
            X,
            y,
            penalty_to_prior("sklearn_lasso", lasso_alpha, sigma=sigma, n=n),
            GaussianLikelihood(sigma),
        ),
        "logistic_l2": RegressionModel(
            X, yb, penalty_to_prior("sklearn_logistic", 1.0), BernoulliLikelihood()
        ),
        "logistic_l1": RegressionModel(
            X, yb, penalty_to_prior("sklearn_logistic", 1.0, l1_ratio=1.0), BernoulliLikelihood()
        ),
    }


@pytest.fixture(scope="module")
def diabetes_models(diabetes):
    return _models("diabetes", diabetes)


@pytest.fixture(scope="module")
def reports(diabetes, sparse_regression):
    out = {}
    for name, data in (("diabetes", diabetes), ("synthetic", sparse_regression)):
        for kind, model in _models(name, data).items():
            # pm.find_MAP (a compile + a run) on the diabetes models only, to keep time down
            out[name, kind] = (model, verify(model, include_find_map=name == "diabetes"))
    return out


@pytest.mark.slow  # eight models, each compiled and solved ten ways (~50 s together)
@pytest.mark.parametrize("data", ["diabetes", "synthetic"])
@pytest.mark.parametrize("kind", ["ridge", "lasso", "logistic_l2", "logistic_l1"])
def test_verify_passes(reports, data, kind):
    _, report = reports[data, kind]
    assert report.passed, str(report)
    names = [r.method for r in report.rows]
    assert any(n.startswith("sklearn") for n in names)
    assert "GD fista" in names and "GD ista" in names and "GD subgradient" in names
    if kind in ("ridge", "logistic_l2"):
        assert "GD weight_decay" in names and "GD adamw" in names and "GD adam_l2" in names
        adamw = next(r for r in report.rows if r.method == "GD adamw")
        assert not adamw.expected_to_agree and adamw.rel_diff > 1e-2  # shown to differ
    if kind == "ridge":
        assert "closed form (ridge)" in names
    if kind in ("lasso", "logistic_l1"):
        sub = next(r for r in report.rows if r.method == "GD subgradient")
        assert not sub.zero_pattern_agrees and not sub.expected_to_agree
        if data == "diabetes":
            fm = next(r for r in report.rows if r.method == "pm.find_MAP")
            assert not fm.zero_pattern_agrees  # L-BFGS: small non-zeros, no exact zeros


def test_wrong_conversion_fails(diabetes_models):
    model = diabetes_models["lasso"]
    good = verify(model, rows=["sklearn"])
    bad = verify(model, rows=["sklearn"], conversion_factor=1.01)
    assert good.passed and not bad.passed
    assert [r.method.split("(")[0] for r in bad.failures] == ["sklearn Lasso"]
    assert "FAILED" in str(bad)


def test_tampered_row_fails(diabetes_models):
    model = diabetes_models["ridge"]

    def tamper(row):
        if row.method == "closed form (ridge)":
            return dataclasses.replace(row, rel_diff=1e-3, agrees=False)
        return row

    report = verify(model, rows=["closed_form"], tamper=tamper)
    assert not report.passed
    assert report.failures[0].method == "closed form (ridge)"


def test_report_outputs(diabetes_models):
    report = verify(diabetes_models["ridge"], rows=["closed_form", "find_map", "weight_decay"])
    assert isinstance(report, VerificationReport)
    text = str(report)
    assert "PASSED" in text and "pm.find_MAP" in text and "closed form (ridge)" in text
    df = report.to_dataframe()
    assert len(df) == len(report.rows)
    assert {"method", "max_abs_diff", "rel_diff", "zero_pattern_agrees", "objective"} <= set(
        df.columns
    )
    assert {"optimality", "expected_to_agree", "tolerance", "passed"} <= set(df.columns)
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["passed"] is True and len(d["rows"]) == len(report.rows)
    assert d["reference"]["sigma"] is not None  # sigma estimated in this model


def test_verify_rejects_unknown_rows(diabetes_models):
    model = diabetes_models["ridge"]
    with pytest.raises(ValueError, match="'bfgs' is not a supported verification row"):
        verify(model, rows=["bfgs"])


def test_rows_that_do_not_apply_say_which_capability_is_missing(diabetes_models):
    report = verify(diabetes_models["lasso"], rows=["closed_form", "weight_decay", "adamw"])
    assert [r.method for r in report.rows] == ["map (fista)"]  # only the reference ran
    assert set(report.not_applicable) == {"closed form", "weight_decay", "adamw"}
    for why in report.not_applicable.values():
        assert "Gaussian penalty" in why and "Laplace" in why
    assert "not applicable" in str(report) and report.passed
    assert report.to_dict()["not_applicable"] == report.not_applicable


def test_a_method_stopped_at_its_budget_is_inconclusive_not_a_failure(diabetes):
    """Issue 11 item 4: ISTA given 5 steps does not reach the MAP and says so (converged=False):
    the row is inconclusive, the report still passes, and a converged disagreement fails."""
    import dataclasses

    from bayesreg import GaussianLikelihood, Laplace, RegressionModel, verify

    model = RegressionModel(diabetes.X, diabetes.y, Laplace(5.0), GaussianLikelihood(50.0))
    report = verify(model, rows=["map_alt", "ista"], include_find_map=False, max_iter=5)
    ista = next(r for r in report.rows if r.method == "GD ista")
    assert not ista.converged and not ista.agrees
    assert ista.status == "inconclusive" and ista.passed
    assert report.passed and report.inconclusive == [ista]
    assert "inconclusive" in str(report)

    def converged_but_off(row):
        return dataclasses.replace(row, converged=True) if row.method == "GD ista" else row

    bad = verify(model, rows=["map_alt", "ista"], include_find_map=False, max_iter=5,
                 tamper=converged_but_off)  # fmt: skip
    assert not bad.passed and [r.method for r in bad.failures] == ["GD ista"]
