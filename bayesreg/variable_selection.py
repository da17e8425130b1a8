"""Variable selection beside shrinkage: a ranking and a sparse summary of a non-sparse posterior.

A shrinkage posterior (ridge, horseshoe, Bayesian lasso) puts no mass on exact zeros, so
"which variables matter" is a separate question, answered after the fit from its draws:

* :func:`variable_ranking` - R bayesreg's Bayesian feature ranking (Makalic & Schmidt,
  ``bayesreg.bfr`` in the R package, version 1.2): in every posterior draw s the features are
  ranked by ``|w_sj|`` on the standardized scale (1 = largest); each feature's score is the 75%
  quantile of its ranks over the draws, and the features are ranked by that score, ties sharing
  the smallest rank ("1224" competition ranking), as R's ``var.ranks``.
* :func:`dss_path` - decoupled shrinkage and selection (Hahn & Carvalho 2015, "Decoupling
  shrinkage and selection in Bayesian linear models: a posterior summary perspective", JASA
  110): the adaptive lasso path fitted to the posterior-mean fit ``X w_bar``,

      gamma_lam = argmin_g ||X w_bar - X g||^2 / (2n) + lam * sum_j |g_j| / |w_bar_j|,

  with the posterior of each summary's "variation explained" (their section 3.3)

      rho2_lam = ||X w||^2 / n / (||X w||^2 / n + sigma^2 + ||X w - X gamma_lam||^2 / n),

  evaluated at every posterior draw (w, sigma) for the fixed summary gamma_lam, beside the
  model's own ``rho2 = ||X w||^2 / n / (||X w||^2 / n + sigma^2)`` and the dense summary's
  ``rho2_0`` (gamma = w_bar, the lam -> 0 end of the path). Selection rule (one reading of the
  paper's "rho2_lam vs model size" plot; the paper leaves the threshold to the analyst), the
  smallest model such that

  - ``rule="interval"`` (default): its equal-tailed ``credible`` interval of rho2_lam reaches
    the posterior mean of rho2_0: a summary the posterior cannot tell apart from the dense one
    by the variation it explains (what :func:`~bayesreg.plotting.plot_dss` shows);
  - ``rule="paired"``: the ``credible`` interval of the per-draw loss
    ``psi_lam = rho2_0 - rho2_lam`` reaches 0 (its lower end <= 0). Both rho2 move together
    with the draw of (w, sigma), so the paired difference is the stricter test.
 (Comparing with the model's own rho2 instead would favour the dense
  summary by construction: even gamma = w_bar pays ``E||X w - X w_bar||^2 / n``, the posterior
  variance of the fit, about ``p sigma^2 / n``.)

X is centred (the unpenalized intercept profiled out, :func:`bayesreg._linalg.centre`) when the
model fits an intercept. The lasso is solved by the package's own MAP solver
(:func:`~bayesreg.solvers.map_path` with a Laplace prior, a known sigma = 1 and the scaled design
``X diag|w_bar|``: Laplace(s) there is scikit-learn's ``Lasso(alpha = 1 / (n s))``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _stats

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg._capabilities import QUADRATIC_LIKELIHOOD, require
from bayesreg._linalg import centre
from bayesreg._results import Result
from bayesreg._validation import (
    check_choice,
    check_finite_array,
    check_positive_int,
    check_probability,
)
from bayesreg.likelihoods import GaussianLikelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Laplace
from bayesreg.shrinkage import _draws
from bayesreg.solvers import map_path

__all__ = [
    "DSSPath",
    "VariableRanking",
    "dss_lambda_grid",
    "dss_path",
    "rank_draws",
    "variable_ranking",
]


# ---------------------------------------------------------------------------------------------
# R bayesreg's Bayesian feature ranking
# ---------------------------------------------------------------------------------------------
def rank_draws(W: np.ndarray) -> np.ndarray:
    """Per-draw ranks of the features by magnitude: ``ranks[s, j]`` = 1 for the largest
    ``|W[s, j]|`` of draw s, ..., p for the smallest (ties in column order, as R's stable sort).

    Parameters
    ----------
    W : array of shape (S, p)
        Posterior draws (on the scale the ranking should use, e.g. standardized columns).

    Returns
    -------
    numpy.ndarray of int, shape (S, p)
    """
    W = check_finite_array(W, "W", ndim=2)
    order = np.argsort(-np.abs(W), axis=1, kind="stable")
    ranks = np.empty(W.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, np.arange(1, W.shape[1] + 1)[None, :], axis=1)
    return ranks


@dataclass(frozen=True)
class VariableRanking(Result):
    """The result of :func:`variable_ranking`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per feature (in the model's order): ``rank`` (1 = most important, ties share the
        smallest: R's ``var.ranks``), ``score`` (the ``quantile`` of the feature's per-draw
        ranks), ``median_rank``.
    quantile : float
    order : list of str
        Feature names, most important first.
    """

    table: pd.DataFrame
    quantile: float
    order: list[str]

    def to_dataframe(self) -> pd.DataFrame:
        """The table, a copy."""
        return self.table.copy()


def variable_ranking(
    idata: az.InferenceData, model: RegressionModel, *, quantile: float = 0.75
) -> VariableRanking:
    """R bayesreg's variable ranking (``var.ranks``) from posterior draws of ``w``.

    R's definition (``bayesreg.bfr`` and the code after it): with ``W_std[s, j] = w_sj * sd_j``
    the draws on the standardized scale (sd_j the standard deviation of column j; R samples on
    standardized columns), ``r[s, j]`` = the rank of ``|W_std[s, j]|`` among the p features of
    draw s (1 = largest); the score of feature j is the ``quantile`` (R: 0.75, R's default
    quantile type 7, numpy's "linear") of ``r[:, j]``; the final rank sorts the scores
    ascending, tied scores sharing the smallest rank (R's loop; ``scipy.stats.rankdata(...,
    method="min")``). A feature ranks high when it is among the largest in at least 75% of the
    draws: sure signals first, whatever their sign.

    Parameters
    ----------
    idata : arviz.InferenceData
        From :func:`~bayesreg.sample_posterior` (posterior ``w``: chain, draw, feature).
    model : RegressionModel
        The model the draws came from (its X gives the column scales).
    quantile : float in [0, 1], default 0.75

    Returns
    -------
    VariableRanking
    """
    q = check_probability(quantile, "quantile", "variable_ranking")
    W = _draws(idata, model)
    ranks = rank_draws(W * model.X.std(axis=0))
    score = np.quantile(ranks, q, axis=0, method="linear")
    final = _stats.rankdata(score, method="min").astype(np.int64)
    table = pd.DataFrame(
        {
            "rank": final,
            "score": score,
            "median_rank": np.median(ranks, axis=0),
        },
        index=pd.Index(model.feature_names, name="feature"),
    )
    order = [model.feature_names[j] for j in np.argsort(final, kind="stable")]
    return VariableRanking(table=table, quantile=q, order=order)


# ---------------------------------------------------------------------------------------------
# decoupled shrinkage and selection (Hahn & Carvalho 2015)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DSSPath(Result):
    """The result of :func:`dss_path`: sparse summaries of a posterior along a lasso path.

    Attributes
    ----------
    lambdas : numpy.ndarray of shape (k,)
        Penalties, decreasing (scikit-learn's ``Lasso(alpha)`` scale, see :func:`dss_path`).
    coefs : numpy.ndarray of shape (k, p)
        The summaries gamma_lam (on the model's scale of X).
    sizes : numpy.ndarray of int, shape (k,)
        Number of non-zeros of each summary.
    rho2 : numpy.ndarray of shape (k, S)
        Posterior draws of each summary's variation explained rho2_lam.
    rho2_dense : numpy.ndarray of shape (S,)
        Posterior draws of rho2_0, the dense summary gamma = w_bar's variation explained.
    rho2_model : numpy.ndarray of shape (S,)
        Posterior draws of the model's own rho2 (no summary).
    band : tuple of float
        The equal-tailed ``credible`` interval of rho2_0.
    credible : float
    table : pandas.DataFrame
        One row per model size (the path's summary of that size with the smallest penalty):
        ``size``, ``index`` (into the path), ``lambda``, ``rho2_mean``, ``rho2_lo``, ``rho2_hi``
        (the summary's equal-tailed interval), ``psi_mean``, ``psi_lo`` (the mean and lower
        end of ``rho2_0 - rho2_lam``), ``features`` (its support, comma-separated).
    rule : {"interval", "paired"}
    selected : int
        Path index of the chosen summary.
    w_bar : numpy.ndarray of shape (p,)
        The posterior mean the path was fitted to.
    feature_names : list of str
    adaptive : bool
    """

    lambdas: np.ndarray
    coefs: np.ndarray
    sizes: np.ndarray
    rho2: np.ndarray
    rho2_dense: np.ndarray
    rho2_model: np.ndarray
    band: tuple[float, float]
    credible: float
    table: pd.DataFrame
    selected: int
    w_bar: np.ndarray
    feature_names: list[str]
    adaptive: bool
    rule: str = "interval"

    @property
    def selected_coef(self) -> np.ndarray:
        """The chosen sparse summary, shape (p,) (a copy)."""
        return self.coefs[self.selected].copy()

    @property
    def selected_features(self) -> list[str]:
        """Names of the chosen summary's non-zeros."""
        return [
            f
            for f, c in zip(self.feature_names, self.coefs[self.selected], strict=True)
            if c != 0.0
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the path and the table, without the (k, S) draws of rho2."""
        out = super().to_dict()
        for name in ("rho2", "rho2_dense", "rho2_model"):
            out.pop(name)
        out["rho2_dense_mean"] = float(self.rho2_dense.mean())
        out["selected_features"] = self.selected_features
        return out

    def __str__(self) -> str:
        lo, hi = self.band
        return (
            f"DSS path ({'adaptive ' if self.adaptive else ''}lasso on X w_bar), dense summary rho2 "
            f"{self.credible:.0%} interval [{lo:.3f}, {hi:.3f}]; chosen: "
            f"{int(self.sizes[self.selected])} variables {self.selected_features}\n"
            + self.table.drop(columns="features").to_string(index=False)
        )


def _sigma_draws(idata: az.InferenceData, model: RegressionModel, S: int) -> np.ndarray:
    post = idata.posterior
    if "sigma" in post:
        sigma = np.asarray(post["sigma"].values, dtype=np.float64).reshape(-1)
    elif model.likelihood.fixed_sigma is not None:
        sigma = np.full(S, float(model.likelihood.fixed_sigma))
    else:
        raise ValueError(
            "dss_path needs the noise scale: idata's posterior has no 'sigma' and the "
            f"likelihood {model.likelihood!r} has no fixed sigma."
        )
    if sigma.size != S:
        raise ValueError(f"idata has {sigma.size} draws of sigma but {S} draws of w.")
    return sigma


def dss_lambda_grid(
    Xs: np.ndarray, target: np.ndarray, n_lambdas: int, lambda_min_ratio: float
) -> np.ndarray:
    """Decreasing penalties from ``lam_max = max_j |Xs_j' target| / n`` (the smallest penalty
    that zeroes every coefficient) down to ``lambda_min_ratio * lam_max``, log-spaced (as
    scikit-learn's ``lasso_path`` grid)."""
    lam_max = float(np.max(np.abs(Xs.T @ target))) / Xs.shape[0]
    if lam_max <= 0.0:
        return np.array([1.0])
    return np.geomspace(lam_max, lam_max * lambda_min_ratio, n_lambdas)


def _adaptive_lasso_path(
    Xc: np.ndarray,
    w_bar: np.ndarray,
    u: np.ndarray,
    lambdas: np.ndarray | None,
    n_lambdas: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``(lambdas, coefs (k, p))``: ``gamma = u * d`` with d the lasso ``||Xc w_bar - Xc diag(u)
    d||^2 / (2n) + lam ||d||_1`` (= the weighted penalty ``lam sum_j |gamma_j| / u_j``), solved
    by ``map_path`` (Laplace(1 / (n lam)) with sigma = 1). Columns with u_j = 0 stay at 0."""
    n, p = Xc.shape
    keep = u > 0.0
    target = Xc @ w_bar
    Xs = Xc[:, keep] * u[keep]
    grid = dss_lambda_grid(Xs, target, n_lambdas, 1e-4) if lambdas is None else lambdas
    coefs = np.zeros((grid.size, p))
    if keep.any():
        lasso = RegressionModel(
            Xs, target, Laplace(1.0), GaussianLikelihood(sigma=1.0), fit_intercept=False
        )
        path = map_path(lasso, 1.0 / (n * grid), tol=tol, warn=True)
        coefs[:, keep] = path.coefs * u[keep]
    return grid, coefs


def _rho2(Xc: np.ndarray, W: np.ndarray, sigma: np.ndarray, coefs: np.ndarray):
    """``(rho2 (k, S), rho2_model (S,))`` of the module docstring, at every draw (S, p) of w
    and (S,) of sigma, for summaries ``coefs`` (k, p)."""
    n = Xc.shape[0]
    fit = Xc @ W.T  # (n, S)
    signal = np.einsum("ns,ns->s", fit, fit) / n
    noise = sigma**2
    gaps = np.stack([np.mean((fit - (Xc @ c)[:, None]) ** 2, axis=0) for c in coefs])
    return signal / (signal + noise + gaps), signal / (signal + noise)


def _by_size(lambdas, coefs, rho2, rho2_dense, credible, names) -> pd.DataFrame:
    a = (1.0 - credible) / 2.0
    sizes = np.count_nonzero(coefs, axis=1)
    rows = []
    for size in np.unique(sizes):
        i = int(np.flatnonzero(sizes == size)[-1])  # the smallest penalty of that size
        lo, hi = np.quantile(rho2[i], [a, 1.0 - a])
        psi = rho2_dense - rho2[i]
        support = ", ".join(f for f, c in zip(names, coefs[i], strict=True) if c != 0.0)
        rows.append(
            (int(size), i, float(lambdas[i]), float(rho2[i].mean()), lo, hi, float(psi.mean()),
             float(np.quantile(psi, a)), support)
        )  # fmt: skip
    cols = ["size", "index", "lambda", "rho2_mean", "rho2_lo", "rho2_hi", "psi_mean", "psi_lo"]
    return pd.DataFrame(rows, columns=[*cols, "features"])


def dss_path(
    idata: az.InferenceData,
    model: RegressionModel,
    *,
    lambdas: np.ndarray | None = None,
    n_lambdas: int = 40,
    adaptive: bool = True,
    credible: float = 0.9,
    rule: str = "interval",
    tol: float = 1e-10,
) -> DSSPath:
    """Decoupled shrinkage and selection (Hahn & Carvalho 2015) of a linear model's posterior.

    With Xc the (centred) design and ``w_bar`` the posterior mean of w, the summary at penalty
    ``lam`` is

        gamma_lam = argmin_g ||Xc w_bar - Xc g||^2 / (2n) + lam * sum_j |g_j| / u_j,

    ``u_j = |w_bar_j|`` (``adaptive=True``, the paper's choice: strong posterior signals are
    penalized less) or 1. Each summary's variation explained rho2_lam and the full model's rho2
    are computed at every posterior draw (see the module docstring); the chosen summary is the
    smallest model whose ``credible`` interval of rho2_lam reaches the posterior mean of rho2_0,
    the dense summary gamma = w_bar's (``rule="interval"``), or whose interval of the paired
    loss rho2_0 - rho2_lam reaches 0 (``rule="paired"``); see the module docstring.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior draws of ``w`` (and ``sigma`` when estimated) of ``model``.
    model : RegressionModel
        A linear model: its likelihood must be quadratic (Gaussian).
    lambdas : array-like of shape (k,), optional
        Penalties (scikit-learn's Lasso ``alpha`` scale), sorted decreasing here. Default: ``n_lambdas``
        log-spaced from the smallest penalty that zeroes everything down to 1e-4 of it.
    n_lambdas : int, default 40
    adaptive : bool, default True
    credible : float in (0, 1), default 0.9
    rule : {"interval", "paired"}, default "interval"
    tol : float, default 1e-10
        KKT tolerance of the lasso solves.

    Returns
    -------
    DSSPath
    """
    require("dss_path", (QUADRATIC_LIKELIHOOD,), model.prior, model.likelihood)
    credible = check_probability(credible, "credible", "dss_path")
    rule = check_choice(rule, "rule", ("interval", "paired"))
    n_lambdas = check_positive_int(n_lambdas, "n_lambdas", "dss_path")
    if lambdas is not None:
        lambdas = np.sort(check_finite_array(lambdas, "lambdas", ndim=1))[::-1].copy()
        if lambdas[-1] <= 0.0:
            raise ValueError(
                f"The 'lambdas' parameter of dss_path must contain floats in (0, inf). "
                f"Got {lambdas[-1]!r} instead."
            )
    W = _draws(idata, model)
    sigma = _sigma_draws(idata, model, W.shape[0])
    Xc = centre(model.X, model.fit_intercept)[0]
    w_bar = W.mean(axis=0)
    u = np.abs(w_bar) if adaptive else np.ones_like(w_bar)
    grid, coefs = _adaptive_lasso_path(Xc, w_bar, u, lambdas, n_lambdas, tol)
    rho2, rho2_model = _rho2(Xc, W, sigma, coefs)
    rho2_dense = _rho2(Xc, W, sigma, w_bar[None, :])[0][0]
    a = (1.0 - credible) / 2.0
    lo, hi = (float(v) for v in np.quantile(rho2_dense, [a, 1.0 - a]))
    table = _by_size(grid, coefs, rho2, rho2_dense, credible, model.feature_names)
    ok = table["rho2_hi"] >= rho2_dense.mean() if rule == "interval" else table["psi_lo"] <= 0
    chosen = table[ok]
    row = chosen.iloc[0] if len(chosen) else table.iloc[-1]  # sizes ascending
    return DSSPath(
        lambdas=grid,
        coefs=coefs,
        sizes=np.count_nonzero(coefs, axis=1),
        rho2=rho2,
        rho2_dense=rho2_dense,
        rho2_model=rho2_model,
        band=(lo, hi),
        credible=credible,
        table=table,
        selected=int(row["index"]),
        w_bar=w_bar,
        feature_names=list(model.feature_names),
        adaptive=bool(adaptive),
        rule=rule,
    )
