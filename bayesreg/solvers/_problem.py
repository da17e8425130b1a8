"""The MAP problem of a ``RegressionModel`` in well-scaled coordinates.

Solvers never see the caller's units. With column centres ``m`` (0 without an intercept) and
column scales ``s`` (root-mean-square of the centred column), the weights and intercept are
reparametrized as

    u = s * w                   (one unit of u_j moves eta by one sd of column j)
    b' = b + m @ w              (the intercept of the centred design)

so that ``eta = X w + b = Z u + b'`` with ``Z = (X - m) / s``. Columns in the thousands (calendar
years) and an intercept far from the data then no longer make the problem ill-conditioned. The
smooth part's value and gradient always come from the model's compiled PyTensor graph
(``model.logp_dlogp_function(..., jacobian=False)``, PyMC's MAP convention) and are mapped to
these coordinates by the chain rule; the penalty enters through the prior's exact prox.
Separable penalties transform simply: ``prox`` in u with step t is ``s * prox_w(u / s, t / s^2)``.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import linalg, special
from scipy.linalg import blas, lapack

from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood
from bayesreg.model import LOGP_TERMS, RegressionModel
from bayesreg.priors import ElasticNet, Gaussian, Laplace, Prior
from bayesreg.solvers.working_set import GramCache

__all__ = ["MapProblem", "penalty_coefs", "problem_for"]

_CACHE_KEY = ("bayesreg.solvers", "MapProblem")


def penalty_coefs(prior: Prior, sigma: float = 1.0) -> tuple[float, float] | None:
    """(a, c) such that the prior's penalty is ``a ||w||_1 + c ||w||^2 / 2``, or None.

    Gaussian(tau): (0, 1/tau^2); Laplace(b): (1/b, 0); ElasticNet: its glmnet coefficients.
    """
    if isinstance(prior, Gaussian):
        return 0.0, 1.0 / prior.effective_scale(sigma) ** 2
    if isinstance(prior, Laplace):
        return 1.0 / prior.effective_scale(sigma), 0.0
    if isinstance(prior, ElasticNet):
        return prior.elastic_coefs(sigma)
    return None


def _posv(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b for symmetric positive definite A given by its upper triangle (Cholesky,
    LAPACK posv: no condition estimate, unlike scipy.linalg.solve)."""
    _, x, info = lapack.dposv(A, b, lower=0)
    if info != 0:
        raise linalg.LinAlgError(f"matrix not positive definite (posv info={info})")
    return x


def data_curvature(likelihood, eta: np.ndarray, sigma: float) -> np.ndarray | None:
    """d^2 J0 / d eta_i^2 (n,) for the Newton polish, or None when unknown."""
    if isinstance(likelihood, GaussianLikelihood):
        return np.full(eta.shape, 1.0 / sigma**2)
    if isinstance(likelihood, BernoulliLikelihood):
        p = special.expit(eta)
        return p * (1.0 - p)
    return None


class MapProblem:
    """The negative log posterior of ``model`` in centred, rescaled coordinates.

    Built once per model and cached on it (see :func:`problem_for`): the compiled functions read
    the model's shared ``prior_scale``, so ``model.set_prior_scale`` keeps every function valid.
    The prior object itself is read from ``model.prior`` at every use for the same reason.

    The coordinate vector is ``z = [u (p), b' (1 if intercept)]``; ``log_sigma`` is passed
    separately (it is held fixed in the (w, b) block and updated in its own 1-D block).
    """

    def __init__(self, model: RegressionModel) -> None:
        self.model = model
        X = model.X
        n, p = X.shape
        self.n, self.p = n, p
        self.fit_intercept = model.fit_intercept
        self.center = X.mean(axis=0) if self.fit_intercept else np.zeros(p)
        Z = X - self.center  # a new array, in X's (C) order
        s = np.sqrt(np.einsum("ij,ij->j", Z, Z) / max(n, 1))
        # a constant column (zero after centring) carries no information: leave it unscaled
        s[s == 0.0] = 1.0
        Z *= 1.0 / s  # (faster than a division; any positive s is a valid rescaling)
        self.scale = s
        self.Z = Z
        names = model.layout.names
        sl = model.layout.slices
        self.sl_w = sl["w"] if "w" in names else None
        self.sl_b = sl.get("intercept")
        self.sl_s = sl.get("sigma_log__")
        self.sigma_estimated = self.sl_s is not None
        self.size_theta = model.layout.size
        self.nz = p + (1 if self.fit_intercept else 0)
        lik = model.likelihood
        if isinstance(lik, GaussianLikelihood) and lik.sigma is not None:
            self.sigma_fixed = float(lik.sigma)
        else:
            self.sigma_fixed = 1.0
        # targets of the centred problem: with centred columns the intercept decouples (b' = ybar)
        self.y_mean = float(np.mean(model.y)) if self.fit_intercept else 0.0
        self.yc = model.y - self.y_mean
        self._zero_grad: dict[float | None, np.ndarray] = {}
        self._last_data: tuple[np.ndarray, float, np.ndarray] | None = None
        self._full = model.logp_dlogp_function(LOGP_TERMS, jacobian=False)
        self._full_value = model.logp_function(LOGP_TERMS, jacobian=False)
        # the data term and the intercept / sigma priors: smooth in (w, b) for every prior
        self._data = model.logp_dlogp_function(("data", "other"), jacobian=False)

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

    def ridge_z(self, alpha: float) -> np.ndarray:
        """Exact minimizer of ``||y - X w - b||^2 + alpha ||w||^2`` in z coordinates.

        In u = s * w the normal equations are ``(Z'Z + alpha diag(1/s^2)) u = Z' yc``; for
        p > n the Woodbury (dual) form ``u = s * Xc' (Xc Xc' + alpha I)^-1 yc`` is used. The
        intercept of the centred problem is ``mean(y)``. Same algebra as
        :func:`bayesreg.solvers.ridge_closed_form`, but on the cached centred design and Gram.
        """
        n, p = self.Z.shape
        s = self.scale
        try:
            if p <= n or alpha == 0.0:
                # alpha = 0 with p > n is singular: the primal solve says so
                A = self._ridge_gram.copy() if p <= n else self.Z.T @ self.Z
                A[np.diag_indices(p)] += alpha / s**2
                u = _posv(A, self.Z.T @ self.yc)
            else:
                A = self._ridge_gram.copy()
                A[np.diag_indices(n)] += alpha
                u = s**2 * (self.Z.T @ _posv(A, self.yc))  # = s * Xc' v with Xc = Z s
        except linalg.LinAlgError as exc:
            raise ValueError(
                f"The ridge normal equations are singular for alpha={alpha!r}: use alpha > 0 "
                "or a full-rank design."
            ) from exc
        return np.append(u, self.y_mean) if self.fit_intercept else u

    def zero_grad(self, log_sigma: float | None = None) -> np.ndarray:
        """Gradient in z of the smooth part at z = 0 (cached per sigma; the prior is not in it)."""
        key = None if log_sigma is None else float(log_sigma)
        g = self._zero_grad.get(key)
        if g is None:
            g = self.smooth_fg(np.zeros(self.nz), log_sigma)[1]
            self._zero_grad[key] = g
        return g

    # -- properties that follow model.prior (changed by set_prior_scale) --------------------
    @property
    def prior(self) -> Prior:
        return self.model.prior

    # -- coordinate maps --------------------------------------------------------------------
    def wb_from_z(self, z: np.ndarray) -> tuple[np.ndarray, float]:
        w = z[: self.p] / self.scale
        b = float(z[self.p] - self.center @ w) if self.fit_intercept else 0.0
        return w, b

    def z_from_wb(self, w: np.ndarray, b: float) -> np.ndarray:
        u = np.asarray(w, dtype=np.float64) * self.scale
        if not self.fit_intercept:
            return u
        return np.append(u, float(b) + float(self.center @ w))

    def theta(self, w: np.ndarray, b: float, log_sigma: float | None) -> np.ndarray:
        th = np.empty(self.size_theta)
        th[self.sl_w] = w
        if self.sl_b is not None:
            th[self.sl_b] = b
        if self.sl_s is not None:
            th[self.sl_s] = log_sigma
        return th

    def sigma_of(self, log_sigma: float | None) -> float:
        return float(np.exp(log_sigma)) if self.sigma_estimated else self.sigma_fixed

    def grad_z_from_theta(self, g: np.ndarray) -> np.ndarray:
        """Chain rule: d/du_j = (d/dw_j - m_j d/db) / s_j, d/db' = d/db."""
        gw = g[self.sl_w]
        if not self.fit_intercept:
            return gw / self.scale
        gb = float(g[self.sl_b][0])
        return np.append((gw - self.center * gb) / self.scale, gb)

    # -- values and gradients (negative log posterior, no Jacobian) -------------------------
    def _data_eval(self, th: np.ndarray) -> tuple[float, np.ndarray]:
        """The compiled data (+ intercept / sigma prior) term at theta, memoized for the last
        theta: the final certificate and ``kkt_original`` evaluate the same point."""
        last = self._last_data
        if last is not None and np.array_equal(last[0], th):
            return last[1], last[2].copy()
        val, g = self._data(th)
        self._last_data = (th.copy(), val, g.copy())
        return val, g

    def smooth_fg(self, z: np.ndarray, log_sigma: float | None = None) -> tuple[float, np.ndarray]:
        """Everything but the prior on w (data term, intercept and sigma priors), gradient in z.

        This is the smooth part f of the composite objective ``f + penalty`` for every prior.
        """
        w, b = self.wb_from_z(z)
        val, g = self._data_eval(self.theta(w, b, log_sigma))
        return -val, -self.grad_z_from_theta(g)

    def full_fg(self, z: np.ndarray, log_sigma: float | None = None) -> tuple[float, np.ndarray]:
        """The whole objective (prior included) and its gradient in z, sigma held fixed."""
        w, b = self.wb_from_z(z)
        val, g = self._full(self.theta(w, b, log_sigma))
        return -val, -self.grad_z_from_theta(g)

    def full_fg_joint(self, zs: np.ndarray) -> tuple[float, np.ndarray]:
        """Whole objective over [z, log_sigma] (used for smooth priors); gradient in those."""
        w, b = self.wb_from_z(zs[: self.nz])
        ls = float(zs[self.nz]) if self.sigma_estimated else None
        val, g = self._full(self.theta(w, b, ls))
        gz = -self.grad_z_from_theta(g)
        if self.sigma_estimated:
            gz = np.append(gz, -float(g[self.sl_s][0]))
        return -val, gz

    def sigma_grad(self, w: np.ndarray, b: float, log_sigma: float) -> float:
        """d objective / d log sigma (whole objective, no Jacobian)."""
        _, g = self._full(self.theta(w, b, log_sigma))
        return -float(g[self.sl_s][0])

    def objective(self, w: np.ndarray, b: float, log_sigma: float | None) -> float:
        """-log posterior without the Jacobian, in the model's scale (normalizing constants kept)."""
        return -self._full_value(self.theta(w, b, log_sigma))

    # -- penalty in z -----------------------------------------------------------------------
    def prox_z(self, v: np.ndarray, step: float, sigma: float) -> np.ndarray:
        """prox of ``step * penalty(w(u))`` in z; the intercept is not penalized."""
        out = v.copy()
        s = self.scale
        out[: self.p] = s * self.prior.prox(v[: self.p] / s, step / s**2, sigma)
        return out

    def penalty_value(self, z: np.ndarray, sigma: float) -> float:
        return self.prior.penalty(z[: self.p] / self.scale, sigma)

    # -- optimality ---------------------------------------------------------------------------
    def kkt_w(self, w: np.ndarray, g_w: np.ndarray, sigma: float) -> np.ndarray:
        """|dist(-g_w, subdifferential of the penalty at w)| per coordinate (original units).

        ``g_w`` is the gradient of the smooth part f (without the prior on w). For a smooth
        prior the subdifferential is the gradient and this is |g_w + grad penalty|.
        """
        coefs = penalty_coefs(self.prior, sigma)
        if coefs is None:
            # generic: the prox-gradient mapping with unit step is zero exactly at a KKT point
            return np.abs(w - self.prior.prox(w - g_w, 1.0, sigma))
        a, c = coefs
        r = g_w + c * w
        nz = w != 0
        out = np.where(nz, np.abs(r + a * np.sign(w)), np.maximum(np.abs(r) - a, 0.0))
        return out

    def kkt_z(self, z: np.ndarray, g_z: np.ndarray, sigma: float) -> float:
        """max KKT residual in z coordinates (the solvers' stopping measure)."""
        s = self.scale
        # residual in u_j is the residual in w_j divided by s_j (both gradient and subgradient)
        r_w = self.kkt_w(z[: self.p] / s, g_z[: self.p] * s, sigma) / s
        r = float(np.max(r_w)) if self.p else 0.0
        if self.fit_intercept:
            r = max(r, abs(float(g_z[self.p])))
        return r

    def kkt_original(self, w: np.ndarray, b: float, log_sigma: float | None) -> float:
        """KKT residual in the caller's units: max over w (distance to the subdifferential),
        the intercept (|gradient|) and log sigma (|gradient|) when they are free."""
        sigma = self.sigma_of(log_sigma)
        th = self.theta(w, b, log_sigma)
        _, g = self._data_eval(th)
        g = -g
        r = float(np.max(self.kkt_w(w, g[self.sl_w], sigma))) if self.p else 0.0
        if self.sl_b is not None:
            r = max(r, abs(float(g[self.sl_b][0])))
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
        so Newton's method on (u_A, b') converges quadratically (in one step for a Gaussian
        likelihood). The gradient comes from the model's graph; the Hessian
        ``[Z_A, 1]' diag(d) [Z_A, 1] + diag(c / s_A^2)`` uses the data term's curvature d.
        Returns ``(z, kkt_z)`` when the result is a KKT point to ``target`` with unchanged
        signs, else None (the caller keeps iterating).
        """
        sigma = self.sigma_of(log_sigma)
        coefs = penalty_coefs(self.prior, sigma)
        if coefs is None:
            return None
        a, c = coefs
        p, s = self.p, self.scale
        # without an L1 part there is no sign pattern: Newton on every coordinate
        active = np.flatnonzero(z[:p] != 0.0) if a > 0 else np.arange(p)
        signs = np.sign(z[active])
        idx = np.append(active, p) if self.fit_intercept else active
        if idx.size == 0:
            return None
        z = z.copy()
        Zt = self.Z[:, active]
        if self.fit_intercept:
            Zt = np.column_stack([Zt, np.ones(self.n)])
        sA = s[active]
        for _ in range(max_newton):
            w, b = self.wb_from_z(z)
            eta = self.model.X @ w + b
            d = data_curvature(self.model.likelihood, eta, sigma)
            if d is None:
                return None
            _, g = self.smooth_fg(z, log_sigma)
            gr = g[idx].copy()
            gr[: active.size] += (a * signs + c * z[active] / sA) / sA
            H = Zt.T @ (d[:, None] * Zt)
            H[np.arange(active.size), np.arange(active.size)] += c / sA**2
            try:
                delta = np.linalg.solve(H, gr)
            except np.linalg.LinAlgError:
                return None
            z[idx] -= delta
            if a > 0 and np.any(np.sign(z[active]) != signs):
                return None
            if np.max(np.abs(delta)) <= 1e-15 * max(1.0, float(np.max(np.abs(z[idx])))):
                break
            if np.max(np.abs(gr)) <= 1e-3 * target and isinstance(
                self.model.likelihood, GaussianLikelihood
            ):
                break
        _, g = self.smooth_fg(z, log_sigma)
        r = self.kkt_z(z, g, sigma)
        return (z, r) if r <= target else None


def problem_for(model: RegressionModel, refresh: bool = False) -> MapProblem:
    """The cached :class:`MapProblem` of ``model`` (built and compiled once per model).

    ``refresh=True`` rebuilds the numpy precomputations (centred, rescaled design, Gram
    matrix); the compiled PyTensor functions stay cached on the model. Benchmarks use it so that
    a timed solve includes the data preparation a fresh fit would do.
    """
    prob = None if refresh else model._functions.get(_CACHE_KEY)
    if prob is None:
        prob = MapProblem(model)
        model._functions[_CACHE_KEY] = prob
    return prob
