"""The MAP along a path of prior scales (a regularization path), with warm starts.

For each prior scale ``s_k`` the model's MAP (= the penalized solution at the converted
strength, e.g. scikit-learn's ``alpha = sigma^2 / (n s_k)`` for a Laplace prior) is computed
by :func:`bayesreg.solvers.map_estimate`. The scales are visited from the strongest penalty
(smallest scale) to the weakest, each solve starting from the previous solution: neighbouring
solutions share most of their support, so the working-set solver often finishes in one exact
sign-pattern solve. Each point is solved on ``model.with_prior_scale(s_k)``, a copy that shares
the model's compiled graph and the solvers' cached data (only a shared variable changes), so
the caller's model is never modified; every point carries its own KKT certificate.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bayesreg._results import Result
from bayesreg._validation import check_finite_array
from bayesreg.model import RegressionModel, check_model
from bayesreg.solvers.map import ConvergenceWarning, MapEstimate, map_estimate

if TYPE_CHECKING:  # pandas loads when a table is asked for
    import pandas as pd

__all__ = ["MapPath", "map_path"]


@dataclass(frozen=True)
class MapPath(Result):
    """MAP estimates at several prior scales (in the order the scales were given).

    Attributes
    ----------
    scales : ndarray of shape (k,)
        The prior scales.
    coefs : ndarray of shape (k, p)
        MAP weights at each scale (exact zeros for L1-type priors).
    intercepts : ndarray of shape (k,)
    sigmas : ndarray of shape (k,) or None
        MAP noise sd at each scale when sigma is estimated.
    optimality : ndarray of shape (k,)
        KKT residual of each point, in the caller's units (see :class:`MapEstimate`).
    converged : ndarray of bool, shape (k,)
    n_iter : ndarray of int, shape (k,)
    objective : ndarray of shape (k,)
        Negative log posterior (no Jacobian) at each point.
    method : str
        The MAP method used (``"auto"`` resolved).
    feature_names : list of str
    seconds : float
        Wall time of the whole path.
    """

    scales: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    sigmas: np.ndarray | None
    optimality: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    objective: np.ndarray
    method: str
    feature_names: list[str]
    seconds: float = 0.0

    @property
    def n_nonzero(self) -> np.ndarray:
        """Number of non-zero coefficients at each scale, shape (k,)."""
        return np.count_nonzero(self.coefs, axis=1)

    def _extra_dict(self) -> dict[str, np.ndarray]:
        return {"n_nonzero": self.n_nonzero}

    def to_dataframe(self) -> pd.DataFrame:
        """Long format: one row per (scale, feature) with the coefficient."""
        import pandas as pd

        k, p = self.coefs.shape
        return pd.DataFrame(
            {
                "scale": np.repeat(self.scales, p),
                "feature": np.tile(np.asarray(self.feature_names, dtype=object), k),
                "coef": self.coefs.ravel(),
            }
        )


def map_path(
    model: RegressionModel,
    scales: Sequence[float] | np.ndarray,
    *,
    method: str = "auto",
    tol: float = 1e-10,
    max_iter: int = 20000,
    evaluator: str = "auto",
    warn: bool = True,
) -> MapPath:
    """MAP estimates of ``model`` at each prior scale, warm-started along the path.

    At scale ``s`` the prior is ``model.prior.with_scale(s)`` and the estimate minimizes the
    negative log posterior of :func:`map_estimate`, e.g. for Laplace(s) and a Gaussian
    likelihood with known sigma ``SSE / (2 sigma^2) + ||w||_1 / s`` (scikit-learn's lasso at
    ``alpha = sigma^2 / (n s)``). Solved from the smallest scale (strongest penalty) up, each
    solve warm-started at the previous solution; one compiled graph serves every scale.

    Parameters
    ----------
    model : RegressionModel
        Not modified: each scale is solved on ``model.with_prior_scale(s)``.
    scales : array-like of shape (k,)
        Positive, finite prior scales, in any order (results keep that order).
    method, tol, max_iter, evaluator
        As in :func:`map_estimate`.
    warn : bool, default True
        One :class:`ConvergenceWarning` listing the scales whose solve did not converge.

    Returns
    -------
    MapPath
    """
    check_model(model, "map_path")
    s = check_finite_array(scales, "scales", ndim=1)
    if np.any(s <= 0.0):
        raise ValueError(
            f"The 'scales' parameter of map_path must contain floats in the range (0, inf). "
            f"Got {s[s <= 0.0][0]!r} instead."
        )
    start = time.perf_counter()
    k = s.size
    estimates: list[MapEstimate | None] = [None] * k
    prev: MapEstimate | None = None
    # strongest penalty first (stable sort: ties keep their order)
    for i in np.argsort(s, kind="stable"):
        prev = map_estimate(
            model.with_prior_scale(float(s[i])),
            method=method,
            tol=tol,
            max_iter=max_iter,
            evaluator=evaluator,
            warn=False,
            init=prev,
        )
        estimates[i] = prev
    ests: list[MapEstimate] = [e for e in estimates if e is not None]
    converged = np.array([e.converged for e in ests], dtype=bool)
    if warn and not converged.all():
        bad = s[~converged]
        warnings.warn(
            f"map_path: the MAP did not converge at {bad.size} of {k} scales "
            f"(first: scale={bad[0]:.6g}); raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    sigma_est = ests[0].sigma is not None
    return MapPath(
        scales=s,
        coefs=np.array([e.coef for e in ests]).reshape(k, model.p),
        intercepts=np.array([e.intercept for e in ests], dtype=np.float64),
        sigmas=np.array([e.sigma for e in ests], dtype=np.float64) if sigma_est else None,
        optimality=np.array([e.optimality for e in ests], dtype=np.float64),
        converged=converged,
        n_iter=np.array([e.n_iter for e in ests], dtype=np.int64),
        objective=np.array([e.objective for e in ests], dtype=np.float64),
        method=ests[0].method,
        feature_names=list(model.feature_names),
        seconds=time.perf_counter() - start,
    )
