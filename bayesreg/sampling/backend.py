"""What every sampler backend is: a small adapter with a name, the packages it needs, the
keywords it takes, why it cannot run a model (``problem``), and ``run``.

The adapters live beside this module (``exact``, ``pymc_nuts``, ``nutpie_nuts``,
``numpyro_nuts``, ``pg_gibbs``, ``collapsed``); every use of a third-party private API is inside them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from bayesreg.model import RegressionModel
from bayesreg.sampling.defaults import FAST_EXTRA, TARGET_ACCEPT
from bayesreg.sampling.idata import Run, Stopwatch
from bayesreg.sampling.settings import SamplerSettings, check_keywords

__all__ = ["Backend", "NutsBackend", "cached", "has_package", "require_package"]


def require_package(package: str, backend: str) -> Any:
    """Import an optional package or raise an ImportError that names the ``fast`` extra."""
    try:
        return __import__(package)
    except ImportError as exc:
        raise ImportError(
            f"The {backend!r} backend needs the optional package {package!r}, which is not "
            f"installed. Install the 'fast' extra: {FAST_EXTRA}. Or use backend='pymc'."
        ) from exc


def has_package(package: str) -> bool:
    """Whether an optional package imports."""
    try:
        __import__(package)
    except ImportError:
        return False
    return True


def cached(
    cache: Callable[[Hashable, Callable[[], Any]], Any], key: Hashable, factory: Callable[[], Any]
) -> tuple[Any, float]:
    """``cache(key, factory)`` and the seconds spent building it (0.0 when it was cached)."""
    watch = Stopwatch()

    def timed() -> Any:
        with watch:
            return factory()

    return cache(key, timed), watch.seconds


class Backend:
    """One way to draw from a model's posterior (subclasses fill in the class attributes)."""

    #: the ``attrs["backend"]`` of its InferenceData
    name: ClassVar[str] = "backend"
    #: optional packages it imports (an ImportError names the ``fast`` extra)
    packages: ClassVar[tuple[str, ...]] = ()

    def keywords(self) -> frozenset[str]:
        """The keyword arguments of ``sample_posterior`` beyond its named ones it accepts."""
        return frozenset()

    def problem(self, model: RegressionModel) -> str | None:
        """Why it cannot run ``model`` (a full sentence), or None."""
        return None

    def check(self, model: RegressionModel, settings: SamplerSettings) -> None:
        """Raise unless it can run ``model`` with ``settings`` (packages, keywords, model)."""
        for package in self.packages:
            require_package(package, self.name)
        check_keywords(settings.given, self.keywords(), self.name)
        problem = self.problem(model)
        if problem is not None:
            raise ValueError(problem)

    def run(self, model: RegressionModel, settings: SamplerSettings) -> Run:
        raise NotImplementedError


class NutsBackend(Backend):
    """A NUTS backend: ``target_accept`` and ``max_treedepth`` are recorded in the attrs."""

    #: the NUTS settings every NUTS backend takes (``maxdepth``: nutpie's name)
    NUTS_KEYWORDS: ClassVar[frozenset[str]] = frozenset(
        {"target_accept", "max_treedepth", "maxdepth"}
    )

    def default_target_accept(self, model: RegressionModel) -> float:
        """The prior's ``default_target_accept`` when it declares one, else the default."""
        prior_default = model.prior.default_target_accept
        return TARGET_ACCEPT if prior_default is None else float(prior_default)

    def target_accept(self, model: RegressionModel, settings: SamplerSettings) -> float:
        """The caller's choice, else :meth:`default_target_accept`."""
        if settings.target_accept is not None:
            return settings.target_accept
        return self.default_target_accept(model)
