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
import contextlib
import datetime as _dt
import html
import io
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
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


@contextlib.contextmanager
def phase(label: str, progressbar: bool, echo: Callable[[str], None]) -> Iterator[Callable]:
    """One phase of the run, shown the same way everywhere: a one-step bar (tqdm, at most 80
    columns, on stderr) while it runs, or, without progress bars, one line when it starts.

    Yields the ``echo`` to use inside the phase: its lines are printed when the bar is gone,
    so they never break it.
    """
    if not progressbar:
        echo(f"{label} ...")
        yield echo
        return
    from tqdm.auto import tqdm

    lines: list[str] = []
    bar = tqdm(total=1, desc=label, ncols=80, leave=False,
               bar_format="{desc} |{bar}| {elapsed}")  # fmt: skip
    try:
        yield lines.append
        bar.update(1)
    finally:
        bar.close()
        for line in lines:
            echo(line)


def num(value: Any, digits: int = 3) -> str:
    """A number for people: ``digits`` significant digits, no "-0", integers as integers."""
    if value is None:
        return "-"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    text = f"{v:.{digits}g}"
    return "0" if float(text) == 0.0 else text


#: how the report names each prior's scale parameter (registry name -> parameter name)
_SCALE_NAME = {"gaussian": "sd", "laplace": "b"}


def prior_label(name: str, prior_sd: float) -> str:
    """``Gaussian(sd=295)``, ``Laplace(b=209; sd 295)``: the report's prior ``name`` at ``prior_sd``."""
    scale = prior_sd * _SCALE_PER_SD[name]
    label = f"{name.capitalize()}({_SCALE_NAME[name]}={num(scale)}"
    return label + (")" if _SCALE_NAME[name] == "sd" else f"; sd {num(prior_sd)})")


def wrap(text: str, indent: str = "    ") -> str:
    """``text`` wrapped at 80 columns, continuation lines indented (the terminal summary)."""
    import textwrap

    return textwrap.fill(text, 80, subsequent_indent=indent, break_on_hyphens=False)


def _verify_one(model: RegressionModel, name: str, entry: dict[str, Any], echo) -> None:
    from bayesreg.verification import verify

    t0 = time.perf_counter()
    ver = verify(model)
    entry["verification"] = ver.to_dict()
    entry["verification_seconds"] = time.perf_counter() - t0
    echo(wrap(
        f"[{name}] {entry['label']}: MAP has {entry['map']['n_zero']} of {model.p} "
        f"coefficients exactly 0; verification {'PASS' if ver.passed else 'FAIL'}"
    ))  # fmt: skip
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
    echo(wrap(f"prior sd {num(prior_sd)} ({rule})"))
    priors_out: dict[str, Any] = {}
    results: dict[str, Any] = {"models": {}, "maps": {}, "idata": {}, "prior_sd": prior_sd}
    for name in settings.prior_names:
        model = RegressionModel(X, y_arr, prior_for(name, prior_sd), likelihood)
        with phase(f"[{name}] MAP and verification", settings.progressbar, echo) as say:
            est = map_estimate(model, warn=False)
            entry = {"label": prior_label(name, prior_sd), **_map_entry(model, est, n)}
            _verify_one(model, name, entry, say)
            entry["overfitting"] = _overfitting(model, settings.random_seed)
        results["models"][name], results["maps"][name] = model, est
        label = f"[{name}] sampling ({settings.chains} chains x {settings.draws} draws)"
        with phase(label, settings.progressbar, echo) as say:
            _sample_one(model, name, est, entry, results, settings, say)
        priors_out[name] = entry
    path, gates = None, None
    if settings.path_points > 0:
        results["path_prior"], path, gates = _path(results, settings, echo)
        results["path"] = path
    report = {
        "bayesreg_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "data": data,
        "settings": _settings_dict(settings, prior_sd, rule),
        "priors": priors_out,
        "path": None if path is None else _path_dict(path, gates, results),
        "figures": [],
        "verdict": verdict(priors_out, sampled=True, path_gates=gates),
    }
    return jsonable(report), results


def _path_dict(path: Any, gates: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    dense = results["dense_path"]
    return {**path.to_dict(), "prior": results["path_prior"], "gates": gates,
            "dense_scales": dense.scales.tolist(), "dense_map_coef": dense.coefs.tolist()}  # fmt: skip


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
        progressbar=False,  # one progress style: the report's phase bar
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
    echo(wrap(
        f"[{name}] posterior ({entry['backend']}, {entry['sampling_time']:.1f}s): "
        f"diagnostics {verdict_d}"
    ))  # fmt: skip
    for prob in diag.problems:
        echo(wrap(f"    {prob.message}", indent="      "))
    echo(wrap(f"[{name}] {sparsity.statement.split(': ', 1)[-1].split('. ')[0]}."))


#: the one interval level of the report (posterior intervals in tables and figures)
INTERVAL = 0.9
#: MAP scales in the dense penalized path (cheap: warm-started, one compiled graph)
DENSE_PATH_POINTS = 50
#: share of the rows held out for the overfitting picture (the validation set)
VALIDATION_FRACTION = 0.3


def _path_model(results: dict[str, Any]) -> str:
    """The prior whose path the report draws: the first with an L1 part (sparsity), else the first."""
    models = results["models"]
    l1 = [k for k, m in models.items() if L1_PART.met(m.prior, m.likelihood)]
    return l1[0] if l1 else next(iter(models))


def _path_gates(path: Any, min_ess: float) -> dict[str, Any]:
    """Each path scale against the main fit's gates: bulk ESS >= min_ess and R-hat <= 1.01."""
    from bayesreg.diagnostics import THRESHOLDS

    rhat_max = THRESHOLDS["rhat"]
    ess, rhat = np.asarray(path.min_ess_bulk), np.asarray(path.max_rhat)
    # one chain has no R-hat (NaN): that gate cannot be met
    ok = (ess >= min_ess) & (rhat <= rhat_max)
    return {
        "min_ess_bulk": float(min_ess),
        "max_rhat": rhat_max,
        "ok": ok.tolist(),
        "failed_scales": np.asarray(path.scales)[~ok].tolist(),
        "all_ok": bool(ok.all()),
    }


def _path(results: dict[str, Any], settings: ReportSettings, echo) -> tuple[str, Any, dict]:
    """The posterior path of :func:`_path_model`, its dense MAP path and its diagnostic gates.

    The path samples as many draws on as many chains (at least 2, for R-hat) as the main fit,
    so that it can meet the same gates; :func:`_path_gates` says which scales do.
    """
    from bayesreg.paths import posterior_path
    from bayesreg.solvers import map_path

    name = _path_model(results)
    model = results["models"][name]
    # from 1% to 10x the chosen prior scale: from "almost everything shrunk" to "almost OLS"
    base = model.prior.scale
    dense = map_path(model, base * np.logspace(-2.0, 1.0, DENSE_PATH_POINTS), warn=False)
    scales = base * np.logspace(-2.0, 1.0, settings.path_points)
    chains = max(2, settings.chains)
    label = f"[{name}] posterior path ({settings.path_points} scales x {chains} chains)"
    with phase(label, settings.progressbar, echo):
        path = posterior_path(
            model, scales, draws=settings.draws, tune=settings.tune, chains=chains,
            backend=settings.backend, random_seed=settings.random_seed, progressbar=False,
            hdi_prob=INTERVAL,
        )  # fmt: skip
    gates = _path_gates(path, settings.min_ess)
    short = len(gates["failed_scales"])
    echo(wrap(f"[{name}] posterior path: "
              + ("every scale meets the gates" if not short else
                 f"{short} of {len(scales)} scales miss the gates (bulk ESS >= "
                 f"{settings.min_ess:g}, R-hat <= {gates['max_rhat']})")))  # fmt: skip
    results["dense_path"] = dense
    return name, path, gates


def _overfitting(model: RegressionModel, seed: int | None) -> dict[str, Any]:
    """Training and validation error of the MAP along a dense path of prior scales.

    One random split (:data:`VALIDATION_FRACTION` held out, shuffled with ``seed``); the MAP is
    fitted on the training rows at each scale (``map_path``) and scored on both parts with the
    held-out loss that ``bayesreg.selection`` uses (MSE, or log loss for a logistic model).
    """
    from types import SimpleNamespace

    from bayesreg.selection import _FALLBACK, _HELDOUT, _heldout_loss
    from bayesreg.solvers import map_path

    X, y, lik = model.X, model.y, model.likelihood
    perm = np.random.default_rng(seed).permutation(model.n)
    n_val = max(1, round(VALIDATION_FRACTION * model.n))
    val, train = perm[:n_val], perm[n_val:]
    fit = RegressionModel(X[train], y[train], model.prior, lik, model.fit_intercept)
    scales = model.prior.scale * np.logspace(-2.0, 2.0, DENSE_PATH_POINTS)
    mp = map_path(fit, scales, warn=False)
    curves: dict[str, list[float]] = {"training": [], "validation": []}
    for i in range(scales.size):
        sigma = None if mp.sigmas is None else float(mp.sigmas[i])
        est = SimpleNamespace(coef=mp.coefs[i], intercept=float(mp.intercepts[i]), sigma=sigma)
        curves["training"].append(_heldout_loss(est, X[train], y[train], lik))
        curves["validation"].append(_heldout_loss(est, X[val], y[val], lik))
    best = int(np.argmin(curves["validation"]))
    criterion = _HELDOUT.get(lik.sklearn_loss, _FALLBACK)[1]
    return {"scales": scales.tolist(), **curves, "chosen_scale": float(scales[best]),
            "criterion": criterion, "n_train": int(train.size), "n_validation": int(n_val)}  # fmt: skip


def _verdict_path(gates: dict[str, Any] | None) -> tuple[bool, str | None]:
    if gates is None or gates["all_ok"]:
        return True, None
    k = len(gates["failed_scales"])
    return False, f"path ({k} of {len(gates['ok'])} scales below the gates)"


def verdict(
    priors: dict[str, Any], *, sampled: bool, path_gates: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Combine verification and diagnostics (main fits and path) into the pass/fail verdict
    and its one-line message."""
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
        path_ok, path_msg = _verdict_path(path_gates)
        if not path_ok:
            diag_ok = False
            flagged.append(path_msg)
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


def _overfitting_ylim(train: list[float], val: list[float]) -> tuple[float, float]:
    """y limits showing both curves from the validation minimum on (the weak-penalty side,
    where they part), with the heavy-penalty end (everything shrunk) off the top. Either curve
    may be the lower one (a split's validation rows can be easier than its training rows)."""
    best = int(np.argmin(val))
    lo = min(min(train), min(val))
    hi = max(max(train[best:]), max(val[best:]))
    pad = 0.25 * (hi - lo) if hi > lo else 0.05 * abs(lo) + 1e-12
    return lo - 0.3 * pad, hi + pad


def _fig_overfitting(report, results, plt, bp) -> tuple[str, str, str] | None:
    names = list(results["models"])
    fig, axes = plt.subplots(1, len(names), figsize=(5.6 * len(names), 3.8), squeeze=False)
    for ax, k in zip(axes[0], names, strict=True):
        o = report["priors"][k]["overfitting"]
        bp.plot_validation_curve(
            o["scales"], {"training": o["training"], "validation": o["validation"]}, ax=ax,
            best=o["chosen_scale"], xlabel="prior scale (larger = weaker penalty)",
            ylabel=o["criterion"],
        )  # fmt: skip
        ax.set_ylim(*_overfitting_ylim(o["training"], o["validation"]))
        ax.axvline(results["models"][k].prior.scale, color="C2", ls=":", lw=1.5,
                   label=f"report's scale: {num(results['models'][k].prior.scale)}")  # fmt: skip
        ax.legend(fontsize="small")
        ax.set_title(f"{report['priors'][k]['label']}: MAP error")
    o = report["priors"][names[0]]["overfitting"]
    caption = (
        f"Overfitting. The MAP fitted on {o['n_train']} rows and scored on them (training) and "
        f"on {o['n_validation']} held-out rows (validation), along {DENSE_PATH_POINTS} prior "
        "scales. As the penalty weakens (to the right) the training error keeps falling while "
        "the validation error stops falling and turns up: the penalty (the prior) is what keeps "
        "the fit from learning the noise. The strong-penalty end (everything shrunk towards 0) "
        "runs off the top of the axis. Dashed: the scale with the smallest validation error; "
        "dotted: the scale this report uses."
    )
    return "overfitting", caption, _png(fig)


def _zero_features(maps: dict[str, Any]) -> list[int]:
    """Positions of the coefficients that some prior's MAP sets exactly to zero."""
    zero = np.zeros(len(next(iter(maps.values())).coef), dtype=bool)
    for est in maps.values():
        zero |= np.asarray(est.coef) == 0.0
    return np.flatnonzero(zero).tolist()


def _fig_forest(report, results, plt, bp) -> tuple[str, str, str]:
    idatas, maps = results["idata"], results["maps"]
    names = list(idatas)
    p = results["models"][names[0]].p
    post = {k.capitalize(): idatas[k] for k in names}
    coefs = {k.capitalize(): maps[k].coef for k in names}
    zeros = _zero_features(maps)
    height = 0.32 * p * len(names) + 1.6
    if zeros:
        fig, (a1, a2) = plt.subplots(
            2, 1, figsize=(8.5, height + 0.5 * len(zeros) * len(names) + 1.6),
            height_ratios=[p, max(len(zeros), 1.5)], layout="constrained",
        )  # fmt: skip
    else:
        fig, a1 = plt.subplots(figsize=(8.5, height), layout="constrained")
    bp.plot_posterior_forest(post, ax=a1, map_coefs=coefs, interval=INTERVAL,
                             title="all coefficients")  # fmt: skip
    caption = (
        f"Each coefficient's posterior median (dot) and {100 * INTERVAL:.0f}% interval (bar) "
        "under each prior, drawn over the MAP (open diamond: the penalized estimate)."
    )
    if zeros:
        bp.plot_posterior_forest(post, ax=a2, map_coefs=coefs, interval=INTERVAL, only=zeros,
                                 title="zoom: the coefficients a MAP sets exactly to 0",
                                 legend=False)  # fmt: skip
        zn = ", ".join(results["models"][names[0]].feature_names[j] for j in zeros)
        caption += (
            f" Lower panel, zoomed on {zn}: the MAP puts them exactly at 0, the posterior "
            "median does not, and the interval spreads over both signs: the posterior is not "
            "sparse even where the MAP is."
        )
    return "forest", caption, _png(fig)


def _fig_shrinkage(report, results, plt, bp) -> tuple[str, str, str]:
    from bayesreg.shrinkage import posterior_shrinkage

    names = list(results["idata"])
    models, maps = results["models"], results["maps"]
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 0.4 * models[names[0]].p + 2),
                             squeeze=False, layout="constrained")  # fmt: skip
    kinds = set()
    for ax, k in zip(axes[0], names, strict=True):
        summ = posterior_shrinkage(results["idata"][k], models[k])
        t = summ.to_dataframe()
        ref = _REFERENCE_LABEL.get(summ.reference_kind, summ.reference_kind)
        kinds.add(ref)
        bp.plot_shrinkage(t["reference"], t["post_median"], ax=ax, feature_names=t["feature"],
                          map_coef=maps[k].coef, reference_label=ref, clip=1.6)  # fmt: skip
        ax.set_title(f"{report['priors'][k]['label']}: {ref} -> posterior median", fontsize=10)
    caption = (
        f"How far each prior pulls each coefficient from the unpenalized estimate ({', '.join(sorted(kinds))}) "
        "to its posterior median; diamonds: the MAP. The axis spans 1.6 times the largest posterior "
        "median or MAP value; a reference beyond it sits at the edge (triangle) with its value."
    )
    return "shrinkage", caption, _png(fig)


#: how the shrinkage figure names the unpenalized reference (``reference_estimate``'s kind)
_REFERENCE_LABEL = {"least_squares": "least squares",
                    "min_norm_least_squares": "min-norm least squares",
                    "weak_prior_map": "weak-prior MAP (sd 1000)"}  # fmt: skip


def _fig_geometry(report, results, plt, bp) -> tuple[str, str, str] | None:
    names = list(results["models"])
    found = _geometry(results["models"][names[0]])
    if found is None:
        return None
    geo, rule = found
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    bp.plot_geometry(geo, ax=ax)
    a, b = geo.feature_names
    l1, l2 = geo.l1_point, geo.l2_point
    where = ("on a corner, where "
             + (f"{b} = 0" if l1[1] == 0 else f"{a} = 0") if 0.0 in (l1[0], l1[1])
             else "on an edge")  # fmt: skip
    caption = (
        f"The loss of the real data in the plane of {a} and {b} (the other coefficients held at "
        f"their least-squares values). {rule} Both balls have radius {num(geo.radius)}, chosen "
        "so that the diamond binds at a corner. The smallest contour that reaches the L2 disc "
        f"touches it at ({num(l2[0])}, {num(l2[1])}), both coefficients non-zero; the one that "
        f"reaches the L1 diamond touches it {where}: ({num(l1[0])}, {num(l1[1])})."
    )
    return "geometry", caption, _png(fig)


def _fig_path(report, results, plt, bp) -> tuple[str, str, str] | None:
    path = results.get("path")
    if path is None:
        return None
    name = results["path_prior"]
    gates = report["path"]["gates"]
    chosen = results["models"][name].prior.scale
    p = len(path.feature_names)
    ncol = -(-p // 16)  # legend columns (bayesreg.plotting._legend_outside): room for them
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11 + 2.4 * ncol, 4.8), sharey=True,
                                 layout="constrained")  # fmt: skip
    bp.plot_map_path(results["dense_path"], ax=a1, chosen=chosen,
                     chosen_label=f"report's scale {num(chosen)}",
                     title=f"MAP path, {DENSE_PATH_POINTS} scales")  # fmt: skip
    flagged = ~np.asarray(gates["ok"], dtype=bool)
    bp.plot_posterior_path(path, ax=a2, style="points", map_path=results["dense_path"],
                           flagged=flagged, chosen=chosen, chosen_label="report's scale",
                           title=f"posterior median and {100 * INTERVAL:.0f}% HDI at "
                           f"{len(path.scales)} scales", legend=True)  # fmt: skip
    caption = (
        f"{report['priors'][name]['label'].split('(')[0]} prior. Left: the MAP (the penalized "
        f"solution) at {DENSE_PATH_POINTS} prior scales, from 1% to 10 times the report's scale "
        "(dashed). Right: the posterior median and its interval, sampled at "
        f"{len(path.scales)} of those scales, over the MAP path (thin lines)."
    )
    if flagged.any():
        caption += (
            f" Shaded: {int(flagged.sum())} scale(s) whose chains miss the gates (bulk ESS >= "
            f"{num(gates['min_ess_bulk'])}, R-hat <= {gates['max_rhat']}): read them with care."
        )
    else:
        caption += (f" Every sampled scale meets the gates (bulk ESS >= "
                    f"{num(gates['min_ess_bulk'])}, R-hat <= {gates['max_rhat']}).")  # fmt: skip
    return "path", caption, _png(fig)


def _diagnostic_parameters(entry: dict[str, Any], n_coefs: int = 4) -> list[str]:
    """sigma and the intercept (when sampled), then the ``n_coefs`` coefficients with the
    lowest bulk ESS: the draws a reader should look at."""
    summary = entry["diagnostics"]["summary"]
    scalars = [k for k in ("intercept", "sigma") if k in summary]
    coefs = sorted((k for k in summary if k.startswith("w[")),
                   key=lambda k: summary[k].get("ess_bulk") or 0.0)  # fmt: skip
    return scalars + coefs[:n_coefs]


def _fig_diagnostics(report, results, plt, bp) -> list[tuple[str, str, str]]:
    out = []
    for k, idata in results["idata"].items():
        params = _diagnostic_parameters(report["priors"][k])
        what = f"{', '.join(params)} (the intercept{', sigma' if 'sigma' in params else ''} and "
        what += "the coefficients with the lowest bulk ESS)"
        axes = bp.plot_trace(idata, parameters=params)
        out.append((f"trace_{k}", f"{k}: trace plots of {what}; left: density per chain, "
                    "right: the draws of each chain.", _png(np.ravel(axes)[0].figure)))  # fmt: skip
        axes = bp.plot_rank(idata, parameters=params)
        out.append((f"rank_{k}", f"{k}: rank plots of the same parameters (near-uniform bars "
                    "= the chains mix well).", _png(np.ravel(axes)[0].figure)))  # fmt: skip
    return out


def make_figures(report: dict[str, Any], results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The report's figures as (name, caption, base64 PNG), in reading order."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from bayesreg import plotting as bp

    if not results["idata"]:
        return []
    figs = []
    for make in (_fig_overfitting, _fig_forest, _fig_shrinkage, _fig_geometry, _fig_path):
        fig = make(report, results, plt, bp)
        if fig is not None:
            figs.append(fig)
    figs.extend(_fig_diagnostics(report, results, plt, bp))
    report["figures"] = [f[0] for f in figs]
    return figs


def _well_determined(Xc: np.ndarray, yc: np.ndarray, ols: np.ndarray) -> np.ndarray:
    """Positions of the coefficients whose least-squares |t| >= 2 (all of them when fewer than
    two are)."""
    n, p = Xc.shape
    dof = max(n - p - 1, 1)
    s2 = float(np.sum((yc - Xc @ ols) ** 2)) / dof
    se = np.sqrt(np.maximum(np.diag(np.linalg.pinv(Xc.T @ Xc)) * s2, 1e-300))
    good = np.flatnonzero(np.abs(ols / se) >= 2.0)
    return good if good.size >= 2 else np.arange(p)


def _corner_radius(X2: np.ndarray, r: np.ndarray, ols2: np.ndarray) -> float:
    """The largest radius (in 5% steps of ||ols||_1) at which the L1 optimum is at a corner."""
    from bayesreg import plotting as bp

    total = float(np.abs(ols2).sum())
    for f in np.linspace(0.95, 0.05, 19):
        w, _ = bp.constrained_least_squares(X2, r, f * total, "l1")
        if np.any(w == 0.0):
            return float(f * total)
    return 0.5 * total


def _geometry(model: RegressionModel):
    """The 2-D picture on real data, on the pair of features chosen by a stated rule.

    Rule: among the well-determined coefficients (least-squares |t| >= 2), the pair whose
    least-squares point is farthest from both axes (the largest angle to the nearest axis, 45
    degrees at most), so the L2 tangent point and the L1 corner differ visibly. The other
    coefficients are held at their least-squares values (partial residual), so the contours are
    those of the real loss restricted to the plane; in that plane the least-squares point is
    the full least-squares solution's pair (Frisch-Waugh-Lovell).

    Returns
    -------
    (Geometry2D, str) or None
        The geometry and the rule in words; None for a non-quadratic likelihood or p < 2.
    """
    from bayesreg import plotting as bp

    if not model.likelihood.quadratic or model.p < 2:  # loss contours of least squares
        return None
    X, y = model.X, model.y
    Xc, yc = X - X.mean(0), y - y.mean()
    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    good = _well_determined(Xc, yc, ols)
    best, best_angle = (int(good[0]), int(good[1])), -1.0
    for i, j1 in enumerate(good):
        for j2 in good[i + 1 :]:
            t = np.degrees(np.arctan2(abs(ols[j2]), abs(ols[j1])))
            if min(t, 90.0 - t) > best_angle:
                best, best_angle = (int(j1), int(j2)), min(t, 90.0 - t)
    j1, j2 = best
    rest = [j for j in range(model.p) if j not in best]
    r = yc - Xc[:, rest] @ ols[rest]
    X2 = Xc[:, [j1, j2]]
    ols2 = np.linalg.lstsq(X2, r, rcond=None)[0]
    names = (model.feature_names[j1], model.feature_names[j2])
    geo = bp.lasso_ridge_geometry(X2, r, radius=_corner_radius(X2, r, ols2), feature_names=names)
    rule = (
        f"The pair: among the coefficients with least-squares |t| >= 2, the two whose "
        f"least-squares point is farthest from both axes ({best_angle:.0f} degrees from the "
        "nearest)."
    )
    return geo, rule


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.2em auto;padding:0 1em;color:#222;
line-height:1.4} h1{font-size:1.5em;margin:.3em 0} h2{border-bottom:1px solid #ccc;
padding-bottom:.2em;margin-top:1.6em} .tablebox{overflow-x:auto;max-width:100%;margin:.6em 0}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:.2em .5em;
text-align:right;vertical-align:top;white-space:nowrap} th{background:#f4f4f4}
td.txt,th.txt{text-align:left;white-space:normal;min-width:8em}
.pass{background:#e6f4ea;border:1px solid #34a853;padding:.6em 1em;font-weight:600}
.fail{background:#fce8e6;border:1px solid #d93025;padding:.6em 1em;font-weight:600}
figure{margin:1.2em 0} figcaption{font-size:.9em;color:#444;max-width:60em}
img{max-width:100%;height:auto} code{background:#f4f4f4;padding:0 .2em;overflow-wrap:anywhere}
ol.notes{font-size:.8em;color:#444;margin-top:.2em} .small{font-size:.9em;color:#444}
"""


def _cell(v: Any) -> str:
    if isinstance(v, float | int | np.floating | np.integer) and not isinstance(v, bool):
        return num(v, 4)
    if isinstance(v, dict | list):
        return html.escape(json.dumps(v)[:80])
    return html.escape("-" if v is None else str(v))


def _table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    headers: dict[str, str] | None = None,
    notes: str | None = None,
) -> str:
    """An HTML table in its own horizontally scrolling box; text columns left-aligned.

    ``notes``: a column whose text becomes numbered footnotes under the table (the row's first
    cell gets the marker), so long prose never stretches a row.
    """
    if not rows:
        return "<p>(none)</p>"
    columns = [c for c in (columns or rows[0].keys()) if c != notes]
    text = {c for c in columns if any(isinstance(r.get(c), str) for r in rows)}
    cls = {c: " class='txt'" if c in text else "" for c in columns}
    head = "".join(f"<th{cls[c]}>{html.escape((headers or {}).get(c, c))}</th>" for c in columns)
    body, foot = [], []
    for r in rows:
        cells = [_cell(r.get(c)) for c in columns]
        if notes and r.get(notes):
            foot.append(f"<li>{html.escape(str(r[notes]))}</li>")
            cells[0] += f"<sup>{len(foot)}</sup>"
        body.append(
            "<tr>"
            + "".join(f"<td{cls[c]}>{x}</td>" for c, x in zip(columns, cells, strict=True))
            + "</tr>"
        )
    notes_html = f"<ol class='notes'>{''.join(foot)}</ol>" if foot else ""
    return f"<div class='tablebox'><table><tr>{head}</tr>{''.join(body)}</table></div>{notes_html}"


_VERIFY_COLUMNS = ["method", "max_abs_diff", "rel_diff", "zero_pattern_agrees", "n_nonzero",
                   "objective", "optimality", "tolerance", "expected_to_agree", "agrees",
                   "passed", "seconds"]  # fmt: skip
_VERIFY_EXPLAINED = (
    "<p class='small'><b>How to read this table.</b> <code>agrees</code>: the method's "
    "coefficients are within <code>tolerance</code> of the reference MAP (and have its zero "
    "pattern). <code>expected_to_agree</code>: whether the method should, by theory, reach the "
    "MAP exactly (another exact solver, scikit-learn at the converted strength) or is shown for "
    "contrast (a general-purpose optimizer, the subgradient method, which never makes exact "
    "zeros). <code>passed</code> is true when the row behaved as expected: it agrees where "
    "agreement is expected; a contrast row passes whether or not it agrees. A FAIL means an "
    "expected agreement did not happen. Notes are footnotes under the table.</p>"
)


def _verification_html(ver: dict[str, Any]) -> list[str]:
    parts = [f"<h3>Verification: {'PASS' if ver['passed'] else 'FAIL'}</h3>", _VERIFY_EXPLAINED]
    rows = ver.get("rows", [])
    if isinstance(rows, list):
        cols = [c for c in _VERIFY_COLUMNS if rows and c in rows[0]]
        parts.append(_table(rows, cols, notes="note"))
    for kind, why in (ver.get("not_applicable") or {}).items():
        parts.append(
            f"<p class='small'>{html.escape(kind)}: not applicable ({html.escape(why)})</p>"
        )
    return parts


def _original_units(e: dict[str, Any], d: dict[str, Any]) -> str:
    """The MAP and posterior summaries divided by each feature's scale (original units)."""
    scale = d.get("feature_scale")
    if not scale:
        return ""
    rows = []
    for c in e["sparsity"]["coefficients"]:
        s = float(scale[c["feature"]])
        rows.append({"feature": c["feature"], "map": c["map"] / s, "post_median": c["post_median"] / s,
                     "lower": c["lower"] / s, "upper": c["upper"] / s})  # fmt: skip
    hdr = {"lower": f"{100 * INTERVAL:.0f}% lower", "upper": f"{100 * INTERVAL:.0f}% upper"}
    return ("<p class='small'>The same coefficients in the original units of each feature "
            "(change in the target per unit of the feature):</p>" + _table(rows, headers=hdr))  # fmt: skip


def _standardization(d: dict[str, Any]) -> str:
    how = d.get("standardized")
    if not how or how == "no":
        return "The features are used in their own units (not standardized)."
    return (f"The features were standardized ({html.escape(str(how))}) before fitting, so one "
            "prior scale fits every coefficient and the coefficients below are per standardized "
            "unit" + ("; a table in original units follows each prior's." if d.get("feature_scale")
                      else ".") )  # fmt: skip


def _summary_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for e in report["priors"].values():
        dg = e.get("diagnostics", {})
        rows.append({"prior": e.get("label", e["prior"]),
                     "MAP zeros": f"{e['map']['n_zero']} of {report['data']['p']}",
                     "verification": "PASS" if e["verification"]["passed"] else "FAIL",
                     "diagnostics": "OK" if dg.get("ok") else ", ".join(sorted({p["kind"] for p in dg.get("problems", [])})) or "-",
                     "backend": e.get("backend", "-"),
                     "sampling seconds": e.get("sampling_time")})  # fmt: skip
    return rows


def _header_html(report: dict[str, Any]) -> list[str]:
    v, d, s = report["verdict"], report["data"], report["settings"]
    ran = sorted({e.get("backend", "") for e in report["priors"].values()} - {""})
    return [
        "<h1>bayesreg report: a penalty is a prior</h1>",
        f"<div id='verdict' class='{'pass' if v['passed'] else 'fail'}'>{html.escape(v['message'])}</div>",
        f"<p>Data: <b>{html.escape(str(d.get('source', '')))}</b>, n = {d['n']}, p = {d['p']}, "
        f"target <code>{html.escape(str(d.get('target', 'y')))}</code>, likelihood "
        f"{html.escape(d['likelihood'])}. {_standardization(d)} Prior sd {num(s['prior_sd'])} "
        f"({html.escape(s['scale_rule'])}). Sampling: NUTS via {html.escape(', '.join(ran) or s['backend'])} "
        f"(asked: {html.escape(s['backend'])}), {s['chains']} chains x {s['draws']} draws "
        f"(tune {s['tune']}), seed {s['random_seed']}. Intervals are {100 * INTERVAL:.0f}% "
        f"throughout. bayesreg {html.escape(report['bayesreg_version'])}, "
        f"{html.escape(report['created'])}.</p>",
        _table(_summary_rows(report)),
    ]


def _prior_html(name: str, e: dict[str, Any], d: dict[str, Any]) -> list[str]:
    label = e.get("label", e["prior"])
    parts = [f"<h2>{html.escape(name.capitalize())} prior: <code>{html.escape(label)}</code></h2>"]
    sigma = e["map"]["sigma"]
    at = f" at the MAP's sigma = {num(sigma)}" if sigma is not None else ""
    eq = [{"convention": k, "strength": val} for k, val in e["penalty_equivalents"].items()]
    parts.append(f"<p>The same penalty in each library's convention{at}:</p>" + _table(eq))
    parts += _verification_html(e["verification"])
    if "diagnostics" not in e:
        return parts
    dg = e["diagnostics"]
    parts.append(f"<h3>Posterior diagnostics: {'OK' if dg['ok'] else 'problems'}</h3>")
    for pr in dg["problems"]:
        parts.append(f"<p><b>{html.escape(pr['kind'])}</b>: {html.escape(pr['message'])}<br>"
                     f"<i>advice:</i> {html.escape(pr['advice'])}</p>")  # fmt: skip
    summ = [{"parameter": k, **row} for k, row in dg["summary"].items()]
    parts.append(
        _table(summ, ["parameter", "mean", "sd", "mcse_mean", "ess_bulk", "ess_tail", "r_hat"])
    )
    parts.append("<h3>Shrinkage and sparsity</h3>")
    if "effective_df" in e:
        parts.append(
            f"<p>Effective degrees of freedom (ridge): {num(e['effective_df'])} of {d['p']}.</p>"
        )
    sp = e["sparsity"]
    statement = (
        sp["statement"].split(": ", 1)[-1]
        if sp["statement"].startswith(e["prior"])
        else sp["statement"]
    )
    eps = [c.get("eps") for c in sp["coefficients"] if c.get("eps") is not None]
    if eps:
        statement += (f" (eps, per coefficient in the table's eps column, here {num(min(eps))} to "
                      f"{num(max(eps))}.)")  # fmt: skip
    parts.append(f"<p>{html.escape(statement)}</p>")
    hdr = {"lower": f"{100 * INTERVAL:.0f}% lower", "upper": f"{100 * INTERVAL:.0f}% upper",
           "p_near_zero": "P(|w| < eps)"}  # fmt: skip
    parts.append(_table(sp["coefficients"], ["feature", "map", "post_mean", "post_median", "lower",
                                             "upper", "eps", "p_near_zero", "ci_contains_zero"],
                        headers=hdr))  # fmt: skip
    parts.append(_original_units(e, d))
    return parts


def render_html(report: dict[str, Any], figures: Sequence[tuple[str, str, str]]) -> str:
    """A self-contained HTML page (inline CSS, base64 PNG figures): the verdict and a summary
    first, then the figures (the lesson at a glance), then each prior's numbers."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>bayesreg report</title>",
        f"<style>{_CSS}</style></head><body>",
        *_header_html(report),
    ]
    if figures:
        parts.append("<h2>Figures</h2>")
        for name, caption, b64 in figures:
            parts.append(
                f"<figure id='{html.escape(name)}'><img alt='{html.escape(name)}' "
                f"src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}"
                "</figcaption></figure>"
            )
    for name, e in report["priors"].items():
        parts += _prior_html(name, e, report["data"])
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
