"""The MAP problem of a ``RegressionModel`` in well-scaled coordinates, with two evaluators.

Solvers never see the caller's units. With column centres ``m`` (0 without an intercept) and
column scales ``s`` (root-mean-square of the centred column), the weights and intercept are
reparametrized as

    u = s * w                   (one unit of u_j moves eta by one sd of column j)
    b' = b + m @ w              (the intercept of the centred design)

so that ``eta = X w + b = Z u + b'`` with ``Z = (X - m) / s``. Columns in the thousands (calendar
years) and an intercept far from the data then no longer make the problem ill-conditioned. The
penalty enters through the prior's exact prox; separable penalties transform simply: ``prox``
in u with step t is ``s * prox_w(u / s, t / s^2)``.

**Two evaluators of one objective** (the negative log posterior without the log-Jacobian of
sigma's log transform, PyMC's MAP convention):

* ``"graph"``: the model's compiled PyTensor graph
  (``model.logp_dlogp_function(..., jacobian=False)``), mapped to z by the chain rule;
* ``"numpy"``: the same terms written with the prior's and the likelihood's numpy methods
  (``likelihood.logpdf`` / ``loss_grad`` on ``eta = Z u + b'``, ``prior.logpdf`` /
  ``penalty_grad`` on w, the HalfNormal prior of sigma): nothing is compiled and PyMC is not
  imported, which is what small problems want (a compilation costs seconds).

``evaluator="auto"`` picks numpy when ``n * p <= NUMPY_EVALUATOR_MAX_SIZE``. The two agree to
rounding (tests/test_map.py checks value and gradient for every prior and likelihood pair).

**Caching.** The data part (:class:`ProblemData`: centred, rescaled design, Gram matrices) does
not depend on the prior scale, so it is cached per model structure (``model.cache``) and shared
by ``model.with_prior_scale`` copies. :func:`problem_for` binds it to one model: the prior and the
compiled functions are read from the model it is given, never from a cached one.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import linalg
from scipy.linalg import blas, lapack

from bayesreg._linalg import centre
from bayesreg._validation import check_choice
from bayesreg.model import LOGP_TERMS, RegressionModel
from bayesreg.priors import Prior
from bayesreg.solvers.working_set import GramCache

__all__ = [
    "EVALUATORS",
    "NUMPY_EVALUATOR_MAX_SIZE",
    "MapProblem",
    "ProblemData",
    "problem_data",
    "problem_for",
    "resolve_evaluator",
]

_DATA_KEY = ("bayesreg.solvers", "ProblemData")

#: evaluators of the smooth part accepted by :func:`problem_for` and ``map_estimate``
EVALUATORS = ("auto", "graph", "numpy")

#: ``evaluator="auto"`` uses numpy up to this ``n * p`` (the threshold the estimators used for
#: their former numpy solver). Measured on a busy 2-core machine, one value + gradient costs
#: 16 us (numpy) vs 30 us (graph) at 442 x 10 and 23 vs 10 us at n p = 50 000, while compiling
#: the graph costs 5-13 s, the price of hundreds of thousands of evaluations: below the
#: threshold compiling never pays. Far above it numpy's own (threaded) BLAS calls can stall on
#: a busy machine (16 ms vs 0.2 ms per evaluation at 2000 x 250), so large problems keep the
#: compiled graph.
NUMPY_EVALUATOR_MAX_SIZE = 50_000


def resolve_evaluator(model: RegressionModel, evaluator: str) -> str:
    """``"graph"`` or ``"numpy"`` for ``evaluator`` (``"auto"``: numpy for small problems)."""
    check_choice(evaluator, "evaluator", EVALUATORS)
    if evaluator == "auto":
        return "numpy" if model.n * model.p <= NUMPY_EVALUATOR_MAX_SIZE else "graph"
    return evaluator


def _posv(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b for symmetric positive definite A given by its upper triangle (Cholesky,
    LAPACK posv: no condition estimate, unlike scipy.linalg.solve)."""
    _, x, info = lapack.dposv(A, b, lower=0)
    if info != 0:
        raise linalg.LinAlgError(f"matrix not positive definite (posv info={info})")
    return x


class ProblemData:
    """The scale-independent part of the MAP problem: coordinates, design, Gram matrices.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,)
    fit_intercept : bool
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, fit_intercept: bool) -> None:
        n, p = X.shape
        self.n, self.p = n, p
        self.X, self.y = X, y
        self.fit_intercept = bool(fit_intercept)
        Z, self.center = centre(X, self.fit_intercept)
        s = np.sqrt(np.einsum("ij,ij->j", Z, Z) / max(n, 1))
        # a constant column (zero after centring) carries no information: leave it unscaled
        s[s == 0.0] = 1.0
        Z *= 1.0 / s  # (faster than a division; any positive s is a valid rescaling)
        self.scale = s
        self.Z = Z
        self.nz = p + (1 if self.fit_intercept else 0)
        # targets of the centred problem: with centred columns the intercept decouples (b' = ybar)
        self.y_mean = float(np.mean(y)) if self.fit_intercept else 0.0
        self.yc = y - self.y_mean
        # the intercept coordinate is b' - offset, offset = mean(y): an offset of y (y + 1e6)
        # then costs no digits of the intercept (its ulp would cap the reachable KKT residual)
        self.offset = self.y_mean
        #: gradient of the smooth part at z = 0, per (evaluator, log sigma): see zero_grad
        self.zero_grads: dict[tuple[str, float | None], np.ndarray] = {}

    @functools.cached_property
    def design_norm2(self) -> float:
        """Lipschitz bound of the data term's gradient in z at unit curvature.

        [Z, 1] has orthogonal blocks when centred, so its squared spectral norm is
        max(||Z||_2^2, n). Computed on first use only (the working-set and closed-form solvers
        never need it) from the smaller Gram matrix.
        """
        n, p = self.Z.shape
        if min(n, p) == 0:
            z_norm2 = 0.0
        else:
            gram = self.Z.T @ self.Z if p <= n else self.Z @ self.Z.T
            k = gram.shape[0]
            top = linalg.eigh(gram, eigvals_only=True, subset_by_index=[k - 1, k - 1])
            z_norm2 = float(top[0])
        return max(z_norm2, float(n)) if self.fit_intercept else z_norm2

    @functools.cached_property
    def _ridge_gram(self) -> np.ndarray:
        """Z'Z (p <= n, primal) or Xc Xc' (p > n, dual), upper triangle only (BLAS syrk).

        Depends on X alone, so a path over prior scales builds it once.
        """
        n, p = self.Z.shape
        if p <= n:
            # Z is C-ordered, so Z.T is a Fortran-ordered view that syrk reads without a copy
            return blas.dsyrk(1.0, self.Z.T, trans=0)
        Xc = self.Z * self.scale
        return blas.dsyrk(1.0, Xc.T, trans=1)

    @functools.cached_property
    def gram_cache(self) -> GramCache:
        """Gram columns of (Z, yc) for the working-set solver, kept across a path."""
        return GramCache(self.Z, self.yc)

    def ridge_z(self, alpha: float | np.ndarray) -> np.ndarray:
        """Exact minimizer of ``||y - X w - b||^2 + sum_j alpha_j w_j^2`` in z coordinates.

        In u = s * w the normal equations are ``(Z'Z + diag(alpha / s^2)) u = Z' yc``; for
        p > n the Woodbury (dual) form ``u = s * D^-1 Xc' (Xc D^-1 Xc' + I)^-1 yc``
        (D = diag(alpha); ``Xc Xc'`` cached when alpha is one number) is used. The intercept
        of the centred problem is ``mean(y)``. The one ridge solve of the package
        (:func:`bayesreg.solvers.ridge_closed_form` and the closed-form MAP call it).
        ``alpha`` is a number or one per feature.
        """
        n, p = self.Z.shape
        s = self.scale
        scalar = np.ndim(alpha) == 0
        try:
            if p <= n or np.any(np.asarray(alpha) == 0.0):
                # alpha = 0 with p > n is singular: the primal solve says so
                A = self._ridge_gram.copy() if p <= n else self.Z.T @ self.Z
                A[np.diag_indices(p)] += alpha / s**2
                u = _posv(A, self.Z.T @ self.yc)
            elif scalar:
                A = self._ridge_gram.copy()
                A[np.diag_indices(n)] += alpha
                u = s**2 * (self.Z.T @ _posv(A, self.yc))  # = s * Xc' v with Xc = Z s
            else:
                Xc_d = self.Z * (s / alpha)  # Xc D^-1
                A = Xc_d @ (self.Z * s).T
                A[np.diag_indices(n)] += 1.0
                u = s * (Xc_d.T @ _posv(A, self.yc))
        except linalg.LinAlgError as exc:
            raise ValueError(
                f"The ridge normal equations are singular for alpha={alpha!r}: use alpha > 0 "
                "or a full-rank design."
            ) from exc
        return np.append(u, self.y_mean - self.offset) if self.fit_intercept else u

    # -- coordinate maps --------------------------------------------------------------------
    def wb_from_z(self, z: np.ndarray) -> tuple[np.ndarray, float]:
        w = z[: self.p] / self.scale
        b = float(z[self.p] + self.offset - self.center @ w) if self.fit_intercept else 0.0
        return w, b

    def z_from_wb(self, w: np.ndarray, b: float) -> np.ndarray:
        u = np.asarray(w, dtype=np.float64) * self.scale
        if not self.fit_intercept:
            return u
        return np.append(u, float(b) + float(self.center @ w) - self.offset)

    def grad_z(self, g_w: np.ndarray, g_b: float) -> np.ndarray:
        """Chain rule: d/du_j = (d/dw_j - m_j d/db) / s_j, d/db' = d/db."""
        if not self.fit_intercept:
            return g_w / self.scale
        return np.append((g_w - self.center * g_b) / self.scale, g_b)

    def grad_wb(self, g_z: np.ndarray) -> tuple[np.ndarray, float]:
        """Inverse chain rule: d/dw_j = s_j d/du_j + m_j d/db', d/db = d/db'."""
        if not self.fit_intercept:
            return g_z * self.scale, 0.0
        g_b = float(g_z[self.p])
        return g_z[: self.p] * self.scale + self.center * g_b, g_b


class _GraphEvaluator:
    """The objective's terms from the model's compiled PyTensor graph (theta = PyMC values)."""

    kind = "graph"

    def __init__(self, model: RegressionModel, data: ProblemData) -> None:
        layout = model.layout
        if "w" not in layout.names:
            raise ValueError(
                f"{model.prior!r} does not expose w as a value variable; no MAP solver."
            )
        self.data = data
        self.sl_w = layout.slices["w"]
        self.sl_b = layout.slices.get("intercept")
        self.sl_s = layout.slices.get("sigma_log__")
        self.size = layout.size
        self._full = model.logp_dlogp_function(LOGP_TERMS, jacobian=False)
        self._full_value = model.logp_function(LOGP_TERMS, jacobian=False)
        # the data term and the intercept / sigma priors: smooth in (w, b) for every prior
        self._data = model.logp_dlogp_function(("data", "other"), jacobian=False)
        self._last: tuple[np.ndarray, float, np.ndarray] | None = None

    def _theta(self, w: np.ndarray, b: float, log_sigma: float | None) -> np.ndarray:
        th = np.empty(self.size)
        th[self.sl_w] = w
        if self.sl_b is not None:
            th[self.sl_b] = b
        if self.sl_s is not None:
            th[self.sl_s] = log_sigma
        return th

    def _split(self, g: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(d/dw, d/db, d/dlog sigma) of the *negative* log density from its gradient."""
        g_b = -float(g[self.sl_b][0]) if self.sl_b is not None else 0.0
        g_s = -float(g[self.sl_s][0]) if self.sl_s is not None else 0.0
        return -g[self.sl_w], g_b, g_s

    def _smooth_theta(self, th: np.ndarray) -> tuple[float, np.ndarray]:
        """The compiled data (+ intercept / sigma prior) term, memoized for the last theta:
        the final certificate and ``kkt_original`` evaluate the same point."""
        last = self._last
        if last is not None and np.array_equal(last[0], th):
            return last[1], last[2].copy()
        val, g = self._data(th)
        self._last = (th.copy(), val, g.copy())
        return val, g

    def smooth(self, z: np.ndarray, log_sigma: float | None) -> tuple[float, np.ndarray]:
        w, b = self.data.wb_from_z(z)
        val, g = self._smooth_theta(self._theta(w, b, log_sigma))
        g_w, g_b, _ = self._split(g)
        return -val, self.data.grad_z(g_w, g_b)

    def full(self, z: np.ndarray, log_sigma: float | None) -> tuple[float, np.ndarray, float]:
        w, b = self.data.wb_from_z(z)
        val, g = self._full(self._theta(w, b, log_sigma))
        g_w, g_b, g_s = self._split(g)
        return -val, self.data.grad_z(g_w, g_b), g_s

    def smooth_grad_wb(self, w: np.ndarray, b: float, log_sigma: float | None):
        _, g = self._smooth_theta(self._theta(w, b, log_sigma))
        g_w, g_b, _ = self._split(g)
        return g_w, g_b

    def sigma_grad(self, w: np.ndarray, b: float, log_sigma: float) -> float:
        return self._split(self._full(self._theta(w, b, log_sigma))[1])[2]

    def objective(self, w: np.ndarray, b: float, log_sigma: float | None) -> float:
        return -self._full_value(self._theta(w, b, log_sigma))


class _NumpyEvaluator:
    """The same terms in numpy, in z coordinates: nothing compiled, PyMC not imported.

    With ``eta = Z u + b'`` and sigma = exp(l) when estimated, the negative log posterior is
    ``-lik.logpdf(eta, y, sigma) - prior.logpdf(w, sigma) + sigma^2 / (2 s^2) + log s
    + log(pi / 2) / 2`` (the last three: sigma's HalfNormal(s) prior; the flat intercept adds 0).
    Its log-sigma derivative is the likelihood's own (``Likelihood.dlogpdf_dlogsigma``) and,
    for a ``scale_by_sigma`` prior (a scale family in its effective scale), the identity
    ``d/dl [-log p(w; sigma)] = p - w . grad penalty(w)``.
    """

    kind = "numpy"

    def __init__(self, model: RegressionModel, data: ProblemData) -> None:
        self.data = data
        self.prior = model.prior
        self.lik = model.likelihood
        self.estimated = self.lik.estimates_sigma
        self.fixed = self.lik.fixed_sigma if self.lik.fixed_sigma is not None else 1.0
        self.s_sigma = self.lik.resolved_sigma_prior_scale(data.y) if self.estimated else 1.0
        # a location family depends on y - eta only: evaluate it on y - c and eta - c with
        # c = mean(y), so that an offset of y (prices, years: y + 1e6) cancels exactly instead
        # of costing digits in every residual (issue 11)
        self.shift = data.y_mean if (self.lik.location_family and data.fit_intercept) else 0.0
        self.y = data.y - self.shift

    def _sigma(self, log_sigma: float | None) -> float:
        return float(np.exp(log_sigma)) if self.estimated else self.fixed

    def _eta(self, z: np.ndarray) -> np.ndarray:
        """eta - shift (see ``__init__``): Z u + (b' - shift), b' = z[p] + offset."""
        d = self.data
        eta = d.Z @ z[: d.p]
        return eta + (z[d.p] + (d.offset - self.shift)) if d.fit_intercept else eta

    def _terms(self, z: np.ndarray, log_sigma: float | None, with_prior: bool, grad: bool):
        """(value, gradient in z, d/dlog sigma) of the smooth part (+ the prior on w)."""
        d, lik, sigma = self.data, self.lik, self._sigma(log_sigma)
        eta, y = self._eta(z), self.y
        val = -lik.logpdf(eta, y, sigma)
        if self.estimated:
            s_prior = self.s_sigma
            val += 0.5 * (sigma / s_prior) ** 2 + np.log(s_prior) + 0.5 * np.log(0.5 * np.pi)
        w = z[: d.p] / d.scale
        if with_prior:
            val -= self.prior.logpdf(w, sigma)
        if not grad:
            return float(val), None, 0.0
        g_eta = lik.loss_grad(eta, y, sigma)
        g = d.Z.T @ g_eta
        if d.fit_intercept:
            g = np.append(g, g_eta.sum())
        g_s = 0.0
        if self.estimated:
            g_s = -lik.dlogpdf_dlogsigma(eta, y, sigma) + (sigma / self.s_sigma) ** 2
        if with_prior:
            g_w = self.prior.penalty_grad(w, sigma)
            g[: d.p] += g_w / d.scale
            if self.estimated and self.prior.scale_by_sigma:
                g_s += d.p - float(w @ g_w)
        return float(val), g, g_s

    def smooth(self, z: np.ndarray, log_sigma: float | None) -> tuple[float, np.ndarray]:
        val, g, _ = self._terms(z, log_sigma, with_prior=False, grad=True)
        return val, g

    def full(self, z: np.ndarray, log_sigma: float | None) -> tuple[float, np.ndarray, float]:
        return self._terms(z, log_sigma, with_prior=True, grad=True)

    def smooth_grad_wb(self, w: np.ndarray, b: float, log_sigma: float | None):
        return self.data.grad_wb(self.smooth(self.data.z_from_wb(w, b), log_sigma)[1])

    def sigma_grad(self, w: np.ndarray, b: float, log_sigma: float) -> float:
        return self.full(self.data.z_from_wb(w, b), log_sigma)[2]

    def objective(self, w: np.ndarray, b: float, log_sigma: float | None) -> float:
        z = self.data.z_from_wb(w, b)
        return self._terms(z, log_sigma, with_prior=True, grad=False)[0]


class MapProblem:
    """The negative log posterior of one model in centred, rescaled coordinates.

    A light object: the shared :class:`ProblemData` bound to ``model`` (whose prior and compiled
    functions it reads) and one evaluator. Build it with :func:`problem_for`.

    The coordinate vector is ``z = [u (p), b' (1 if intercept)]``; ``log_sigma`` is passed
    separately (it is held fixed in the (w, b) block and updated in its own 1-D block).
    """

    def __init__(self, model: RegressionModel, data: ProblemData, evaluator: str) -> None:
        self.model = model
        self.data = data
        self.n, self.p, self.nz = data.n, data.p, data.nz
        self.fit_intercept = data.fit_intercept
        self.center, self.scale, self.Z = data.center, data.scale, data.Z
        self.y_mean, self.yc, self.offset = data.y_mean, data.yc, data.offset
        lik = model.likelihood
        self.sigma_estimated = lik.estimates_sigma
        self.sigma_fixed = lik.fixed_sigma if lik.fixed_sigma is not None else 1.0
        ev = _GraphEvaluator if evaluator == "graph" else _NumpyEvaluator
        self.evaluator = ev(model, data)
        self.wb_from_z, self.z_from_wb = data.wb_from_z, data.z_from_wb

    @property
    def prior(self) -> Prior:
        return self.model.prior

    @property
    def design_norm2(self) -> float:
        return self.data.design_norm2

    def ridge_z(self, alpha: float) -> np.ndarray:
        return self.data.ridge_z(alpha)

    def zero_grad(self, log_sigma: float | None = None) -> np.ndarray:
        """Gradient in z of the smooth part at z = 0 (cached per sigma; the prior is not in it)."""
        key = (self.evaluator.kind, None if log_sigma is None else float(log_sigma))
        g = self.data.zero_grads.get(key)
        if g is None:
            g = self.smooth_fg(np.zeros(self.nz), log_sigma)[1]
            self.data.zero_grads[key] = g
        return g

    def sigma_of(self, log_sigma: float | None) -> float:
        return float(np.exp(log_sigma)) if self.sigma_estimated else self.sigma_fixed

    # -- values and gradients (negative log posterior, no Jacobian) -------------------------
    def smooth_fg(self, z: np.ndarray, log_sigma: float | None = None) -> tuple[float, np.ndarray]:
        """Everything but the prior on w (data term, intercept and sigma priors), gradient in z.

        This is the smooth part f of the composite objective ``f + penalty`` for every prior.
        """
        return self.evaluator.smooth(z, log_sigma)

    def full_fg(self, z: np.ndarray, log_sigma: float | None = None) -> tuple[float, np.ndarray]:
        """The whole objective (prior included) and its gradient in z, sigma held fixed."""
        val, g, _ = self.evaluator.full(z, log_sigma)
        return val, g

    def full_fg_joint(self, zs: np.ndarray) -> tuple[float, np.ndarray]:
        """Whole objective over [z, log_sigma] (used for smooth priors); gradient in those."""
        ls = float(zs[self.nz]) if self.sigma_estimated else None
        val, g, g_s = self.evaluator.full(zs[: self.nz], ls)
        return val, (np.append(g, g_s) if self.sigma_estimated else g)

    def sigma_grad(self, w: np.ndarray, b: float, log_sigma: float) -> float:
        """d objective / d log sigma (whole objective, no Jacobian)."""
        return self.evaluator.sigma_grad(w, b, log_sigma)

    def objective(self, w: np.ndarray, b: float, log_sigma: float | None) -> float:
        """-log posterior without the Jacobian, in the model's scale (normalizing constants kept)."""
        return self.evaluator.objective(w, b, log_sigma)

    # -- penalty in z -----------------------------------------------------------------------
    def prox_z(self, v: np.ndarray, step: float, sigma: float) -> np.ndarray:
        """prox of ``step * penalty(w(u))`` in z; the intercept is not penalized."""
        out = v.copy()
        s = self.scale
        out[: self.p] = s * self.prior.prox(v[: self.p] / s, step / s**2, sigma)
        return out

    # -- optimality ---------------------------------------------------------------------------
    def kkt_z(self, z: np.ndarray, g_z: np.ndarray, sigma: float) -> float:
        """max KKT residual in z coordinates (the solvers' stopping measure)."""
        s = self.scale
        # residual in u_j is the residual in w_j divided by s_j (both gradient and subgradient)
        r_w = self.prior.kkt_residual(z[: self.p] / s, g_z[: self.p] * s, sigma) / s
        r = float(np.max(r_w)) if self.p else 0.0
        if self.fit_intercept:
            r = max(r, abs(float(g_z[self.p])))
        return r

    def kkt_original(self, w: np.ndarray, b: float, log_sigma: float | None) -> float:
        """KKT residual in the caller's units: max over w (distance to the subdifferential),
        the intercept (|gradient|) and log sigma (|gradient|) when they are free."""
        sigma = self.sigma_of(log_sigma)
        g_w, g_b = self.evaluator.smooth_grad_wb(w, b, log_sigma)
        r = float(np.max(self.prior.kkt_residual(w, g_w, sigma))) if self.p else 0.0
        if self.fit_intercept:
            r = max(r, abs(float(g_b)))
        if self.sigma_estimated:
            r = max(r, abs(self.sigma_grad(w, b, log_sigma)))
        return r

    # -- Newton polish on an active set -------------------------------------------------------
    def newton_polish(
        self,
        z: np.ndarray,
        log_sigma: float | None,
        target: float,
        max_newton: int = 30,
    ) -> tuple[np.ndarray, float] | None:
        """Solve the smooth problem restricted to the support and signs of z exactly.

        On the support A of ``u`` (with fixed signs) the penalty ``a|w| + c w^2/2`` is smooth,
        so Newton's method on (u_A, b') converges quadratically (in one step for a quadratic
        likelihood). The gradient comes from the evaluator; the Hessian
        ``[Z_A, 1]' diag(d) [Z_A, 1] + diag(c / s_A^2)`` uses the likelihood's curvature d.
        Returns ``(z, kkt_z)`` when the result is a KKT point to ``target`` with unchanged
        signs, else None (the caller keeps iterating).
        """
        sigma = self.sigma_of(log_sigma)
        coefs = self.prior.elastic_coefs(sigma)
        if coefs is None:
            return None
        p = self.p
        # one (a_j, c_j) per coefficient (a per-coefficient scale, or a float broadcast)
        a, c = (np.broadcast_to(np.asarray(v, dtype=np.float64), (p,)) for v in coefs)
        # a coefficient without an L1 part has no sign pattern: Newton runs on it wherever it is
        active = np.flatnonzero((z[:p] != 0.0) | (a == 0.0))
        idx = np.append(active, p) if self.fit_intercept else active
        if idx.size == 0:
            return None
        Zt = self.Z[:, active]
        if self.fit_intercept:
            Zt = np.column_stack([Zt, np.ones(self.n)])
        z = self._newton_steps(z.copy(), log_sigma, (a, c), active, idx, Zt, target, max_newton)
        if z is None:
            return None
        _, g = self.smooth_fg(z, log_sigma)
        r = self.kkt_z(z, g, sigma)
        return (z, r) if r <= target else None

    def _newton_steps(self, z, log_sigma, coefs, active, idx, Zt, target, max_newton):
        """Newton iterations of :meth:`newton_polish`; None when a sign flips or H is singular.

        ``coefs`` is (a, c), each of shape (p,)."""
        a, c = (v[active] for v in coefs)
        sigma = self.sigma_of(log_sigma)
        lik = self.model.likelihood
        signs = np.sign(z[active])
        l1 = a > 0.0  # the coordinates whose sign must not change
        sA = self.scale[active]
        diag = np.arange(active.size)
        for _ in range(max_newton):
            w, b = self.wb_from_z(z)
            d = lik.curvature(self.model.X @ w + b, self.model.y, sigma)
            _, g = self.smooth_fg(z, log_sigma)
            gr = g[idx].copy()
            gr[: active.size] += (a * signs + c * z[active] / sA) / sA
            H = Zt.T @ (d[:, None] * Zt)
            H[diag, diag] += c / sA**2
            try:
                delta = np.linalg.solve(H, gr)
            except np.linalg.LinAlgError:
                return None
            z[idx] -= delta
            if np.any(np.sign(z[active][l1]) != signs[l1]):
                return None
            if np.max(np.abs(delta)) <= 1e-15 * max(1.0, float(np.max(np.abs(z[idx])))):
                break
            # a quadratic likelihood: one Newton step is exact, the next only confirms it
            if np.max(np.abs(gr)) <= 1e-3 * target and lik.quadratic:
                break
        return z


def problem_data(model: RegressionModel, *, refresh: bool = False) -> ProblemData:
    """The cached :class:`ProblemData` of ``model``'s structure (``refresh`` rebuilds it)."""
    if refresh:
        model._functions.pop(_DATA_KEY, None)
    return model.cache(_DATA_KEY, lambda: ProblemData(model.X, model.y, model.fit_intercept))


def problem_for(
    model: RegressionModel, *, refresh: bool = False, evaluator: str = "auto"
) -> MapProblem:
    """The :class:`MapProblem` of ``model``: its cached data bound to it, with one evaluator.

    The data part is built once per model structure (shared with ``with_prior_scale``
    copies). ``refresh=True`` rebuilds it (centred, rescaled design, Gram matrix); compiled
    PyTensor functions stay cached on the model. Benchmarks use it so that a timed solve
    includes the data preparation a fresh fit would do. ``evaluator`` is ``"auto"``,
    ``"graph"`` or ``"numpy"`` (see the module docstring).
    """
    kind = resolve_evaluator(model, evaluator)
    return MapProblem(model, problem_data(model, refresh=refresh), kind)
