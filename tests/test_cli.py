"""The ``bayesreg`` command: end to end on diabetes, verify pass/fail, bad input -> exit 2."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.linear_model import Lasso

from bayesreg import load_diabetes
from bayesreg.cli import build_parser, load_data, main
from bayesreg.report import REPORT_KEYS


# -- bad input: exit 2, a message, no traceback ------------------------------------------------
@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((30, 3)), columns=["a", "b", "c"])
    frame["y"] = frame["a"] - 2 * frame["b"] + rng.standard_normal(30)

    def write(df=frame, name="data.csv"):
        path = tmp_path / name
        df.to_csv(path, index=False)
        return str(path)

    write.frame = frame
    return write


def _bad(capsys, argv, *patterns):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    for pat in patterns:
        assert re.search(pat, err), f"{pat!r} not in {err!r}"
    return err


def test_missing_file(capsys, tmp_path):
    _bad(capsys, ["verify", "--data", str(tmp_path / "nope.csv"), "--target", "y"],
         r"bayesreg: error: --data file .*nope\.csv' does not exist")  # fmt: skip


def test_unknown_target_and_feature_columns(capsys, csv):
    path = csv()
    _bad(capsys, ["report", "--data", path, "--target", "z"],
         r"unknown column 'z' for --target", r"Columns: a, b, c, y")  # fmt: skip
    _bad(capsys, ["verify", "--data", path, "--target", "y", "--features", "a,q"],
         r"unknown column\(s\) 'q' for --features")  # fmt: skip
    _bad(capsys, ["verify", "--data", path, "--target", "y", "--features", "a,y"],
         r"includes the target")  # fmt: skip


def test_non_numeric_column(capsys, csv):
    df = csv.frame.copy()
    df["b"] = df["b"].astype(object)
    df.loc[4, "b"] = "high"
    _bad(capsys, ["verify", "--data", csv(df), "--target", "y"],
         r"non-numeric column\(s\).*'b' \(row 6: 'high'\)", r"--features")  # fmt: skip


def test_nan_rows(capsys, csv):
    df = csv.frame.copy()
    df.loc[[2, 7], "c"] = np.nan
    df.loc[9, "y"] = np.nan
    err = _bad(capsys, ["verify", "--data", csv(df), "--target", "y"],
               r"3 row\(s\) .* missing or infinite values \(rows 4, 9, 11", r"--drop-missing")  # fmt: skip
    assert "'c'" in err and "'y'" in err
    # --drop-missing drops exactly those rows (checked on the loader, without a solver run)
    args = build_parser().parse_args(
        ["verify", "--data", csv(df), "--target", "y", "--drop-missing"]
    )
    X, y, info = load_data(args)
    assert info["dropped_rows"] == 3 and X.shape == (27, 3) and y.shape == (27,)
    kept = df.dropna()
    # standardized by default: centred, sd 1 (ddof=0), from the kept rows only
    a = kept["a"].to_numpy()
    np.testing.assert_allclose(X["a"], (a - a.mean()) / a.std(), rtol=1e-12)
    np.testing.assert_array_equal(y, kept["y"].to_numpy())


def test_other_bad_inputs(capsys, csv, tmp_path):
    path = csv()
    _bad(capsys, ["verify", "--data", path], r"--data needs --target")
    _bad(capsys, ["verify", "--target", "y"], r"--target and --features need --data")
    _bad(capsys, ["verify", "--data", str(tmp_path), "--target", "y"], r"is a folder")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _bad(capsys, ["verify", "--data", str(empty), "--target", "y"], r"cannot read .* as CSV")
    df = csv.frame.copy()
    df["c"] = 1.0
    _bad(
        capsys,
        ["verify", "--data", csv(df, "const.csv"), "--target", "y"],
        r"constant feature column\(s\) 'c'",
    )
    _bad(capsys, ["verify", "--data", path, "--target", "y", "--likelihood", "bernoulli"],
         r"needs a 0/1 target")  # fmt: skip
    # option errors come from argparse: same exit code, its usage message
    _bad(capsys, ["report", "--draws", "0"], r"--draws: expected an integer >= 1, got '0'")
    _bad(capsys, ["report", "--scale", "-3"], r"--scale: expected a positive number")
    _bad(capsys, ["report", "--prior", "cauchy"], r"invalid choice: 'cauchy'")
    _bad(capsys, ["frobnicate"], r"invalid choice")


def test_console_entry_point_bad_input_has_no_traceback(tmp_path):
    # the real process: python -m bayesreg (the console script calls the same main)
    proc = subprocess.run(
        [sys.executable, "-m", "bayesreg", "report", "--data", str(tmp_path / "x.csv"),
         "--target", "y"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_bernoulli_target_is_detected(csv):
    df = csv.frame.copy()
    df["y"] = (df["y"] > 0).astype(int)
    from bayesreg.cli import _likelihood

    args = build_parser().parse_args(["verify", "--data", csv(df), "--target", "y"])
    _, y, _ = load_data(args)
    assert _likelihood("auto", y).name == "bernoulli"
    assert _likelihood("gaussian", y).name == "gaussian"


# -- verify: passes on diabetes, fails when the conversion is wrong ----------------------------
@pytest.mark.slow
def test_verify_passes_on_diabetes_and_fails_on_a_wrong_conversion(capsys):
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASSED") == 2 and out.strip().endswith(
        "PASS: MAP == penalized solvers == scikit-learn"
    )
    # a 1% error in the penalty conversion must be caught (sklearn and closed-form rows)
    assert main(["verify", "--prior", "gaussian", "--inject-conversion-error", "1.01"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and out.strip().endswith("FAIL: verification failed")


# -- report end to end --------------------------------------------------------------------------
@pytest.mark.slow
def test_report_end_to_end_on_diabetes(tmp_path, capsys):
    out_dir = tmp_path / "rep"
    rc = main(["report", "--draws", "100", "--tune", "100", "--chains", "2", "--backend", "pymc",
               "--path-points", "0", "--seed", "3", "--out", str(out_dir), "--no-progress"])  # fmt: skip
    stdout = capsys.readouterr().out
    report = json.loads((out_dir / "report.json").read_text())
    assert tuple(report) == REPORT_KEYS
    assert set(report["priors"]) == {"gaussian", "laplace"}
    v = report["verdict"]
    # 2 x 100 draws cannot reach 400 effective draws in every tail: diagnostics must flag it,
    # and the command must say so with a non-zero exit code (it gates CI)
    assert v["verification_passed"] is True and v["diagnostics_ok"] is False
    assert rc == v["exit_code"] == 1
    assert stdout.strip().splitlines()[-1] == v["message"] and v["message"].startswith("FAIL")
    for name, entry in report["priors"].items():
        assert {"prior", "scale", "map", "penalty_equivalents", "verification", "diagnostics",
                "shrinkage", "sparsity", "sampling_time"} <= set(entry)  # fmt: skip
        kinds = {p["kind"] for p in entry["diagnostics"]["problems"]}
        assert "ess_tail" in kinds, name
        assert len(entry["sparsity"]["coefficients"]) == 10
    # the numbers are the real ones: the Laplace MAP's zero pattern is Lasso's at the reported alpha
    d = load_diabetes()
    lap = report["priors"]["laplace"]
    alpha = lap["penalty_equivalents"]["sklearn_lasso"]
    lasso = Lasso(alpha=alpha, tol=1e-12, max_iter=1_000_000).fit(d.X, d.y)
    coef = np.array([lap["map"]["coef"][f] for f in d.feature_names])
    np.testing.assert_array_equal(coef == 0.0, lasso.coef_ == 0.0)
    np.testing.assert_allclose(coef, lasso.coef_, atol=1e-6 * np.abs(coef).max())
    assert lap["map"]["n_zero"] == int(np.sum(coef == 0.0)) >= 1
    assert 0 < report["priors"]["gaussian"]["effective_df"] < 10
    # --path-points 0: no path (the path plots are tested on a real PosteriorPath in
    # test_plotting; each path point costs a NUTS run, too slow for this test's budget)
    assert report["path"] is None and report["settings"]["path_points"] == 0
    assert report["figures"][:3] == ["forest", "shrinkage", "geometry"]
    # index.html is self-contained: every figure embedded, and each decodes as a PNG
    html = (out_dir / "index.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == len(report["figures"]) >= 6
    for b64 in images:
        img = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
        img.load()
        assert img.format == "PNG" and min(img.size) > 100
    assert not re.search(r"(src|href)=['\"]https?://", html)
    assert v["message"] in html
