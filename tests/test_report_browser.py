"""The default report end to end, then its page in a real browser (headless Chromium).

One small report run (2 chains x 100 draws, 3 path scales) serves every test here: the JSON and
terminal checks, and the page as a reader at a 1280 px window sees it (nothing wider than the
window, every figure decoded and shown, the verdict visible without scrolling). Screenshots are
saved under the test's temporary folder (``pytest --basetemp=DIR`` keeps them).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import tempfile
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import Lasso

from bayesreg import load_diabetes
from bayesreg.cli import main
from bayesreg.report import REPORT_KEYS

PATH_POINTS = 3
ARGV = ["report", "--draws", "100", "--tune", "100", "--chains", "2", "--backend", "pymc",
        "--path-points", str(PATH_POINTS), "--seed", "3", "--no-progress"]  # fmt: skip


# the report's run (~1 minute) is shared by every test here; the page checks are in the default
# tier (issue 12: a real browser checks the page on every test run)
@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    """The default (diabetes) report with small draws, run once through the CLI."""
    out_dir = tmp_path_factory.mktemp("report") / "rep"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main([*ARGV, "--out", str(out_dir)])
    report = json.loads((out_dir / "report.json").read_text())
    return SimpleNamespace(rc=rc, stdout=stdout.getvalue(), stderr=stderr.getvalue(),
                           out_dir=out_dir, report=report)  # fmt: skip


# -- the run: report.json, exit code, terminal ------------------------------------------------


def test_report_end_to_end_on_diabetes(default_report):
    report, rc, stdout = default_report.report, default_report.rc, default_report.stdout
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
                "shrinkage", "sparsity", "sampling_time", "overfitting"} <= set(entry)  # fmt: skip
        kinds = {p["kind"] for p in entry["diagnostics"]["problems"]}
        assert "ess_tail" in kinds, name
        assert len(entry["sparsity"]["coefficients"]) == 10
        assert entry["backend"] == "pymc"  # what ran, read from the sampler's InferenceData
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
    assert report["figures"][:4] == ["overfitting", "forest", "shrinkage", "geometry"]
    assert "path" in report["figures"]
    # index.html is self-contained: every figure embedded, and each decodes as a PNG
    html = (default_report.out_dir / "index.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == len(report["figures"]) >= 6
    for b64 in images:
        img = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
        img.load()
        assert img.format == "PNG" and min(img.size) > 100
    assert not re.search(r"(src|href)=['\"]https?://", html)
    assert v["message"] in html


def test_the_path_meets_the_main_fits_gates_or_the_verdict_says_so(default_report):
    report = default_report.report
    path = report["path"]
    assert path["prior"] == "laplace" and len(path["scales"]) == PATH_POINTS
    assert len(path["dense_scales"]) == 50 and np.shape(path["dense_map_coef"]) == (50, 10)
    gates = path["gates"]
    ok = (np.array(path["min_ess_bulk"]) >= 400.0) & (np.array(path["max_rhat"]) <= 1.01)
    assert gates["ok"] == ok.tolist()
    # 2 x 100 draws per scale cannot give 400 effective draws: every scale is short, and the
    # verdict names the path instead of calling the diagnostics clean
    assert not any(gates["ok"]) and "path (3 of 3 scales" in report["verdict"]["message"]


def test_terminal_output_one_line_per_phase_at_80_columns(default_report):
    lines = default_report.stdout.strip().splitlines()
    for phase in ("[gaussian] MAP and verification ...", "[gaussian] sampling",
                  "[laplace] MAP and verification ...", "[laplace] sampling",
                  "[laplace] posterior path"):  # fmt: skip
        assert any(line.startswith(phase) for line in lines), phase
    # every line fits 80 columns but the file paths and the one-line verdict (a CI greps it)
    body = [ln for ln in lines if not ln.startswith(("wrote ", "FAIL", "PASS", "data: "))]
    assert max(len(ln) for ln in body) <= 80, max(body, key=len)
    assert "Warning" not in default_report.stderr and "Traceback" not in default_report.stderr
    assert "scale=" not in default_report.stdout  # priors read Gaussian(sd=295), not a repr


def test_page_states_what_a_reader_needs(default_report):
    html = (default_report.out_dir / "index.html").read_text()
    assert "Gaussian(sd=295)" in html and "Laplace(b=209; sd 295)" in html
    assert "standardized" in html and "original units" in html
    assert "NUTS via pymc" in html and "90% throughout" in html
    assert "expected_to_agree" in html and "How to read this table" in html
    assert not re.search(r">-0<", html)
    assert "hdi_3%" not in html  # one interval level
    assert re.search(r"eps, per coefficient .* here \d", html)


# -- the page in a real browser ---------------------------------------------------------------
def _browser():
    """(chromium, chromedriver) paths, or a pytest.skip naming what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                   if shutil.which(n)), None)  # fmt: skip
    driver = shutil.which("chromedriver")
    if chrome is None or driver is None:
        pytest.skip(f"no headless browser: chromium={chrome}, chromedriver={driver} "
                    "(install Debian's chromium and chromium-driver)")  # fmt: skip
    return webdriver, chrome, driver


@pytest.fixture(scope="module")
def page(default_report):
    webdriver, chrome, driver_path = _browser()
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,900", "--hide-scrollbars"):  # fmt: skip
        opts.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="bayesreg-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.binary_location = chrome
    drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        drv.get((default_report.out_dir / "index.html").as_uri())
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


_OVERFLOW_JS = """
const w = window.innerWidth, bad = [];
for (const el of document.body.querySelectorAll('*')) {
  if (el.closest('.tablebox') && !el.classList.contains('tablebox')) continue;
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > w + 0.5) bad.push(el.tagName + '#' + el.id + ' right=' + r.right);
}
const tables = [];
for (const t of document.querySelectorAll('table')) {
  const box = t.parentElement, st = getComputedStyle(box);
  const fits = t.getBoundingClientRect().width <= box.clientWidth + 0.5;
  const scrolls = ['auto', 'scroll'].includes(st.overflowX);
  const inside = box.getBoundingClientRect().right <= w + 0.5;
  if (!(inside && (fits || scrolls))) tables.push(box.className + ' ' + t.outerHTML.slice(0, 80));
}
return [document.documentElement.scrollWidth, w, bad, tables];
"""


def test_page_fits_a_1280px_window(page, tmp_path):
    scroll_width, inner, bad, tables = page.execute_script(_OVERFLOW_JS)
    page.save_screenshot(str(tmp_path / "top.png"))
    assert 1200 <= inner <= 1280
    assert scroll_width <= inner, f"page is {scroll_width} px wide in a {inner} px window"
    assert not bad, f"elements wider than the window: {bad[:5]}"
    assert not tables, f"tables that neither fit nor scroll in their box: {tables[:3]}"


def test_verdict_is_visible_without_scrolling(page):
    page.execute_script("window.scrollTo(0, 0)")
    top, bottom, height = page.execute_script(
        "const r = document.getElementById('verdict').getBoundingClientRect();"
        "return [r.top, r.bottom, window.innerHeight];"
    )
    assert 0 <= top < bottom <= height
    assert page.find_element("id", "verdict").is_displayed()


def test_every_figure_decodes_and_is_displayed(page, default_report, tmp_path):
    images = page.find_elements("tag name", "img")
    assert len(images) == len(default_report.report["figures"])
    for img in images:
        page.execute_script("arguments[0].scrollIntoView()", img)
        natural = page.execute_script("return [arguments[0].complete, arguments[0].naturalWidth,"
                                      " arguments[0].getBoundingClientRect().width]", img)  # fmt: skip
        name = img.get_attribute("alt")
        assert natural[0] and natural[1] > 0, f"figure {name} did not decode"
        assert img.is_displayed() and natural[2] > 100, f"figure {name} is not shown"
        page.save_screenshot(str(tmp_path / f"figure_{name}.png"))
    assert len(os.listdir(tmp_path)) == len(images)
