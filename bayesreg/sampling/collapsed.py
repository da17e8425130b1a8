"""Horseshoe posteriors with the weights integrated out: the collapsed sampler.

For a Gaussian likelihood the horseshoe's weights are conditionally Gaussian,
``w_j | hyperparameters ~ N(0, s_j^2)`` with ``s_j = tau lambda_j`` (``tau lambda_tilde_j`` for
the regularized horseshoe). Both ``w`` and the flat-prior intercept ``b`` can then be integrated
out of the posterior analytically. NUTS samples only the hyperparameters
``(lambda, tau, [c^2], sigma)``, whose marginal posterior has no funnel: the funnel of the
non-centred graph comes from the data pinning ``w_j = z_j tau lambda_j`` near 0, and with w
integrated out there is nothing to pin. Each draw of ``(w, b)`` is then an exact draw from its
Gaussian conditional posterior. This is "collapsing" (Liu 1994) or "marginalization"
(Piironen & Vehtari 2017, sec. 3.5).

The marginal likelihood
-----------------------
With ``Xc``, ``yc`` the centred data (``X``, ``y`` without an intercept), ``G = Xc'Xc``,
``g = Xc'yc``, ``S = diag(s)``, ``B = I + S G S / sigma^2`` (p x p, ``B >= I``) and
``u = S g / sigma^2``::

    log p(y | s, sigma) = -(n_eff / 2) log(2 pi sigma^2) - log(n) / 2
                          - log|B| / 2 - yc'yc / (2 sigma^2) + u' B^{-1} u / 2

with ``n_eff = n - 1`` and the ``log(n) / 2`` term when the intercept (flat prior) is
integrated out, ``n_eff = n`` and no ``log n`` term without an intercept. (This is
``log N(yc | 0, sigma^2 I + Xc S^2 Xc') + log(2 pi sigma^2 / n) / 2`` written with p x p matrices
only, by the matrix determinant lemma and Woodbury's identity.) Writing it in ``z = w / s``
keeps ``B`` well conditioned when some ``s_j`` are tiny, as the horseshoe makes them. Its
gradient, with ``A = B^{-1}`` and ``m = A u``::

    d/ds_k     = ( -(G S A)_kk + m_k g_k - m_k (G S m)_k ) / sigma^2
    d/dsigma   = ( p - tr A - u'm - m'm - n_eff ) / sigma + yc'yc / sigma^3

The conditional posterior
-------------------------
``z = w / s | y, s, sigma ~ N(m, A)`` and ``b | w, sigma, y ~ N(ybar - xbar'w, sigma^2 / n)``.

Cost: a p x p Cholesky factorization and inverse per gradient, O(p^3), so the collapsed graph
is used for ``p <= MAX_FEATURES``; above that the non-centred graph is sampled.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import numpy as np
import pytensor
import pytensor.tensor as pt
import xarray as xr
from pytensor.gradient import grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.replace import graph_replace
from scipy import linalg
from threadpoolctl import threadpool_limits

from bayesreg import _arviz as az  # the one door to ArviZ
from bayesreg._capabilities import COLLAPSIBLE_PRIOR, QUADRATIC_LIKELIHOOD, explain
from bayesreg.model import ParamLayout, RegressionModel
from bayesreg.sampling.backend import NutsBackend, cached
from bayesreg.sampling.defaults import COLLAPSED_TARGET_ACCEPT, MAX_FEATURES
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.nutpie_nuts import NutpiePyfuncBackend
from bayesreg.sampling.pymc_nuts import PymcBackend
from bayesreg.sampling.settings import SamplerSettings
from bayesreg.sampling.target import LogDensityTarget, _simple_free, expansion_of

__all__ = [
    "COLLAPSED_TARGET_ACCEPT",
    "MAX_FEATURES",
    "CollapsedBackend",
    "CollapsedHorseshoe",
    "CollapsedStatistics",
    "can_collapse",
    "collapse_problem",
    "collapse_problem_of",
    "conditional_weights",
    "marginal_loglik",
    "run_collapsed",
]

#: what the collapsed graph needs from the prior and the likelihood
COLLAPSE_NEEDS = (COLLAPSIBLE_PRIOR, QUADRATIC_LIKELIHOOD)


def collapse_problem(model: RegressionModel) -> str | None:
    """Why ``model``'s weights cannot be integrated out (None when they can)."""
    return collapse_problem_of(model.prior, model.likelihood, model.p)


def collapse_problem_of(prior: Any, likelihood: Any, p: int) -> str | None:
    """Why the weights of (prior, likelihood) with p features cannot be integrated out."""
    reason = explain("the collapsed sampler", COLLAPSE_NEEDS, prior, likelihood)
    if reason is None and p > MAX_FEATURES:
        reason = f"the collapsed sampler runs for p <= {MAX_FEATURES} (MAX_FEATURES); p={p}"
    return reason


class CollapsedStatistics(NamedTuple):
    """All the collapsed sampler reads of the data: with ``Xc``, ``yc`` the centred data (X, y
    themselves without an intercept) ``gram = Xc'Xc`` (p, p), ``xty = Xc'yc`` (p,),
    ``yty = yc'yc``, the means (zeros without an intercept), n and ``sd_y = np.std(y)`` (the
    default scale of sigma's prior)."""

    n: int
    fit_intercept: bool
    x_mean: np.ndarray
    y_mean: float
    gram: np.ndarray
    xty: np.ndarray
    yty: float
    sd_y: float

    @classmethod
    def of_data(cls, X: np.ndarray, y: np.ndarray, fit_intercept: bool) -> CollapsedStatistics:
        """The statistics of data in memory."""
        if fit_intercept:
            x_mean, y_mean = X.mean(axis=0), float(y.mean())
            Xc, yc = X - x_mean, y - y_mean
        else:
            x_mean, y_mean = np.zeros(X.shape[1]), 0.0
            Xc, yc = X, y
        return cls(X.shape[0], bool(fit_intercept), x_mean, y_mean, Xc.T @ Xc, Xc.T @ yc,
                   float(yc @ yc), float(np.std(y)))  # fmt: skip


def can_collapse(model: RegressionModel) -> bool:
    """Whether ``model``'s posterior can be sampled with its weights integrated out.

    True for a conditionally Gaussian prior on w (``Prior.collapsible``: ``Horseshoe``,
    ``RegularizedHorseshoe``) with a likelihood quadratic in eta (Gaussian) and at most
    :data:`MAX_FEATURES` features.
    """
    return collapse_problem(model) is None


# ---------------------------------------------------------------------------------------------
# the marginal likelihood, in numpy, with its gradient
# ---------------------------------------------------------------------------------------------
def marginal_loglik(
    s: np.ndarray,
    sigma: float,
    gram: np.ndarray,
    xty: np.ndarray,
    yty: float,
    n_eff: int,
    log_const: float = 0.0,
    grad: bool = True,
) -> tuple[float, np.ndarray, float]:
    """``log p(y | s, sigma)`` with w (and the intercept) integrated out, and its gradient.

    Parameters
    ----------
    s : ndarray of shape (p,)
        Conditional prior sd of each weight (``w_j ~ N(0, s_j^2)``), >= 0.
    sigma : float
        Noise sd.
    gram, xty, yty : ndarray (p, p), ndarray (p,), float
        ``Xc'Xc``, ``Xc'yc`` and ``yc'yc`` of the centred data (raw data without intercept).
    n_eff : int
        ``n - 1`` with an integrated-out intercept, else ``n``.
    log_const : float
        Added to the value: ``-log(n) / 2`` with an intercept.
    grad : bool
        Also return the gradient (else zeros and 0.0).

    Returns
    -------
    value : float
        The log marginal likelihood (module docstring); ``-inf`` where ``B`` is not numerically
        positive definite (overflowing ``s``).
    d_s : ndarray of shape (p,)
    d_sigma : float
    """
    p = s.size
    s2 = sigma * sigma
    B = gram * np.outer(s, s) / s2
    B[np.diag_indices(p)] += 1.0
    try:
        L = linalg.cholesky(B, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return -np.inf, np.full(p, np.nan), np.nan
    if not np.all(np.isfinite(L)):
        return -np.inf, np.full(p, np.nan), np.nan
    u = s * xty / s2
    m = linalg.cho_solve((L, True), u, check_finite=False)
    quad = float(u @ m)
    logdet = 2.0 * float(np.sum(np.log(np.diag(L))))
    value = (
        -0.5 * n_eff * np.log(2.0 * np.pi * s2)
        + log_const
        - 0.5 * logdet
        - 0.5 * yty / s2
        + 0.5 * quad
    )
    if not grad:
        return value, np.zeros(p), 0.0
    A, info = linalg.lapack.dpotri(L, lower=1)  # B^{-1} from its factor (lower triangle)
    if info != 0:
        return -np.inf, np.full(p, np.nan), np.nan
    A = np.tril(A) + np.tril(A, -1).T
    gsa_diag = np.einsum("kj,jk->k", gram, s[:, None] * A)  # diag(G S A), O(p^2)
    d_s = (-gsa_diag + m * xty - m * (gram @ (s * m))) / s2
    d_sigma = (p - np.trace(A) - quad - float(m @ m) - n_eff) / sigma + yty / (s2 * sigma)
    return value, d_s, d_sigma


class _MarginalLoglikOp(Op):
    """PyTensor Op: (s, sigma, G, g, yty) -> (value, d value/d s, d value/d sigma).

    The gradient is computed with the value (they share the Cholesky factor); ``L_op`` returns
    the stored outputs, so ``pt.grad`` costs no second factorization.
    """

    __props__ = ("n_eff", "log_const")

    def __init__(self, n_eff: int, log_const: float) -> None:
        self.n_eff = int(n_eff)
        self.log_const = float(log_const)
        super().__init__()

    def make_node(self, s, sigma, gram, xty, yty):
        inputs = [pt.as_tensor_variable(v, dtype="float64") for v in (s, sigma, gram, xty, yty)]
        outputs = [pt.dscalar(), pt.dvector(), pt.dscalar()]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, outputs):
        s, sigma, gram, xty, yty = inputs
        value, d_s, d_sigma = marginal_loglik(
            s, float(sigma), gram, xty, float(yty), self.n_eff, self.log_const
        )
        outputs[0][0] = np.asarray(value, dtype=np.float64)
        outputs[1][0] = np.asarray(d_s, dtype=np.float64)
        outputs[2][0] = np.asarray(d_sigma, dtype=np.float64)

    def L_op(self, inputs, outputs, output_grads):
        from pytensor.gradient import DisconnectedType

        for g in output_grads[1:]:
            if not isinstance(g.type, DisconnectedType):
                raise NotImplementedError(
                    "only the value of the marginal likelihood is differentiable"
                )
        g_value = output_grads[0]
        data_grads = [grad_not_implemented(self, i, inputs[i]) for i in (2, 3, 4)]
        return [g_value * outputs[1], g_value * outputs[2], *data_grads]


# ---------------------------------------------------------------------------------------------
# the conditional draws of (w, b)
# ---------------------------------------------------------------------------------------------
def conditional_weights(
    s: np.ndarray,
    sigma: np.ndarray,
    gram: np.ndarray,
    xty: np.ndarray,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and one draw of ``z = w / s`` from ``N(m, B^{-1})``, for a batch of hyperparameters.

    Parameters
    ----------
    s : ndarray of shape (k, p)
    sigma : ndarray of shape (k,)
    gram, xty : ndarray of shape (p, p) and (p,)
        Centred data statistics, as in :func:`marginal_loglik`.
    rng : numpy Generator or None
        None: no draw (the second output is the mean again).

    Returns
    -------
    mean, draw : ndarray of shape (k, p)
        ``m = B^{-1} u`` and ``m + L^{-T} e`` with ``B = L L'``, ``e ~ N(0, I)``; multiply by s to
        get w.
    """
    k, p = s.shape
    mean = np.empty((k, p))
    draw = np.empty((k, p))
    eye = np.eye(p)
    for i in range(k):
        s2 = sigma[i] ** 2
        B = gram * np.outer(s[i], s[i]) / s2 + eye
        L = linalg.cholesky(B, lower=True, check_finite=False)
        mean[i] = linalg.cho_solve((L, True), s[i] * xty / s2, check_finite=False)
        if rng is None:
            draw[i] = mean[i]
        else:
            e = rng.standard_normal(p)
            draw[i] = mean[i] + linalg.solve_triangular(L, e, lower=True, trans="T")
    return mean, draw


# ---------------------------------------------------------------------------------------------
# the collapsed model and its samplers
# ---------------------------------------------------------------------------------------------
class CollapsedHorseshoe:
    """The hyperparameter posterior of a horseshoe regression with w and b integrated out.

    Built once per model structure (``sample_posterior`` caches it with the model's compiled
    functions, shared by ``with_prior_scale`` copies): a PyMC model with the prior's
    hyperparameters (``w_tau_raw``, ``w_lambda``, ``w_c2_aux``) and ``sigma`` (when estimated),
    whose likelihood is the marginal likelihood of the module docstring. Its ``prior_scale``
    container is registered with the model (``register_prior_scale``), so ``model.sync()``
    writes the model's prior scale into it: it holds no scale of its own.
    """

    def __init__(self, model: RegressionModel) -> None:
        stats = CollapsedStatistics.of_data(model.X, model.y, model.fit_intercept)
        self._setup(model.prior, model.likelihood, stats, model.feature_names)
        model.register_prior_scale(self._scale)

    @classmethod
    def from_statistics(
        cls, prior: Any, likelihood: Any, stats: CollapsedStatistics, feature_names: Any
    ) -> CollapsedHorseshoe:
        """The collapsed posterior of data known only through ``stats`` (no model: the prior
        scale is the prior's own, fixed)."""
        self = cls.__new__(cls)
        self._setup(prior, likelihood, stats, feature_names)
        return self

    def _setup(self, prior: Any, lik: Any, stats: CollapsedStatistics, feature_names) -> None:
        p = stats.x_mean.shape[0]
        problem = collapse_problem_of(prior, lik, p)
        if problem is not None:
            raise ValueError(
                f"The collapsed sampler needs a horseshoe prior, a Gaussian likelihood and "
                f"p <= {MAX_FEATURES}: {problem}."
            )
        self.p, self.n, self.fit_intercept = p, stats.n, stats.fit_intercept
        self.feature_names = list(feature_names)
        self._statistics(stats)
        hm, self._scale = self._build(prior, lik, stats.sd_y)
        self.pymc_model = hm
        self.value_vars = list(hm.value_vars)
        # the expansion maps theta back by exp: every hyperparameter must be log-transformed
        # (positive scales); a prior with another transform needs its own inverse here
        other = [v.name for v in self.value_vars if not v.name.endswith("_log__")]
        if other:
            raise NotImplementedError(
                f"the collapsed sampler handles log-transformed hyperparameters only; "
                f"{prior!r} has {other}."
            )
        self.layout = ParamLayout.of(hm)
        self.initial_theta = self.layout.pack(hm.initial_point())
        self.ndim = self.layout.size
        self._functions: dict[Hashable, Any] = {}

    def _statistics(self, stats: CollapsedStatistics) -> None:
        """The data statistics; n_eff and the log constant of the integrated intercept."""
        self.x_mean, self.y_mean = stats.x_mean, stats.y_mean
        if stats.fit_intercept:
            self._n_eff, self._log_const = stats.n - 1, -0.5 * np.log(stats.n)
        else:
            self._n_eff, self._log_const = stats.n, 0.0
        self.gram, self.xty, self.yty = stats.gram, stats.xty, stats.yty

    def _build(self, prior: Any, lik: Any, sd_y: float) -> tuple[Any, Any]:
        """The hyperparameter model, and its ``prior_scale`` shared variable."""
        import pymc as pm

        with pm.Model(coords={"feature": self.feature_names}) as hm:
            scale = pm.Data("prior_scale", prior.scale)
            if lik.estimates_sigma:
                sigma = pm.HalfNormal("sigma", sigma=lik.sigma_prior_scale_for_sd(sd_y))
            else:
                sigma = pm.Data("noise_sigma", lik.fixed_sigma)
            sd = prior.pymc_prior_sd("w", scale, sigma, dims="feature")
            stats = [pm.Data(f"collapsed_{k}", v) for k, v in
                     (("gram", self.gram), ("xty", self.xty), ("yty", self.yty))]  # fmt: skip
            value, _, _ = _MarginalLoglikOp(self._n_eff, self._log_const)(sd, sigma, *stats)
            pm.Potential("marginal_loglik", value)
        self._sd, self._sigma = sd, sigma
        return hm, scale

    def cache(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """The object cached under ``key`` (compiled samplers of this graph), built once."""
        if key not in self._functions:
            self._functions[key] = factory()
        return self._functions[key]

    def target(self) -> LogDensityTarget:
        """The hyperparameter posterior as a log-density target (free variables expanded)."""
        hm, layout = self.pymc_model, self.layout

        def logp_dlogp() -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
            fn = self.logp_dlogp_function()

            def copying(x: np.ndarray) -> tuple[float, np.ndarray]:
                value, grad = fn(x)
                return value, np.array(grad)

            return copying

        return LogDensityTarget(
            ndim=self.ndim,
            initial_theta=self.initial_theta,
            pymc_model=hm,
            logp_dlogp=logp_dlogp,
            expansion=lambda: self.cache(
                "expansion", lambda: expansion_of(hm, layout, self.initial_theta, False)
            ),
            free_spec=_simple_free(hm, layout),
            pymc_logp=None,
            cache=self.cache,
            source=self,
        )

    # -- compiled functions of the flat unconstrained vector theta -------------------------
    def _theta_replacements(self, theta):
        lay = self.layout
        return {v: theta[lay.slices[v.name]].reshape(lay.shapes[v.name]) for v in self.value_vars}

    def logp_dlogp_function(self):
        """Compiled ``theta -> (logp, dlogp/dtheta)`` of the hyperparameter posterior; cached."""
        if "dlogp" not in self._functions:
            hm = self.pymc_model
            theta = pt.dvector("theta")
            logp = hm.logp(jacobian=True, sum=True)
            grads = pt.grad(logp, self.value_vars)
            joined = pt.concatenate([pt.as_tensor_variable(g).ravel() for g in grads])
            logp, joined = graph_replace(
                [logp, joined], self._theta_replacements(theta), strict=False
            )
            fn = pytensor.function([theta], [logp, joined], on_unused_input="ignore")
            fn.trust_input = True
            self._functions["dlogp"] = fn
        return self._functions["dlogp"]

    def _hyper_function(self):
        """Compiled constrained hyperparameters -> (s, sigma, every deterministic)."""
        if "hyper" not in self._functions:
            hm = self.pymc_model
            free = list(hm.free_RVs)
            outs = [self._sd, pt.as_tensor_variable(self._sigma), *hm.deterministics]
            fn = pytensor.function(free, outs, on_unused_input="ignore")
            self._functions["hyper"] = (
                fn,
                [rv.name for rv in free],
                [d.name for d in hm.deterministics],
            )
        return self._functions["hyper"]

    # -- completing the draws ----------------------------------------------------------------
    def complete(self, post: xr.Dataset, rng: np.random.Generator) -> xr.Dataset:
        """Add ``w_z``, ``w``, ``intercept`` (and the deterministics) to hyperparameter draws.

        ``post`` holds the free hyperparameters on their natural scale, dims (chain, draw, ...).
        """
        fn, free_names, det_names = self._hyper_function()
        chains, draws = post.sizes["chain"], post.sizes["draw"]
        k = chains * draws
        flat = {name: post[name].values.reshape((k, *post[name].shape[2:])) for name in free_names}
        p = self.p
        s = np.empty((k, p))
        sigma = np.empty(k)
        dets: dict[str, list[np.ndarray]] = {name: [] for name in det_names}
        for i in range(k):
            values = fn(*[flat[name][i] for name in free_names])
            s[i], sigma[i] = values[0], values[1]
            for name, v in zip(det_names, values[2:], strict=True):
                dets[name].append(np.asarray(v))
        _, z = conditional_weights(s, sigma, self.gram, self.xty, rng)
        w = z * s
        data = {name: post[name] for name in free_names}
        shape = (chains, draws)
        dims = ("chain", "draw", "feature")
        data["w_z"] = (dims, z.reshape(*shape, p))
        data["w"] = (dims, w.reshape(*shape, p))
        for name, values in dets.items():
            arr = np.stack(values).reshape(*shape, *np.shape(values[0]))
            data[name] = (dims if arr.ndim == 3 else ("chain", "draw"), arr)
        if self.fit_intercept:
            loc = self.y_mean - w @ self.x_mean
            b = loc + sigma / np.sqrt(self.n) * rng.standard_normal(k)
            data["intercept"] = (("chain", "draw"), b.reshape(shape))
        coords = {"chain": post.chain.values, "draw": post.draw.values,
                  "feature": self.feature_names}  # fmt: skip
        return xr.Dataset(data, coords=coords)


class CollapsedBackend(NutsBackend):
    """NUTS (PyMC's or nutpie's, through the same adapters) on the collapsed graph, then an
    exact draw of (w, b) from its Gaussian conditional for every hyperparameter draw."""

    def __init__(self, engine: PymcBackend | NutpiePyfuncBackend) -> None:
        self.engine = engine
        self.name = engine.name
        self.packages = engine.packages

    def keywords(self) -> frozenset[str]:
        return self.engine.keywords()

    def problem(self, model: RegressionModel) -> str | None:
        return collapse_problem(model)

    def default_target_accept(self, model: RegressionModel) -> float:
        return COLLAPSED_TARGET_ACCEPT

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        collapsed, build = cached(model.cache, "collapsed", lambda: CollapsedHorseshoe(model))
        model.sync()  # the collapsed graph's prior scale = this model's
        run = run_collapsed(collapsed, self.engine, settings, self.target_accept(model, settings))
        return Run(run.idata, run.seconds, build + run.compile_seconds, run.attrs)


def run_collapsed(
    collapsed: CollapsedHorseshoe,
    engine: PymcBackend | NutpiePyfuncBackend,
    settings: SamplerSettings,
    target_accept: float,
) -> Run:
    """NUTS on the collapsed graph, then an exact draw of (w, b) for every draw."""
    # p x p factorizations are too small for threaded BLAS: with a second thread contending
    # for a core, OpenBLAS's threads spin and one gradient took 33 ms instead of 0.55 ms
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_collapsed(collapsed, engine, settings, target_accept)


def _run_collapsed(collapsed, engine, settings, target_accept) -> Run:
    # the conditional draws of (w, b) get their own stream, apart from the sampler's
    seed = settings.random_seed
    rng = np.random.default_rng(None if seed is None else [seed, 13])
    run = engine.run_target(collapsed.target(), settings, target_accept)
    with Stopwatch() as watch:
        post = collapsed.complete(run.idata.posterior, rng)
    groups = {"posterior": post}
    if "sample_stats" in run.idata.groups():
        groups["sample_stats"] = run.idata.sample_stats
    attrs = {
        "max_treedepth": settings.max_treedepth,
        "sampling_graph": "collapsed",
        "engine": engine.name,
        "target_accept": target_accept,
    }
    return Run(az.InferenceData(**groups), run.seconds + watch.seconds, run.compile_seconds, attrs)
