"""Disk-cached numba C callbacks of the log posterior, for nutpie's Rust NUTS (no Python calls).

Why this module exists
----------------------
nutpie calls the log density once per leapfrog step. Through a Python callback
(``nutpie.compiled_pyfunc``) each call costs ~20 us before any arithmetic, and PyTensor's
C-compiled sampling graph adds ~20 us of per-node dispatch for what is ~2 us of arithmetic at
n=1000, p=100. nutpie's own numba backend removes the callback but compiles a new
``numba.cfunc`` for every model (10-20 s per process, uncached).

Here the C callbacks are *static* source code compiled with ``numba.cfunc(..., cache=True)``:
numba compiles them once per environment and later processes load them from its disk cache. The
model (which likelihood, which prior, the sufficient statistics or the data, the current prior
scale and noise sd, where each value variable sits in theta) is not baked into the code: it is
one float64 buffer that nutpie hands back to the callback as its ``user_data`` pointer. A new
model, new data or ``set_prior_scale`` is a new buffer, never a new compilation.

Supported models (:func:`kernel_problem` says why any other is not): any prior whose penalty is
``a ||w||_1 + c ||w||^2 / 2`` (``Prior.elastic_coefs``: ``Gaussian``, ``Laplace``,
``ElasticNet``), a likelihood whose ``kernel`` id is ``"gaussian"`` (sigma known or estimated
with its half-normal prior) or ``"bernoulli"``, with or without intercept. The log
posterior is the model's own, log-Jacobian of ``sigma_log__`` included; with ``s = log sigma``::

    data (Gaussian, p < n; sufficient statistics as in RegressionModel.sampling_logp):
        SSE = rss0 - 2 d'g0 + d'G d + n (ybar - xbar'w - b)^2,  d = w - w0
        log p(y | .) = -n s - n/2 log(2 pi) - SSE / (2 sigma^2)
    data (Gaussian, p >= n):  the same with SSE = ||y - X w - b||^2
    data (Bernoulli):  sum_i [y_i eta_i - log(1 + e^eta_i)],  eta = X w + b
    prior on w (per coordinate, at the effective scale; (a, c) = Prior.elastic_coefs and
    log Z = elastic_log_normalizer(a, c)):
        -a |w_j| - c w_j^2 / 2 - log Z(a, c)
        Gaussian(tau): a = 0, c = 1/tau^2, log Z = log tau + log(2 pi)/2
        Laplace(b):    a = 1/b, c = 0,     log Z = log(2 b)
        ElasticNet:    a = rho/scale, c = (1 - rho)/scale, Z as in bayesreg.priors
        scale_by_sigma with sigma estimated: a -> a/sigma, c -> c/sigma^2, log Z -> log Z + s
    sigma ~ HalfNormal(h): log(2/pi)/2 - log h - sigma^2/(2 h^2), plus the Jacobian s.

The buffer layout (all float64; integers are stored exactly) is private to this module:
``HEADER`` slots, then the expansion table (3 numbers per output variable: offset in theta,
size, 1 if log-transformed), then the data arrays, then the prior's ``a``, ``c`` and ``log Z``
of each coefficient (a per-coefficient scale is the general case; one scale fills them equally).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numba
import numpy as np
from numba import types
from scipy import linalg

from bayesreg._capabilities import ELASTIC_PENALTY, KERNEL_LIKELIHOOD, KNOWN_SHAPE, explain
from bayesreg.priors import elastic_log_normalizer

__all__ = [
    "KernelData",
    "kernel_problem",
    "kernel_problem_for",
    "statistics_from_quadratic",
]

# header slots
(
    _TOTAL,  # length of the whole buffer
    _NDIM,  # size of theta
    _P,
    _N,
    _LIK,  # 0: Gaussian, sufficient statistics; 1: Gaussian, direct; 2: Bernoulli
    _OFF_W,  # offset of w in theta
    _OFF_B,  # offset of the intercept, -1 without one
    _OFF_S,  # offset of sigma_log__, -1 when sigma is known (or Bernoulli)
    _SIGMA,  # the known sigma (1 for Bernoulli), or h, sigma's half-normal scale when estimated
    _PRIOR,  # offset of the prior's a, c and log Z per coefficient (3 p numbers, sigma = 1)
    _PSBS,  # 1: the prior's scale is scale * sigma, sigma estimated
    _NEXP,  # number of expanded (recorded) variables
    _EXPSPEC,  # offset of the expansion table
    _DATA,  # offset of the data arrays
) = range(14)
HEADER = 14
_LIK_SS, _LIK_DIRECT, _LIK_BERNOULLI = 0, 1, 2
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_HALF_LOG_2_OVER_PI = 0.5 * math.log(2.0 / math.pi)


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


# error_model="numpy": 1/0 gives inf (reported to nutpie as a non-finite value, i.e. a
# divergence) instead of raising inside a C callback
_JIT = {"cache": True, "error_model": "numpy"}


def _compile(decorator: Any, fn: Any, *args: Any) -> Any:
    """``decorator(*args, cache=True, ...)(fn)``, or uncached where no cache dir is writable."""
    try:
        return decorator(*args, **_JIT)(fn)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return decorator(*args, **{**_JIT, "cache": False})(fn)


_softplus_nb = _compile(numba.njit, _softplus)


def _logp_grad(x, buf, grad):  # pragma: no cover - compiled; tested through its callers
    """log posterior at theta ``x`` (float); writes its gradient into ``grad``."""
    p = int(buf[_P])
    n = int(buf[_N])
    lik = int(buf[_LIK])
    ow, ob, osg = int(buf[_OFF_W]), int(buf[_OFF_B]), int(buf[_OFF_S])
    d0 = int(buf[_DATA])
    w = x[ow : ow + p]
    b = x[ob] if ob >= 0 else 0.0
    if osg >= 0:
        s = x[osg]
        sigma = math.exp(s)
    else:
        s = 0.0
        sigma = buf[_SIGMA]
    for i in range(grad.size):
        grad[i] = 0.0
    gb = 0.0  # d logp / d intercept
    gs = 0.0  # d logp / d log sigma
    if lik == _LIK_SS:
        gram = buf[d0 : d0 + p * p].reshape((p, p))
        o = d0 + p * p
        w0 = buf[o : o + p]
        g0 = buf[o + p : o + 2 * p]
        xm = buf[o + 2 * p : o + 3 * p]
        rss0 = buf[o + 3 * p]
        ym = buf[o + 3 * p + 1]
        dv = w - w0
        gd = np.dot(gram, dv)  # the O(p^2) step: BLAS dgemv
        rmean = ym - np.dot(xm, w) - b
        sse = rss0 - 2.0 * np.dot(dv, g0) + np.dot(dv, gd) + n * rmean * rmean
        inv = 1.0 / (sigma * sigma)
        logp = -n * math.log(sigma) - n * _HALF_LOG_2PI - 0.5 * sse * inv
        for j in range(p):
            grad[ow + j] = (g0[j] - gd[j] + n * rmean * xm[j]) * inv
        gb = n * rmean * inv
        gs = -n + sse * inv
    else:
        X = buf[d0 : d0 + n * p].reshape((n, p))
        y = buf[d0 + n * p : d0 + n * p + n]
        eta = np.dot(X, w) + b
        r = np.empty(n)
        logp = 0.0
        if lik == _LIK_DIRECT:
            sse = 0.0
            for i in range(n):
                r[i] = y[i] - eta[i]
                sse += r[i] * r[i]
            inv = 1.0 / (sigma * sigma)
            logp = -n * math.log(sigma) - n * _HALF_LOG_2PI - 0.5 * sse * inv
            for i in range(n):
                r[i] *= inv
            gs = -n + sse * inv
        else:
            for i in range(n):
                e = eta[i]
                # PyMC's form: log sigmoid(eta) for y = 1, log sigmoid(-eta) for y = 0
                if y[i] == 1.0:
                    logp -= _softplus_nb(-e)
                else:
                    logp -= _softplus_nb(e)
                if e >= 0.0:
                    prob = 1.0 / (1.0 + math.exp(-e))
                else:
                    t = math.exp(e)
                    prob = t / (1.0 + t)
                r[i] = y[i] - prob
        gw = np.dot(r, X)  # X' r
        for j in range(p):
            grad[ow + j] = gw[j]
        for i in range(n):
            gb += r[i]
    # the prior on w: per coefficient a_j |w_j| + c_j w_j^2 / 2 + log Z_j (at sigma = 1)
    po = int(buf[_PRIOR])
    sbs = buf[_PSBS] != 0.0
    ra = 1.0 / sigma if sbs else 1.0
    rc = ra * ra
    s1 = 0.0  # sum_j a_j |w_j| (at the sampled sigma)
    s2 = 0.0  # sum_j c_j w_j^2
    logz = 0.0
    for j in range(p):
        wj = w[j]
        aj = buf[po + j] * ra
        cj = buf[po + p + j] * rc
        s1 += aj * abs(wj)
        s2 += cj * wj * wj
        logz += buf[po + 2 * p + j]
        sign = 1.0 if wj > 0.0 else (-1.0 if wj < 0.0 else 0.0)
        grad[ow + j] -= aj * sign + cj * wj
    logp += -s1 - 0.5 * s2 - logz
    if sbs:
        logp -= p * s
        gs += s1 + s2 - p
    if ob >= 0:
        grad[ob] += gb
    if osg >= 0:
        # sigma ~ HalfNormal(h), sampled as log sigma (+ the log-Jacobian s)
        h = buf[_SIGMA]
        z2 = (sigma / h) ** 2
        logp += _HALF_LOG_2_OVER_PI - math.log(h) - 0.5 * z2 + s
        grad[osg] += gs - z2 + 1.0
    return logp


_logp_grad = _compile(numba.njit, _logp_grad)


def _expand(x, buf, out):  # pragma: no cover - compiled; tested through its callers
    """The recorded variables (natural scale) from theta, concatenated into ``out``."""
    k = int(buf[_NEXP])
    e = int(buf[_EXPSPEC])
    pos = 0
    for v in range(k):
        off, size, log = int(buf[e + 3 * v]), int(buf[e + 3 * v + 1]), buf[e + 3 * v + 2]
        for i in range(size):
            out[pos + i] = math.exp(x[off + i]) if log != 0.0 else x[off + i]
        pos += size
    return pos


_expand = _compile(numba.njit, _expand)


_LOGP_SIG = types.int64(
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)
_EXPAND_SIG = types.int64(
    types.uint64,
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)


def _logp_c(dim, x_, out_, logp_, user_data):  # pragma: no cover - compiled
    # nutpie's C signature (nutpie.compile_pymc._make_c_logp_func); return codes as there:
    # -1 wrong size, 3 non-finite gradient, 4 non-finite logp (> 0: a divergence, not fatal)
    head = numba.carray(user_data, (HEADER,), np.float64)
    if dim != int(head[_NDIM]):
        return -1
    buf = numba.carray(user_data, (int(head[_TOTAL]),), np.float64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    lp = numba.carray(logp_, (1,))
    value = _logp_grad(x, buf, out)
    lp[0] = value
    for i in range(dim):
        if not np.isfinite(out[i]):
            return 3
    if not np.isfinite(value):
        return 4
    return 0


def _expand_c(dim, expanded, x_, out_, user_data):  # pragma: no cover - compiled
    head = numba.carray(user_data, (HEADER,), np.float64)
    if dim != int(head[_NDIM]):
        return -1
    buf = numba.carray(user_data, (int(head[_TOTAL]),), np.float64)
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (expanded,))
    if _expand(x, buf, out) != expanded:
        return -1
    return 0


_CFUNCS: dict[str, Any] = {}


def cfuncs() -> tuple[Any, Any]:
    """The two C callbacks (logp+gradient, expansion): loaded from numba's disk cache.

    The first call in a fresh environment compiles them (seconds, once); later processes load
    the cached machine code.
    """
    if not _CFUNCS:
        with warnings.catch_warnings():
            # numba warns when a cache directory is not writable: it then compiles in memory
            warnings.simplefilter("ignore", numba.NumbaWarning)
            _CFUNCS["logp"] = _compile(numba.cfunc, _logp_c, _LOGP_SIG)
            _CFUNCS["expand"] = _compile(numba.cfunc, _expand_c, _EXPAND_SIG)
    return _CFUNCS["logp"], _CFUNCS["expand"]


# ---------------------------------------------------------------------------------------------
# the model -> buffer side (plain Python)
# ---------------------------------------------------------------------------------------------
#: the kernel ids (``Likelihood.kernel``) this module evaluates
KERNELS = ("gaussian", "bernoulli")


def kernel_problem(model: Any) -> str | None:
    """Why ``model`` has no static kernel (None when it has one).

    The kernel evaluates any prior whose penalty is ``a ||w||_1 + c ||w||^2 / 2``
    (``Prior.elastic_coefs``, normalized by ``elastic_log_normalizer``) with a likelihood whose
    ``kernel`` id it knows, on the plain layout (w, intercept, log sigma).
    """
    reason = kernel_problem_for(model.prior, model.likelihood)
    if reason is not None:
        return reason
    # the kernel knows these value variables only: any other (a prior adding auxiliary
    # variables, a transform other than log for sigma) goes to the general path
    expected = {"w"} | ({"intercept"} if model.fit_intercept else set())
    if model.likelihood.estimates_sigma:
        expected.add("sigma_log__")
    if set(model.layout.names) != expected or len(model.pymc_model.deterministics) > 0:
        return f"the model's value variables {model.layout.names} are not {sorted(expected)}"
    return None


def kernel_problem_for(prior: Any, likelihood: Any) -> str | None:
    """Why the (prior, likelihood) pair has no static kernel (None when it has one)."""
    reason = explain(
        "the static kernel", (ELASTIC_PENALTY, KNOWN_SHAPE, KERNEL_LIKELIHOOD), prior, likelihood
    )
    if reason is None and likelihood.kernel not in KERNELS:
        return (
            f"the likelihood {likelihood!r} names kernel {likelihood.kernel!r}; this module "
            f"has {KERNELS}"
        )
    return reason


def statistics_from_quadratic(
    G: np.ndarray, q: np.ndarray, r: float, x_mean: np.ndarray, y_mean: float
) -> dict[str, np.ndarray]:
    """The kernel's sufficient statistics from ``SSE(w) = r - 2 w'q + w'G w`` (centred, or raw
    without an intercept, as ``Moments.quadratic``): the anchor ``w0`` is a least-squares
    point, ``g0 = q - G w0`` and ``rss0 = SSE(w0)`` (the identity is exact for any anchor)."""
    w0 = np.asarray(linalg.lstsq(G, q)[0], dtype=np.float64)
    g0 = q - G @ w0
    rss0 = max(float(r - 2.0 * w0 @ q + w0 @ (G @ w0)), 0.0)
    return {
        "gram": np.asarray(G, dtype=np.float64), "w0": w0, "g0": g0, "rss0": np.asarray(rss0),
        "x_mean": np.asarray(x_mean, dtype=np.float64), "y_mean": np.asarray(float(y_mean)),
    }  # fmt: skip


def _statistics_part(st: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate(
        [np.ravel(st["gram"]), st["w0"], st["g0"], st["x_mean"],
         [float(st["rss0"]), float(st["y_mean"])]]
    )  # fmt: skip


class KernelData:
    """The buffer that tells the static kernels which model they evaluate.

    The data part (sufficient statistics, or X and y) is computed once per model; the header
    (prior scale, noise sd) is refreshed by :meth:`buffer` from the model's current values, so
    ``set_prior_scale`` takes effect without any compilation.

    Parameters
    ----------
    model : RegressionModel
        A model for which :func:`kernel_problem` returns None.
    names : list of str
        The recorded variables, in output order (free variables: ``w``, ``intercept``,
        ``sigma``).
    centred : bool, default False
        Evaluate the posterior in the intercept of the centred design, ``d = b + xbar'w - c``
        (``c = ybar`` with sufficient statistics, else 0) instead of b: the same density (a
        flat prior on b and a unit Jacobian), in which d is nearly independent of w where b,
        on columns far from 0, is strongly correlated with it. The theta coordinate
        ``intercept`` then holds d and :meth:`uncentre` maps draws back to b. False: theta is
        the model's own (what the tests compare with PyMC's logp).
    """

    def __init__(self, model: Any, names: list[str], centred: bool = False) -> None:
        problem = kernel_problem(model)
        if problem is not None:
            raise ValueError(f"No static kernel for this model: {problem}.")
        self.model = model
        if model.likelihood.kernel == "bernoulli":
            lik = _LIK_BERNOULLI
        elif model.uses_sufficient_statistics:
            lik = _LIK_SS
        else:
            lik = _LIK_DIRECT
        centred = bool(centred and model.fit_intercept)
        x_mean = np.asarray(model.X.mean(axis=0)) if centred else None
        if lik == _LIK_SS:
            st = model._sufficient_statistics()
            #: (xbar, c): the intercept coordinate is b + xbar'w - c (centred only)
            self.intercept_shift = None if not centred else (x_mean, float(st["y_mean"]))
            if centred:
                st = {**st, "x_mean": np.zeros(model.p), "y_mean": np.asarray(0.0)}
            data = _statistics_part(st)
        else:
            self.intercept_shift = None if not centred else (x_mean, 0.0)
            X = model.X - x_mean if centred else model.X
            data = np.concatenate([np.ravel(X), model.y])
        lay = model.layout
        slices = {k: (v.start, v.stop - v.start) for k, v in lay.slices.items()}
        self._set(lay.size, model.p, model.n, lik, slices, names, data)

    @classmethod
    def from_statistics(
        cls, st: dict[str, np.ndarray], n: int, prior: Any, likelihood: Any, sd_y: float,
        fit_intercept: bool, intercept_shift: tuple[np.ndarray, float] | None = None,
    ) -> tuple[KernelData, dict[str, tuple[int, int]]]:  # fmt: skip
        """The buffer of a Gaussian-likelihood posterior known only by its sufficient
        statistics (:func:`statistics_from_quadratic`), on the layout a ``RegressionModel``
        would have (``sigma_log__`` when estimated, ``intercept`` when fitted, ``w``).

        ``intercept_shift``: ``(xbar, c)`` when the statistics are those of the centred data
        (``x_mean = 0``, ``y_mean = 0``), so that the intercept coordinate is
        ``d = b + xbar'w - c`` (see ``centred``; :meth:`uncentre` maps it back).
        Returns the data and that layout, ``{value variable: (offset, size)}``.
        """
        problem = kernel_problem_for(prior, likelihood)
        if problem is None and likelihood.kernel != "gaussian":
            problem = "only a Gaussian likelihood is known by its sufficient statistics"
        if problem is not None:
            raise ValueError(f"No static kernel for these moments: {problem}.")
        p = int(np.size(st["w0"]))
        sizes = [("sigma_log__", 1)] if likelihood.estimates_sigma else []
        sizes += ([("intercept", 1)] if fit_intercept else []) + [("w", p)]
        slices, start = {}, 0
        for name, size in sizes:
            slices[name], start = (start, size), start + size
        names = [{"sigma_log__": "sigma"}.get(k, k) for k in ("w", "intercept", "sigma_log__")
                 if k in slices]  # fmt: skip
        self = cls.__new__(cls)
        self.model, self.intercept_shift = None, intercept_shift
        self._set(start, p, n, _LIK_SS, slices, names, _statistics_part(st))
        self._source = (prior, likelihood, float(sd_y))
        return self, slices

    def uncentre(self, posterior: Any) -> Any:
        """The posterior (an xarray Dataset with ``w`` over ``feature`` and ``intercept``) with
        the intercept draws mapped back from d to ``b = d + c - xbar'w``, in place (unchanged
        when the buffer is not centred)."""
        if self.intercept_shift is None:
            return posterior
        import xarray as xr

        x_mean, c = self.intercept_shift
        w = posterior["w"]
        xbar = xr.DataArray(x_mean, dims=w.dims[-1:])
        b = posterior["intercept"] + c - (w * xbar).sum(w.dims[-1])
        posterior["intercept"] = b.assign_attrs(posterior["intercept"].attrs)
        return posterior

    def _set(self, ndim, p, n, lik, slices, names, data) -> None:
        table = []
        for name in names:
            value_name = name if name in slices else f"{name}_log__"
            off, size = slices[value_name]
            table += [off, size, float(value_name != name)]
        self.n_expanded = int(sum(table[1::3]))
        self.lik, self.p = lik, p
        self._table = np.asarray(table, dtype=np.float64)
        self._data = data
        head = np.zeros(HEADER)
        k = self._table.size // 3
        head[_NDIM], head[_P], head[_N], head[_LIK] = ndim, p, n, lik
        head[_OFF_W] = slices["w"][0]
        head[_OFF_B] = slices["intercept"][0] if "intercept" in slices else -1
        head[_OFF_S] = slices["sigma_log__"][0] if "sigma_log__" in slices else -1
        head[_NEXP], head[_EXPSPEC] = k, HEADER
        head[_DATA] = HEADER + self._table.size
        head[_PRIOR] = HEADER + self._table.size + self._data.size
        head[_TOTAL] = head[_PRIOR] + 3 * p
        self._template = np.concatenate([head, self._table, self._data, np.zeros(3 * p)])

    def buffer(self, model: Any = None) -> np.ndarray:
        """A fresh buffer at ``model``'s prior scale and known sigma (default: the model it was
        built for, or the prior and likelihood of :meth:`from_statistics`; a
        ``with_prior_scale`` copy shares the data part)."""
        model = self.model if model is None else model
        if model is None:  # built from statistics
            prior, lik, sd_y = self._source
        else:
            prior, lik, sd_y = model.prior, model.likelihood, float(np.std(model.y))
        buf = self._template.copy()
        estimated = lik.estimates_sigma
        if estimated:
            buf[_SIGMA] = lik.sigma_prior_scale_for_sd(sd_y)
        else:  # the known sigma; 1 without a noise scale (Bernoulli)
            buf[_SIGMA] = 1.0 if lik.fixed_sigma is None else float(lik.fixed_sigma)
        # with sigma estimated, the coefficients at sigma = 1: the kernel scales them by the
        # sampled sigma when the prior's scale is scale * sigma
        a, c = prior.elastic_coefs(1.0 if estimated else buf[_SIGMA])
        p, po = self.p, int(buf[_PRIOR])
        buf[po : po + p] = a
        buf[po + p : po + 2 * p] = c
        buf[po + 2 * p : po + 3 * p] = elastic_log_normalizer(a, c)
        buf[_PSBS] = float(prior.scale_by_sigma and estimated)
        return buf


def logp_dlogp(x: np.ndarray, buf: np.ndarray) -> tuple[float, np.ndarray]:
    """The kernel's ``(logp, grad)`` at theta ``x`` from Python (for tests and checks)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    return float(_logp_grad(x, buf, grad)), grad
