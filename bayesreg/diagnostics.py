"""Can these draws be trusted? MCMC diagnostics with advice; model comparison by PSIS-LOO or WAIC.

ArviZ is reached through :mod:`bayesreg._arviz`, the package's one door to it. Thresholds
follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and
localization: an improved R-hat":

=========================  ==============================  ====================================
check                      flagged when                    what it means
=========================  ==============================  ====================================
rank-normalized R-hat      > 1.01                          chains disagree: not converged
bulk ESS                   < 400 (all chains together)     means/medians imprecise
tail ESS                   < 400                           5%/95% quantiles, intervals imprecise
divergences                > 0                             NUTS missed part of the posterior:
                                                           estimates may be biased
E-BFMI (per chain)         < 0.3                           momentum resampling explores energy
                                                           poorly (heavy tails, funnels)
tree-depth saturation      > 0 draws at max_treedepth      trajectories cut short: inefficient
Pareto k (PSIS-LOO)        > 0.7                           that observation's LOO is unreliable
=========================  ==============================  ====================================

The Monte Carlo standard errors in the summary are never rounded (``round_to="none"``): ArviZ's
default rounding turns a small MCSE into 0.0, which reads as "exact".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special as _special
from scipy import stats as _stats
from scipy.fftpack import next_fast_len  # the FFT length ArviZ's autocov uses

from bayesreg import _arviz as _az
from bayesreg._results import Result, jsonable
from bayesreg._validation import check_choice, check_positive

__all__ = [
    "THRESHOLDS",
    "Diagnosis",
    "ModelComparison",
    "Problem",
    "compare_models",
    "diagnose",
    "ess_bulk",
    "hdi_bounds",
    "rhat_ess_bulk",
    "rhat_rank",
]

#: default thresholds (Vehtari et al. 2021; Stan's defaults for the sampler checks)
THRESHOLDS: dict[str, float] = {
    "rhat": 1.01,
    "ess_bulk": 400.0,
    "ess_tail": 400.0,
    "divergences": 0.0,
    "ebfmi": 0.3,
    "treedepth_fraction": 0.0,
    "pareto_k": 0.7,
}

ADVICE: dict[str, str] = {
    "rhat": (
        "The chains have not converged to the same distribution. Run longer (raise tune and "
        "draws), start more chains, and look at trace plots (az.plot_trace) for stuck or "
        "multimodal chains; standardize X; for hierarchical or shrinkage priors use the "
        "non-centred form."
    ),
    "ess_bulk": (
        "Too few effective draws for reliable means and medians. Raise draws (ESS grows about "
        "linearly with them) or reduce autocorrelation: standardize X, decorrelate predictors "
        "(QR), use the non-centred form, or try backend='nutpie' (better mass-matrix adaptation)."
    ),
    "ess_tail": (
        "Too few effective draws in the tails: credible intervals and 5%/95% quantiles are "
        "unreliable. Raise draws; if bulk ESS is fine but tail ESS is low, the tails are heavy or "
        "poorly explored: reparametrize or use a lighter-tailed prior."
    ),
    "divergences": (
        "Divergent transitions mean NUTS could not follow the posterior's curvature and the "
        "draws may be biased; do not ignore them. Raise target_accept (e.g. "
        "sample_posterior(..., target_accept=0.95)); if they persist, reparametrize: write "
        "scale-mixture / hierarchical priors in the non-centred form (w = tau * z, z ~ N(0, 1)) "
        "to remove the funnel, and standardize X. Horseshoe priors with a Gaussian likelihood: "
        "sample with the weights integrated out (sample_posterior(..., collapse=True), the "
        "default with the 'auto' and 'pymc' backends)."
    ),
    "ebfmi": (
        "Low E-BFMI: the sampler's momentum resampling cannot move through the energy "
        "distribution (heavy tails, funnels). Reparametrize (non-centred form for scale "
        "parameters), give scale parameters more informative priors, and raise tune so the "
        "mass matrix adapts."
    ),
    "treedepth": (
        "Trajectories hit the maximum tree depth: sampling is inefficient (not biased). Raise "
        "max_treedepth (e.g. 12), or improve the geometry: standardize X, decorrelate "
        "predictors (QR), use a denser mass matrix (backend='nutpie' with "
        "low_rank_modified_mass_matrix=True)."
    ),
    "chains": (
        "R-hat needs at least 2 chains (4 recommended) to detect non-convergence: sample with "
        "chains=4."
    ),
    "waic": (
        "WAIC is unreliable for these observations (posterior variance of their log predictive "
        "density > 0.4, Vehtari, Gelman & Gabry 2017): compare with PSIS-LOO instead "
        "(compare_models(..., ic='loo')), whose Pareto k diagnoses each observation."
    ),
    "pareto_k": (
        "PSIS-LOO is unreliable for these observations (Pareto k > 0.7): they are highly "
        "influential. Use exact LOO for them (az.loo with reloo, or refit without them), K-fold "
        "cross-validation, or a more robust likelihood (Student-t); check them for outliers."
    ),
}


@dataclass(frozen=True)
class Problem(Result):
    """One diagnostic failure.

    Attributes
    ----------
    kind : str
        ``"rhat"``, ``"ess_bulk"``, ``"ess_tail"``, ``"divergences"``, ``"ebfmi"``,
        ``"treedepth"``, ``"chains"`` or ``"pareto_k"``.
    message : str
        What was measured, against which threshold.
    advice : str
        What to do about it.
    variables : tuple of str
        The parameters (or chains, or observations) concerned.
    """

    kind: str
    message: str
    advice: str
    variables: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}\n    advice: {self.advice}"


def _frame_dict(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A DataFrame as {row label: {column: value}} (JSON-cleaned by the caller)."""
    return {str(idx): {str(c): v for c, v in row.items()} for idx, row in frame.iterrows()}


@dataclass(frozen=True)
class Diagnosis(Result):
    """The result of :func:`diagnose`.

    Attributes
    ----------
    ok : bool
        True when no problem was found.
    problems : list of Problem
    summary : pandas.DataFrame
        ``az.summary(..., round_to="none")``: mean, sd, HDI, MCSE of mean and sd (unrounded),
        bulk and tail ESS, R-hat, one row per scalar parameter.
    stats : dict
        Sampler-level numbers: ``n_chains``, ``n_draws``, ``n_divergent``, ``divergent_fraction``,
        ``ebfmi`` (per chain), ``treedepth_fraction``, ``max_treedepth``, ``max_rhat``,
        ``min_ess_bulk``, ``min_ess_tail``.
    thresholds : dict
        The thresholds used.
    """

    ok: bool
    problems: list[Problem]
    summary: pd.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def kinds(self) -> list[str]:
        """The kinds of the problems found, in order."""
        return [p.kind for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable: ``ok``, ``problems``, ``stats``, ``thresholds``, ``summary``
        (parameter -> column -> value)."""
        return jsonable(
            {
                "ok": bool(self.ok),
                "problems": self.problems,
                "stats": self.stats,
                "thresholds": self.thresholds,
                "summary": _frame_dict(self.summary),
            }
        )

    def __str__(self) -> str:
        s = self.stats
        head = (
            f"Diagnosis: {'OK' if self.ok else f'{len(self.problems)} problem(s)'} "
            f"({s.get('n_chains')} chains x {s.get('n_draws')} draws; max R-hat "
            f"{_fmt(s.get('max_rhat'))}, min bulk ESS {_fmt(s.get('min_ess_bulk'), 0)}, "
            f"min tail ESS {_fmt(s.get('min_ess_tail'), 0)}, divergences {s.get('n_divergent', 'n/a')})"
        )
        return "\n".join([head, *[f"  {p}" for p in self.problems]])

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return f"<pre>{self}</pre>" + self.summary.to_html()


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def _names(index: Sequence[Any], limit: int = 8) -> str:
    names = [str(i) for i in index]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _check_var_names(post: Any, var_names: Sequence[str] | None) -> list[str] | None:
    if var_names is None:
        return None
    var_names = [str(v) for v in var_names]
    missing = [v for v in var_names if v not in post.data_vars]
    if missing:
        raise ValueError(
            f"var_names {missing} are not in the posterior. Must be among: {list(post.data_vars)}."
        )
    return var_names


def _convergence_problems(
    summary: pd.DataFrame, n_chains: int, n_draws: int, rhat_threshold: float, min_ess: float
) -> list[Problem]:
    """R-hat (or the single-chain problem) and the bulk / tail ESS checks."""
    problems: list[Problem] = []
    if n_chains < 2:
        problems.append(
            Problem("chains", f"Only {n_chains} chain: R-hat cannot be computed.", ADVICE["chains"])
        )
    else:
        bad = summary.index[~(summary["r_hat"] <= rhat_threshold)]
        if len(bad):
            worst = float(summary["r_hat"].max())
            problems.append(
                Problem(
                    "rhat",
                    f"R-hat > {rhat_threshold} for {len(bad)} parameter(s) (max {worst:.4f}): "
                    f"{_names(bad)}.",
                    ADVICE["rhat"],
                    tuple(str(b) for b in bad),
                )
            )
    for kind, what in (("ess_bulk", "Bulk"), ("ess_tail", "Tail")):
        bad = summary.index[~(summary[kind] >= min_ess)]
        if len(bad):
            problems.append(
                Problem(
                    kind,
                    f"{what} ESS < {min_ess:g} for {len(bad)} parameter(s) (min "
                    f"{float(summary[kind].min()):.0f} from {n_chains * n_draws} draws): {_names(bad)}.",
                    ADVICE[kind],
                    tuple(str(b) for b in bad),
                )
            )
    return problems


def _divergence_problems(ss: Any, stats: dict[str, Any]) -> list[Problem]:
    div = np.asarray(ss["diverging"].values, dtype=bool)
    n_div = int(div.sum())
    stats["n_divergent"] = n_div
    stats["divergent_fraction"] = n_div / div.size
    if n_div == 0:
        return []
    per_chain = div.sum(axis=1).tolist()
    return [
        Problem(
            "divergences",
            f"{n_div} divergent transition(s) after warm-up ({100 * n_div / div.size:.2f}% of "
            f"draws; per chain {per_chain}).",
            ADVICE["divergences"],
            tuple(f"chain {c}" for c in range(div.shape[0]) if per_chain[c] > 0),
        )
    ]


def _ebfmi_problems(idata: Any, stats: dict[str, Any], threshold: float) -> list[Problem]:
    ebfmi = np.atleast_1d(_az.bfmi(idata))
    stats["ebfmi"] = [float(e) for e in ebfmi]
    low = [c for c, e in enumerate(ebfmi) if not e >= threshold]
    if not low:
        return []
    return [
        Problem(
            "ebfmi",
            f"E-BFMI < {threshold} in {len(low)} chain(s): "
            + ", ".join(f"chain {c}: {ebfmi[c]:.3f}" for c in low)
            + ".",
            ADVICE["ebfmi"],
            tuple(f"chain {c}" for c in low),
        )
    ]


def _treedepth_problems(ss: Any, stats: dict[str, Any], max_treedepth: int) -> list[Problem]:
    if "reached_max_treedepth" in ss:
        hit = np.asarray(ss["reached_max_treedepth"].values, dtype=bool)
    else:
        hit = np.asarray(ss["tree_depth"].values) >= max_treedepth
    frac = float(hit.mean())
    stats["treedepth_fraction"] = frac
    stats["max_treedepth"] = max_treedepth
    if frac == 0.0:
        return []
    return [
        Problem(
            "treedepth",
            f"{int(hit.sum())} draw(s) ({100 * frac:.2f}%) hit the maximum tree depth "
            f"({max_treedepth}).",
            ADVICE["treedepth"],
            tuple(f"chain {c}" for c in range(hit.shape[0]) if hit[c].any()),
        )
    ]


def _sampler_problems(
    idata: Any, stats: dict[str, Any], ebfmi_threshold: float, max_treedepth: int | None
) -> list[Problem]:
    """Divergences, E-BFMI and tree depth, from ``sample_stats`` (NUTS only)."""
    if "sample_stats" not in idata.groups():
        return []
    ss = idata.sample_stats
    problems: list[Problem] = []
    if "diverging" in ss:
        problems += _divergence_problems(ss, stats)
    if "energy" in ss:
        problems += _ebfmi_problems(idata, stats, ebfmi_threshold)
    if "reached_max_treedepth" in ss or "tree_depth" in ss:
        if max_treedepth is None:
            max_treedepth = int(idata.posterior.attrs.get("max_treedepth", 10))
        problems += _treedepth_problems(ss, stats, max_treedepth)
    return problems


def diagnose(
    idata: Any,
    *,
    var_names: Sequence[str] | None = None,
    rhat_threshold: float = THRESHOLDS["rhat"],
    min_ess: float = THRESHOLDS["ess_bulk"],
    ebfmi_threshold: float = THRESHOLDS["ebfmi"],
    max_treedepth: int | None = None,
) -> Diagnosis:
    """Check an MCMC fit: R-hat, bulk/tail ESS, MCSE, divergences, E-BFMI, tree depth.

    Parameters
    ----------
    idata : arviz.InferenceData
        With a ``posterior`` group; the sampler checks need ``sample_stats`` (``diverging``,
        ``energy``, ``tree_depth`` / ``reached_max_treedepth``) and are skipped without it (the
        ``"exact"`` backend's i.i.d. draws).
    var_names : sequence of str, optional
        Parameters to check (default: every posterior variable).
    rhat_threshold : float, default 1.01
        Flag rank-normalized R-hat above this.
    min_ess : float, default 400
        Flag bulk or tail ESS (all chains together) below this.
    ebfmi_threshold : float, default 0.3
        Flag chains whose E-BFMI is below this.
    max_treedepth : int, optional
        The sampler's maximum tree depth (default: ``idata.posterior.attrs["max_treedepth"]``,
        else 10); used when ``reached_max_treedepth`` is not in the stats.

    Returns
    -------
    Diagnosis
    """
    if not _az.is_inference_data(idata, "posterior"):
        raise TypeError(
            "The 'idata' parameter of diagnose must be an arviz.InferenceData with a posterior "
            f"group. Got {type(idata).__name__} instead."
        )
    rhat_threshold = check_positive(rhat_threshold, "rhat_threshold", "diagnose")
    min_ess = check_positive(min_ess, "min_ess", "diagnose")
    ebfmi_threshold = check_positive(ebfmi_threshold, "ebfmi_threshold", "diagnose")
    post = idata.posterior
    var_names = _check_var_names(post, var_names)
    n_chains, n_draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    thresholds = {
        "rhat": rhat_threshold,
        "ess_bulk": min_ess,
        "ess_tail": min_ess,
        "divergences": 0.0,
        "ebfmi": ebfmi_threshold,
        "treedepth_fraction": 0.0,
    }
    summary = _az.summary(idata, var_names=var_names)
    stats: dict[str, Any] = {"n_chains": n_chains, "n_draws": n_draws}
    if len(summary):
        stats["max_rhat"] = float(summary["r_hat"].max()) if n_chains > 1 else float("nan")
        stats["min_ess_bulk"] = float(summary["ess_bulk"].min())
        stats["min_ess_tail"] = float(summary["ess_tail"].min())
    problems = _convergence_problems(summary, n_chains, n_draws, rhat_threshold, min_ess)
    problems += _sampler_problems(idata, stats, ebfmi_threshold, max_treedepth)
    return Diagnosis(
        ok=not problems, problems=problems, summary=summary, stats=stats, thresholds=thresholds
    )


# ---------------------------------------------------------------------------------------------
# vectorized R-hat, bulk ESS and HDI: ArviZ 0.23's algorithms over all coefficients at once
# ---------------------------------------------------------------------------------------------
# ArviZ applies its diagnostics one scalar parameter at a time (a Python loop over coefficients,
# each with its own scipy ``rankdata`` and ``norm.ppf`` call): with p = 100 that costs more than
# a fast NUTS fit. The functions below run the same steps on a (coefficient, chain, draw) array,
# step for step as in ``arviz.stats.diagnostics`` (``_split_chains``, ``_z_scale``, ``_rhat``,
# ``_rhat_rank``, ``_ess``, ``_ess_bulk``) and ``arviz.stats.stats._hdi``; they agree with ArviZ
# to rounding (tests/test_fast_diagnostics.py). Two deliberate differences, both at rounding
# level: variances use numpy's two-pass ``var`` (ArviZ uses a one-pass sum of squares when numba
# is installed), and sums run in a different order.
_BLOM_C = 3.0 / 8.0  # ArviZ's rank offset (Blom 1958)


def _columns(draws: Any, func: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """(chain, draw, *shape) draws -> float64 array (k, chain, draw) and ``shape``; a copy."""
    arr = np.asarray(draws)
    if arr.ndim < 2 or arr.dtype.kind not in "biuf":
        raise ValueError(
            f"The 'draws' parameter of {func} must be a numeric array of shape "
            f"(chain, draw, *shape). Got {type(draws).__name__} with shape "
            f"{getattr(arr, 'shape', None)} and dtype {arr.dtype} instead."
        )
    chains, n_draws = arr.shape[:2]
    shape = tuple(int(s) for s in arr.shape[2:])
    k = math.prod(shape)
    cols = np.asarray(arr, dtype=np.float64).reshape(chains, n_draws, k)
    return np.ascontiguousarray(np.moveaxis(cols, 2, 0)), shape


def _split_chains(cols: np.ndarray) -> np.ndarray:
    """(k, m, n) -> (k, 2m, n // 2): first halves of every chain, then second halves.

    With an odd n the middle draw is dropped (ArviZ's ``_split_chains``).
    """
    n = cols.shape[2]
    half = n // 2
    return np.concatenate([cols[:, :, :half], cols[:, :, n - half :]], axis=1)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalize each coefficient over all its chains and draws: (k, m, n) -> (k, m, n).

    ``z = Phi^-1((r - 3/8) / (S - 3/4 + 1))`` with r the average rank among the S = m n values
    of that coefficient (ties share their mean rank).
    """
    k, m, n = x.shape
    size = m * n
    rank = _stats.rankdata(x.reshape(k, size), method="average", axis=1)
    # ndtri is what norm.ppf evaluates, without its per-call argument checks; q is in (0, 1)
    z = _special.ndtri((rank - _BLOM_C) / (size - 2 * _BLOM_C + 1))
    return z.reshape(k, m, n)


def _split_rhat(z: np.ndarray) -> np.ndarray:
    """Gelman-Rubin R-hat of each coefficient's m chains: (k, m, n) -> (k,).

    ``R = sqrt((B / W + n - 1) / n)``, B = n var(chain means), W = mean within-chain variance
    (both with ddof=1).
    """
    n = z.shape[2]
    between = n * z.mean(axis=2).var(axis=1, ddof=1)
    within = z.var(axis=2, ddof=1).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # constant draws: W = 0, as in ArviZ
        return np.sqrt((between / within + n - 1) / n)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance of every chain at every lag by FFT, (k, m, n) -> (k, m, n), divided by n."""
    n = x.shape[2]
    size = next_fast_len(2 * n)  # zero-padding >= 2n: linear, not circular, correlation
    centred = x - x.mean(axis=2, keepdims=True)
    f = np.fft.rfft(centred, n=size, axis=2)
    f *= np.conjugate(f)
    cov = np.fft.irfft(f, n=size, axis=2)[:, :, :n]
    cov /= n
    return cov


def _geyer_ess(x: np.ndarray) -> np.ndarray:
    """ESS of each coefficient's m chains (Geyer's initial monotone sequence): (k, m, n) -> (k,).

    ArviZ's ``_ess``, vectorized. With acov_c(t) chain c's autocovariance at lag t,
    W = mean_c acov_c(0) n / (n - 1) and var+ = W (n - 1) / n + var(chain means),
    rho(t) = 1 - (W - mean_c acov_c(t)) / var+ (rho(0) = 1). Pair sums P_j = rho(2j) + rho(2j+1)
    are used while positive (at most up to the lags ArviZ's loop reaches, 2j < n - 2), made
    non-increasing (running minimum), and tau = -1 + 2 sum_{j<J} P_j + rho(2J)_+ , where J is the
    first pair not used (rho(2J) also counts when P_J == 0 or when the lag cap ended the loop).
    ESS = m n / max(tau, 1 / log10(m n)). Constant draws give ESS = m n.
    """
    k, m, n = x.shape
    total = m * n
    acov = _autocov(x)
    mean_var = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + x.mean(axis=2).var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]
    rho[:, 0] = 1.0
    n_pairs = n // 2
    pairs = rho[:, 0 : 2 * n_pairs : 2] + rho[:, 1 : 2 * n_pairs : 2]  # (k, n_pairs)
    # ArviZ's positive-sequence loop visits pairs j = 1, 2, ... while 2j - 1 < n - 3 and the
    # previous pair sum was > 0: J = first j with P_j <= 0 (or NaN), capped at cap
    cap = max((n - 3) // 2, 0)
    not_pos = ~(pairs[:, :cap] > 0.0)
    stop = np.full(k, cap)  # J, shape (k,)
    if cap > 0:
        hit = not_pos.any(axis=1)
        stop[hit] = not_pos[hit].argmax(axis=1)
    rows = np.arange(k)
    # pairs before J are all > 0: their running minimum is the monotone sequence
    mono = np.minimum.accumulate(pairs[:, : cap + 1], axis=1)
    used = np.arange(mono.shape[1])[None, :] < stop[:, None]
    head = np.where(used, mono, 0.0).sum(axis=1)
    rho_even = rho[rows, 2 * stop]
    last_stored = (stop >= 1) & (pairs[rows, stop] >= 0.0)  # ArviZ kept pair J (P_J == 0 or cap)
    last = np.where(last_stored | (rho_even > 0.0), rho_even, 0.0)
    tau = -1.0 + 2.0 * head + last
    tau = np.maximum(tau, 1.0 / np.log10(total))
    ess = total / tau
    ess[np.isnan(tau)] = np.nan
    # ArviZ: draws whose range is below float resolution count as independent
    flat = x.reshape(k, total)
    const = (flat.max(axis=1) - flat.min(axis=1)) < np.finfo(float).resolution
    ess[const] = float(total)
    return ess


def _rank_rhat(split: np.ndarray, z: np.ndarray) -> np.ndarray:
    """max(bulk, tail) split R-hat from split chains (k, m, n) and their rank-normalized z."""
    bulk = _split_rhat(z)
    med = np.median(split.reshape(split.shape[0], -1), axis=1)
    tail = _split_rhat(_z_scale(np.abs(split - med[:, None, None])))
    # Python's max(bulk, tail), as ArviZ: keeps bulk unless tail is larger (NaN included)
    return np.where(tail > bulk, tail, bulk)


def _valid(cols: np.ndarray, min_chains: int) -> np.ndarray:
    """Coefficients ArviZ would compute (no NaN, >= min_chains chains, >= 4 draws): (k,) bool."""
    _, chains, n_draws = cols.shape
    ok = ~np.isnan(cols).any(axis=(1, 2))
    if chains < min_chains or n_draws < 4:
        ok[:] = False
    return ok


def rhat_rank(draws: Any) -> np.ndarray:
    """Rank-normalized split R-hat of every scalar in ``draws``, all at once.

    Equals ``az.rhat(..., method="rank")`` (Vehtari et al. 2021) element for element, to
    rounding: each chain is split in half; the draws are rank-normalized over all chains
    (``z = Phi^-1((r - 3/8) / (S + 1/4))``, r the average rank among the S draws); R-hat is the
    larger of the split R-hat of z (bulk) and of the rank-normalized folded draws
    ``|x - median(x)|`` (tails), where ``R = sqrt((B / W + n - 1) / n)`` for split chains of
    length n with between-chain variance B / n and mean within-chain variance W.

    Parameters
    ----------
    draws : array_like of shape (chain, draw, *shape)
        MCMC draws, ArviZ's layout.

    Returns
    -------
    ndarray of shape ``shape``
        R-hat per scalar; NaN where ArviZ gives NaN: fewer than 2 chains or 4 draws, or any
        NaN among that scalar's draws.
    """
    cols, shape = _columns(draws, "rhat_rank")
    out = np.full(cols.shape[0], np.nan)
    ok = _valid(cols, min_chains=2)
    if ok.any():
        split = _split_chains(cols[ok])
        out[ok] = _rank_rhat(split, _z_scale(split))
    return out.reshape(shape)


def ess_bulk(draws: Any) -> np.ndarray:
    """Bulk effective sample size of every scalar in ``draws``, all at once.

    Equals ``az.ess(..., method="bulk")`` element for element, to rounding: split chains,
    rank-normalize over all of them (as in :func:`rhat_rank`), then Geyer's initial monotone
    sequence estimator on FFT autocovariances, ``ESS = S / tau``,
    ``tau = -1 + 2 sum_t rho_t`` (truncated where pair sums turn negative, bounded below by
    ``1 / log10(S)``), S the number of draws used (all chains, middle draw of an odd chain
    dropped).

    Parameters
    ----------
    draws : array_like of shape (chain, draw, *shape)
        MCMC draws, ArviZ's layout.

    Returns
    -------
    ndarray of shape ``shape``
        Bulk ESS per scalar (all chains together); NaN where ArviZ gives NaN: fewer than 4
        draws, or any NaN among that scalar's draws.
    """
    cols, shape = _columns(draws, "ess_bulk")
    out = np.full(cols.shape[0], np.nan)
    ok = _valid(cols, min_chains=1)
    if ok.any():
        out[ok] = _geyer_ess(_z_scale(_split_chains(cols[ok])))
    return out.reshape(shape)


def rhat_ess_bulk(draws: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rhat_rank` and :func:`ess_bulk` together, sharing their rank normalization.

    Parameters
    ----------
    draws : array_like of shape (chain, draw, *shape)
        MCMC draws, ArviZ's layout.

    Returns
    -------
    rhat : ndarray of shape ``shape``
        As :func:`rhat_rank` (NaN with one chain).
    ess : ndarray of shape ``shape``
        As :func:`ess_bulk`.
    """
    cols, shape = _columns(draws, "rhat_ess_bulk")
    rhat, ess = np.full(cols.shape[0], np.nan), np.full(cols.shape[0], np.nan)
    ok = _valid(cols, min_chains=1)
    if ok.any():
        split = _split_chains(cols[ok])
        z = _z_scale(split)  # the bulk R-hat and the bulk ESS use the same z
        ess[ok] = _geyer_ess(z)
        if cols.shape[1] >= 2:
            rhat[ok] = _rank_rhat(split, z)
    return rhat.reshape(shape), ess.reshape(shape)


def hdi_bounds(draws: Any, hdi_prob: float = 0.94) -> np.ndarray:
    """Highest-density interval of every scalar in ``draws``, all at once.

    Equals ``az.hdi(..., hdi_prob=hdi_prob)`` (unimodal, non-circular, ``skipna=False``)
    exactly: with the S pooled draws sorted, x_(0) <= ... <= x_(S-1), and
    ``c = floor(hdi_prob * S)``, the interval is ``[x_(i), x_(i+c)]`` for the first i that
    minimizes ``x_(i+c) - x_(i)``.

    Parameters
    ----------
    draws : array_like of shape (chain, draw, *shape)
        MCMC draws, ArviZ's layout; all chains are pooled.
    hdi_prob : float, default 0.94
        Probability mass of the interval, in (0, 1].

    Returns
    -------
    ndarray of shape ``(*shape, 2)``
        Lower and upper bound per scalar. A scalar with NaN draws gets ArviZ's answer (NaN
        sorts last, so the bounds may be NaN).

    Raises
    ------
    ValueError
        ``hdi_prob`` outside (0, 1], or too few draws for an interval (ArviZ's condition).
    """
    if (
        isinstance(hdi_prob, bool)
        or not isinstance(hdi_prob, int | float | np.floating)
        or not 0.0 < float(hdi_prob) <= 1.0
    ):
        raise ValueError(
            f"The 'hdi_prob' parameter of hdi_bounds must be a float in the range (0, 1]. "
            f"Got {hdi_prob!r} instead."
        )
    cols, shape = _columns(draws, "hdi_bounds")
    k = cols.shape[0]
    pooled = np.sort(cols.reshape(k, -1), axis=1)
    size = pooled.shape[1]
    inc = int(np.floor(float(hdi_prob) * size))
    n_intervals = size - inc
    if n_intervals <= 0:
        raise ValueError(
            f"Too few draws ({size}) for a {hdi_prob} highest-density interval: need "
            "floor(hdi_prob * draws) < draws."
        )
    width = pooled[:, inc:] - pooled[:, :n_intervals]
    start = np.argmin(width, axis=1)  # first minimum; the first NaN when there is one (ArviZ)
    rows = np.arange(k)
    bounds = np.stack([pooled[rows, start], pooled[rows, start + inc]], axis=-1)
    return bounds.reshape(*shape, 2)


# ---------------------------------------------------------------------------------------------
# model comparison
# ---------------------------------------------------------------------------------------------
#: ArviZ's WAIC warning threshold on the pointwise posterior variance of the log density
_WAIC_VARIANCE = 0.4


@dataclass(frozen=True)
class ModelComparison(Result):
    """The result of :func:`compare_models`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``az.compare``'s table, best model first: ``rank``, ``elpd_<ic>`` (the estimated
        expected log pointwise predictive density), ``p_<ic>`` (effective number of
        parameters), ``elpd_diff`` (to the best model), ``weight`` (stacking), ``se``,
        ``dse`` (the standard error of ``elpd_diff``, from the paired pointwise differences),
        ``warning``, ``scale``; and ``n_flagged`` (observations whose Pareto k exceeds the
        threshold for ``ic="loo"``; whose pointwise posterior variance of the log predictive
        density exceeds 0.4 for ``ic="waic"``) and, for LOO, ``pareto_k_max``.
    elpd : dict of name -> arviz.ELPDData
        Each model's PSIS-LOO (with its pointwise Pareto k) or WAIC.
    problems : list of Problem
        One per model with flagged observations.
    ok : bool
    ic : {"loo", "waic"}
    """

    table: pd.DataFrame
    elpd: dict[str, Any]
    problems: list[Problem]
    ok: bool
    ic: str = "loo"

    @property
    def best(self) -> str:
        """The name of the model with the highest expected log predictive density."""
        return str(self.table.index[0])

    @property
    def loo(self) -> dict[str, Any]:
        """``elpd`` under its older name (the PSIS-LOO results when ``ic="loo"``)."""
        return self.elpd

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable: ``ok``, ``ic``, ``best``, ``table`` (model -> column -> value),
        ``problems``."""
        return jsonable(
            {
                "ok": bool(self.ok),
                "ic": self.ic,
                "best": self.best,
                "table": _frame_dict(self.table),
                "problems": self.problems,
            }
        )

    def __str__(self) -> str:
        names = ("rank", f"elpd_{self.ic}", f"p_{self.ic}", "elpd_diff", "weight", "se", "dse")
        cols = [c for c in (*names, "n_flagged") if c in self.table]
        label = "PSIS-LOO" if self.ic == "loo" else "WAIC"
        lines = [f"{label} comparison (best first):", self.table[cols].to_string()]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def _flagged(ic: str, idata: Any, elpd: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, values)`` of the flagged observations: Pareto k > threshold (LOO), or the
    pointwise posterior variance of the log predictive density > 0.4 (WAIC, ArviZ's rule)."""
    if ic == "loo":
        values = np.asarray(elpd.pareto_k.values, dtype=np.float64).reshape(-1)
        return np.flatnonzero(values > threshold), values
    ll = idata.log_likelihood
    var = next(iter(ll.data_vars)) if len(ll.data_vars) == 1 else "y_obs"
    a = np.asarray(ll[var].values, dtype=np.float64)
    values = a.reshape(a.shape[0] * a.shape[1], -1).var(axis=0)
    return np.flatnonzero(values > _WAIC_VARIANCE), values


def _flag_problem(ic: str, name: str, bad: np.ndarray, values: np.ndarray, threshold: float):
    if not bad.size:
        return None
    what = f"Pareto k > {threshold}" if ic == "loo" else f"log-density variance > {_WAIC_VARIANCE}"
    kind = "pareto_k" if ic == "loo" else "waic"
    return Problem(
        kind,
        f"Model {name!r}: {bad.size} of {values.size} observation(s) have {what} "
        f"(max {values.max():.2f}).",
        ADVICE[kind],
        tuple(f"{name}: obs {i}" for i in bad),
    )


def _fitted_idatas(models_or_idatas: Any) -> dict[str, Any]:
    """name -> InferenceData, from a mapping or a sequence of InferenceData or fitted
    estimators (their ``idata_``); a sequence is named by each fit's prior and likelihood."""
    if isinstance(models_or_idatas, Mapping):
        items = [(str(k), v) for k, v in models_or_idatas.items()]
    elif isinstance(models_or_idatas, Sequence) and not isinstance(models_or_idatas, str):
        items = [(None, v) for v in models_or_idatas]
    else:
        items = []
    if len(items) < 2:
        raise ValueError(
            "The 'models_or_idatas' parameter of compare_models must be a dict (name -> fit) or "
            "a list of at least 2 InferenceData or fitted estimators. Got "
            f"{type(models_or_idatas).__name__} of length "
            f"{len(items) if items else getattr(models_or_idatas, '__len__', lambda: 'n/a')()}."
        )
    out: dict[str, Any] = {}
    for i, (name, fit) in enumerate(items):
        idata = getattr(fit, "idata_", fit)
        label = name if name is not None else _fit_label(idata, i)
        if label in out:
            label = f"{label} ({i})"
        out[label] = idata
    return out


def _fit_label(idata: Any, i: int) -> str:
    attrs = getattr(getattr(idata, "posterior", None), "attrs", {}) or {}
    if "prior" in attrs and "likelihood" in attrs:
        return f"{attrs['prior']} | {attrs['likelihood']}"
    return f"model_{i}"


def _checked_log_likelihood(idatas: Mapping[str, Any]) -> None:
    sizes = {}
    for name, idata in idatas.items():
        if not _az.is_inference_data(idata, "log_likelihood"):
            raise ValueError(
                f"Model {name!r} has no log_likelihood group: sample it with "
                "sample_posterior(..., log_likelihood=True)."
            )
        ll = idata.log_likelihood
        sizes[name] = sum(int(np.prod(ll[v].shape[2:])) for v in ll.data_vars)
    if len(set(sizes.values())) > 1:
        raise ValueError(
            "compare_models compares predictions of the same observations; these models have "
            f"different numbers of pointwise log-likelihood values: {sizes}."
        )


def compare_models(
    models_or_idatas: Mapping[str, Any] | Sequence[Any],
    *,
    ic: str = "loo",
    pareto_k_threshold: float = THRESHOLDS["pareto_k"],
    scale: str = "log",
) -> ModelComparison:
    """Compare fitted models (any priors and likelihoods, one data set) by PSIS-LOO or WAIC.

    Each model's expected log pointwise predictive density ``elpd = sum_i log p(y_i | y_-i)``
    is estimated from its pointwise log-likelihood draws (``az.loo``: Pareto-smoothed
    importance sampling; ``az.waic``: ``sum_i [log mean_s p(y_i | theta_s) - var_s log
    p(y_i | theta_s)]``) and the models are ranked by ``az.compare``, whose ``dse`` is the
    standard error of each difference computed from the paired pointwise differences (more
    precise than combining the two ``se``). Observations that make the estimate unreliable
    are reported by index: Pareto k above ``pareto_k_threshold`` (LOO), posterior variance of
    the log predictive density above 0.4 (WAIC).

    Parameters
    ----------
    models_or_idatas : mapping of name -> fit, or a sequence of fits
        Each fit an arviz.InferenceData with a ``log_likelihood`` group (``sample_posterior``
        stores one) or a fitted estimator (its ``idata_``), all for the same observations. A
        sequence is named "<prior> | <likelihood>" from each fit's attributes.
    ic : {"loo", "waic"}, default "loo"
    pareto_k_threshold : float, default 0.7
        Observations whose Pareto k exceeds this make LOO unreliable (Vehtari et al. 2024).
    scale : {"log", "negative_log", "deviance"}
        Passed to ArviZ; "log": higher elpd is better.

    Returns
    -------
    ModelComparison
    """
    ic = check_choice(ic, "ic", ("loo", "waic"))
    idatas = _fitted_idatas(models_or_idatas)
    pareto_k_threshold = check_positive(pareto_k_threshold, "pareto_k_threshold", "compare_models")
    _checked_log_likelihood(idatas)
    estimate = _az.loo if ic == "loo" else _az.waic
    # ArviZ's generic warnings are silenced: reported below as Problems, by observation
    elpds = {name: estimate(idata, scale=scale) for name, idata in idatas.items()}
    table = _az.compare(elpds, ic=ic, scale=scale)
    problems = []
    for name, idata in idatas.items():
        bad, values = _flagged(ic, idata, elpds[name], pareto_k_threshold)
        table.loc[name, "n_flagged"] = bad.size
        if ic == "loo":
            table.loc[name, "pareto_k_max"] = values.max()
        problem = _flag_problem(ic, name, bad, values, pareto_k_threshold)
        if problem is not None:
            problems.append(problem)
    table["n_flagged"] = table["n_flagged"].astype(int)
    return ModelComparison(table=table, elpd=elpds, problems=problems, ok=not problems, ic=ic)
