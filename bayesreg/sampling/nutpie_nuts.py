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
import threading
from typing import Any

import numpy as np

from bayesreg import _fastlogp
from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import NutsBackend, cached
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
    compiled: Any, settings: SamplerSettings, target_accept: float
) -> tuple[Any, float]:
    """``nutpie.sample`` with the package's settings; the InferenceData and its seconds."""
    import nutpie

    options = {"cores": 1, **settings.options}
    with Stopwatch() as watch:
        idata = nutpie.sample(
            compiled, draws=settings.draws, tune=settings.tune, chains=settings.chains,
            seed=settings.random_seed, target_accept=target_accept,
            maxdepth=settings.max_treedepth, progress_bar=settings.progressbar,
            save_warmup=False, **options,
        )  # fmt: skip
    return idata, watch.seconds


def _pyfunc_model(target: LogDensityTarget) -> Any:
    """nutpie's NUTS driving ``target.logp_dlogp()`` through a Python callback."""
    from nutpie.compiled_pyfunc import from_pyfunc

    fn = target.logp_dlogp()
    ex = target.expansion()
    # one compiled function (and its buffers) serves every chain: one call at a time
    lock = threading.Lock()

    def make_logp_fn():
        def logp(x: np.ndarray, **_: Any) -> tuple[float, np.ndarray]:
            with lock:
                value, grad = fn(x)
            return float(value), grad

        return logp

    def make_expand_fn(seed1: int, seed2: int, chain: int):
        def expand_draw(x: np.ndarray, **_: Any) -> dict[str, np.ndarray]:
            with lock:
                return ex.expand(x)

        return expand_draw

    return from_pyfunc(
        ndim=target.ndim, make_logp_fn=make_logp_fn, make_expand_fn=make_expand_fn,
        expanded_dtypes=[np.dtype("float64")] * len(ex.names), expanded_shapes=list(ex.shapes),
        expanded_names=list(ex.names), coords=ex.coords, dims=ex.dims,
        make_initial_point_fn=target.start(),
    )  # fmt: skip


class _Nutpie(NutsBackend):
    name = "nutpie"
    packages = ("nutpie",)
    #: the ``nutpie_backend`` it is
    kind = ""

    def keywords(self) -> frozenset[str]:
        return nutpie_keywords()

    def _compiled(self, model: RegressionModel) -> Any:
        """The compiled nutpie model at the model's current hyperparameters."""
        raise NotImplementedError

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        target_accept = self.target_accept(model, settings)
        compiled, compile_seconds = self._compiled(model)
        idata, seconds = nutpie_sample(compiled, settings, target_accept)
        attrs = {
            "max_treedepth": settings.max_treedepth,
            "nutpie_backend": self.kind,
            "target_accept": target_accept,
        }
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
    import pandas as pd
    from nutpie.compile_pymc import CompiledPyMCModel

    logp_c, expand_c = _fastlogp.cfuncs()
    target = model_target(model)
    ex = target.expansion()  # the simple branch: kernel_problem() allows no other
    data = _fastlogp.KernelData(model, list(ex.names))
    slices, start = [], 0
    for shape in ex.shapes:
        size = int(np.prod(shape, dtype=int))
        slices.append(slice(start, start + size))
        start += size
    coords = {d: pd.Index(v) for d, v in ex.coords.items()}
    compiled = CompiledPyMCModel(
        dims=ex.dims, _n_dim=target.ndim, _coords=coords,
        _shapes=dict(zip(ex.names, ex.shapes, strict=True)), compiled_logp_func=logp_c,
        compiled_expand_func=expand_c, initial_point_func=target.start(), shared_data={},
        user_data=data.buffer(model), n_expanded=data.n_expanded,
        shape_info=(list(ex.names), slices, list(ex.shapes)), logp_func=None, expand_func=None,
    )  # fmt: skip
    return compiled, data


class NutpieKernelBackend(_Nutpie):
    """``nutpie_backend="kernel"``: the static numba kernels (no Python per gradient)."""

    kind = "kernel"

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
