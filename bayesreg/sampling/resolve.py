"""Which backend runs a call: decided here, once, from the backend name, the model and the
validated settings."""

from __future__ import annotations

from bayesreg import _fastlogp
from bayesreg.model import RegressionModel
from bayesreg.sampling.backend import Backend, has_package
from bayesreg.sampling.collapsed import MAX_FEATURES, CollapsedBackend, collapse_problem
from bayesreg.sampling.exact import ExactBackend
from bayesreg.sampling.hs_gibbs import HorseshoeGibbsBackend, auto_uses_horseshoe_gibbs
from bayesreg.sampling.numpyro_nuts import NumpyroBackend
from bayesreg.sampling.nutpie_nuts import (
    NutpieGraphBackend,
    NutpieKernelBackend,
    NutpiePyfuncBackend,
    nutpie_accepts,
)
from bayesreg.sampling.pg_gibbs import PolyaGammaGibbsBackend
from bayesreg.sampling.pymc_nuts import PymcBackend
from bayesreg.sampling.settings import SamplerSettings

__all__ = ["auto_uses_nutpie", "gibbs_backend", "nutpie_backend", "resolve_backend"]

_has = has_package  # module attribute, so that tests can pretend nutpie is missing


def auto_uses_nutpie(settings: SamplerSettings) -> bool:
    """Whether ``backend="auto"`` runs nutpie (else PyMC) for these settings."""
    # nutpie's adaptation needs at least one tuning step (tune=0 panics in its Rust core)
    return settings.tune >= 1 and _has("nutpie") and nutpie_accepts(settings.given)


def nutpie_backend(kind: str) -> Backend:
    """The nutpie adapter for ``nutpie_backend=kind``."""
    if kind == "pytensor":
        return NutpiePyfuncBackend()
    if kind == "kernel":
        return NutpieKernelBackend()
    return NutpieGraphBackend(kind)


def gibbs_backend(model: RegressionModel) -> Backend:
    """The Gibbs adapter for ``backend="gibbs"``, by what the model offers: the blocked
    horseshoe sweeps for a horseshoe-family prior (Gaussian or Bernoulli likelihood), else the
    Polya-Gamma sweeps (a logistic model with an elastic-form prior; its ``problem`` says why
    any other model is refused, naming both)."""
    horseshoe = HorseshoeGibbsBackend()
    return horseshoe if horseshoe.problem(model) is None else PolyaGammaGibbsBackend()


def _collapsed_engine(name: str, settings: SamplerSettings) -> Backend | None:
    """The NUTS engine for the collapsed graph, or None: this backend does not collapse."""
    kind = settings.nutpie_backend
    if name == "auto":
        if not auto_uses_nutpie(settings):
            return PymcBackend()
        return NutpiePyfuncBackend() if kind in (None, "pytensor") else None
    if name == "nutpie" and kind == "pytensor":
        return NutpiePyfuncBackend()
    return PymcBackend() if name == "pymc" else None


def _collapsed(name: str, model: RegressionModel, settings: SamplerSettings) -> Backend | None:
    """The collapsed backend when the model and the settings call for it, else None."""
    collapse = settings.collapse
    if collapse is False:
        return None
    problem = collapse_problem(model)
    if problem is not None:
        if collapse:
            raise ValueError(
                f"collapse=True needs a horseshoe prior, a Gaussian likelihood and "
                f"p <= {MAX_FEATURES}: {problem}."
            )
        return None
    engine = _collapsed_engine(name, settings)
    if engine is None:
        if collapse:
            raise ValueError(
                f"collapse=True runs on the 'auto', 'pymc' or 'nutpie' (nutpie_backend='pytensor') "
                f"backend: nutpie's or PyMC's NUTS on the collapsed graph; got backend={name!r} "
                f"with options {sorted(settings.given)}."
            )
        return None
    return CollapsedBackend(engine)


def resolve_backend(name: str, model: RegressionModel, settings: SamplerSettings) -> Backend:
    """The adapter that runs ``backend=name`` on ``model``.

    ``"auto"``: nutpie when it is installed, ``tune >= 1`` and every keyword is one nutpie
    understands, with the static kernels where they cover the model (else the compiled graph
    through a callback); else PyMC. Horseshoe-type priors with a Gaussian likelihood run on
    the collapsed graph with the ``"auto"``, ``"pymc"`` and ``"nutpie"`` (``"pytensor"``)
    backends unless ``collapse=False``; ``"auto"`` runs them by the blocked Gibbs sweeps where
    NUTS is slow (p >> n: :func:`~bayesreg.sampling.hs_gibbs.auto_uses_horseshoe_gibbs`).
    """
    if name == "auto" and auto_uses_horseshoe_gibbs(model, settings):
        return HorseshoeGibbsBackend()
    collapsed = _collapsed(name, model, settings)
    if collapsed is not None:
        return collapsed
    if name == "auto":
        if not auto_uses_nutpie(settings):
            return PymcBackend()
        kernel = _fastlogp.kernel_problem(model) is None
        return nutpie_backend(settings.nutpie_backend or ("kernel" if kernel else "pytensor"))
    if name == "nutpie":
        return nutpie_backend(settings.nutpie_backend or "numba")
    if name == "gibbs":
        return gibbs_backend(model)
    return {"pymc": PymcBackend, "numpyro": NumpyroBackend, "exact": ExactBackend}[name]()
