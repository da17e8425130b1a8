"""The report behind ``bayesreg report``: verification, posterior, diagnostics, shrinkage, sparsity.

:func:`run_report` fits one model per prior (Gaussian = L2, Laplace = L1) on the same data and
returns a JSON-serializable dict; :func:`write_report` writes it as ``DIR/report.json`` and a
self-contained ``DIR/index.html`` (CSS inline, figures as base64 PNG ``data:`` URIs, no network),
atomically: both files are written into a temporary folder next to ``DIR`` and moved into place,
so a failed run never leaves a half-written report.

``report.json`` keys (:data:`REPORT_KEYS`):

===================  ==========================================================================
key                  content
===================  ==========================================================================
``bayesreg_version`` package version
``created``          ISO-8601 UTC time stamp
``data``             source, n, p, target, feature_names, likelihood, standardized, dropped_rows
``settings``         priors, prior_sd, scale_rule, backend, draws, tune, chains, random_seed,
                     min_ess, path_points
``priors``           per prior name (:data:`PRIOR_CHOICES`): ``prior`` (repr),
                     ``scale``, ``map`` (coef by feature, intercept, sigma, n_zero, method,
                     converged), ``penalty_equivalents`` (the same penalty in each library's
                     convention at the MAP's sigma), ``verification`` (``verify(model).to_dict()``),
                     ``diagnostics`` (``diagnose(idata).to_dict()``), ``shrinkage``,
                     ``sparsity`` (``.to_dict()`` of the shrinkage module's summaries),
                     ``effective_df`` (Gaussian penalty, quadratic likelihood: ridge's
                     sum d^2/(d^2 + alpha)),
                     ``sampling_time`` (seconds)
``path``             the posterior path (``PosteriorPath.to_dict()``) or null
``figures``          names of the embedded figures, in order
``verdict``          ``passed`` (bool), ``verification_passed``, ``diagnostics_ok``,
                     ``exit_code`` (0 pass, 1 fail), ``message`` (the one-line verdict)
===================  ==========================================================================
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesreg._capabilities import GAUSSIAN_PENALTY, L1_PART, QUADRATIC_LIKELIHOOD
from bayesreg._results import jsonable
from bayesreg._validation import (
    check_choice,
    check_positive,
    check_positive_int,
    check_random_seed,
)
from bayesreg.likelihoods import GaussianLikelihood, Likelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Prior, prior_from_name, prior_names

__all__ = [
    "PRIOR_CHOICES",
    "REPORT_KEYS",
    "REPORT_PRIORS",
    "ReportSettings",
    "default_prior_sd",
    "run_report",
    "write_report",
]

#: top-level keys of report.json (documented in the module docstring)
REPORT_KEYS = (
    "bayesreg_version",
    "created",
    "data",
    "settings",
    "priors",
    "path",
    "figures",
    "verdict",
)

#: the prior scale that gives each coefficient prior sd 1, for the registry's priors the report
#: compares at one prior sd (Gaussian(tau) has sd tau; Laplace(b) has sd b sqrt 2). A prior joins
#: the report with its entry here (a ``Prior`` capability "scale for a given sd" would make this
#: table unnecessary).
_SCALE_PER_SD = {"gaussian": 1.0, "laplace": 1.0 / math.sqrt(2.0)}
#: the priors a report can fit, verify and sample (registry names, in report order)
REPORT_PRIORS = tuple(n for n in _SCALE_PER_SD if n in prior_names())
#: ``--prior`` / ``ReportSettings.priors`` choices: one of :data:`REPORT_PRIORS`, or "both"
PRIOR_CHOICES = (*REPORT_PRIORS, "both")

#: conventions reported as penalty equivalents: by the likelihood's scikit-learn loss, then by
#: the penalty's kind (pure L2 or with an L1 part)
_EQUIVALENTS = {
    "squared_error": {
        "l2": ("seed_sum", "sklearn_ridge", "glmnet", "weight_decay"),
        "l1": ("seed_sum", "sklearn_lasso", "glmnet"),
    },
    "log_loss": {
        "l2": ("seed_sum", "sklearn_logistic"),
        "l1": ("seed_sum", "sklearn_logistic"),
    },
}


@dataclass(frozen=True)
class ReportSettings:
    """What ``bayesreg report`` runs (validated in ``__post_init__``).

    Attributes
    ----------
    priors : {"gaussian", "laplace", "both"}
        One of :data:`PRIOR_CHOICES`.
    prior_sd : float or None
        Prior standard deviation of each coefficient, the same for both priors so they are
        comparable: Gaussian(tau = sd), Laplace(b = sd / sqrt(2)) (a Laplace(b) has variance
        2 b^2). None: :func:`default_prior_sd`.
    backend : str
        Sampling backend (see ``bayesreg.sampling``).
    draws, tune, chains : int
    random_seed : int or None
    min_ess : float
        Diagnostics flag bulk/tail ESS below this (default 400, Vehtari et al. 2021).
    path_points : int
        Prior scales in the posterior path (0: no path). The path samples ``min(draws, 500)``
        draws on 2 chains per scale.
    progressbar : bool
    """

    priors: str = "both"
    prior_sd: float | None = None
    backend: str = "auto"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    random_seed: int | None = 0
    min_ess: float = 400.0
    path_points: int = 8
    progressbar: bool = True

    def __post_init__(self) -> None:
        from bayesreg.sampling import BACKENDS

        check_choice(self.priors, "prior", PRIOR_CHOICES)
        check_choice(self.backend, "sampling backend", BACKENDS)
        if self.prior_sd is not None:
            check_positive(self.prior_sd, "prior_sd", "ReportSettings")
        check_positive_int(self.draws, "draws", "ReportSettings")
        check_positive_int(self.chains, "chains", "ReportSettings")
        if int(self.tune) < 0 or int(self.path_points) < 0:
            raise ValueError("tune and path_points must be >= 0.")
        seed = check_random_seed(self.random_seed, "random_seed", "ReportSettings")
        object.__setattr__(self, "random_seed", seed)  # a Generator becomes its one int
        check_positive(self.min_ess, "min_ess", "ReportSettings")

    @property
    def prior_names(self) -> list[str]:
        return list(REPORT_PRIORS) if self.priors == "both" else [self.priors]


def default_prior_sd(X: np.ndarray, y: np.ndarray, likelihood: Likelihood) -> tuple[float, str]:
    """The prior sd used when none is given, and the rule that chose it.

    Quadratic (Gaussian) likelihood: the evidence-maximizing (type-II maximum likelihood)
    prior sd of a Gaussian prior, ``1 / sqrt(lambda_)`` from scikit-learn's ``BayesianRidge``
    (MacKay's fixed-point updates). Otherwise (Bernoulli): 2.5 on standardized inputs, a weakly
    informative default (Gelman et al. 2008).
    """
    if not likelihood.quadratic:
        return 2.5, "weakly informative default 2.5 (Gelman et al. 2008), inputs standardized"
    from sklearn.linear_model import BayesianRidge

    br = BayesianRidge(tol=1e-10, max_iter=10_000).fit(X, y)
    return float(1.0 / np.sqrt(br.lambda_)), "evidence maximization (BayesianRidge), Gaussian prior"


def prior_for(name: str, prior_sd: float) -> Prior:
    """The registry's prior ``name`` with prior sd ``prior_sd`` (Gaussian(sd), Laplace(sd/sqrt 2))."""
    check_choice(name, "report prior", REPORT_PRIORS)
    return prior_from_name(name, prior_sd * _SCALE_PER_SD[name])


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------
def _penalty_equivalents(prior: Prior, lik: Likelihood, sigma: float, n: int) -> dict:
    """The prior's penalty in each library convention for its likelihood (at ``sigma``)."""
    from bayesreg.conventions import prior_to_penalty

    by_kind = _EQUIVALENTS.get(lik.sklearn_loss, {})
    kind = "l1" if L1_PART.met(prior, lik) else "l2"
    return {c: prior_to_penalty(prior, c, sigma=sigma, n=n) for c in by_kind.get(kind, ())}


def _map_entry(model: RegressionModel, est: Any, n: int) -> dict[str, Any]:
    """The report entry of one prior's MAP: the estimate and its penalty equivalents."""
    prior = model.prior
    sigma_hat = float(est.sigma) if est.sigma is not None else 1.0
    return {
        "prior": repr(prior),
        "scale": prior.scale,
        "map": {
            "coef": dict(zip(model.feature_names, est.coef.tolist(), strict=True)),
            "intercept": est.intercept,
            "sigma": est.sigma,
            "n_zero": int(np.sum(est.coef == 0.0)),
            "method": est.method,
            "converged": bool(est.converged),
        },
        "penalty_equivalents": _penalty_equivalents(prior, model.likelihood, sigma_hat, n),
    }


def _verify_one(model: RegressionModel, name: str, entry: dict[str, Any], echo) -> None:
    from bayesreg.verification import verify

    t0 = time.perf_counter()
    ver = verify(model)
    entry["verification"] = ver.to_dict()
    entry["verification_seconds"] = time.perf_counter() - t0
    echo(
        f"[{name}] {model.prior!r}: MAP has {entry['map']['n_zero']} of {model.p} "
        f"coefficients exactly 0; verification {'PASS' if ver.passed else 'FAIL'}"
    )
    if not ver.passed:
        echo(str(ver))


def _settings_dict(settings: ReportSettings, prior_sd: float, rule: str) -> dict[str, Any]:
    return {
        "priors": settings.prior_names,
        "prior_sd": prior_sd,
        "scale_rule": rule,
        "backend": settings.backend,
        "draws": settings.draws,
        "tune": settings.tune,
        "chains": settings.chains,
        "random_seed": settings.random_seed,
        "min_ess": settings.min_ess,
        "path_points": settings.path_points,
    }


def run_report(
    X: Any,
    y: np.ndarray,
    settings: ReportSettings,
    *,
    likelihood: Likelihood | None = None,
    data_info: dict[str, Any] | None = None,
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify, sample, diagnose and summarize each prior's model on (X, y).

    Parameters
    ----------
    X : pandas.DataFrame of shape (n, p)
    y : array of shape (n,)
    settings : ReportSettings
    likelihood : Likelihood, optional
        Default ``GaussianLikelihood()`` (sigma estimated).
    data_info : dict, optional
        Stored under ``"data"`` (source, target, ...).
    echo : callable
        Receives the terminal summary lines.

    Returns
    -------
    report : dict
        JSON-serializable, keys :data:`REPORT_KEYS`.
    results : dict
        The Python objects behind it (models, MAPs, idata, path) for the figures.
    """
    from bayesreg._version import __version__
    from bayesreg.solvers import map_estimate

    likelihood = GaussianLikelihood() if likelihood is None else likelihood
    X_arr = np.asarray(X, dtype=np.float64)
    y_arr = np.asarray(y, dtype=np.float64)
    if settings.prior_sd is None:
        prior_sd, rule = default_prior_sd(X_arr, y_arr, likelihood)
    else:
        prior_sd, rule = float(settings.prior_sd), "given (--scale)"
    n, p = X_arr.shape
    data = {"n": n, "p": p, "feature_names": [str(c) for c in X.columns], **(data_info or {})}
    data["likelihood"] = likelihood.name
    echo(f"data: {data.get('source', 'X, y')}  n={n}  p={p}  likelihood={likelihood.name}")
    echo(f"prior sd {prior_sd:.4g} ({rule})")
    priors_out: dict[str, Any] = {}
    results: dict[str, Any] = {"models": {}, "maps": {}, "idata": {}, "prior_sd": prior_sd}
    for name in settings.prior_names:
        model = RegressionModel(X, y_arr, prior_for(name, prior_sd), likelihood)
        est = map_estimate(model, warn=False)
        results["models"][name], results["maps"][name] = model, est
        entry = _map_entry(model, est, n)
        _verify_one(model, name, entry, echo)
        _sample_one(model, name, est, entry, results, settings, echo)
        priors_out[name] = entry
    path = None
    if settings.path_points > 0:
        results["path_prior"], path = _path(results, settings)
        results["path"] = path
    report = {
        "bayesreg_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "data": data,
        "settings": _settings_dict(settings, prior_sd, rule),
        "priors": priors_out,
        "path": None if path is None else path.to_dict(),
        "figures": [],
        "verdict": verdict(priors_out, sampled=True),
    }
    return jsonable(report), results


def _effective_df(model: RegressionModel, est: Any) -> float | None:
    """Ridge's effective degrees of freedom at the MAP's sigma, for a Gaussian penalty with a
    quadratic likelihood (None otherwise)."""
    from bayesreg.shrinkage import effective_degrees_of_freedom

    prior, lik = model.prior, model.likelihood
    if not (GAUSSIAN_PENALTY.met(prior, lik) and QUADRATIC_LIKELIHOOD.met(prior, lik)):
        return None
    sigma_hat = float(est.sigma if est.sigma is not None else lik.fixed_sigma)
    alpha = sigma_hat**2 * prior.elastic_coefs(sigma_hat)[1]  # Ridge alpha = sigma^2 / tau^2
    return float(effective_degrees_of_freedom(model.X, alpha))


def _sample_one(model, name, est, entry, results, settings, echo) -> None:
    from bayesreg.diagnostics import diagnose
    from bayesreg.sampling import sample_posterior
    from bayesreg.shrinkage import posterior_shrinkage, sparsity_summary

    idata = sample_posterior(
        model, draws=settings.draws, tune=settings.tune, chains=settings.chains,
        backend=settings.backend, random_seed=settings.random_seed,
        progressbar=settings.progressbar,
    )  # fmt: skip
    results["idata"][name] = idata
    entry["sampling_time"] = float(idata.posterior.attrs.get("sampling_time", float("nan")))
    entry["backend"] = str(idata.posterior.attrs.get("backend", settings.backend))
    diag = diagnose(idata, min_ess=settings.min_ess)
    entry["diagnostics"] = diag.to_dict()
    entry["shrinkage"] = posterior_shrinkage(idata, model).to_dict()
    sparsity = sparsity_summary(idata, model, map_coef=est.coef)
    entry["sparsity"] = sparsity.to_dict()
    edf = _effective_df(model, est)
    if edf is not None:
        entry["effective_df"] = edf
    verdict_d = "OK" if diag.ok else f"{len(diag.problems)} problem(s): {', '.join(diag.kinds)}"
    echo(
        f"[{name}] posterior ({entry['backend']}, {entry['sampling_time']:.1f}s): diagnostics {verdict_d}"
    )
    for prob in diag.problems:
        echo(f"    {prob.message}")
    echo(f"[{name}] {sparsity.statement.split('. ')[0]}.")


def _path(results: dict[str, Any], settings: ReportSettings):
    """The posterior path of the sparsest-making prior fitted (one with an L1 part, if any)."""
    from bayesreg.sampling import posterior_path

    models = results["models"]
    l1 = [k for k, m in models.items() if L1_PART.met(m.prior, m.likelihood)]
    name = l1[0] if l1 else next(iter(models))
    model = models[name]
    # from 1% to 10x the chosen prior sd: from "almost everything shrunk" to "almost OLS"
    scales = model.prior.scale * np.logspace(-2.0, 1.0, settings.path_points)
    path = posterior_path(
        model, scales, draws=min(settings.draws, 500), tune=min(max(settings.tune, 1), 500),
        chains=2, backend=settings.backend, random_seed=settings.random_seed,
        progressbar=settings.progressbar,
    )  # fmt: skip
    return name, path


def verdict(priors: dict[str, Any], *, sampled: bool) -> dict[str, Any]:
    """Combine verification and diagnostics into the pass/fail verdict and its one-line message."""
    ver_ok = all(e["verification"]["passed"] for e in priors.values())
    failed_ver = [k for k, e in priors.items() if not e["verification"]["passed"]]
    diag_ok = True
    flagged: list[str] = []
    if sampled:
        for k, e in priors.items():
            if not e["diagnostics"]["ok"]:
                diag_ok = False
                kinds = sorted({pr["kind"] for pr in e["diagnostics"]["problems"]})
                flagged.append(f"{k} ({', '.join(kinds)})")
    passed = ver_ok and diag_ok
    if passed:
        what = "MAP == penalized solvers == scikit-learn"
        message = f"PASS: {what}" + ("; posterior diagnostics clean" if sampled else "")
    else:
        parts = []
        if failed_ver:
            parts.append(f"verification failed for {', '.join(failed_ver)}")
        if flagged:
            parts.append(f"diagnostics flagged {'; '.join(flagged)}")
        message = "FAIL: " + "; ".join(parts)
    return {
        "passed": passed,
        "verification_passed": ver_ok,
        "diagnostics_ok": diag_ok if sampled else None,
        "exit_code": 0 if passed else 1,
        "message": message,
    }


# ---------------------------------------------------------------------------------------------
# figures and HTML
# ---------------------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def make_figures(report: dict[str, Any], results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The report's figures as (name, caption, base64 PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from bayesreg import plotting as bp

    figs: list[tuple[str, str, str]] = []
    models, maps, idatas = results["models"], results["maps"], results["idata"]
    names = list(idatas)
    if not names:
        return figs
    path = results.get("path")
    if path is not None:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
        bp.plot_map_path(path, ax=a1, title=f"penalized path: {results['path_prior']} MAP")
        bp.plot_posterior_path(path, ax=a2)
        a2.legend(fontsize="x-small", ncol=2, loc="upper left")
        figs.append(("path", "MAP (the penalized solution) and posterior median with its 90% "
                     "interval, as the prior scale grows (the penalty weakens).", _png(fig)))  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 0.45 * models[names[0]].p + 2))
    bp.plot_posterior_forest(
        {k.capitalize(): idatas[k] for k in names}, ax=ax,
        map_coefs={k.capitalize(): maps[k].coef for k in names},
    )  # fmt: skip
    figs.append(("forest", "Posterior medians and 90% intervals under each prior; diamonds: "
                 "the MAP (= penalized) estimates.", _png(fig)))  # fmt: skip
    from bayesreg.shrinkage import posterior_shrinkage

    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 0.45 * models[names[0]].p + 2))
    for ax, k in zip(np.atleast_1d(axes), names, strict=True):
        t = posterior_shrinkage(idatas[k], models[k]).to_dataframe()
        bp.plot_shrinkage(t["reference"], t["post_median"], ax=ax, feature_names=t["feature"],
                          map_coef=maps[k].coef)  # fmt: skip
        ax.set_title(f"{k}: least squares -> posterior median")
    figs.append(("shrinkage", "How far each prior pulls each coefficient from least squares.",
                 _png(fig)))  # fmt: skip
    geo = _geometry(models[names[0]])
    if geo is not None:
        fig, ax = plt.subplots(figsize=(6.5, 5.5))
        bp.plot_geometry(geo, ax=ax)
        figs.append(("geometry", f"The strongest feature ({geo.feature_names[0]}) and the "
                     f"weakest ({geo.feature_names[1]}), the others held at their least-squares "
                     "values: the smallest loss contour that reaches the L2 disc touches it where "
                     "both coefficients are non-zero; the one that reaches the L1 diamond touches "
                     f"it at ({geo.l1_point[0]:.3g}, {geo.l1_point[1]:.3g}).",
                     _png(fig)))  # fmt: skip
    for k in names:
        axes = bp.plot_trace(idatas[k])
        figs.append((f"trace_{k}", f"{k}: trace plots (left: density per chain; right: draws).",
                     _png(np.ravel(axes)[0].figure)))  # fmt: skip
        axes = bp.plot_rank(idatas[k], var_names=["w"])
        figs.append((f"rank_{k}", f"{k}: rank plots of w (near-uniform bars = chains mix well).",
                     _png(np.ravel(axes)[0].figure)))  # fmt: skip
    report["figures"] = [f[0] for f in figs]
    return figs


def _geometry(model: RegressionModel):
    """The 2-D picture on real data: the strongest and the weakest feature, the others fixed.

    Each feature's strength is its least-squares coefficient times its column norm (its
    contribution to the fit). The other coefficients are held at their least-squares values
    (partial residual), so the contours are those of the real loss restricted to the plane.
    """
    from bayesreg import plotting as bp

    if not model.likelihood.quadratic or model.p < 2:  # loss contours of least squares
        return None
    X, y = model.X, model.y
    Xc, yc = X - X.mean(0), y - y.mean()
    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    order = np.argsort(-np.abs(ols * np.linalg.norm(Xc, axis=0)))
    j1, j2 = int(order[0]), int(order[-1])
    rest = [j for j in range(model.p) if j not in (j1, j2)]
    r = yc - Xc[:, rest] @ ols[rest]
    X2 = Xc[:, [j1, j2]]
    ols2 = np.linalg.lstsq(X2, r, rcond=None)[0]
    # a budget of 80% of the strong coefficient: both balls bind, the diamond's corner can win
    radius = 0.8 * float(np.abs(ols2).max())
    names = (model.feature_names[j1], model.feature_names[j2])
    return bp.lasso_ridge_geometry(X2, r, radius=radius, feature_names=names)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0} td,th{border:1px solid #ddd;
padding:.2em .5em;text-align:right} th{background:#f4f4f4} td:first-child{text-align:left}
.pass{background:#e6f4ea;border:1px solid #34a853;padding:.6em 1em;font-weight:600}
.fail{background:#fce8e6;border:1px solid #d93025;padding:.6em 1em;font-weight:600}
figure{margin:1em 0} figcaption{font-size:.85em;color:#555} img{max-width:100%}
code{background:#f4f4f4;padding:0 .2em}
"""


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "<p>(none)</p>"
    columns = list(columns or rows[0].keys())

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        if isinstance(v, dict | list):
            return html.escape(json.dumps(v)[:80])
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{fmt(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: dict[str, Any], figures: Sequence[tuple[str, str, str]]) -> str:
    """A self-contained HTML page (inline CSS, base64 PNG figures)."""
    v = report["verdict"]
    d = report["data"]
    s = report["settings"]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>bayesreg report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>bayesreg report: a penalty is a prior</h1>",
        f"<div class='{'pass' if v['passed'] else 'fail'}'>{html.escape(v['message'])}</div>",
        f"<p>Data: <b>{html.escape(str(d.get('source', '')))}</b>, n = {d['n']}, p = {d['p']}, "
        f"target <code>{html.escape(str(d.get('target', 'y')))}</code>, likelihood "
        f"{html.escape(d['likelihood'])}. Prior sd {s['prior_sd']:.4g} ({html.escape(s['scale_rule'])}); "
        f"sampling: {html.escape(s['backend'])}, {s['chains']} chains x {s['draws']} draws "
        f"(tune {s['tune']}), seed {s['random_seed']}. bayesreg {html.escape(report['bayesreg_version'])}, "
        f"{html.escape(report['created'])}.</p>",
    ]
    for name, e in report["priors"].items():
        parts.append(
            f"<h2>{html.escape(name.capitalize())} prior: <code>{html.escape(e['prior'])}</code></h2>"
        )
        eq = e["penalty_equivalents"]
        parts.append(
            "<p>The same penalty in each library's convention (at the MAP's sigma = "
            f"{(e['map']['sigma'] or 1.0):.4g}):</p>"
            + _table([{"convention": k, "strength": val} for k, val in eq.items()])
        )
        ver = e["verification"]
        parts.append(f"<h3>Verification: {'PASS' if ver['passed'] else 'FAIL'}</h3>")
        rows = ver.get("rows", [])
        parts.append(_table(rows) if isinstance(rows, list) else "")
        if "diagnostics" in e:
            dg = e["diagnostics"]
            parts.append(f"<h3>Posterior diagnostics: {'OK' if dg['ok'] else 'problems'}</h3>")
            for pr in dg["problems"]:
                parts.append(f"<p><b>{html.escape(pr['kind'])}</b>: {html.escape(pr['message'])}<br>"
                             f"<i>advice:</i> {html.escape(pr['advice'])}</p>")  # fmt: skip
            summ = [{"parameter": k, **row} for k, row in dg["summary"].items()]
            parts.append(_table(summ, ["parameter", "mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean",
                                       "ess_bulk", "ess_tail", "r_hat"]))  # fmt: skip
            parts.append("<h3>Shrinkage and sparsity</h3>")
            if "effective_df" in e:
                parts.append(
                    f"<p>Effective degrees of freedom (ridge): {e['effective_df']:.3f} of {d['p']}.</p>"
                )
            parts.append(f"<p>{html.escape(e['sparsity']['statement'])}</p>")
            parts.append(_table(e["sparsity"]["coefficients"],
                                ["feature", "map", "post_mean", "post_median", "lower", "upper",
                                 "p_near_zero", "ci_contains_zero"]))  # fmt: skip
    if figures:
        parts.append("<h2>Figures</h2>")
        for name, caption, b64 in figures:
            parts.append(
                f"<figure id='{html.escape(name)}'><img alt='{html.escape(name)}' "
                f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}"
                "</figcaption></figure>"
            )
    parts.append("<p>All numbers: <code>report.json</code> in this folder.</p></body></html>")
    return "\n".join(parts)


def write_report(
    report: dict[str, Any], results: dict[str, Any], out_dir: str | os.PathLike[str]
) -> tuple[str, str]:
    """Write ``out_dir/index.html`` and ``out_dir/report.json``; return their paths.

    Both files are rendered and written in full into a temporary folder next to ``out_dir``
    (the same file system) before either is moved into place with ``os.replace`` (atomic per
    file): a failure while rendering or writing leaves the previous report (or nothing) in
    ``out_dir``, never a truncated file, and no temporary folder behind.
    """
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    figures = make_figures(report, results)
    page = render_html(report, figures)
    text = json.dumps(report, indent=1, allow_nan=False)
    parent = os.path.dirname(os.path.abspath(out_dir))
    tmp = tempfile.mkdtemp(prefix=".bayesreg-report-", dir=parent)
    try:
        for name, content in (("index.html", page), ("report.json", text)):
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as fh:
                fh.write(content)
        paths = []
        for name in ("index.html", "report.json"):
            target = os.path.join(out_dir, name)
            os.replace(os.path.join(tmp, name), target)
            paths.append(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return paths[0], paths[1]
