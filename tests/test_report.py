"""write_report: both files appear whole or not at all (no truncated file, no temp folder)."""

from __future__ import annotations

import json
import os

import pytest

from bayesreg import report as rep


def _report(message: str) -> dict:
    return {
        "bayesreg_version": "test",
        "created": "2025-01-01T00:00:00+00:00",
        "data": {"n": 3, "p": 1, "likelihood": "gaussian", "source": "unit test", "target": "y"},
        "settings": {
            "prior_sd": 1.0,
            "scale_rule": "given",
            "backend": "exact",
            "chains": 1,
            "draws": 1,
            "tune": 0,
            "random_seed": 0,
        },
        "priors": {},
        "path": None,
        "figures": [],
        "verdict": {"passed": True, "message": message},
    }


_NO_RESULTS = {"models": {}, "maps": {}, "idata": {}}


def _leftovers(out_dir) -> list[str]:
    return [f for f in os.listdir(os.path.dirname(out_dir)) if f.startswith(".bayesreg-report-")]


def test_write_report_writes_both_files(tmp_path):
    out = str(tmp_path / "rep")
    html_path, json_path = rep.write_report(_report("first"), _NO_RESULTS, out)
    assert json.loads(open(json_path, encoding="utf-8").read())["verdict"]["message"] == "first"
    assert "first" in open(html_path, encoding="utf-8").read()
    assert sorted(os.listdir(out)) == ["index.html", "report.json"] and not _leftovers(out)


@pytest.mark.parametrize("fail_on", ["render", "report.json"])
def test_a_failed_write_leaves_the_previous_report(tmp_path, monkeypatch, fail_on):
    out = str(tmp_path / "rep")
    rep.write_report(_report("first"), _NO_RESULTS, out)
    before = {f: open(os.path.join(out, f), encoding="utf-8").read() for f in os.listdir(out)}
    if fail_on == "render":
        monkeypatch.setattr(rep, "render_html", lambda *a: 1 / 0)
    else:
        real_open = open

        def failing_open(path, *args, **kwargs):  # the second file cannot be written
            if str(path).endswith("report.json"):
                raise OSError("disk full")
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(rep, "open", failing_open, raising=False)
    with pytest.raises((ZeroDivisionError, OSError)):
        rep.write_report(_report("second"), _NO_RESULTS, out)
    after = {f: open(os.path.join(out, f), encoding="utf-8").read() for f in os.listdir(out)}
    assert after == before and not _leftovers(out)


def test_overfitting_limits_show_both_curves_whichever_is_lower():
    """Issue 12: on the default split of diabetes the validation error is *below* the training
    error; the limits must still be increasing and contain both curves right of the minimum."""
    from bayesreg.report import _overfitting_ylim

    train = [6134.0, 4000.0, 3000.0, 2925.0, 2922.0, 2922.0]
    val = [5406.0, 3500.0, 2710.0, 2740.0, 2760.0, 2762.0]
    lo, hi = _overfitting_ylim(train, val)
    assert lo < hi
    assert lo < 2710.0 and hi > 2925.0  # both curves from the validation minimum on
    assert hi < 5406.0  # the heavy-penalty end runs off the top
