"""The log-density target every NUTS backend runs: one interface for RegressionModel and the
collapsed horseshoe alike.

A :class:`LogDensityTarget` is a density over a flat unconstrained vector theta: its dimension,
its compiled ``theta -> (logp, dlogp/dtheta)`` (built on first use), the expansion of a theta
draw into named variables on their natural scale, the initial point (and PyMC's jittered start
derived from it), and the PyMC model it came from. Everything heavy is built lazily and cached
per model structure, so the target itself is cheap to make at every call; nothing in it holds
the prior scale (the compiled functions read shared variables, which ``model.sync()`` sets).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesreg.model import ParamLayout, RegressionModel, jittered_start

__all__ = ["Expansion", "LogDensityTarget", "expansion_of", "model_target"]


@dataclass(frozen=True)
class Expansion:
    """theta -> {name: value} for the recorded variables, with their shapes, dims and coords."""

    expand: Callable[[np.ndarray], dict[str, np.ndarray]]
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    dims: dict[str, tuple[str, ...]]
    coords: dict[str, list]


def _simple_free(m: Any, layout: ParamLayout) -> dict[str, tuple[slice, tuple[int, ...], bool]]:
    """Free variables whose value variable is themselves or their log: (slice, shape, log)."""
    out = {}
    for rv in m.free_RVs:
        value_name = m.rvs_to_values[rv].name
        if value_name in (rv.name, f"{rv.name}_log__"):
            out[rv.name] = (
                layout.slices[value_name],
                layout.shapes[value_name],
                value_name != rv.name,
            )
    return out


def _values(spec: dict, x: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    for name, (sl, shape, log) in spec.items():
        v = np.array(x[sl]).reshape(shape)
        # an ndarray even for 0-d values: nutpie rejects numpy scalars
        out[name] = np.asarray(np.exp(v) if log else v)
    return out


def _dims_coords(m: Any, names: tuple[str, ...]) -> tuple[dict, dict]:
    dims = {n: tuple(m.named_vars_to_dims[n]) for n in names if m.named_vars_to_dims.get(n)}
    used = {d for ds in dims.values() for d in ds}
    return dims, {d: list(m.coords[d]) for d in used}


def expansion_of(
    m: Any, layout: ParamLayout, initial_theta: np.ndarray, deterministics: bool
) -> Expansion:
    """The expansion of theta into every free variable (and deterministic, if asked).

    Plain value variables are slices of theta and log-transformed ones exponentiated, in
    numpy; anything else (deterministics such as a non-centred ``w``, other transforms) goes
    through one compiled PyTensor function of the model's own graph.
    """
    rvs = list(m.free_RVs) + (list(m.deterministics) if deterministics else [])
    names = tuple(rv.name for rv in rvs)
    spec = _simple_free(m, layout)
    if len(spec) == len(rvs):

        def expand(x: np.ndarray) -> dict[str, np.ndarray]:
            return _values(spec, x)

        shapes = tuple(spec[n][1] for n in names)
    else:
        import pytensor
        import pytensor.tensor as pt
        from pytensor.graph.replace import graph_replace

        theta = pt.dvector("theta")
        replacements = {
            v: theta[layout.slices[v.name]].reshape(layout.shapes[v.name]) for v in m.value_vars
        }
        outs = graph_replace(m.replace_rvs_by_values(rvs), replacements, strict=False)
        fn = pytensor.function([theta], outs, on_unused_input="ignore")

        def expand(x: np.ndarray) -> dict[str, np.ndarray]:
            values = fn(np.asarray(x, dtype=np.float64))
            return {n: np.array(v, dtype=np.float64) for n, v in zip(names, values, strict=True)}

        shapes = tuple(tuple(np.shape(v)) for v in expand(initial_theta).values())
    dims, coords = _dims_coords(m, names)
    return Expansion(expand, names, shapes, dims, coords)


@dataclass(frozen=True)
class LogDensityTarget:
    """A log density over theta, as the NUTS backends need it.

    Attributes
    ----------
    ndim : int
        Size of theta.
    initial_theta : ndarray of shape (ndim,)
        PyMC's initial point, flattened.
    pymc_model : pymc.Model
        The model the density is the log posterior of (PyMC's NUTS runs on it).
    logp_dlogp : callable
        ``() -> f`` with ``f(theta) -> (logp, grad)`` compiled (on first use, then cached);
        ``f`` trusts its input (a float64 vector of size ``ndim``) and is not thread-safe.
    expansion : callable
        ``() -> Expansion`` of a theta draw into the recorded variables (cached).
    pymc_logp : callable or None
        ``() -> graph`` of the log posterior PyMC's NUTS should differentiate instead of the
        model's own (the sufficient-statistics graph), or None.
    cache : callable
        ``cache(key, factory)``: the per-structure cache of the source (compiled samplers).
    source : object
        The RegressionModel or collapsed model it came from.
    """

    ndim: int
    initial_theta: np.ndarray
    pymc_model: Any
    logp_dlogp: Callable[[], Callable[[np.ndarray], tuple[float, np.ndarray]]]
    expansion: Callable[[], Expansion]
    free_spec: dict[str, tuple[slice, tuple[int, ...], bool]]
    pymc_logp: Callable[[], Any] | None
    cache: Callable[[Hashable, Callable[[], Any]], Any]
    source: Any

    def start(self) -> Callable[[int | None], np.ndarray]:
        """PyMC's default NUTS start as a function of a seed (nutpie asks one per chain)."""
        return jittered_start(self.initial_theta)

    def initvals(self, chains: int, seed: int | None) -> list[dict[str, np.ndarray]]:
        """PyMC-style U(-1, 1) jitter of the unconstrained start, one constrained point per
        chain (free variables with an identity or log transform; PyMC starts the others)."""
        rng = np.random.default_rng(None if seed is None else [seed, 7])  # apart from NUTS's
        return [
            _values(self.free_spec, self.initial_theta + rng.uniform(-1.0, 1.0, self.ndim))
            for _ in range(chains)
        ]


def model_target(model: RegressionModel) -> LogDensityTarget:
    """The log posterior of ``model`` as a target: its sampling graph (sufficient statistics
    for a Gaussian likelihood with p < n, tested equal to the model's own log posterior)."""
    m, layout = model.pymc_model, model.layout
    initial = model.cache("initial_theta", model.initial_point)

    def expansion() -> Expansion:
        return model.cache("expansion", lambda: expansion_of(m, layout, initial, True))

    return LogDensityTarget(
        ndim=layout.size,
        initial_theta=initial,
        pymc_model=m,
        logp_dlogp=lambda: model.sampling_logp_dlogp_function().compiled,
        expansion=expansion,
        free_spec=_simple_free(m, layout),
        pymc_logp=model.sampling_logp,
        cache=model.cache,
        source=model,
    )
