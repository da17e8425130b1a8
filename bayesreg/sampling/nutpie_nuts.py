"""nutpie's Rust NUTS, three ways: nutpie's own compilation of the PyMC model (numba, JAX),
a Python callback into a log-density target's compiled graph (``"pytensor"``), and the static
numba kernels of ``bayesreg._fastlogp`` (``"kernel"``).

Every use of nutpie's API beyond ``nutpie.sample`` (``from_pyfunc``, ``CompiledPyMCModel``'s
fields, ``with_data``, the settings object) is in this module. nutpie is optional (the ``fast``
extra): it is imported when a backend runs, never at import.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import threading
from typing import Any

import numpy as np

from bayesreg import _fastlogp
from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import NutsBackend, cached
from bayesreg.sampling.defaults import LOW_RANK_MAX_FEATURES, LOW_RANK_MIN_CONDITION
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.settings import SamplerSettings
from bayesreg.sampling.target import LogDensityTarget, model_target

__all__ = [
    "NutpieGraphBackend",
    "NutpieKernelBackend",
    "NutpiePyfuncBackend",
    "nutpie_accepts",
    "nutpie_keywords",
]

#: what the nutpie backends pass to ``nutpie.sample`` themselves
_SETS = {"compiled_model", "kwargs", "draws", "tune", "chains", "seed", "progress_bar"}


@functools.cache
def nutpie_keywords() -> frozenset[str]:
    """Every option ``nutpie.sample`` understands, and the NUTS settings of this package."""
    import nutpie
    from nutpie import _lib

    known = set(inspect.signature(nutpie.sample).parameters) - _SETS - {"save_warmup"}
    known |= {a for a in dir(_lib.PyNutsSettings.Diag(0)) if not a.startswith("_")}
    return frozenset(known | NutsBackend.NUTS_KEYWORDS | {"nutpie_backend"})


def nutpie_accepts(keywords: Any) -> bool:
    """Whether every keyword means something to ``nutpie.sample``."""
    return set(keywords) <= nutpie_keywords()


def nutpie_sample(
    compiled: Any,
    settings: SamplerSettings,
    target_accept: float,
    defaults: dict[str, Any] | None = None,
) -> tuple[Any, float]:
    """``nutpie.sample`` with the package's settings; the InferenceData and its seconds.

    ``defaults``: the backend's own nutpie options (``cores``, the mass matrix), which the
    caller's keywords override; without them chains run one after another (``cores=1``).
    """
    import nutpie

    options = {"cores": 1, **(defaults or {}), **settings.options}
    with Stopwatch() as watch:
        idata = nutpie.sample(
            compiled, draws=settings.draws, tune=settings.tune, chains=settings.chains,
            seed=settings.random_seed, target_accept=target_accept,
            maxdepth=settings.max_treedepth, progress_bar=settings.progressbar,
            save_warmup=False, **options,
        )  # fmt: skip
    return idata, watch.seconds


@dataclasses.dataclass(frozen=True)
class InterceptCentring:
    """NUTS in ``d = b + xbar'w`` instead of the intercept b (w, the rest unchanged).

    The map theta' -> theta, ``b = d - xbar'w``, is linear with unit Jacobian and the intercept
    is flat, so the density is the same; but d is nearly independent of w a posteriori, where
    b, on columns far from 0, is correlated with w to ``1 - O(sd^2 / mean^2)`` (a Student-t
    regression on columns of mean 100 took 290 s instead of 7 s). Gradient by the chain rule:
    ``d/dw at fixed d = dlogp/dw - xbar dlogp/db``, ``d/dd = dlogp/db``.
    """

    x_mean: np.ndarray
    w: slice
    b: int

    @classmethod
    def of(cls, target: LogDensityTarget) -> InterceptCentring | None:
        """The centring of a model target whose value variables include ``w`` and
        ``intercept`` themselves (None otherwise: a non-centred w, a collapsed target)."""
        model = target.source
        if not isinstance(model, RegressionModel) or not model.fit_intercept:
            return None
        slices = model.layout.slices
        if "w" not in slices or "intercept" not in slices:
            return None
        x_mean = np.asarray(model.X.mean(axis=0), dtype=np.float64)
        return cls(x_mean, slices["w"], slices["intercept"].start)

    def theta(self, x: np.ndarray) -> np.ndarray:
        """The model's theta from the sampled one."""
        out = np.array(x, dtype=np.float64)
        out[self.b] -= self.x_mean @ out[self.w]
        return out

    def sampled(self, theta: np.ndarray) -> np.ndarray:
        """The sampled coordinates of the model's theta (the inverse of :meth:`theta`)."""
        out = np.array(theta, dtype=np.float64)
        out[self.b] += self.x_mean @ out[self.w]
        return out

    def gradient(self, grad: np.ndarray) -> np.ndarray:
        out = np.array(grad, dtype=np.float64)
        out[self.w] -= self.x_mean * out[self.b]
        return out


def _pyfunc_model(target: LogDensityTarget) -> Any:
    """nutpie's NUTS driving ``target.logp_dlogp()`` through a Python callback (in the
    centred intercept, :class:`InterceptCentring`, where the target has one)."""
    from nutpie.compiled_pyfunc import from_pyfunc

    fn = target.logp_dlogp()
    ex = target.expansion()
    # one compiled function (and its buffers) serves every chain: one call at a time
    lock = threading.Lock()
    centring = InterceptCentring.of(target)
    start = target.start()

    def make_logp_fn():
        def logp(x: np.ndarray, **_: Any) -> tuple[float, np.ndarray]:
            if centring is None:
                with lock:
                    value, grad = fn(x)
                return float(value), grad
            with lock:
                value, grad = fn(centring.theta(x))
            return float(value), centring.gradient(grad)

        return logp

    def make_expand_fn(seed1: int, seed2: int, chain: int):
        def expand_draw(x: np.ndarray, **_: Any) -> dict[str, np.ndarray]:
            x = x if centring is None else centring.theta(x)
            with lock:
                return ex.expand(x)

        return expand_draw

    def initial_point(seed: int | None) -> np.ndarray:
        x = start(seed)
        return x if centring is None else centring.sampled(x)

    return from_pyfunc(
        ndim=target.ndim, make_logp_fn=make_logp_fn, make_expand_fn=make_expand_fn,
        expanded_dtypes=[np.dtype("float64")] * len(ex.names), expanded_shapes=list(ex.shapes),
        expanded_names=list(ex.names), coords=ex.coords, dims=ex.dims,
        make_initial_point_fn=initial_point,
    )  # fmt: skip


def design_condition(model: RegressionModel) -> float:
    """Condition number of the correlation matrix of the model's non-constant columns (inf
    when it is singular), cached on the model."""

    def compute() -> float:
        X = np.asarray(model.X, dtype=np.float64)
        sd = X.std(axis=0)
        Z = (X[:, sd > 0] - X[:, sd > 0].mean(axis=0)) / sd[sd > 0]
        if Z.shape[1] < 2:
            return 1.0
        s = np.linalg.svd(Z, compute_uv=False)
        return float(s[0] / s[-1]) ** 2 if s[-1] > 0 else float("inf")

    return model.cache(("nutpie", "design_condition"), compute)


def low_rank_by_default(model: RegressionModel) -> bool:
    """Whether nutpie's low-rank-modified mass matrix is this model's default.

    Where the gradient reads every row (a likelihood that is not quadratic) and the design is
    ill-conditioned (:data:`~bayesreg.sampling.defaults.LOW_RANK_MIN_CONDITION`, p < n): the
    diagonal mass matrix cannot undo strong correlations and NUTS takes long trajectories
    (breast cancer: 23.6 leapfrog steps per draw against 7.0). Elsewhere the low-rank
    bookkeeping costs more than it saves (measurements in ``defaults``).
    """
    if model.likelihood.quadratic or not model.p < model.n:
        return False
    if model.p > LOW_RANK_MAX_FEATURES:
        return False
    return design_condition(model) > LOW_RANK_MIN_CONDITION


def _run_attrs(settings: SamplerSettings, target_accept: float, kind: str, options: dict) -> dict:
    """The attrs of a nutpie run: its NUTS settings, backend kind and mass matrix."""
    low_rank = bool(options.get("low_rank_modified_mass_matrix", False))
    return {
        "max_treedepth": settings.max_treedepth,
        "nutpie_backend": kind,
        "target_accept": target_accept,
        "mass_matrix": "low_rank" if low_rank else "diagonal",
    }


class _Nutpie(NutsBackend):
    name = "nutpie"
    packages = ("nutpie",)
    #: the ``nutpie_backend`` it is
    kind = ""
    #: whether its log density runs without Python (chains may then run in parallel threads)
    thread_safe = False

    def default_options(self, model: RegressionModel, settings: SamplerSettings) -> dict:
        """nutpie options this backend picks for ``model`` (the caller's keywords win)."""
        options: dict[str, Any] = {"low_rank_modified_mass_matrix": low_rank_by_default(model)}
        if self.thread_safe:  # nutpie's own default: one thread per chain, up to the CPUs
            options["cores"] = min(settings.chains, os.cpu_count() or 1)
        return options

    def keywords(self) -> frozenset[str]:
        return nutpie_keywords()

    def _compiled(self, model: RegressionModel) -> Any:
        """The compiled nutpie model at the model's current hyperparameters."""
        raise NotImplementedError

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        target_accept = self.target_accept(model, settings)
        compiled, compile_seconds = self._compiled(model)
        options = {**self.default_options(model, settings), **settings.options}
        idata, seconds = nutpie_sample(compiled, settings, target_accept, options)
        attrs = _run_attrs(settings, target_accept, self.kind, options)
        return Run(idata, seconds, compile_seconds, attrs)


class NutpiePyfuncBackend(_Nutpie):
    """``nutpie_backend="pytensor"``: the target's C-compiled graph through a Python callback.

    No numba or JAX compilation: the C code of the sampling graph does not depend on the data,
    so PyTensor's disk cache serves it to every model. The prior scale is a shared variable
    that the compiled function reads at each call (``model.sync()`` runs first).
    """

    kind = "pytensor"

    def _compiled(self, model: RegressionModel) -> tuple[Any, float]:
        target = model_target(model)
        return cached(target.cache, ("nutpie", "pytensor"), lambda: _pyfunc_model(target))

    def run_target(
        self, target: LogDensityTarget, settings: SamplerSettings, target_accept: float
    ) -> Run:
        """NUTS on any target (the collapsed graph); attrs ``max_treedepth``, ``target_accept``."""
        compiled, compile_seconds = cached(
            target.cache, ("nutpie", "pytensor"), lambda: _pyfunc_model(target)
        )
        idata, seconds = nutpie_sample(compiled, settings, target_accept)
        attrs = {"max_treedepth": settings.max_treedepth, "target_accept": target_accept}
        return Run(idata, seconds, compile_seconds, attrs)


class NutpieGraphBackend(_Nutpie):
    """``nutpie_backend="numba"`` or ``"jax"``: nutpie compiles the PyMC model itself (once per
    model); its compiled model copies shared data, so each call passes the current values."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.thread_safe = kind == "numba"  # JAX calls back into Python (the GIL)

    def _compiled(self, model: RegressionModel) -> tuple[Any, float]:
        import nutpie

        compiled, seconds = cached(
            model.cache,
            ("nutpie", self.kind),
            lambda: nutpie.compile_pymc_model(model.pymc_model, backend=self.kind),
        )
        m = model.pymc_model  # synced: its shared data hold this model's hyperparameters
        return compiled.with_data(**{k: m[k].get_value() for k in compiled.shared_data}), seconds


def _kernel_model(model: RegressionModel) -> tuple[Any, _fastlogp.KernelData]:
    """nutpie's NUTS calling the static numba kernels of ``bayesreg._fastlogp``.

    The kernels are compiled once per environment (numba's disk cache) and know nothing about
    the model: a float64 buffer passed as nutpie's ``user_data`` does (data, prior scale, noise
    sd, layout). Returns the compiled nutpie model and the ``KernelData`` that makes a buffer
    at a model's current hyperparameters for each call.
    """
    target = model_target(model)
    ex = target.expansion()  # the simple branch: kernel_problem() allows no other
    data = _fastlogp.KernelData(model, list(ex.names), centred=True)
    compiled = _kernel_compiled(data, target.ndim, ex, target.start(), data.buffer(model))
    return compiled, data


def _kernel_compiled(
    data: _fastlogp.KernelData, ndim: int, ex: Any, start: Any, buffer: np.ndarray
) -> Any:
    """nutpie's compiled model around the static C callbacks, reading ``buffer``."""
    import pandas as pd
    from nutpie.compile_pymc import CompiledPyMCModel

    logp_c, expand_c = _fastlogp.cfuncs()
    slices, offset = [], 0
    for shape in ex.shapes:
        size = int(np.prod(shape, dtype=int))
        slices.append(slice(offset, offset + size))
        offset += size
    coords = {d: pd.Index(v) for d, v in ex.coords.items()}
    return CompiledPyMCModel(
        dims=ex.dims, _n_dim=ndim, _coords=coords,
        _shapes=dict(zip(ex.names, ex.shapes, strict=True)), compiled_logp_func=logp_c,
        compiled_expand_func=expand_c, initial_point_func=start, shared_data={},
        user_data=buffer, n_expanded=data.n_expanded,
        shape_info=(list(ex.names), slices, list(ex.shapes)), logp_func=None, expand_func=None,
    )  # fmt: skip


def sample_statistics_kernel(
    data: _fastlogp.KernelData,
    slices: dict[str, tuple[int, int]],
    feature_names: list[str],
    start: np.ndarray,
    settings: SamplerSettings,
    target_accept: float,
) -> Run:
    """NUTS on a posterior known by its sufficient statistics only
    (:meth:`~bayesreg._fastlogp.KernelData.from_statistics`): the kernel backend's run, with
    no model. ``start``: the unconstrained initial point (PyMC's jitter is added per chain)."""
    from bayesreg.model import jittered_start
    from bayesreg.sampling.target import Expansion

    names = [n for n in ("w", "intercept", "sigma") if (n if n != "sigma" else "sigma_log__")
             in slices]  # fmt: skip
    shapes = [(slices["w"][1],) if n == "w" else () for n in names]
    ex = Expansion(None, tuple(names), tuple(shapes), {"w": ("feature",)},
                   {"feature": list(feature_names)})  # fmt: skip
    ndim = sum(size for _, size in slices.values())
    with Stopwatch() as watch:  # loading the cached C callbacks
        compiled = _kernel_compiled(data, ndim, ex, jittered_start(start), data.buffer())
    options = {"cores": min(settings.chains, os.cpu_count() or 1), **settings.options}
    idata, seconds = nutpie_sample(compiled, settings, target_accept, options)
    data.uncentre(idata.posterior)
    return Run(
        idata, seconds, watch.seconds, _run_attrs(settings, target_accept, "kernel", options)
    )


class NutpieKernelBackend(_Nutpie):
    """``nutpie_backend="kernel"``: the static numba kernels (no Python per gradient)."""

    kind = "kernel"
    thread_safe = True  # static numba C callbacks reading a read-only buffer

    def problem(self, model: RegressionModel) -> str | None:
        problem = _fastlogp.kernel_problem(model)
        if problem is None:
            return None
        return (
            f"nutpie_backend='kernel' does not apply here: {problem}. Use "
            "nutpie_backend='pytensor' (or backend='auto', which chooses it)."
        )

    def _compiled(self, model: RegressionModel) -> tuple[Any, float]:
        (compiled, data), seconds = cached(
            model.cache, ("nutpie", "kernel"), lambda: _kernel_model(model)
        )
        # a fresh buffer at this model's prior scale / noise sd: the C code stays the same
        return dataclasses.replace(compiled, user_data=data.buffer(model)), seconds

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        run = super().run(model, settings)
        # the kernel samples the centred design's intercept (KernelData(centred=True))
        (_, data), _ = cached(model.cache, ("nutpie", "kernel"), lambda: _kernel_model(model))
        data.uncentre(run.idata.posterior)
        return run
