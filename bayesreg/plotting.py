"""Figures. Each plot function takes ``ax=None`` and returns the Axes it drew on.

Plot functions compute nothing about the model: they draw results made elsewhere (a
:class:`~bayesreg.sampling.PosteriorPath`, a descent result's ``trajectory``, posterior draws, the
arrays of :func:`lasso_ridge_geometry`). Summaries of draws (median, interval) are the only
arithmetic they do. The two helpers that do compute, :func:`constrained_least_squares` and
:func:`lasso_ridge_geometry` / :func:`objective_grid`, are exact and tested on their own.

=================================  ===========================================================
function                           draws
=================================  ===========================================================
``plot_map_path``                  MAP (= penalized) coefficients vs penalty strength
``plot_posterior_path``            posterior median and interval vs penalty strength
``plot_posterior_forest``          per-coefficient intervals under several priors (+ MAP marks)
``plot_geometry``                  loss contours, the L2 disc and L1 diamond, the touching points
``plot_descent_trajectories``      optimizer paths on the contours of J
``plot_shrinkage``                 least squares -> posterior, per coefficient
``plot_trace`` / ``plot_rank``     ArviZ trace and rank plots (MCMC diagnostics)
``plot_validation_curve``          validation error vs penalty strength (choosing lambda)
``plot_selection_curve``           what one way of choosing lambda optimized, its choice marked
``plot_dss``                       DSS: each sparse summary's variation explained vs model size
=================================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from bayesreg._linalg import centre_xy
from bayesreg._validation import check_choice, check_finite_array, check_positive

__all__ = [
    "Geometry2D",
    "constrained_least_squares",
    "lasso_ridge_geometry",
    "objective_grid",
    "plot_descent_trajectories",
    "plot_dss",
    "plot_geometry",
    "plot_map_path",
    "plot_posterior_forest",
    "plot_posterior_path",
    "plot_rank",
    "plot_selection_curve",
    "plot_shrinkage",
    "plot_trace",
    "plot_validation_curve",
    "scalar_posterior",
]


def _axes(ax: Any = None) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))
    return ax


def _colors(k: int) -> list[Any]:
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    return [cycle[i % len(cycle)] for i in range(k)]


# ---------------------------------------------------------------------------------------------
# exact 2-D geometry: where the loss contours touch the L2 disc and the L1 diamond
# ---------------------------------------------------------------------------------------------
def _centre(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # the intercept is unpenalized: profiling it out is exactly centring X and y
    Xc, yc, _, _ = centre_xy(X, y, fit_intercept=True)
    return Xc, yc


def constrained_least_squares(
    X: object, y: object, radius: float, norm: str = "l2"
) -> tuple[np.ndarray, float]:
    """Exact minimizer of ``||y - X w - b||^2 / 2`` subject to ``||w||_q <= radius``.

    The intercept b is free (X and y are centred). By Lagrange duality the constrained optimum is
    the penalized optimum at the returned multiplier ``lam``:

    * ``norm="l2"``: ``w = argmin SSE/2 + (lam/2) ||w||^2`` (ridge, ``Ridge(alpha=lam)``); lam
      solves the secular equation ``||(X'X + lam I)^-1 X'y|| = radius`` (brentq to machine
      precision). Any p.
    * ``norm="l1"``: ``w = argmin SSE/2 + lam ||w||_1`` (``Lasso(alpha=lam/n)``). p = 2 only:
      the diamond's four edges are segments and the quadratic's minimum on each is closed form;
      a vertex (one coefficient exactly 0) wins whenever the contours touch at a corner.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    radius : float > 0
    norm : {"l2", "l1"}

    Returns
    -------
    w : ndarray of shape (p,)
    lam : float
        The Lagrange multiplier (0 when the least-squares solution is inside the ball).
    """
    X = check_finite_array(X, "X", ndim=2)
    y = check_finite_array(y, "y", ndim=1)
    radius = check_positive(radius, "radius", "constrained_least_squares")
    check_choice(norm, "norm", ("l2", "l1"))
    Xc, yc = _centre(X, y)
    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    if norm == "l2":
        if np.linalg.norm(ols) <= radius:
            return ols, 0.0
        d, V = np.linalg.eigh(Xc.T @ Xc)
        c = V.T @ (Xc.T @ yc)

        def excess(lam: float) -> float:
            return float(np.sqrt(np.sum(c**2 / (d + lam) ** 2)) - radius)

        # ||w(lam)|| falls monotonically from ||ols|| (> radius) to 0: bracket and solve
        hi = max(1.0, float(d.max()))
        while excess(hi) > 0:
            hi *= 10.0
        lam = optimize.brentq(excess, 0.0, hi, xtol=1e-14 * hi, rtol=4 * np.finfo(float).eps)
        w = V @ (c / (d + lam))
        return w, float(lam)
    if X.shape[1] != 2:
        raise ValueError(
            f"constrained_least_squares with norm='l1' is exact for p = 2 only; got p = {X.shape[1]}."
        )
    if np.abs(ols).sum() <= radius:
        return ols, 0.0
    vertices = radius * np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    best, best_val = vertices[0], np.inf
    for k in range(4):
        a, b = vertices[k], vertices[(k + 1) % 4]
        u = Xc @ (b - a)
        r = yc - Xc @ a
        t = float(np.clip(u @ r / (u @ u), 0.0, 1.0))
        w = a + t * (b - a)
        if t in (0.0, 1.0):
            w = a if t == 0.0 else b  # exact vertex: keep the zero exactly zero
        val = 0.5 * float(np.sum((yc - Xc @ w) ** 2))
        if val < best_val:
            best, best_val = w, val
    # KKT: X'(y - Xw) = lam * sign(w) on the support, |.| <= lam off it; lam = its max modulus
    lam = float(np.max(np.abs(Xc.T @ (yc - Xc @ best))))
    return best.copy(), lam


@dataclass(frozen=True)
class Geometry2D:
    """The seed's picture in numbers: loss on a grid, the two balls and where contours touch them.

    Attributes
    ----------
    w1, w2 : ndarray of shape (m,)
        Grid axes.
    loss : ndarray of shape (m, m)
        ``SSE(w) / 2`` (intercept profiled out) at ``(w1[j], w2[i])`` (row i, column j).
    ols : ndarray of shape (2,)
        The unconstrained least-squares solution (the contours' centre).
    radius : float
        Radius of both balls: ``||w||_2 <= radius`` and ``||w||_1 <= radius``.
    l2_point, l1_point : ndarray of shape (2,)
        The constrained optima (where the smallest touching contour meets each ball).
    l2_lam, l1_lam : float
        The Lagrange multipliers: the penalty strengths whose penalized optima are those points.
    l2_level, l1_level : float
        The loss at each touching point (the contour drawn through it).
    feature_names : tuple of str
    """

    w1: np.ndarray
    w2: np.ndarray
    loss: np.ndarray
    ols: np.ndarray
    radius: float
    l2_point: np.ndarray
    l1_point: np.ndarray
    l2_lam: float
    l1_lam: float
    l2_level: float
    l1_level: float
    feature_names: tuple[str, str] = ("w1", "w2")


def lasso_ridge_geometry(
    X: object,
    y: object,
    radius: float | None = None,
    *,
    grid_size: int = 201,
    margin: float = 0.35,
    feature_names: Sequence[str] | None = None,
) -> Geometry2D:
    """Compute :class:`Geometry2D` for a 2-feature least-squares problem.

    Parameters
    ----------
    X : array-like of shape (n, 2)
    y : array-like of shape (n,)
    radius : float, optional
        Ball radius; default half of ``||ols||_1``, so both constraints bind.
    grid_size : int
        Grid points per axis for the contours.
    margin : float
        Extra room around the ball and the least-squares point, as a fraction of the span.
    feature_names : two str, optional
    """
    X = check_finite_array(X, "X", ndim=2)
    y = check_finite_array(y, "y", ndim=1)
    if X.shape[1] != 2:
        raise ValueError(
            f"lasso_ridge_geometry needs exactly 2 features; got X of shape {X.shape}."
        )
    Xc, yc = _centre(X, y)
    ols = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    if radius is None:
        radius = 0.5 * float(np.abs(ols).sum())
    radius = check_positive(radius, "radius", "lasso_ridge_geometry")
    l2, l2_lam = constrained_least_squares(X, y, radius, "l2")
    l1, l1_lam = constrained_least_squares(X, y, radius, "l1")
    lo = np.minimum(ols, -radius)
    hi = np.maximum(ols, radius)
    pad = margin * (hi - lo)
    w1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], grid_size)
    w2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], grid_size)
    W1, W2 = np.meshgrid(w1, w2)
    # SSE(w)/2 = SSE(ols)/2 + (w - ols)' X'X (w - ols) / 2: a quadratic, exact on the grid
    G = Xc.T @ Xc
    D = np.stack([W1 - ols[0], W2 - ols[1]], axis=-1)
    sse0 = 0.5 * float(np.sum((yc - Xc @ ols) ** 2))
    loss = sse0 + 0.5 * np.einsum("...i,ij,...j->...", D, G, D)

    def level(w: np.ndarray) -> float:
        return 0.5 * float(np.sum((yc - Xc @ w) ** 2))

    names = tuple(feature_names) if feature_names is not None else ("w1", "w2")
    return Geometry2D(
        w1, w2, loss, ols, radius, l2, l1, l2_lam, l1_lam, level(l2), level(l1), names
    )


def objective_grid(
    model: Any,
    w1: Sequence[float] | np.ndarray,
    w2: Sequence[float] | np.ndarray,
    *,
    intercept: float | None = None,
    sigma: float | None = None,
) -> np.ndarray:
    """The penalized objective J(w) = J0(w) + penalty(w) of a 2-feature model on a grid.

    ``J0 = likelihood.loss(X w + b, y, sigma)`` and ``penalty = prior.penalty(w, sigma)``: the
    model's negative log posterior up to a constant (the contours that gradient descent, ISTA
    and the subgradient method walk down; a convention's mean-loss J differs by a positive factor,
    which keeps the contours' shapes).

    Parameters
    ----------
    model : RegressionModel
        With p = 2.
    w1, w2 : array-like of shape (m1,), (m2,)
    intercept : float, optional
        Held fixed; default the mean of ``y - X w`` at each grid point (its exact optimum for
        the Gaussian likelihood; for Bernoulli, pass the MAP intercept).
    sigma : float, optional
        Noise sd; default the model's known sigma, else 1.

    Returns
    -------
    ndarray of shape (m2, m1)
        ``J`` at ``(w1[j], w2[i])``.
    """
    if getattr(model, "p", None) != 2:
        raise ValueError(f"objective_grid needs a model with 2 features; got {model!r}.")
    w1 = check_finite_array(w1, "w1", ndim=1)
    w2 = check_finite_array(w2, "w2", ndim=1)
    if sigma is None:
        sigma = model.sigma_known if model.sigma_known is not None else 1.0
    sigma = check_positive(sigma, "sigma", "objective_grid")
    W1, W2 = np.meshgrid(w1, w2)
    W = np.stack([W1.ravel(), W2.ravel()])  # (2, m)
    eta = model.X @ W  # (n, m)
    if intercept is None:
        b = (model.y[:, None] - eta).mean(axis=0) if model.fit_intercept else np.zeros(W.shape[1])
    else:
        b = np.full(W.shape[1], float(intercept))
    eta = eta + b
    J = np.array(
        [
            model.likelihood.loss(eta[:, k], model.y, sigma) + model.prior.penalty(W[:, k], sigma)
            for k in range(W.shape[1])
        ]
    )
    return J.reshape(W1.shape)


# ---------------------------------------------------------------------------------------------
# paths
# ---------------------------------------------------------------------------------------------
def _path_x(path: Any) -> tuple[np.ndarray, str]:
    if getattr(path, "strengths", None) is not None:
        conv = getattr(path, "convention", None)
        return np.asarray(
            path.strengths
        ), f"penalty strength ({conv})" if conv else "penalty strength"
    return np.asarray(path.scales), "prior scale (larger = weaker penalty)"


def _mark_scale(ax: Any, chosen: float | None, label: str | None) -> None:
    if chosen is not None:
        ax.axvline(
            float(chosen), color="k", ls="--", lw=1.0, label=label or f"chosen: {chosen:.3g}"
        )


def plot_map_path(
    path: Any,
    ax: Any = None,
    *,
    title: str | None = None,
    chosen: float | None = None,
    chosen_label: str | None = None,
    legend: bool = False,
) -> Any:
    """The penalized path: MAP coefficients vs penalty strength (scikit-learn style).

    Parameters
    ----------
    path : PosteriorPath or MapPath
        Uses ``map_coef`` (a PosteriorPath) or ``coefs`` (a ``bayesreg.solvers.MapPath``) of
        shape (k, p), ``feature_names`` and ``strengths`` (log x axis) or, without a
        convention, ``scales``.
    ax : matplotlib Axes, optional
    title : str, optional
    chosen : float, optional
        An x value to mark with a dashed vertical line (e.g. the report's prior scale).
    chosen_label : str, optional
    legend : bool, default False
        A legend outside the axes, on the right.

    Returns
    -------
    matplotlib Axes
        One line per coefficient (dots at the path's points when it has at most 12), the zero
        line, then the ``chosen`` line.
    """
    ax = _axes(ax)
    x, label = _path_x(path)
    coef = np.asarray(path.map_coef if hasattr(path, "map_coef") else path.coefs)
    marker = "." if x.size <= 12 else None
    for j, (name, c) in enumerate(zip(path.feature_names, _colors(coef.shape[1]), strict=True)):
        ax.plot(x, coef[:, j], color=c, marker=marker, label=str(name))
    ax.set_xscale("log")
    ax.axhline(0.0, color="0.5", lw=0.8)
    _mark_scale(ax, chosen, chosen_label)
    ax.set_xlabel(label)
    ax.set_ylabel("coefficient")
    ax.set_title(title or "penalized path (MAP)")
    if legend:
        _legend_outside(ax)
    return ax


def plot_posterior_path(
    path: Any,
    ax: Any = None,
    *,
    title: str | None = None,
    style: str = "bands",
    map_path: Any = None,
    flagged: Sequence[bool] | np.ndarray | None = None,
    chosen: float | None = None,
    chosen_label: str | None = None,
    legend: bool = False,
) -> Any:
    """The Bayesian path: posterior median and ``hdi_prob`` interval vs penalty strength.

    Parameters
    ----------
    path : PosteriorPath
        Uses ``median``, ``lower``, ``upper`` (k, p), ``hdi_prob`` and the x axis as in
        :func:`plot_map_path`.
    style : {"bands", "points"}
        "bands": a median line and a shaded band per coefficient. "points": the median as a dot
        and the interval as an error bar at each sampled scale, the coefficients side by side
        (dodged along the log x axis) so that the intervals do not hide each other.
    map_path : PosteriorPath or MapPath, optional
        A (denser) MAP path drawn as thin lines behind the posterior points.
    flagged : array of bool, shape (k,), optional
        Scales whose chains missed the diagnostic gates: shaded grey and listed in the legend.
    chosen, chosen_label, legend
        As in :func:`plot_map_path`.

    Returns
    -------
    matplotlib Axes
        "bands": one line (median) and one band (``fill_between`` collection) per coefficient.
    """
    check_choice(style, "style", ("bands", "points"))
    ax = _axes(ax)
    x, label = _path_x(path)
    med, lo, hi = (np.asarray(a) for a in (path.median, path.lower, path.upper))
    p = med.shape[1]
    if map_path is not None:
        mx, _ = _path_x(map_path)
        mc = np.asarray(map_path.map_coef if hasattr(map_path, "map_coef") else map_path.coefs)
        for j, c in enumerate(_colors(p)):
            ax.plot(mx, mc[:, j], color=c, lw=0.8, alpha=0.45)
        ax.plot([], [], color="0.4", lw=0.8, label="MAP path")
    # each scale's group of p error bars spans 50% of the gap to the next scale (log x)
    spread = np.exp(np.diff(np.log(np.sort(x))).min() * 0.5) if x.size > 1 else 1.2
    dodge = spread ** ((np.arange(p) - (p - 1) / 2) / max(p, 1))
    for j, (name, c) in enumerate(zip(path.feature_names, _colors(p), strict=True)):
        if style == "bands":
            ax.plot(x, med[:, j], color=c, label=str(name))
            ax.fill_between(x, lo[:, j], hi[:, j], color=c, alpha=0.15, lw=0)
        else:
            xj = x * dodge[j]
            ax.errorbar(xj, med[:, j], yerr=[med[:, j] - lo[:, j], hi[:, j] - med[:, j]],
                        fmt="o", ms=3, color=c, lw=1.0, label=str(name))  # fmt: skip
    if flagged is not None and np.any(flagged):
        half = spread ** (0.5 + 0.5 / max(p, 1))  # just wider than the dodged group
        for i in np.flatnonzero(np.asarray(flagged, dtype=bool)):
            ax.axvspan(x[i] / half, x[i] * half, color="0.5", alpha=0.2, lw=0)
        ax.fill_between([], [], color="0.5", alpha=0.2, label="gates not met")
    ax.set_xscale("log")
    ax.axhline(0.0, color="0.5", lw=0.8)
    _mark_scale(ax, chosen, chosen_label)
    ax.set_xlabel(label)
    ax.set_ylabel("coefficient")
    ax.set_title(title or f"posterior median, {100 * path.hdi_prob:.0f}% HDI")
    if legend:
        _legend_outside(ax)
    return ax


# ---------------------------------------------------------------------------------------------
# posterior forest and shrinkage
# ---------------------------------------------------------------------------------------------
def _draws(idata: Any, var: str = "w") -> np.ndarray:
    """(S, p) draws of ``var`` from an InferenceData (chains stacked)."""
    da = idata.posterior[var]
    values = np.asarray(da.values, dtype=np.float64)
    return values.reshape(-1, *values.shape[2:])


def _legend_outside(ax: Any, *, ncol: int | None = None, fontsize: str = "small") -> Any:
    """The legend to the right of the axes (it never covers data); several columns past 16
    entries, so p = 30 coefficients stay readable."""
    handles, _ = ax.get_legend_handles_labels()
    ncol = ncol or max(1, -(-len(handles) // 16))
    return ax.legend(
        loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=fontsize,
        ncol=ncol, frameon=False,
    )  # fmt: skip


def plot_posterior_forest(
    posteriors: Mapping[str, Any],
    ax: Any = None,
    *,
    map_coefs: Mapping[str, Sequence[float] | np.ndarray] | None = None,
    feature_names: Sequence[str] | None = None,
    interval: float = 0.9,
    var: str = "w",
    only: Sequence[int] | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Any:
    """Forest plot of the coefficients under several priors (e.g. Gaussian vs Laplace).

    The posterior medians are drawn on top of the MAP diamonds (a median that sits on its MAP
    stays visible), and the legend lists every mark.

    Parameters
    ----------
    posteriors : mapping label -> arviz.InferenceData
        Each with ``posterior[var]`` of shape (chain, draw, p), same features.
    map_coefs : mapping label -> array of shape (p,), optional
        MAP estimates to mark with an open diamond (the Laplace MAP's exact zeros show there).
    feature_names : sequence of str, optional
        Default: the ``feature`` coordinate of the first posterior.
    interval : float in (0, 1)
        Central (equal-tailed) interval drawn as a thick line, with the median as a dot.
    only : sequence of int, optional
        Draw only these coefficients (by position), e.g. the MAP's zeros in a zoomed panel.
    title : str, optional
    legend : bool, default True
        A legend outside the axes, on the right.

    Returns
    -------
    matplotlib Axes
        One ``LineCollection`` of intervals, one median scatter and (with ``map_coefs``) one
        MAP scatter per posterior.
    """
    ax = _axes(ax)
    if not posteriors:
        raise ValueError("plot_posterior_forest needs at least one posterior.")
    labels = list(posteriors)
    first = posteriors[labels[0]].posterior[var]
    if feature_names is None:
        feature_names = [str(f) for f in first.coords[first.dims[-1]].values]
    p = len(feature_names)
    keep = np.arange(p) if only is None else np.asarray(list(only), dtype=int)
    k = len(labels)
    offsets = (np.arange(k) - (k - 1) / 2) * (0.7 / max(k, 1))
    ypos = np.arange(keep.size)[::-1].astype(float)
    q = [(1 - interval) / 2, 0.5, (1 + interval) / 2]
    for i, (label, c) in enumerate(zip(labels, _colors(k), strict=True)):
        draws = _draws(posteriors[label], var)
        if draws.shape[1] != p:
            raise ValueError(
                f"posterior {label!r} has {draws.shape[1]} coefficients; expected {p}."
            )
        lo, med, hi = np.quantile(draws[:, keep], q, axis=0)
        yy = ypos + offsets[i]
        ax.hlines(yy, lo, hi, color=c, lw=2.5, alpha=0.6,
                  label=f"{label}: {100 * interval:.0f}% interval")  # fmt: skip
        if map_coefs is not None and label in map_coefs:
            ax.scatter(
                np.asarray(map_coefs[label])[keep], yy, marker="D", facecolors="white",
                edgecolors=c, s=70, lw=1.5, zorder=3, label=f"{label}: MAP (penalized)",
            )  # fmt: skip
        ax.scatter(med, yy, color=c, edgecolors="k", lw=0.5, s=22, zorder=4,
                   label=f"{label}: posterior median")  # fmt: skip
    ax.axvline(0.0, color="0.5", lw=0.8)
    ax.set_yticks(ypos, [str(feature_names[j]) for j in keep])
    ax.set_xlabel("coefficient")
    ax.set_title(title or "posterior: median and interval per coefficient")
    if legend:
        _legend_outside(ax)
    return ax


def plot_shrinkage(
    least_squares: Sequence[float] | np.ndarray,
    posterior: Sequence[float] | np.ndarray,
    ax: Any = None,
    *,
    lower: Sequence[float] | np.ndarray | None = None,
    upper: Sequence[float] | np.ndarray | None = None,
    map_coef: Sequence[float] | np.ndarray | None = None,
    feature_names: Sequence[str] | None = None,
    label: str = "posterior median",
    reference_label: str = "least squares",
    clip: float | None = None,
) -> Any:
    """Per coefficient: the unshrunk (reference) estimate, an arrow to the posterior estimate.

    Parameters
    ----------
    least_squares, posterior : array of shape (p,)
        Unpenalized estimate and the posterior summary (median or mean).
    lower, upper : array of shape (p,), optional
        Posterior interval, drawn as a thin line.
    map_coef : array of shape (p,), optional
        The MAP (penalized) estimate, marked with an open diamond.
    feature_names : sequence of str, optional
    reference_label : str, default "least squares"
        What ``least_squares`` is (e.g. "weak-prior MAP" for a logistic model).
    clip : float, optional
        Limit the x axis to ``clip`` times the extent of the posterior summaries, intervals and
        MAP (a far-away reference would flatten them): a reference beyond it is drawn at the
        edge as a triangle with its value written beside it.

    Returns
    -------
    matplotlib Axes
        Arrows (annotations), the two point sets as scatter collections.
    """
    ax = _axes(ax)
    ls = check_finite_array(least_squares, "least_squares", ndim=1)
    post = check_finite_array(posterior, "posterior", ndim=1)
    if ls.shape != post.shape:
        raise ValueError(f"least_squares {ls.shape} and posterior {post.shape} differ in shape.")
    p = ls.size
    names = (
        [str(f) for f in feature_names]
        if feature_names is not None
        else [f"x{j}" for j in range(p)]
    )
    y = np.arange(p)[::-1].astype(float)
    if lower is not None and upper is not None:
        ax.hlines(y, np.asarray(lower), np.asarray(upper), color="C0", lw=1.0, alpha=0.6)
    shown = ls
    if clip is not None:
        inner = [post] + [
            np.asarray(a, dtype=float) for a in (lower, upper, map_coef) if a is not None
        ]
        half = float(clip) * max(float(np.max(np.abs(np.concatenate(inner)))), 1e-12)
        shown = np.clip(ls, -half, half)
        ax.set_xlim(-1.05 * half, 1.05 * half)
        for j in np.flatnonzero(shown != ls):
            ax.annotate(f"{ls[j]:.3g}", (shown[j], y[j]), textcoords="offset points",
                        xytext=(-6 if shown[j] > 0 else 6, 5), fontsize="x-small",
                        ha="right" if shown[j] > 0 else "left", color="C3")  # fmt: skip
    for j in range(p):
        ax.annotate(
            "", xy=(post[j], y[j]), xytext=(shown[j], y[j]),
            arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 1.0},
        )  # fmt: skip
    out = shown != ls
    markers = np.where(out, np.where(shown > 0, ">", "<"), "x")
    off_label = f"{reference_label} (off the axis)"
    for m in ("x", ">", "<"):
        sel = markers == m
        if sel.any() or m == "x":
            lab = reference_label if m == "x" else off_label
            off_label = lab if m == "x" else "_nolegend_"  # one legend entry for both edges
            ax.scatter(shown[sel], y[sel], color="C3", marker=m, s=30, label=lab, zorder=3)
    ax.scatter(post, y, color="C0", s=24, label=label, zorder=3)
    if map_coef is not None:
        ax.scatter(
            np.asarray(map_coef), y, marker="D", facecolors="none", edgecolors="k", s=36,
            label="MAP (penalized)", zorder=4,
        )  # fmt: skip
    ax.axvline(0.0, color="0.5", lw=0.8)
    ax.set_yticks(y, names)
    ax.set_xlabel("coefficient")
    ax.set_title(f"shrinkage: {reference_label} -> posterior")
    # below the axes: it never covers a coefficient, and panels side by side keep their room
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2,
              frameon=False)  # fmt: skip
    return ax


# ---------------------------------------------------------------------------------------------
# geometry and descent
# ---------------------------------------------------------------------------------------------
def plot_geometry(geometry: Geometry2D, ax: Any = None, *, n_levels: int = 12) -> Any:
    """Loss contours, the L2 disc and the L1 diamond, and the points where they touch.

    The L2 contour touches the disc at a point with both coefficients non-zero; the L1 contour
    usually touches the diamond at a corner, where one coefficient is exactly zero: sparsity.

    Parameters
    ----------
    geometry : Geometry2D
        From :func:`lasso_ridge_geometry`.

    Returns
    -------
    matplotlib Axes
        Contour lines, the two ball outlines (lines) and the touching points (scatter).
    """
    ax = _axes(ax)
    g = geometry
    lo, hi = float(g.loss.min()), float(g.loss.max())
    # levels spaced in sqrt: the quadratic's contours become evenly spaced ellipses
    levels = lo + (np.linspace(0.0, 1.0, n_levels + 1)[1:] ** 2) * (hi - lo) * 0.6
    ax.contour(g.w1, g.w2, g.loss, levels=np.unique(levels), colors="0.6", linewidths=0.8)
    t = np.linspace(0.0, 2 * np.pi, 400)
    r = g.radius
    ax.plot(r * np.cos(t), r * np.sin(t), color="C0", lw=2, label=f"L2 ball ||w||_2 <= {r:.3g}")
    ax.plot(
        [r, 0, -r, 0, r], [0, r, 0, -r, 0], color="C1", lw=2, label=f"L1 ball ||w||_1 <= {r:.3g}"
    )
    for point, level, c, name in (
        (g.l2_point, g.l2_level, "C0", "L2"),
        (g.l1_point, g.l1_level, "C1", "L1"),
    ):
        ax.contour(g.w1, g.w2, g.loss, levels=[level], colors=c, linewidths=1.0, linestyles="--")
        ax.scatter(*point, color=c, s=60, zorder=5, edgecolors="k",
                   label=f"{name} optimum ({point[0]:.3g}, {point[1]:.3g})")  # fmt: skip
    ax.scatter(*g.ols, color="k", marker="x", s=50, zorder=5, label="least squares")
    ax.axhline(0.0, color="0.8", lw=0.6)
    ax.axvline(0.0, color="0.8", lw=0.6)
    ax.set_aspect("equal", adjustable="box")  # the axes fit the grid: no blank margin
    ax.set_xlabel(g.feature_names[0])
    ax.set_ylabel(g.feature_names[1])
    ax.set_title("loss contours meet the constraint")
    _legend_outside(ax, fontsize="x-small")
    return ax


def plot_descent_trajectories(
    trajectories: Mapping[str, Any],
    w1: Sequence[float] | np.ndarray,
    w2: Sequence[float] | np.ndarray,
    objective: np.ndarray,
    ax: Any = None,
    *,
    optimum: Sequence[float] | np.ndarray | None = None,
    n_levels: int = 15,
    feature_names: Sequence[str] = ("w1", "w2"),
) -> Any:
    """Optimizer trajectories on the contours of the penalized objective J.

    Parameters
    ----------
    trajectories : mapping label -> DescentResult or array of shape (k, 2)
        A result's ``trajectory`` (k, 2) is used (weight decay, ISTA, subgradient, AdamW, ...).
    w1, w2, objective : arrays of shape (m1,), (m2,), (m2, m1)
        The grid and J on it (:func:`objective_grid`).
    optimum : array of shape (2,), optional
        The MAP, marked with a star.

    Returns
    -------
    matplotlib Axes
        Contour lines and one line per trajectory.
    """
    ax = _axes(ax)
    J = np.asarray(objective, dtype=np.float64)
    lo, hi = float(J.min()), float(np.quantile(J, 0.9))
    levels = np.unique(lo + (np.linspace(0.0, 1.0, n_levels + 1)[1:] ** 2) * (hi - lo))
    ax.contour(np.asarray(w1), np.asarray(w2), J, levels=levels, colors="0.7", linewidths=0.8)
    for (label, res), c in zip(trajectories.items(), _colors(len(trajectories)), strict=True):
        traj = np.asarray(getattr(res, "trajectory", res), dtype=np.float64)
        if traj.ndim != 2 or traj.shape[1] != 2:
            raise ValueError(f"trajectory {label!r} must have shape (k, 2); got {traj.shape}.")
        ax.plot(traj[:, 0], traj[:, 1], color=c, marker=".", ms=3, lw=1.2, label=str(label))
        ax.scatter(*traj[-1], color=c, s=30, zorder=4)
    if optimum is not None:
        ax.scatter(*np.asarray(optimum), marker="*", s=160, color="k", zorder=5, label="MAP")
    ax.axhline(0.0, color="0.85", lw=0.6)
    ax.axvline(0.0, color="0.85", lw=0.6)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_title("descent on the contours of J")
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_validation_curve(
    strengths: Sequence[float] | np.ndarray,
    errors: Mapping[str, Sequence[float] | np.ndarray],
    ax: Any = None,
    *,
    best: float | None = None,
    xlabel: str = "penalty strength",
    ylabel: str = "mean squared error",
) -> Any:
    """Error curves vs penalty strength (training, validation, ...), log x axis.

    Parameters
    ----------
    strengths : array of shape (k,)
    errors : mapping label -> array of shape (k,)
    best : float, optional
        The chosen strength, drawn as a vertical line.

    Returns
    -------
    matplotlib Axes
        One line per curve.
    """
    ax = _axes(ax)
    x = check_finite_array(strengths, "strengths", ndim=1)
    for label, e in errors.items():
        e = np.asarray(e, dtype=np.float64)
        if e.shape != x.shape:
            raise ValueError(f"errors[{label!r}] has shape {e.shape}; expected {x.shape}.")
        ax.plot(x, e, marker=".", label=str(label))
    if best is not None:
        ax.axvline(float(best), color="k", ls="--", lw=1, label=f"chosen: {best:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


#: how :func:`plot_selection_curve` labels each method's grid: (x label, log x axis)
_SELECTION_AXES = {
    "validation_grid": ("prior scale (larger = weaker penalty)", True),
    "validation_random": ("prior scale (larger = weaker penalty)", True),
    "kfold": ("prior scale (larger = weaker penalty)", True),
    "psis_loo": ("prior scale (larger = weaker penalty)", True),
    "evidence": ("Ridge alpha", True),
    "mcem": ("EM iteration", False),
    "full_bayes": ("lambda (Park & Casella)", False),
}


def plot_selection_curve(result: Any, ax: Any = None, *, title: str | None = None) -> Any:
    """The curve one way of choosing lambda optimized, with its choice marked.

    Draws ``result.curve`` against ``result.grid`` (a
    :class:`~bayesreg.selection.SelectionResult`) and reads the choice from the result; nothing is
    recomputed. What is drawn depends on ``result.method``:

    ======================================  ======================================================
    method                                  drawn
    ======================================  ======================================================
    validation_grid / _random, kfold,       criterion vs prior scale (log x), a +-1 standard error
    psis_loo                                band where ``extra["se"]`` exists, a dashed line at
                                            the chosen scale ``result.scale``
    evidence                                profile log evidence vs Ridge alpha (log x), dashed
                                            line at ``extra["alpha"]``
    mcem                                    lambda along the EM path, dashed horizontal line at
                                            the estimate ``extra["lam"]``
    full_bayes                              posterior density of lambda, its median (the chosen
                                            prior's ``1 / scale``) dashed and the 95% interval
                                            ``extra["lam_interval_95"]`` shaded
    ======================================  ======================================================

    Parameters
    ----------
    result : SelectionResult
        ``grid`` and ``curve`` of shape (k,).
    ax : matplotlib Axes, optional
    title : str, optional
        Default: ``result.method``.

    Returns
    -------
    matplotlib Axes
        The curve (first line), the choice (a dashed line), and the band or shaded interval.
    """
    ax = _axes(ax)
    x = check_finite_array(result.grid, "result.grid", ndim=1)
    y = check_finite_array(result.curve, "result.curve", ndim=1)
    if x.shape != y.shape:
        raise ValueError(
            f"result.curve has shape {y.shape}; expected the shape of result.grid, {x.shape}."
        )
    method = str(result.method)
    xlabel, logx = _SELECTION_AXES.get(method, ("grid", bool(np.all(x > 0))))
    extra = getattr(result, "extra", {}) or {}
    many = x.size > 40  # a density or a long EM path: a line; a search grid: points too
    ax.plot(x, y, color="C0", marker=None if many else ".", label=method)
    se = extra.get("se")
    if se is not None and np.shape(se) == x.shape:
        se = np.asarray(se, dtype=np.float64)
        ax.fill_between(x, y - se, y + se, color="C0", alpha=0.2, lw=0, label="+-1 s.e.")
    if method == "mcem":
        lam = float(extra["lam"])
        ax.axhline(lam, color="k", ls="--", lw=1, label=f"estimate: lambda = {lam:.3g}")
        ylabel = "lambda"
    elif method == "full_bayes":
        # full_bayes reports the prior at the median lambda, whose scale is 1 / lambda
        med = 1.0 / float(result.prior.scale)
        ax.axvline(med, color="k", ls="--", lw=1, label=f"median: {med:.3g}")
        if "lam_interval_95" in extra:
            lo, hi = (float(v) for v in extra["lam_interval_95"])
            ax.axvspan(lo, hi, color="0.6", alpha=0.25, lw=0, label=f"95%: [{lo:.3g}, {hi:.3g}]")
        ylabel = "posterior density"
    else:
        chosen = float(extra["alpha"]) if method == "evidence" else float(result.prior.scale)
        if method in _SELECTION_AXES:
            ax.axvline(chosen, color="k", ls="--", lw=1, label=f"chosen: {chosen:.3g}")
        ylabel = str(result.criterion)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel, fontsize="small")
    ax.set_title(title or method)
    ax.legend(fontsize="x-small", loc="best")
    return ax


def plot_dss(result: Any, ax: Any = None, *, title: str | None = None) -> Any:
    """Decoupled shrinkage and selection: variation explained of each sparse summary vs its size.

    Draws, from a :class:`~bayesreg.variable_selection.DSSPath` (nothing is recomputed): per
    model size, the posterior mean of rho2_lam with its ``result.credible`` interval (error
    bars, ``result.table``); the dense summary's (gamma = w_bar) posterior mean of rho2_0 as a
    dashed line with its interval ``result.band`` shaded; the chosen summary circled. Summaries
    whose bar reaches the dashed line explain as much as the dense one, within the posterior's
    uncertainty; the chosen one is the smallest of them.

    Parameters
    ----------
    result : DSSPath
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    t = result.table
    size = np.asarray(t["size"], dtype=np.float64)
    mean = np.asarray(t["rho2_mean"], dtype=np.float64)
    err = np.vstack([mean - np.asarray(t["rho2_lo"]), np.asarray(t["rho2_hi"]) - mean])
    pct = f"{result.credible:.0%}"
    ax.errorbar(size, mean, yerr=err, fmt="o", color="C0", ms=4, capsize=3,
                label=f"summary: mean rho2 and {pct} interval")  # fmt: skip
    dense = float(np.mean(result.rho2_dense))
    lo, hi = result.band
    ax.axhspan(lo, hi, color="0.6", alpha=0.3, lw=0, label=f"dense summary: {pct} interval")
    ax.axhline(dense, color="k", ls="--", lw=1, label=f"dense summary: mean {dense:.3f}")
    k = int(result.sizes[result.selected])
    row = t[t["index"] == result.selected].iloc[0]
    ax.plot([k], [row["rho2_mean"]], "o", ms=12, mfc="none", mec="C3", mew=2,
            label=f"chosen: {k} variable{'s' if k != 1 else ''}")  # fmt: skip
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("model size (non-zero coefficients)")
    ax.set_ylabel(r"variation explained $\rho^2_\lambda$")
    ax.set_title(title or "Decoupled shrinkage and selection")
    ax.legend(fontsize="x-small", loc="lower right")
    return ax


# ---------------------------------------------------------------------------------------------
# MCMC diagnostics (ArviZ)
# ---------------------------------------------------------------------------------------------
def _scalar_parameter(post: Any, name: str) -> np.ndarray:
    """(chain, draw) draws of ``name``: a scalar variable or ``var[label]`` (e.g. ``w[age]``)."""
    if name in post.data_vars:
        return np.asarray(post[name].values)
    var, _, rest = name.partition("[")
    da = post[var]
    return np.asarray(da.sel({da.dims[-1]: rest.rstrip("]")}).values)


def scalar_posterior(idata: Any, parameters: Sequence[str]) -> Any:
    """An InferenceData whose posterior holds one scalar variable per named parameter.

    ArviZ gives each variable its own row and title, so a trace or rank plot of ``w[age]``,
    ``w[s1]``, ... stays readable however many coefficients the model has (a compact trace of a
    vector draws all of them as unlabelled lines in one panel).

    Parameters
    ----------
    idata : arviz.InferenceData
    parameters : sequence of str
        Variable names (``"sigma"``) or one entry of a vector (``"w[age]"``).
    """
    import xarray as xr

    from bayesreg import _arviz

    post = idata.posterior
    data = {}
    for name in parameters:
        try:
            data[name] = (("chain", "draw"), _scalar_parameter(post, name))
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"unknown parameter {name!r}; expected one of {list(post.data_vars)} or "
                f"'var[label]' (e.g. 'w[{post['w'].coords[post['w'].dims[-1]].values[0]}]')."
            ) from exc
    ds = xr.Dataset(data, coords={"chain": post.chain.values, "draw": post.draw.values})
    return _arviz.inference_data(posterior=ds)


def _diagnostic_axes(n: int, ncols: int, height: float) -> Any:
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(
        n, ncols, figsize=(10.0 if ncols == 2 else 3.2 * ncols, height * n + 0.6),
        layout="constrained", squeeze=False,
    )  # fmt: skip
    return axes


def plot_trace(
    idata: Any,
    var_names: Sequence[str] | None = None,
    axes: Any = None,
    *,
    parameters: Sequence[str] | None = None,
) -> Any:
    """ArviZ trace plot (density per chain, draws over iterations).

    Parameters
    ----------
    idata : arviz.InferenceData
    var_names : sequence of str, optional
        ArviZ's selection (a vector variable is drawn compact, all entries in one panel).
    axes : array of matplotlib Axes, optional
    parameters : sequence of str, optional
        Instead of ``var_names``: one row per scalar parameter (``"sigma"``, ``"w[age]"``, see
        :func:`scalar_posterior`), titled, in a figure with a layout that keeps titles off the
        axis labels.

    Returns
    -------
    ndarray of matplotlib Axes, shape (n_vars, 2)
    """
    from bayesreg import _arviz  # ArviZ loads on the first diagnostic plot

    if parameters is not None:
        idata = scalar_posterior(idata, parameters)
        axes = _diagnostic_axes(len(parameters), 2, 1.5) if axes is None else axes
    return _arviz.plot_trace(idata, var_names=var_names, axes=axes)


def plot_rank(
    idata: Any,
    var_names: Sequence[str] | None = None,
    ax: Any = None,
    *,
    parameters: Sequence[str] | None = None,
) -> Any:
    """ArviZ rank plot: per-chain histograms of rank-normalized draws (flat = well mixed).

    Parameters
    ----------
    idata : arviz.InferenceData
    var_names : sequence of str, optional
    ax : matplotlib Axes or array of them, optional
    parameters : sequence of str, optional
        One panel per scalar parameter, as in :func:`plot_trace`, three to a row.

    Returns
    -------
    ndarray of matplotlib Axes (one per scalar parameter)
    """
    from bayesreg import _arviz

    if parameters is not None:
        idata = scalar_posterior(idata, parameters)
        if ax is None:
            rows = -(-len(parameters) // 3)
            grid = _diagnostic_axes(rows, 3, 2.2)
            for extra in grid.ravel()[len(parameters) :]:
                extra.set_visible(False)
            ax = grid.ravel()[: len(parameters)]
    return _arviz.plot_rank(idata, var_names=var_names, ax=ax)
