"""Rows beyond memory: the Gaussian-likelihood posterior from the data's moments.

With a Gaussian likelihood the log posterior depends on the data only through

    n,  xbar = mean of the rows of X (p,),  ybar,
    Sxx = sum_i (x_i - xbar)(x_i - xbar)'  (p, p),  Sxy = sum_i (x_i - xbar)(y_i - ybar)  (p,),
    Syy = sum_i (y_i - ybar)^2,

because, for any (w, b), ``SSE = ||y - X w - b||^2 = Syy - 2 w'Sxy + w'Sxx w
+ n (ybar - xbar'w - b)^2``. :class:`Moments` holds them. They are computed in **one pass over
chunks of rows**, so X never has to fit in memory:

* :meth:`Moments.from_dask`: a ``dask.array`` pair (X, y). One task per row block computes
  that block's moments; a balanced tree of tasks merges them. The same code runs out of core on
  a laptop (dask's threaded scheduler) or on a ``dask.distributed`` cluster (the active
  ``Client``); install the ``scale`` extra (``pip install bayesreg[scale]``). Nothing else in
  the package imports dask.
* :meth:`Moments.from_chunks`: any iterable of numpy ``(X, y)`` chunks (a file read in pieces,
  a database cursor), for users without dask.
* :meth:`Moments.from_arrays`: arrays in memory (the reference the chunked paths are tested
  against).

**Numerical stability.** The naive formula ``X'X - n xbar xbar'`` loses every digit when the
columns are far from zero compared to their spread (a mean of 1e6 and sd 1 leaves ~3 of 16
digits). Here each block is centred at its own mean ``K_b`` (computed first: two passes over a
block in memory), and its statistics are carried as (n, K_b, mean - K_b, co-moments about the
mean). Blocks are merged by the pairwise update of Chan, Golub & LeVeque (1979), written with
the shifts kept apart::

    n = n_a + n_b,   d = (K_b - K_a) + (m_b - m_a),   m = m_a + d n_b / n   (about K_a),
    C = C_a + C_b + d d' n_a n_b / n

over a balanced tree (depth log2 of the number of blocks). ``K_b - K_a`` of two nearby means
is exact in floating point, so d and the co-moments keep their digits whatever the offset of
the data; the mean is ``K + m`` rounded once at the end.

**Fits at a cost independent of n** (all read only the p x p moments):

* :func:`moments_map`: the MAP (= penalized solution) for a prior with an elastic penalty
  ``a ||w||_1 + c ||w||^2 / 2`` (Gaussian, Laplace, ElasticNet) and a Gaussian likelihood with
  sigma known or estimated, by the package's working-set Gram coordinate descent
  (:func:`bayesreg.solvers.working_set.working_set_lasso`, on a
  :meth:`~bayesreg.solvers.working_set.GramCache.from_gram` cache);
* :func:`moments_posterior`: the exact conjugate posterior (a Gaussian prior with known sigma,
  or ``Gaussian(c, scale_by_sigma=True)`` with sigma estimated), built by
  :func:`bayesreg.sampling.exact.conjugate_from_gram`, with exact independent draws.
* :func:`moments_horseshoe`: the horseshoe (and regularized horseshoe) by the collapsed
  sampler: NUTS on the hyperparameters with w and b integrated out (O(p^3) per gradient), then
  exact draws of (w, b) (:class:`bayesreg.sampling.collapsed.CollapsedHorseshoe`).

* :func:`moments_sample`: NUTS for any of those priors, sigma known or estimated, on the
  default sampler's static numba kernel (:mod:`bayesreg._fastlogp`), whose Gaussian data term
  is written in these statistics (O(p^2) per gradient).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from scipy import linalg

from bayesreg._capabilities import (
    ELASTIC_PENALTY,
    HAS_MAP,
    QUADRATIC_LIKELIHOOD,
    require,
)
from bayesreg._results import Result
from bayesreg._validation import (
    check_finite_array,
    check_positive,
    check_positive_int,
    check_random_seed,
    feature_names_of,
)
from bayesreg.likelihoods import Likelihood
from bayesreg.model import check_prior_and_likelihood
from bayesreg.priors import Prior
from bayesreg.solvers.map import ConvergenceWarning, MapEstimate
from bayesreg.solvers.working_set import GramCache, working_set_lasso

if TYPE_CHECKING:  # the sampling package loads ArviZ: imported by moments_posterior only
    from bayesreg.sampling.exact import ConjugatePosterior

__all__ = [
    "Moments",
    "MomentsPosterior",
    "compute_moments",
    "moments_horseshoe",
    "moments_map",
    "moments_posterior",
    "moments_sample",
]


class _Stats(NamedTuple):
    """Moments of a set of rows of V = [X, y]: count, shift K (q,), mean - K (q,) and the
    co-moment matrix about the mean (q, q)."""

    n: int
    shift: np.ndarray
    mean: np.ndarray
    comoment: np.ndarray


def _as_chunk_array(a: Any, name: str, ndim: int | None) -> np.ndarray:
    """A chunk as float64 (a read-only use: never written to). Real numpy arrays take a fast
    path (no copy of float64 data) whose finiteness is checked on the chunk's statistics
    (:func:`_require_finite`); anything else gets the full check (a copy). An array with no
    rows is allowed (a reader's last, empty chunk): it adds nothing."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "fiub":
        out = np.asarray(a, dtype=np.float64)
        if ndim is not None and out.ndim != ndim:
            return check_finite_array(a, name, ndim=ndim)  # raises, with the usual message
        return out
    return check_finite_array(a, name, ndim=ndim)


def _check_chunk(X: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One chunk as float64 arrays (X: (m, p), y: (m,)), aligned; the caller never writes
    to them."""
    Xa = _as_chunk_array(X, f"X ({where})", 2)
    ya = _as_chunk_array(y, f"y ({where})", None)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
        raise ValueError(
            f"y ({where}) must have shape ({Xa.shape[0]},) to match X's rows; got {ya.shape}."
        )
    return Xa, ya


def _require_finite(stats: np.ndarray, X: Any, y: Any, where: str) -> None:
    """NaN or inf in a chunk (or squares that overflow) make its statistics non-finite: then
    the full check of the chunk says where."""
    if not np.all(np.isfinite(stats)):
        check_finite_array(X, f"X ({where})", ndim=2)
        check_finite_array(y, f"y ({where})")
        raise ValueError(
            f"The products of X and y ({where}) overflow float64: rescale the data first."
        )


def _block_stats(X: Any, y: Any, where: str, p: int | None = None) -> _Stats:
    """The moments of one block of rows of ``[X, y]`` (q = p + 1), shifted by its mean.

    The block's mean K (one pass), then the centred copy ``V - K`` (the caller's chunk is not
    modified), its own tiny mean r (rounding of K) and the products about it:
    ``C = (V - K)'(V - K) - n r r'`` (BLAS calls).
    """
    Xa, ya = _check_chunk(X, y, where)
    m = Xa.shape[0]
    if p is not None and Xa.shape[1] != p:
        raise ValueError(f"X ({where}) has {Xa.shape[1]} columns; the first chunk had {p}.")
    p = Xa.shape[1]
    if m == 0:
        return _Stats(0, np.zeros(p + 1), np.zeros(p + 1), np.zeros((p + 1, p + 1)))
    shift = np.append(Xa.mean(axis=0), ya.mean())
    _require_finite(shift, X, y, where)
    Xa = Xa - shift[:p]
    ya = ya - shift[p]
    r = np.append(Xa.mean(axis=0), ya.mean())
    C = np.empty((p + 1, p + 1))
    C[:p, :p] = Xa.T @ Xa
    C[:p, p] = C[p, :p] = Xa.T @ ya
    C[p, p] = ya @ ya
    C -= m * np.outer(r, r)
    _require_finite(C, X, y, where)
    return _Stats(m, shift, r, C)


def _merge(a: _Stats, b: _Stats) -> _Stats:
    """Chan, Golub & LeVeque's pairwise update for the union, about a's shift."""
    if b.n == 0 or a.n == 0:
        return a if b.n == 0 else b
    n = a.n + b.n
    d = (b.shift - a.shift) + (b.mean - a.mean)
    mean = a.mean + d * (b.n / n)
    C = a.comoment + b.comoment + np.outer(d, d) * (a.n * b.n / n)
    return _Stats(n, a.shift, mean, C)


def _tree_merge(items: list, merge: Any = _merge) -> Any:
    """Merge ``items`` pairwise in a balanced tree (``merge`` may build dask tasks)."""
    if not items:
        raise ValueError("No chunks: the data must have at least one row.")
    while len(items) > 1:
        pairs = [merge(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


@dataclass(frozen=True)
class Moments(Result):
    """Sufficient statistics of a Gaussian-likelihood regression (see the module docstring).

    Attributes
    ----------
    n : int
        Number of rows.
    x_mean : ndarray of shape (p,)
        Column means of X.
    y_mean : float
        Mean of y.
    xx : ndarray of shape (p, p)
        Centred Gram matrix ``sum_i (x_i - xbar)(x_i - xbar)'``.
    xy : ndarray of shape (p,)
        ``sum_i (x_i - xbar)(y_i - ybar)``.
    yy : float
        ``sum_i (y_i - ybar)^2``.
    feature_names : tuple of str
        One name per column (``x0, x1, ...`` unless given).
    seconds : float
        Wall time of the pass that computed them.
    """

    n: int
    x_mean: np.ndarray
    y_mean: float
    xx: np.ndarray
    xy: np.ndarray
    yy: float
    feature_names: tuple[str, ...]
    seconds: float = 0.0

    @property
    def p(self) -> int:
        """Number of features."""
        return int(self.x_mean.shape[0])

    @property
    def y_sd(self) -> float:
        """Population standard deviation of y (``np.std(y)``): what sigma's default prior
        scale reads (``Likelihood.sigma_prior_scale_for_sd``)."""
        return float(np.sqrt(self.yy / self.n))

    @classmethod
    def _from_stats(cls, st: _Stats, names: Sequence[str] | None, seconds: float) -> Moments:
        p = st.mean.size - 1
        if st.n < 2:
            raise ValueError(f"The data must have at least 2 rows; got {st.n}.")
        names = tuple(f"x{j}" for j in range(p)) if names is None else tuple(map(str, names))
        if len(names) != p or len(set(names)) != p:
            raise ValueError(
                f"feature_names must be {p} unique names (one per column of X); got {names}."
            )
        mean = st.shift + st.mean
        C = 0.5 * (st.comoment + st.comoment.T)  # exactly symmetric
        for a in (mean, C):
            a.setflags(write=False)
        return cls(
            n=int(st.n), x_mean=mean[:p], y_mean=float(mean[p]), xx=C[:p, :p], xy=C[:p, p],
            yy=float(C[p, p]), feature_names=names, seconds=float(seconds),
        )  # fmt: skip

    @classmethod
    def from_arrays(cls, X: Any, y: Any, *, feature_names: Sequence[str] | None = None) -> Moments:
        """The moments of arrays in memory: X (n, p), y (n,). Nothing is modified.

        The feature names default to a DataFrame's column names, as in ``RegressionModel``.
        """
        names = feature_names_of(X) if feature_names is None else feature_names
        return cls.from_chunks([(X, y)], feature_names=names)

    @classmethod
    def from_chunks(
        cls, chunks: Iterable[tuple[Any, Any]], *, feature_names: Sequence[str] | None = None
    ) -> Moments:
        """The moments of the rows of an iterable of ``(X_chunk, y_chunk)`` numpy pairs.

        One pass: each chunk (m_k, p), (m_k,) is read once and dropped, and at most
        log2(number of chunks) partial results are kept (a binary-counter pairwise merge, the
        same tree as :meth:`from_dask`).
        """
        start = time.perf_counter()
        stack: list[tuple[int, _Stats]] = []  # (level, stats): merged as a binary counter
        p = None
        for k, (Xc, yc) in enumerate(chunks):
            st = _block_stats(Xc, yc, f"chunk {k}", p)
            p = st.shift.size - 1
            level = 0
            while stack and stack[-1][0] == level:
                st = _merge(stack.pop()[1], st)
                level += 1
            stack.append((level, st))
        if not stack:
            raise ValueError("from_chunks got no chunks: the data must have at least 2 rows.")
        total = stack.pop()[1]
        while stack:
            total = _merge(stack.pop()[1], total)
        return cls._from_stats(total, feature_names, time.perf_counter() - start)

    @classmethod
    def from_dask(cls, X: Any, y: Any, *, feature_names: Sequence[str] | None = None) -> Moments:
        """The moments of a ``dask.array`` pair X (n, p), y (n,), in one pass over row blocks.

        X is rechunked to whole rows (one block across the columns) and y to X's row blocks;
        each block's moments are one task, merged by a balanced tree of tasks, and the graph is
        computed with dask's current scheduler (a ``dask.distributed`` ``Client`` when one is
        active). Needs the ``scale`` extra (dask).
        """
        try:
            import dask
            import dask.array as da
        except ImportError as exc:  # pragma: no cover - the scale extra is in dev
            raise ImportError(
                "Moments.from_dask needs dask: pip install 'bayesreg[scale]'."
            ) from exc
        start = time.perf_counter()
        X, y = da.asarray(X), da.asarray(y)
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or np.isnan(X.shape[0]):
            raise ValueError(
                f"Moments.from_dask needs X of shape (n, p) and y of shape (n,) with known "
                f"chunk sizes; got {X.shape} and {y.shape}."
            )
        X = X.rechunk({1: -1})
        y = y.rechunk((X.chunks[0],))
        # optimize_graph=False: optimizing X and y apart would fuse a block that both are
        # sliced from (one generated block of [X, y]) into each of them: computed twice
        xb = X.to_delayed(optimize_graph=False).ravel()
        yb = y.to_delayed(optimize_graph=False).ravel()
        block = dask.delayed(_block_stats, pure=True)
        leaves = [block(xb[k], yb[k], f"block {k}", X.shape[1]) for k in range(len(xb))]
        (total,) = dask.compute(_tree_merge(leaves, dask.delayed(_merge, pure=True)))
        return cls._from_stats(total, feature_names, time.perf_counter() - start)

    def merge(self, other: Moments) -> Moments:
        """The moments of the union of two disjoint sets of rows (the pairwise update)."""
        if not isinstance(other, Moments) or other.p != self.p:
            raise ValueError(f"merge needs Moments with p={self.p}; got {other!r}.")
        a, b = (
            _Stats(m.n, np.append(m.x_mean, m.y_mean), np.zeros(m.p + 1), m._comoment())
            for m in (self, other)
        )
        return Moments._from_stats(_merge(a, b), self.feature_names, 0.0)

    def _comoment(self) -> np.ndarray:
        p = self.p
        C = np.empty((p + 1, p + 1))
        C[:p, :p], C[:p, p], C[p, :p], C[p, p] = self.xx, self.xy, self.xy, self.yy
        return C

    def quadratic(self, fit_intercept: bool) -> tuple[np.ndarray, np.ndarray, float]:
        """``(G, q, r)`` with ``||yt - Xt w||^2 = r - 2 w'q + w'G w``.

        With an intercept (profiled out) Xt, yt are the centred data: ``(xx, xy, yy)``.
        Without one they are the raw data: ``G = X'X = xx + n xbar xbar'`` (and likewise q, r),
        which loses the digits of the means' size relative to the spread.
        """
        if fit_intercept:
            return self.xx.copy(), self.xy.copy(), float(self.yy)
        m, n = self.x_mean, self.n
        G = self.xx + n * np.outer(m, m)
        q = self.xy + n * self.y_mean * m
        return G, q, float(self.yy + n * self.y_mean**2)

    def _extra_dict(self) -> dict[str, int]:
        return {"p": self.p}


def compute_moments(
    X: Any, y: Any = None, *, feature_names: Sequence[str] | None = None
) -> Moments:
    """:class:`Moments` of ``(X, y)``: dask arrays, numpy arrays, or an iterable of chunks.

    Parameters
    ----------
    X : dask.array of shape (n, p), array-like of shape (n, p), or iterable of (X, y) chunks
    y : dask.array or array-like of shape (n,), or None when X is an iterable of chunks
    feature_names : sequence of str, optional

    Returns
    -------
    Moments
    """
    if y is None:
        if isinstance(X, np.ndarray) or not isinstance(X, Iterable):
            raise ValueError(
                "compute_moments needs y, or X as an iterable of (X_chunk, y_chunk) pairs; "
                f"got X of type {type(X).__name__} and y=None."
            )
        return Moments.from_chunks(X, feature_names=feature_names)
    if any(type(a).__module__.split(".")[0] == "dask" for a in (X, y)):
        return Moments.from_dask(X, y, feature_names=feature_names)
    return Moments.from_arrays(X, y, feature_names=feature_names)


def _check_moments(moments: object, owner: str) -> Moments:
    if not isinstance(moments, Moments):
        raise TypeError(
            f"The 'moments' parameter of {owner} must be a bayesreg Moments (see "
            f"compute_moments); got {type(moments).__name__}."
        )
    return moments


def _known_sigma_terms(moments: Moments, w: np.ndarray, sigma: float, fit_intercept: bool):
    """(G, q, -log likelihood at w with the best intercept, smooth gradient in w)."""
    G, q, r = moments.quadratic(fit_intercept)
    Gw = G @ w
    sse = _sse(r, q, w, Gw)
    n = moments.n
    nll = sse / (2.0 * sigma**2) + n * np.log(sigma) + 0.5 * n * np.log(2.0 * np.pi)
    return G, q, nll, (Gw - q) / sigma**2


def _sse(r: float, q: np.ndarray, w: np.ndarray, Gw: np.ndarray) -> float:
    """SSE at w with the best intercept, ``r - 2 w'q + w'G w`` (>= 0 up to rounding)."""
    return max(r - 2.0 * float(w @ q) + float(w @ Gw), 0.0)


@dataclass(frozen=True)
class _GramProblem:
    """The (w | sigma) block of the MAP from the moments, in rescaled coordinates u = s w."""

    moments: Moments
    prior: Prior
    fit_intercept: bool
    G: np.ndarray
    q: np.ndarray
    r: float
    s: np.ndarray
    gram: GramCache

    @classmethod
    def of(cls, moments: Moments, prior: Prior, fit_intercept: bool) -> _GramProblem:
        G, q, r = moments.quadratic(fit_intercept)
        s = np.sqrt(np.diag(G) / moments.n)
        s[s == 0.0] = 1.0  # a constant column carries no information: left unscaled
        gram = GramCache.from_gram(G / np.outer(s, s), q / s)
        return cls(moments, prior, fit_intercept, G, q, r, s, gram)

    def residual_u(self, w: np.ndarray, sigma: float) -> float:
        """The block's KKT residual in u (the scale-free measure the tolerance refers to)."""
        g_w = (self.G @ w - self.q) / sigma**2
        return float(np.max(self.prior.kkt_residual(w, g_w, sigma) / self.s))

    def solve(self, w: np.ndarray, sigma: float, target: float, max_iter: int):
        """``(w, iterations)`` with the block's KKT residual in u at most ``target``."""
        a, c = self.prior.elastic_coefs(sigma)
        v, p, s = sigma**2, self.moments.p, self.s
        # working_set_lasso minimizes v times the objective: its tolerance is scaled alike
        res = working_set_lasso(
            None, None, np.full(p, v * a) / s, np.full(p, v * c) / s**2, s * w,
            0.5 * v * target, max_iter, gram=self.gram,
        )  # fmt: skip
        return res.u / s, int(res.n_iter)

    def sigma_terms(self, w: np.ndarray, log_sigma: float, h: float) -> tuple[float, float]:
        """(F, dF/dlog sigma) with w fixed, sigma ~ HalfNormal(h) (no Jacobian: MAP)."""
        n, sigma = self.moments.n, float(np.exp(log_sigma))
        sse = _sse(self.r, self.q, w, self.G @ w)
        value = sse / (2 * sigma**2) + n * log_sigma + 0.5 * n * np.log(2 * np.pi)
        value += 0.5 * (sigma / h) ** 2 + np.log(h) + 0.5 * np.log(0.5 * np.pi)
        value -= self.prior.logpdf(w, sigma)
        grad = -sse / sigma**2 + n + (sigma / h) ** 2
        if self.prior.scale_by_sigma:  # a scale family in sigma: d/dl -log p = p - w.grad P
            grad += self.moments.p - float(w @ self.prior.penalty_grad(w, sigma))
        return float(value), float(grad)


def moments_map(
    moments: Moments,
    prior: Prior,
    likelihood: Likelihood,
    *,
    fit_intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int = 20000,
    warn: bool = True,
) -> MapEstimate:
    """The MAP estimate from the moments alone: O(p^2) per iteration, whatever n.

    Minimizes over (w, b) and, when the likelihood estimates it, over sigma::

        F(w, b, sigma) = SSE(w, b) / (2 sigma^2) + n log sigma + n log(2 pi) / 2
                         + P(w; sigma) [+ sigma^2 / (2 h^2) + log h + log(pi / 2) / 2]

    where ``SSE = Syy - 2 w'Sxy + w'Sxx w + n (ybar - xbar'w - b)^2`` (raw moments without
    an intercept), ``P = a ||w||_1 + c ||w||^2 / 2 + log Z`` the prior's elastic penalty
    (Gaussian: a = 0; Laplace; ElasticNet; ``scale_by_sigma`` priors scale with sigma) and the
    bracket sigma's HalfNormal(h) prior (h: ``sigma_prior_scale``, else 2.5 sd(y), from the
    moments), with no log-Jacobian (PyMC's MAP convention, as :func:`bayesreg.map_estimate`).
    The intercept is ``ybar - xbar'w``. As ``map_estimate`` does, the (w | sigma) block is
    solved in rescaled coordinates ``u = s w`` (s the columns' root-mean-square after
    centring) by the working-set Gram coordinate descent; with sigma estimated, that block and
    the exact minimum over log sigma (a strictly convex 1-d problem with w fixed) alternate.
    ``tol`` is relative to the KKT residual of the null model (and, with sigma estimated, to
    |dF/dlog sigma| there): converged means the residual of the *whole* problem, max(block
    KKT residual in u, |dF/dlog sigma|), is below it. The same estimate as ``map_estimate`` on
    the full data, to that tolerance.

    Parameters
    ----------
    moments : Moments
    prior : Prior
        A prior with an elastic penalty (``Prior.elastic_coefs``).
    likelihood : Likelihood
        A Gaussian likelihood, sigma known (``GaussianLikelihood(sigma=...)``) or estimated.
    fit_intercept : bool, default True
    tol : float, default 1e-10
        Relative KKT tolerance.
    max_iter : int, default 20000
        Inner iterations at most (per block solve).
    warn : bool, default True
        Issue a :class:`~bayesreg.ConvergenceWarning` when ``tol`` is not reached.

    Returns
    -------
    MapEstimate
        ``method="working_set"``, ``evaluator="moments"``; ``optimality`` is the KKT residual
        in the caller's units (with sigma estimated, the larger of it and |dF/dlog sigma|),
        ``objective`` F at the estimate and ``sigma`` the estimated sigma (None when known).
    """
    start = time.perf_counter()
    moments = _check_moments(moments, "moments_map")
    check_prior_and_likelihood(prior, likelihood, "moments_map")
    tol = check_positive(tol, "tol", "moments_map")
    max_iter = check_positive_int(max_iter, "max_iter", "moments_map")
    require("moments_map", [HAS_MAP, ELASTIC_PENALTY, QUADRATIC_LIKELIHOOD], prior, likelihood)
    prob = _GramProblem.of(moments, prior, fit_intercept)
    if likelihood.fixed_sigma is not None:
        sigma, log_sigma = float(likelihood.fixed_sigma), None
        w, n_iter, r, target, note = _known_sigma_map(prob, sigma, tol, max_iter)
    else:
        h = likelihood.sigma_prior_scale_for_sd(moments.y_sd)
        w, log_sigma, n_iter, r, target, note = _joint_sigma_map(prob, h, tol, max_iter)
        sigma = float(np.exp(log_sigma))
    converged = bool(r <= target) and note is None
    if not converged and warn:
        why = note or (
            f"KKT residual {r:.3g} > tolerance {target:.3g} after {n_iter} iterations "
            f"(max_iter={max_iter}); raise max_iter or tol."
        )
        warnings.warn(f"moments_map did not converge: {why}", ConvergenceWarning, stacklevel=2)
    _, _, nll, g_w = _known_sigma_terms(moments, w, sigma, fit_intercept)
    optimality = float(np.max(prior.kkt_residual(w, g_w, sigma)))
    objective = float(nll - prior.logpdf(w, sigma))
    if log_sigma is not None:
        objective, g_s = prob.sigma_terms(w, log_sigma, h)
        optimality = max(optimality, abs(g_s))
    b = float(moments.y_mean - moments.x_mean @ w) if fit_intercept else 0.0
    return MapEstimate(
        coef=w, intercept=b, sigma=None if log_sigma is None else sigma, method="working_set",
        n_iter=n_iter, converged=converged, optimality=optimality, objective=objective,
        tol=tol, seconds=time.perf_counter() - start, evaluator="moments",
    )  # fmt: skip


def _null_target(prob: _GramProblem, sigma: float, tol: float) -> float:
    """``tol`` times the block's KKT residual in u at the null model w = 0 (at least tol)."""
    return tol * max(1.0, prob.residual_u(np.zeros(prob.moments.p), sigma))


def _known_sigma_map(prob: _GramProblem, sigma: float, tol: float, max_iter: int):
    target = _null_target(prob, sigma, tol)
    w, n_iter = prob.solve(np.zeros(prob.moments.p), sigma, target, max_iter)
    return w, n_iter, prob.residual_u(w, sigma), target, None


def _joint_sigma_map(prob: _GramProblem, h: float, tol: float, max_iter: int):
    """Alternate the exact log-sigma minimum (w fixed) and the (w | sigma) block.

    Each step lowers F, and the fixed point is a stationary point of the whole problem: the
    block is solved to 1e-3 of the joint target, so what remains is in the sigma coordinate.
    sigma is kept above 1e-8 of sd(y): below it y is fitted exactly and F -> -inf.
    """
    p = prob.moments.p
    sd_y = prob.moments.y_sd
    log_sigma = float(np.log(max(sd_y, 1e-8)))
    log_floor = log_sigma + float(np.log(1e-8))
    w = np.zeros(p)
    g_null = abs(prob.sigma_terms(w, log_sigma, h)[1])
    target = max(_null_target(prob, float(np.exp(log_sigma)), tol), tol * g_null)
    n_iter, r = 0, np.inf
    for _ in range(500):
        log_sigma = _sigma_argmin(prob, w, log_sigma, log_floor, h)
        if log_sigma is None:
            note = (f"the noise sd collapsed below {np.exp(log_floor):.3g} (sd(y) = {sd_y:.3g}): "
                    "y is fitted exactly, so the joint MAP of (w, b, sigma) does not exist; "
                    "pass a known sigma, or sample the posterior.")  # fmt: skip
            return w, log_floor, n_iter, r, target, note
        sigma = float(np.exp(log_sigma))
        w, k = prob.solve(w, sigma, 1e-3 * target, max_iter)
        n_iter += k
        r = max(prob.residual_u(w, sigma), abs(prob.sigma_terms(w, log_sigma, h)[1]))
        if r <= target:
            break
    return w, log_sigma, n_iter, r, target, None


def _sigma_argmin(prob: _GramProblem, w: np.ndarray, log_sigma: float, log_floor: float, h: float):
    """argmin of F over log sigma with w fixed: the root of its increasing derivative (each
    term is convex in log sigma, the half-normal prior strictly); None when it lies below
    ``log_floor`` (SSE = 0: no minimum)."""
    from scipy import optimize

    def dF(ls: float) -> float:
        return prob.sigma_terms(w, ls, h)[1]

    lo, hi = log_sigma - 0.5, log_sigma + 0.5
    while dF(lo) >= 0.0 and lo > log_floor:
        lo = max(lo - 2.0 * (hi - lo), log_floor)
    if dF(lo) >= 0.0:
        return None
    while dF(hi) <= 0.0:
        hi += 2.0 * (hi - lo)
    return float(optimize.brentq(dF, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


@dataclass(frozen=True)
class MomentsPosterior(Result):
    """The exact conjugate posterior of ``theta = (w, intercept)`` computed from moments.

    The posterior is built in centred coordinates, ``theta_c = (w, b_c)`` with
    ``b_c = b - ybar + xbar'w`` (the intercept of the centred data), where the Gram matrix is
    block diagonal, ``[[Sxx, 0], [0, n]]``, and then mapped back: ``theta = T theta_c + o``
    with ``T = [[I, 0], [-xbar', 1]]`` and ``o = (0, ..., 0, ybar)``. Without an intercept
    ``T = I``, ``o = 0`` and ``centred`` is the posterior itself.

    Attributes
    ----------
    centred : ConjugatePosterior
        The posterior of theta_c (see :class:`~bayesreg.ConjugatePosterior`: known sigma, or
        sigma estimated with a ``scale_by_sigma`` Gaussian prior).
    x_mean : ndarray of shape (p,)
    y_mean : float
    feature_names : tuple of str
    """

    centred: ConjugatePosterior
    x_mean: np.ndarray
    y_mean: float
    feature_names: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """``("w[feature]", ..., "intercept")``: the order of ``mean`` and ``cov``."""
        return self.centred.names

    @property
    def sigma(self) -> float | None:
        """The known sigma, or None when sigma is estimated."""
        return self.centred.sigma

    @property
    def posterior(self) -> ConjugatePosterior:
        """The posterior of theta itself (``centred`` mapped back by
        :func:`bayesreg.sampling.exact.uncentred`)."""
        if not self.centred.fit_intercept:
            return self.centred
        from bayesreg.sampling.exact import uncentred

        return uncentred(self.centred, self.x_mean, self.y_mean)

    @property
    def mean(self) -> np.ndarray:
        """Posterior mean of theta, shape (k,) (k = p, plus 1 with an intercept)."""
        return self.posterior.mean

    def cov(self, sigma: float = 1.0) -> np.ndarray:
        """Posterior covariance of theta (given sigma when sigma is estimated), shape (k, k)."""
        return self.posterior.cov(sigma)

    def sample(self, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``size`` independent draws: ``theta`` (size, k) and ``sigma`` (size,)."""
        return self.posterior.sample(size, rng)

    def sample_idata(
        self, *, draws: int = 1000, chains: int = 4, random_seed: object = None
    ) -> Any:
        """``chains * draws`` independent draws as an ``arviz.InferenceData``.

        Its ``posterior`` group has the layout of ``sample_posterior(..., backend="exact")``:
        ``w`` (chain, draw, feature), ``intercept`` (when fitted), ``sigma`` (when estimated).
        There is no ``log_likelihood`` or ``observed_data`` group: the rows are not kept.
        """
        from bayesreg.sampling.exact import exact_draws

        draws = check_positive_int(draws, "draws", "MomentsPosterior.sample_idata")
        chains = check_positive_int(chains, "chains", "MomentsPosterior.sample_idata")
        seed = check_random_seed(random_seed, owner="MomentsPosterior.sample_idata")
        return exact_draws(
            self, np.random.default_rng(seed), chains=chains, draws=draws,
            feature_names=self.feature_names, sigma_estimated=self.sigma is None,
        )  # fmt: skip


def moments_posterior(
    moments: Moments, prior: Prior, likelihood: Likelihood, *, fit_intercept: bool = True
) -> MomentsPosterior:
    """The exact conjugate posterior from the moments alone (O(p^3), whatever n).

    The same posterior as :func:`bayesreg.conjugate_posterior` of the model on the full data
    (see :class:`~bayesreg.ConjugatePosterior` for the formulas): a Gaussian prior with
    ``GaussianLikelihood(sigma=...)``, or ``Gaussian(c, scale_by_sigma=True)`` with sigma
    estimated (then sigma's half-normal prior scale defaults to ``2.5 sd(y)``, from the
    moments). Computed in centred coordinates (:class:`MomentsPosterior`), so a large offset of
    X or y costs no digits.

    Parameters
    ----------
    moments : Moments
    prior : Prior
    likelihood : Likelihood
    fit_intercept : bool, default True
        The intercept has a flat prior.

    Returns
    -------
    MomentsPosterior

    Raises
    ------
    ValueError
        A model that is not conjugate, saying why.
    """
    from bayesreg.sampling.exact import conjugate_from_gram, conjugate_problem

    moments = _check_moments(moments, "moments_posterior")
    check_prior_and_likelihood(prior, likelihood, "moments_posterior")
    problem = conjugate_problem(prior, likelihood)
    if problem is not None:
        raise ValueError(problem)
    G, q, r = moments.quadratic(fit_intercept)
    p, n = moments.p, moments.n
    names = tuple(f"w[{f}]" for f in moments.feature_names)
    pen = np.ones(p)
    if fit_intercept:
        # theta_c = (w, b_c): the Gram matrix of [Xc, 1] is block diagonal and yc sums to 0
        G = linalg.block_diag(G, np.array([[float(n)]]))
        q, pen, names = np.append(q, 0.0), np.append(pen, 0.0), (*names, "intercept")
    h = np.nan
    if likelihood.fixed_sigma is None:
        h = likelihood.sigma_prior_scale_for_sd(moments.y_sd)
    post = conjugate_from_gram(G, q, r, n, pen, names, prior, likelihood, sigma_prior_scale=h)
    return MomentsPosterior(
        post, np.array(moments.x_mean), float(moments.y_mean), moments.feature_names
    )


def moments_horseshoe(
    moments: Moments,
    prior: Prior,
    likelihood: Likelihood,
    *,
    fit_intercept: bool = True,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    random_seed: object = None,
    progressbar: bool = False,
    **kwargs: Any,
) -> Any:
    """The horseshoe posterior from the moments alone: the collapsed sampler, O(p^3) per step.

    With a Gaussian likelihood the weights and the intercept of a horseshoe (or regularized
    horseshoe) regression integrate out: PyMC's NUTS samples the hyperparameters from their
    marginal posterior, written with ``Sxx``, ``Sxy`` and ``Syy`` only, and each draw is
    completed by an exact draw of (w, b) (:mod:`bayesreg.sampling.collapsed`, the sampler that
    ``sample_posterior`` uses for these models; see its docstring for the formulas). The prior
    scale is the prior's own.

    Parameters
    ----------
    moments : Moments
    prior : Prior
        A conditionally Gaussian prior (``Prior.collapsible``: ``Horseshoe``,
        ``RegularizedHorseshoe``), with p <= ``MAX_FEATURES``.
    likelihood : Likelihood
        A Gaussian likelihood (sigma known or estimated).
    fit_intercept : bool, default True
    draws, tune, chains : int
    random_seed : int, numpy Generator or None
    progressbar : bool, default False
    **kwargs
        ``target_accept`` (default ``COLLAPSED_TARGET_ACCEPT``, the collapsed sampler's),
        ``max_treedepth`` and ``pm.sample`` keywords.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (the hyperparameters, ``w``, ``w_z``, ``intercept``, ``sigma`` when
        estimated, as ``sample_posterior`` gives them) and ``sample_stats``.
    """
    from bayesreg.sampling.collapsed import (
        COLLAPSED_TARGET_ACCEPT,
        CollapsedHorseshoe,
        CollapsedStatistics,
        run_collapsed,
    )
    from bayesreg.sampling.pymc_nuts import PymcBackend
    from bayesreg.sampling.settings import check_keywords, sampler_settings

    moments = _check_moments(moments, "moments_horseshoe")
    check_prior_and_likelihood(prior, likelihood, "moments_horseshoe")
    settings = sampler_settings(draws, tune, chains, random_seed, progressbar, False, None, kwargs)
    engine = PymcBackend()
    check_keywords(settings.given, engine.keywords(), engine.name)
    G, q, r = moments.quadratic(fit_intercept)
    zeros = np.zeros(moments.p)
    stats = CollapsedStatistics(
        moments.n, bool(fit_intercept),
        np.array(moments.x_mean) if fit_intercept else zeros,
        float(moments.y_mean) if fit_intercept else 0.0,
        G, q, r, moments.y_sd,
    )  # fmt: skip
    collapsed = CollapsedHorseshoe.from_statistics(prior, likelihood, stats, moments.feature_names)
    target_accept = settings.target_accept or COLLAPSED_TARGET_ACCEPT
    run = run_collapsed(collapsed, engine, settings, target_accept)
    run.idata.attrs.update({**run.attrs, "prior": repr(prior), "likelihood": repr(likelihood)})
    return run.idata


def moments_sample(
    moments: Moments,
    prior: Prior,
    likelihood: Likelihood,
    *,
    fit_intercept: bool = True,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    random_seed: object = None,
    progressbar: bool = False,
    **kwargs: Any,
) -> Any:
    """NUTS on the posterior from the moments alone: O(p^2) per gradient, whatever n.

    The default sampler's static numba kernel (:mod:`bayesreg._fastlogp`, nutpie's Rust NUTS,
    one thread per chain) evaluates the model's log posterior with the data term written in
    the sufficient statistics::

        SSE(w, b) = rss0 - 2 d'g0 + d'G d + n (ybar - xbar'w - b)^2,   d = w - w0

    (``G``, ``g0``, ``rss0`` from ``Sxx``, ``Sxy``, ``Syy``; ``w0`` a least-squares anchor), the
    same function ``sample_posterior`` runs for the model on the rows (tested equal to 1e-10).
    NUTS moves the intercept of the centred data, ``b - ybar + xbar'w``, which is independent
    of w a posteriori (the same posterior: a flat prior and a unit Jacobian), and the draws of
    b are mapped back; on columns far from 0 the raw b would be strongly correlated with w.
    For any prior with an elastic penalty (Gaussian, Laplace, ElasticNet; ``scale_by_sigma``
    too) and a Gaussian likelihood, sigma known or estimated (HalfNormal(h), h =
    ``sigma_prior_scale``, else 2.5 sd(y)). The initial point is the model's (w = 0, b = 0,
    sigma = h) with PyMC's U(-1, 1) jitter.

    Parameters
    ----------
    moments : Moments
    prior : Prior
        A prior with an elastic penalty (``Prior.elastic_coefs``).
    likelihood : Likelihood
        A Gaussian likelihood.
    fit_intercept : bool, default True
        The intercept has a flat prior.
    draws, tune, chains : int
    random_seed : int, numpy Generator or None
    progressbar : bool, default False
    **kwargs
        ``target_accept`` (default 0.8), ``max_treedepth`` and ``nutpie.sample`` keywords.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` (``w`` with a ``feature`` coordinate, ``intercept``, ``sigma`` when
        estimated) and ``sample_stats``, with the attrs of ``sample_posterior``; no
        ``log_likelihood`` or ``observed_data`` (there are no rows).

    Raises
    ------
    ValueError
        A prior or likelihood the kernel does not evaluate, saying why.
    ImportError
        Without nutpie (the ``fast`` extra).
    """
    from bayesreg import _fastlogp
    from bayesreg.sampling.defaults import FAST_EXTRA, TARGET_ACCEPT
    from bayesreg.sampling.idata import assemble_without_rows
    from bayesreg.sampling.nutpie_nuts import nutpie_keywords, sample_statistics_kernel
    from bayesreg.sampling.settings import check_keywords, sampler_settings

    moments = _check_moments(moments, "moments_sample")
    check_prior_and_likelihood(prior, likelihood, "moments_sample")
    settings = sampler_settings(draws, tune, chains, random_seed, progressbar, False, None, kwargs)
    try:
        import nutpie  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"moments_sample needs the optional package 'nutpie'. Install the 'fast' extra: "
            f"{FAST_EXTRA}."
        ) from exc
    check_keywords(settings.given, nutpie_keywords(), "nutpie")
    if prior.collapsible and _fastlogp.kernel_problem_for(prior, likelihood) is not None:
        raise ValueError(
            f"moments_sample runs the static kernel, which does not evaluate {prior!r}: for a "
            "horseshoe-type prior use bayesreg.moments_horseshoe (the collapsed sampler)."
        )
    data, slices, start = _moments_kernel(moments, prior, likelihood, fit_intercept)
    target_accept = settings.target_accept or TARGET_ACCEPT
    names = list(moments.feature_names)
    run = sample_statistics_kernel(data, slices, names, start, settings, target_accept)
    return assemble_without_rows(run, names, "nutpie", prior, likelihood)


def _moments_kernel(moments: Moments, prior: Prior, likelihood: Likelihood, fit_intercept: bool):
    """The static kernel's data for the moments, its layout and the model's initial point.

    The sampled intercept is that of the centred data, ``d = b - ybar + xbar'w`` (statistics
    with x_mean = 0 and y_mean = 0; KernelData's centred form, mapped back by ``uncentre``):
    with a flat prior and a unit Jacobian the posterior is the same, but d is independent of w
    a posteriori, where b is not (columns of mean 100 and sd 1 gave b a correlation with w that
    left NUTS at a bulk ESS of 5, R-hat 3.5).
    """
    from bayesreg import _fastlogp

    G, q, r = moments.quadratic(fit_intercept)
    st = _fastlogp.statistics_from_quadratic(G, q, r, np.zeros(moments.p), 0.0)
    shift = (np.array(moments.x_mean), float(moments.y_mean)) if fit_intercept else None
    data, slices = _fastlogp.KernelData.from_statistics(
        st, moments.n, prior, likelihood, moments.y_sd, fit_intercept, shift
    )
    start = np.zeros(sum(size for _, size in slices.values()))
    if "sigma_log__" in slices:  # PyMC's initial point of HalfNormal(h): h
        start[slices["sigma_log__"][0]] = np.log(likelihood.sigma_prior_scale_for_sd(moments.y_sd))
    return data, slices, start
