"""The ``bayesreg`` command: end to end on diabetes, verify pass/fail, bad input -> exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bayesreg.cli import build_parser, load_data, main


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


def test_count_target_chooses_poisson_and_says_so(capsys):
    from bayesreg.cli import _likelihood

    y = np.array([0.0, 3.0, 1.0, 7.0, 2.0, 0.0])
    assert _likelihood("auto", y).name == "poisson"
    line = capsys.readouterr().out.strip()
    assert line.startswith("likelihood: poisson (a count target") and len(line) <= 80
    # the built-in diabetes score is whole numbers but a measurement: it stays gaussian
    assert _likelihood("auto", y, measured=True).name == "gaussian"
    assert capsys.readouterr().out == ""
    assert _likelihood("auto", y + 0.5).name == "gaussian"  # not integers
    assert _likelihood("auto", y - 1.0).name == "gaussian"  # negative values
    assert _likelihood("gaussian", y).name == "gaussian"


def test_verify_takes_the_gaussian_prior_with_the_laplace_likelihood(capsys):
    """Least absolute deviations with a Gaussian prior: the exact MAP is the quadratic
    program, certified (it was refused before there was one)."""
    assert main(["verify", "--likelihood", "laplace", "--prior", "gaussian"]) == 0
    out = capsys.readouterr().out
    assert "map (quadratic_program)" in out and "PASSED" in out


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


# the report end to end (one run shared with the browser checks): tests/test_report_browser.py
