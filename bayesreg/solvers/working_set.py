"""Working-set solver for a quadratic data term with an L1 + L2 penalty (pure numpy).

The problem (the Gaussian-likelihood MAP at fixed sigma, in the solvers' centred, rescaled
coordinates, multiplied through by sigma^2; see :mod:`bayesreg.solvers._problem`)::

    min_u  1/2 ||y - Z u||^2 + sum_j lam_j |u_j| + 1/2 sum_j mu_j u_j^2        Z: (n, p)

Strategy (celer / skglm style): most coordinates of a sparse solution are zero, so the problem
is solved on a small *working set* W of features -- the current support plus the features that
violate the optimality conditions most, ``max(10, 2 |support|)`` of them -- and W is grown
until the KKT conditions hold on all p features. On W the data term is the quadratic
``1/2 v' H v - q' v`` with ``H = Z_W' Z_W + diag(mu_W)``, so an inner iteration costs
O(|W|^2) instead of O(n p):

* inner solver (:func:`gram_lasso`): FISTA with gradient-based adaptive restart and
  backtracking on that quadratic, handing over to
* exact active-set steps (feature-sign search, :func:`_active_set`) as soon as the support is
  stable: with the signs fixed the penalty is smooth and the minimizer on the support solves
  ``H_SS v_S = q_S - lam_S sign_S`` (one Cholesky solve); a line search over the points where
  coefficients cross zero keeps every step a strict decrease, and the search ends at an exact
  KKT point: the solution to machine precision, zeros exact.
* a nonzero warm start (the previous point of a path) goes straight to active-set steps on all
  p features, which usually finish in a few steps because neighbouring solutions share most of
  their support.

Products with ``Z'Z`` go through a :class:`GramCache` (columns kept across a path when that
pays). The inner solver first runs cyclic coordinate descent on ``H`` compiled by numba (a
dependency: :data:`_cd_gram`, cached on disk), solving each working set to ``tol``, and the
final point gets one exact solve with its sign pattern (:func:`_sign_polish`); FISTA and the
active-set steps remain the fallback when coordinate descent does not finish.

These functions only see numpy arrays; :func:`bayesreg.solvers.map_estimate` re-checks the
final point with the gradient from the MAP problem's evaluator and falls back to full
proximal gradient if that certificate fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.linalg import lapack

from bayesreg._results import Result

__all__ = ["GramCache", "WorkingSetResult", "gram_lasso", "kkt_l1", "working_set_lasso"]


@dataclass(frozen=True)
class WorkingSetResult(Result):
    """Output of :func:`working_set_lasso`.

    Attributes
    ----------
    u : ndarray of shape (p,)
        The solution (exact zeros outside the support).
    n_iter : int
        Inner iterations (FISTA steps and active-set steps) over all outer iterations.
    n_outer : int
        Outer (working-set) iterations.
    optimality : float
        max KKT residual over all p features at ``u``.
    converged : bool
        ``optimality <= tol``.
    """

    u: np.ndarray
    n_iter: int
    n_outer: int
    optimality: float
    converged: bool


def kkt_l1(v: np.ndarray, g: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Distance of ``-g`` to ``lam * subdifferential of |v|``, per coordinate.

    ``g`` is the gradient of the smooth part (the L2 part included). Zero exactly at a
    minimizer: ``|g_j + lam_j sign(v_j)|`` where ``v_j != 0``, ``max(|g_j| - lam_j, 0)`` where
    ``v_j = 0``.
    """
    return np.where(v != 0.0, np.abs(g + lam * np.sign(v)), np.maximum(np.abs(g) - lam, 0.0))


def _soft(v: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


class _Dense(NamedTuple):
    """The quadratic ``1/2 x' H x - q' x`` with H given as a dense matrix."""

    H: np.ndarray
    q: np.ndarray

    def grad(self, x: np.ndarray, S: np.ndarray) -> np.ndarray:
        return self.H[:, S] @ x[S] - self.q if S.size else -self.q

    def block(self, S: np.ndarray) -> np.ndarray:
        return self.H[np.ix_(S, S)]


class _Cached(NamedTuple):
    """The quadratic ``1/2 u' (Z'Z + diag(mu)) u - (Z'y)' u`` over all p features."""

    gram: GramCache
    mu: np.ndarray

    @property
    def q(self) -> np.ndarray:
        return self.gram.Zty

    def grad(self, x: np.ndarray, S: np.ndarray) -> np.ndarray:
        return self.gram.gram_times(x) + self.mu * x - self.gram.Zty

    def block(self, S: np.ndarray) -> np.ndarray:
        B = self.gram.block(S)
        B[np.diag_indices_from(B)] += self.mu[S]
        return B


def _active_set(
    quad: _Dense | _Cached,
    lam: np.ndarray,
    x: np.ndarray,
    tol: float,
    max_steps: int,
    batch: int = 8,
) -> tuple[np.ndarray, int, bool]:
    """Feature-sign search (Lee, Battle, Raina & Ng, 2007) from ``x``: an exact active-set method.

    Minimizes ``1/2 x' H x - q' x + sum_j lam_j |x_j|`` (``quad`` gives H's blocks and the
    gradient). Each step fixes the signs theta of the active set S and solves the smooth
    problem on S exactly, ``H_SS x_S = q_S - lam_S theta_S`` (Cholesky); it then moves along
    the segment from the current point to that solution to whichever of its end and the points
    where a coefficient crosses zero has the lowest objective (evaluated in closed form along
    the segment), dropping coefficients that reach zero. When the nonzeros are optimal, the zero
    coordinate that violates the KKT conditions most joins S with the sign that decreases the
    objective (with up to ``batch - 1`` others whose violation is at least half of it: fewer
    steps when several features enter at once). The objective decreases strictly at every step
    (a step that would not decrease it ends the search), so the method stops at the exact
    minimizer after finitely many steps (few when started near it, e.g. from a neighbouring
    solution on a path or a FISTA iterate). Returns the point reached, the steps taken and
    whether it is a KKT point to ``tol``.
    """
    x = x.copy()
    theta = np.sign(x)
    q = quad.q
    for step in range(max_steps + 1):
        S = np.flatnonzero(theta)
        g = quad.grad(x, S)
        viol = kkt_l1(x, g, lam)
        if float(np.max(viol, initial=0.0)) <= tol:
            return x, step, True
        if step == max_steps:
            break
        if S.size == 0 or float(np.max(viol[S])) <= tol:
            # nonzeros optimal: activate the worst zero coordinates (up to `batch`, those within
            # half of the worst violation), each with the sign that decreases the objective
            zero_viol = np.where(theta == 0.0, viol, -1.0)
            worst = float(np.max(zero_viol))
            cand = np.flatnonzero(zero_viol >= 0.5 * worst)
            if cand.size > batch:
                cand = cand[np.argsort(zero_viol[cand])[-batch:]]
            theta[cand] = -np.sign(g[cand])
            S = np.flatnonzero(theta)
        xs, th = x[S], theta[S]
        Hss = quad.block(S)
        # Cholesky solve (LAPACK posv); H_SS is positive definite unless |S| exceeds the rank
        # of Z_S (no L2 part), and then info > 0 ends the search
        _, xn, info = lapack.dposv(Hss, q[S] - lam[S] * th)
        if info != 0:
            break
        d = xn - xs
        if not np.all(np.isfinite(d)) or not np.any(d):
            break
        # objective along x + t d (t in [0, 1]): quadratic part closed form, L1 part exact
        a = 0.5 * float(d @ (Hss @ d))
        b = float(d @ g[S])
        cross = (xs != 0.0) & (np.sign(xn) != np.sign(xs))
        t_cross = xs[cross] / (xs[cross] - xn[cross])
        ts = np.append(t_cross, 1.0)
        ts = ts[(ts > 0.0) & (ts <= 1.0)]
        l1_0 = float(lam[S] @ np.abs(xs))
        pts = xs[None, :] + ts[:, None] * d[None, :]
        dF = ts * b + ts**2 * a + np.abs(pts) @ lam[S] - l1_0
        best = int(np.argmin(dF))
        if not dF[best] < 0.0:
            break
        t = ts[best]
        new = pts[best]
        if t < 1.0:
            # the coefficient(s) whose crossing point this is land exactly on zero
            hit = np.zeros(S.size, dtype=bool)
            hit[np.flatnonzero(cross)[t_cross == t]] = True
            new[hit] = 0.0
        x[S] = new
        theta[S] = np.sign(new)
    S = np.flatnonzero(x)
    return x, step, bool(float(np.max(kkt_l1(x, quad.grad(x, S), lam), initial=0.0)) <= tol)


def _power_eig(H: np.ndarray, n_steps: int = 8) -> float:
    """Rayleigh-quotient estimate of the largest eigenvalue (a lower bound; FISTA backtracks)."""
    x = np.ones(H.shape[0])
    rho = float(np.max(np.diag(H), initial=0.0))
    for _ in range(n_steps):
        y = H @ x
        norm = float(np.linalg.norm(y))
        if norm == 0.0:
            break
        rho = max(rho, float(x @ y) / float(x @ x))
        x = y / norm
    return rho


def _cd_gram_py(
    H: np.ndarray, q: np.ndarray, lam: np.ndarray, x: np.ndarray, tol: float, max_epochs: int
) -> tuple[int, bool]:
    """Cyclic coordinate descent on ``1/2 x' H x - q' x + sum_j lam_j |x_j|``, in place on x.

    The gradient ``g = H x - q`` is carried along (a coordinate move d of x_j adds
    ``d H[:, j]``, read as the row ``H[j]`` since H is symmetric and C-ordered), so an epoch
    costs O(k^2). After each epoch the KKT residual of :func:`kkt_l1` is checked; when it is
    at most ``tol`` the gradient is recomputed from scratch (no drift from the updates) and the
    check repeated before stopping. Coordinates with ``H_jj <= 0`` (an all-zero column) are
    skipped: their optimum is 0 unless ``|q_j| > lam_j``, which the KKT check then reports.
    Returns (epochs, converged). Compiled with numba as :data:`_cd_gram`; this Python twin is
    what the tests compare it with.
    """
    k = x.shape[0]
    g = np.empty(k)
    for i in range(k):
        acc = -q[i]
        for j in range(k):
            acc += H[i, j] * x[j]
        g[i] = acc
    for epoch in range(1, max_epochs + 1):
        for j in range(k):
            hjj = H[j, j]
            if hjj <= 0.0:
                continue
            xj = x[j]
            v = xj - g[j] / hjj
            t = lam[j] / hjj
            if v > t:
                nx = v - t
            elif v < -t:
                nx = v + t
            else:
                nx = 0.0
            d = nx - xj
            if d != 0.0:
                x[j] = nx
                for i in range(k):
                    g[i] += d * H[j, i]
        for attempt in range(2):
            worst = 0.0
            for j in range(k):
                if x[j] > 0.0:
                    r = abs(g[j] + lam[j])
                elif x[j] < 0.0:
                    r = abs(g[j] - lam[j])
                else:
                    r = max(abs(g[j]) - lam[j], 0.0)
                worst = max(worst, r)
            if worst > tol:
                break
            if attempt == 1:
                return epoch, True
            for i in range(k):
                acc = -q[i]
                for j in range(k):
                    acc += H[i, j] * x[j]
                g[i] = acc
    return max_epochs, False


#: the compiled kernel (cached on disk, so the JIT cost is paid once per machine)
_cd_gram = njit(cache=True, nogil=True)(_cd_gram_py)

#: coordinate-descent epochs tried before handing over to FISTA / active-set steps
CD_EPOCHS = 200


def gram_lasso(
    H: np.ndarray,
    q: np.ndarray,
    lam: np.ndarray,
    v0: np.ndarray,
    tol: float,
    max_iter: int,
    polish_steps: int = 20,
) -> tuple[np.ndarray, int, bool]:
    """Minimize ``1/2 v' H v - q' v + sum_j lam_j |v_j|`` (H symmetric positive semidefinite).

    Exact active-set steps (:func:`_active_set`, at most ``polish_steps`` at a time) from a
    nonzero warm start; otherwise, or if they do not finish, FISTA with adaptive restart, handing
    over to the active-set steps whenever the support has been stable for a while (then 2x as
    long, ...). The step
    starts at 1 / (power-iteration estimate of the largest eigenvalue of H) and is shortened
    whenever the quadratic upper bound fails (for a quadratic, ``d' H d <= ||d||^2 / step``,
    checked exactly at no extra cost because ``H x`` is carried along), so FISTA's guarantees
    hold.

    Parameters
    ----------
    H : ndarray of shape (k, k)
    q : ndarray of shape (k,)
    lam : ndarray of shape (k,), >= 0
    v0 : ndarray of shape (k,)
        Warm start.
    tol : float
        Stop when the max KKT residual (:func:`kkt_l1`) is at most ``tol``.
    max_iter : int
        FISTA steps at most.
    polish_steps : int, default 20
        Active-set steps per hand-over.

    Returns
    -------
    v : ndarray of shape (k,)
    n_iter : int
        FISTA steps plus active-set steps.
    converged : bool
    """
    x = np.array(v0, dtype=np.float64, copy=True)
    n_cd = 0
    if x.size:
        # compiled cyclic coordinate descent: an epoch is O(k^2) with no Python overhead, and
        # on a working set it usually converges in a few dozen epochs; if not, its point warm
        # starts the exact active-set steps / FISTA below
        H = np.ascontiguousarray(H, dtype=np.float64)
        n_cd, ok = _cd_gram(
            H,
            np.ascontiguousarray(q, dtype=np.float64),
            np.ascontiguousarray(lam, dtype=np.float64),
            x,
            float(tol),
            min(CD_EPOCHS, max_iter),
        )
        if ok:
            return x, n_cd, True
    if float(np.max(kkt_l1(x, H @ x - q, lam), initial=0.0)) <= tol:
        return x, n_cd, True
    n_as = n_cd
    if np.any(x):
        # a warm start along a path is close to the solution: a few exact active-set steps
        x, n_as, ok = _active_set(_Dense(H, q), lam, x, tol, max_steps=polish_steps)
        if ok:
            return x, n_as, True
    return _fista_gram(H, q, lam, x, tol, max_iter, polish_steps, n_as)


def _fista_gram(
    H: np.ndarray,
    q: np.ndarray,
    lam: np.ndarray,
    x: np.ndarray,
    tol: float,
    max_iter: int,
    polish_steps: int,
    n_as: int,
) -> tuple[np.ndarray, int, bool]:
    """FISTA with restart and backtracking on the quadratic of :func:`gram_lasso`, handing over
    to exact active-set steps whenever the support has been stable for a while."""
    Hx = H @ x
    L = max(_power_eig(H), 1e-300)
    x_prev, Hx_prev, t = x, Hx, 1.0
    support: np.ndarray | None = None
    stable, wait = 0, 2
    for it in range(1, max_iter + 1):
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_new
        y = x + beta * (x - x_prev)
        Hy = Hx + beta * (Hx - Hx_prev)
        g = Hy - q
        while True:
            x_new = _soft(y - g / L, lam / L)
            Hx_new = H @ x_new
            d = x_new - y
            dd = float(d @ d)
            # quadratic upper bound at step 1/L (exact for a quadratic); else lengthen L
            dHd = float(d @ (Hx_new - Hy))
            if dHd <= L * dd * (1.0 + 1e-10):
                break
            L = max(2.0 * L, dHd / dd)
        if float(d @ (x_new - x)) < 0.0:
            # momentum points uphill (O'Donoghue & Candes, 2015): restart
            x_prev, Hx_prev, t = x_new, Hx_new, 1.0
        else:
            x_prev, Hx_prev, t = x, Hx, t_new
        x, Hx = x_new, Hx_new
        if L * float(np.max(np.abs(d), initial=0.0)) <= tol:
            if float(np.max(kkt_l1(x, Hx - q, lam), initial=0.0)) <= tol:
                return x, it, True
        new_support = x != 0.0
        stable = stable + 1 if support is not None and np.array_equal(new_support, support) else 0
        support = new_support
        if stable == wait:
            # the support looks settled: finish with exact active-set steps; if they run out,
            # FISTA goes on from their (lower-objective) point without momentum
            xa, k, ok = _active_set(_Dense(H, q), lam, x, tol, max_steps=polish_steps)
            n_as += k
            if ok:
                return xa, it + n_as, True
            x, x_prev, Hx, t = xa, xa, H @ xa, 1.0
            Hx_prev = Hx
            wait *= 2
    return x, max_iter + n_as, bool(float(np.max(kkt_l1(x, Hx - q, lam), initial=0.0)) <= tol)


class GramCache:
    """``Z'y`` and the products with ``Z'Z`` the working-set solver needs.

    A working set only needs ``Z_W' Z_W`` and, for the outer KKT check, ``Z'Z u`` with u
    supported on a few features. With ``store_columns`` the columns of ``Z'Z`` of features that
    enter a working set are computed once (``n p`` flops each) and kept (memory: p x the number
    of distinct features seen): the right choice when p <= n, or along a path where the same
    features come back at every point. Without it each block costs ``n |W|^2`` and each product
    ``Z' (Z_S u_S)``, ``n (|S| + p)``: cheaper for a single solve with p > n.
    """

    def __init__(self, Z: np.ndarray, y: np.ndarray, store_columns: bool | None = None) -> None:
        self.Z = Z
        n, p = Z.shape
        self.store_columns = p <= n if store_columns is None else bool(store_columns)
        self.Zty = Z.T @ y
        self._pos = np.full(p, -1, dtype=np.intp)
        self._cols = np.empty((p, min(p, 32)), order="F")
        self._m = 0

    @classmethod
    def from_gram(cls, gram: np.ndarray, Zty: np.ndarray) -> GramCache:
        """A cache holding a precomputed ``Z'Z`` (p, p) and ``Z'y`` (p,), with no Z.

        For data known only through its moments (:mod:`bayesreg.moments`): every column is
        already stored, so :meth:`block` and :meth:`gram_times` cost O(|W|^2) and O(p |S|)
        whatever n was. The arrays are copied.
        """
        G = np.array(gram, dtype=np.float64, order="F", copy=True)
        p = G.shape[0]
        if G.shape != (p, p) or np.shape(Zty) != (p,):
            raise ValueError(
                f"GramCache.from_gram needs gram of shape (p, p) and Zty of shape (p,); got "
                f"{G.shape} and {np.shape(Zty)}."
            )
        self = cls.__new__(cls)
        self.Z = None
        self.store_columns = True
        self.Zty = np.array(Zty, dtype=np.float64, copy=True)
        self._pos = np.arange(p, dtype=np.intp)
        self._cols = G
        self._m = p
        return self

    @property
    def p(self) -> int:
        """Number of features."""
        return int(self.Zty.shape[0])

    def _ensure(self, idx: np.ndarray) -> None:
        new = idx[self._pos[idx] < 0]
        if new.size == 0:
            return
        m, need = self._m, self._m + new.size
        if need > self._cols.shape[1]:
            grown = np.empty((self._cols.shape[0], max(need, 2 * self._cols.shape[1])), order="F")
            grown[:, :m] = self._cols[:, :m]
            self._cols = grown
        self._cols[:, m:need] = self.Z.T @ self.Z[:, new]
        self._pos[new] = np.arange(m, need)
        self._m = need

    def block(self, W: np.ndarray) -> np.ndarray:
        """``Z_W' Z_W``, shape (|W|, |W|) (a new array)."""
        if not self.store_columns:
            ZW = self.Z[:, W]
            return ZW.T @ ZW
        self._ensure(W)
        return self._cols[np.ix_(W, self._pos[W])]

    def gram_times(self, u: np.ndarray) -> np.ndarray:
        """``Z'Z u``, shape (p,), using only the columns of u's support."""
        S = np.flatnonzero(u)
        if S.size == 0:
            return np.zeros_like(u)
        if not self.store_columns:
            return self.Z.T @ (self.Z[:, S] @ u[S])
        self._ensure(S)
        return self._cols[:, self._pos[S]] @ u[S]


def _max_kkt(gram: GramCache, mu: np.ndarray, lam: np.ndarray, u: np.ndarray) -> float:
    g = gram.gram_times(u) + mu * u - gram.Zty
    return float(np.max(kkt_l1(u, g, lam), initial=0.0))


def _sign_polish(
    gram: GramCache, mu: np.ndarray, lam: np.ndarray, u: np.ndarray, r: float
) -> tuple[np.ndarray, float]:
    """Exact minimizer for the sign pattern of u: ``(Z_S'Z_S + diag(mu_S)) u_S = Z_S'y - lam_S
    sign(u_S)`` (Cholesky), kept only if no sign changes and its KKT residual is at most ``r``
    (u's own residual); otherwise ``(u, r)`` unchanged."""
    S = np.flatnonzero(u)
    if S.size == 0:
        return u, r
    B = gram.block(S)
    B[np.diag_indices_from(B)] += mu[S]
    sign = np.sign(u[S])
    _, xs, info = lapack.dposv(B, gram.Zty[S] - lam[S] * sign)
    if info != 0 or not np.all(np.isfinite(xs)) or np.any(np.sign(xs) != sign):
        return u, r
    new = np.zeros_like(u)
    new[S] = xs
    r_new = _max_kkt(gram, mu, lam, new)
    return (new, r_new) if r_new <= r else (u, r)


def working_set_lasso(
    Z: np.ndarray | None,
    y: np.ndarray | None,
    lam: np.ndarray,
    mu: np.ndarray,
    u0: np.ndarray,
    tol: float,
    max_iter: int = 20000,
    ws_min: int = 10,
    gram: GramCache | None = None,
    polish_steps: int = 20,
) -> WorkingSetResult:
    """Minimize ``1/2 ||y - Z u||^2 + sum_j lam_j |u_j| + 1/2 sum_j mu_j u_j^2`` over u (p,).

    Parameters
    ----------
    Z : ndarray of shape (n, p), or None
        None when ``gram`` is given (then only ``gram`` is read: see
        :meth:`GramCache.from_gram`).
    y : ndarray of shape (n,), or None
        None when ``gram`` is given.
    lam, mu : ndarray of shape (p,), >= 0
        L1 and L2 weights per coordinate.
    u0 : ndarray of shape (p,)
        Warm start (e.g. the solution at the previous point of a path).
    tol : float
        Stop when the max KKT residual over all p coordinates is at most ``tol``.
    max_iter : int, default 20000
        Inner iterations in total.
    ws_min : int, default 10
        Smallest working set; it is otherwise twice the current support (skglm's rule), the
        support always included and the rest filled with the largest KKT violations.
    gram : GramCache, optional
        Cached Gram columns of ``(Z, y)`` to reuse across calls (a path); built if omitted.
    polish_steps : int, default 20
        Exact active-set steps tried at a time: from a nonzero warm start on all p features
        (a path usually needs a handful), and inside :func:`gram_lasso`.

    Returns
    -------
    WorkingSetResult
    """
    gram = GramCache(Z, y) if gram is None else gram
    p = gram.p
    u = np.array(u0, dtype=np.float64, copy=True)
    total, worst = 0, np.inf
    if np.any(u):
        # warm start (a neighbouring point of a path): exact active-set steps on all p
        # features first; they need only the Gram columns of the support
        u, total, ok = _active_set(_Cached(gram, mu), lam, u, tol, max_steps=polish_steps)
        if ok:
            return WorkingSetResult(u, total, 0, _max_kkt(gram, mu, lam, u), True)
    for outer in range(1, 10_000):
        # gradient of the smooth part over all p features: Z'Z u - Z'y + mu u
        g = gram.gram_times(u) - gram.Zty + mu * u
        viol = kkt_l1(u, g, lam)
        worst = float(np.max(viol, initial=0.0))
        if worst <= tol:
            # coordinate descent stops at a tol-accurate point; one exact solve with its sign
            # pattern lands on the minimizer to rounding (as the active-set steps do)
            u, worst = _sign_polish(gram, mu, lam, u, worst)
        if worst <= tol or total >= max_iter:
            return WorkingSetResult(u, total, outer - 1, worst, worst <= tol)
        nnz = int(np.count_nonzero(u))
        size = min(p, max(ws_min, 2 * nnz))
        if size < p:
            score = np.where(u != 0.0, np.inf, viol)
            W = np.sort(np.argpartition(score, p - size)[p - size :])
        else:
            W = np.arange(p)
        H = gram.block(W)
        H[np.diag_indices_from(H)] += mu[W]
        # compiled coordinate descent is cheap enough to solve each working set to ``tol``,
        # which saves outer rounds (each a product with Z'Z and a new Gram block)
        v, it, _ = gram_lasso(H, gram.Zty[W], lam[W], u[W], tol, max_iter - total, polish_steps)
        total += max(it, 1)
        u = np.zeros(p)
        u[W] = v
    return WorkingSetResult(u, total, 10_000, worst, False)
