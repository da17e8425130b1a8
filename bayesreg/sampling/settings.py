"""The caller's sampler settings, validated once at ``sample_posterior``'s door."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

from bayesreg._validation import check_choice, check_positive_int, check_random_seed
from bayesreg.sampling.defaults import MAX_TREEDEPTH, NUTPIE_BACKENDS

__all__ = ["SamplerSettings", "check_keywords", "sampler_settings"]

_OWNER = "sample_posterior"


@dataclass(frozen=True)
class SamplerSettings:
    """What every backend reads; built by :func:`sampler_settings` from the caller's arguments.

    ``target_accept`` is None unless the caller set it (the backend then picks its default);
    ``options`` are the remaining backend-specific keywords (read-only); ``given`` names every
    keyword the caller passed beyond the named parameters, for the unknown-keyword check.
    """

    draws: int
    tune: int
    chains: int
    random_seed: int | None
    progressbar: bool
    log_likelihood: bool
    collapse: bool | None
    target_accept: float | None
    max_treedepth: int
    nutpie_backend: str | None
    options: Mapping[str, Any] = field(default_factory=dict)
    given: frozenset[str] = frozenset()


def _check_nonnegative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(
            f"The '{name}' parameter of {_OWNER} must be an int in the range [0, inf). "
            f"Got {value!r} instead."
        )
    return int(value)


def check_target_accept(value: object) -> float:
    """``value`` as a float, or raise unless it lies in the open interval (0, 1)."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and 0.0 < float(value) < 1.0
    if not ok:
        raise ValueError(
            f"The 'target_accept' parameter of {_OWNER} must be a float in the range (0, 1). "
            f"Got {value!r} instead."
        )
    return float(value)


def _check_flag(value: object, name: str, allow_none: bool = False) -> bool | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, bool):
        allowed = "True, False or None" if allow_none else "True or False"
        raise TypeError(
            f"The '{name}' parameter of {_OWNER} must be {allowed}. Got {value!r} instead."
        )
    return value


def sampler_settings(
    draws: object,
    tune: object,
    chains: object,
    random_seed: object,
    progressbar: object,
    log_likelihood: object,
    collapse: object,
    kwargs: Mapping[str, Any],
) -> SamplerSettings:
    """Validate every setting (the caller's ``kwargs`` are copied, never changed)."""
    options = dict(kwargs)
    target_accept = options.pop("target_accept", None)
    if target_accept is not None:
        target_accept = check_target_accept(target_accept)
    # "maxdepth" is nutpie's name for the same setting
    depth = options.pop("max_treedepth", None)
    alias = options.pop("maxdepth", None)
    depth = alias if depth is None else depth
    depth = MAX_TREEDEPTH if depth is None else depth
    nutpie_backend = options.pop("nutpie_backend", None)
    if nutpie_backend is not None:
        nutpie_backend = check_choice(nutpie_backend, "nutpie backend", NUTPIE_BACKENDS)
    return SamplerSettings(
        draws=check_positive_int(draws, "draws", _OWNER),
        tune=_check_nonnegative_int(tune, "tune"),
        chains=check_positive_int(chains, "chains", _OWNER),
        random_seed=check_random_seed(random_seed, "random_seed", _OWNER),
        progressbar=bool(progressbar),
        log_likelihood=bool(_check_flag(log_likelihood, "log_likelihood")),
        collapse=_check_flag(collapse, "collapse", allow_none=True),
        target_accept=target_accept,
        max_treedepth=check_positive_int(depth, "max_treedepth", _OWNER),
        nutpie_backend=nutpie_backend,
        options=MappingProxyType(options),
        given=frozenset(kwargs),
    )


def check_keywords(given: Iterable[str], valid: Iterable[str], backend: str) -> None:
    """Raise a TypeError naming the keywords ``backend`` does not take, and the valid ones."""
    valid = sorted(set(valid))
    unknown = sorted(set(given) - set(valid))
    if not unknown:
        return
    hints = [m for u in unknown for m in difflib.get_close_matches(u, valid, n=1)]
    hint = f" Did you mean {', '.join(repr(h) for h in hints)}?" if hints else ""
    listed = ", ".join(repr(v) for v in valid) if valid else "none (it takes no sampler options)"
    raise TypeError(
        f"{_OWNER} got unexpected keyword argument(s) {unknown} for backend {backend!r}.{hint} "
        f"Valid keywords for this backend: {listed}."
    )
