"""The one door to ArviZ: every ArviZ call the package makes goes through these functions.

ArviZ is imported when this module is first loaded, which happens only when a diagnostic, a
plot, a selection method or a sampler result needs it (``import bayesreg`` does not load it).
Keeping the calls here means an ArviZ API change (its 1.0 refactor renames and moves functions)
is absorbed in one module, and warnings ArviZ emits about itself are filtered in one place.

=========================  ===============================================================
function                   ArviZ call
=========================  ===============================================================
:func:`is_inference_data`  ``isinstance(obj, az.InferenceData)``
:func:`inference_data`     ``az.InferenceData(**groups)``
:func:`from_dict`          ``az.from_dict``
:func:`summary`            ``az.summary`` (unrounded by default)
:func:`bfmi`               ``az.bfmi``
:func:`loo`                ``az.loo`` (pointwise)
:func:`waic`               ``az.waic`` (pointwise)
:func:`compare`            ``az.compare`` (``ic="loo"`` or ``"waic"``)
:func:`hdi`                ``az.hdi``
:func:`plot_trace`         ``az.plot_trace`` (compact)
:func:`plot_rank`          ``az.plot_rank``
=========================  ===============================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*ArviZ is undergoing a major refactor.*")
    import arviz as az

__all__ = [
    "InferenceData",
    "bfmi",
    "compare",
    "from_dict",
    "hdi",
    "inference_data",
    "is_inference_data",
    "loo",
    "plot_rank",
    "plot_trace",
    "summary",
    "waic",
]

#: the InferenceData class (for type hints and isinstance checks)
InferenceData = az.InferenceData

_PARETO_WARNING = ".*shape parameter of Pareto.*"


def is_inference_data(obj: Any, group: str | None = None) -> bool:
    """True when ``obj`` is an InferenceData (with the group ``group``, when given)."""
    if not isinstance(obj, az.InferenceData):
        return False
    return group is None or group in obj.groups()


def inference_data(**groups: Any) -> az.InferenceData:
    """An InferenceData from xarray Datasets, one per group (``posterior=...``, ...)."""
    return az.InferenceData(**groups)


def from_dict(
    posterior: Mapping[str, Any],
    *,
    coords: Mapping[str, Sequence[Any]] | None = None,
    dims: Mapping[str, Sequence[str]] | None = None,
    **groups: Any,
) -> az.InferenceData:
    """An InferenceData from dicts of (chain, draw, ...) arrays (``az.from_dict``)."""
    return az.from_dict(posterior=dict(posterior), coords=coords, dims=dims, **groups)


def summary(
    idata: az.InferenceData, *, var_names: Sequence[str] | None = None, round_to: str = "none"
) -> Any:
    """``az.summary`` as a DataFrame; unrounded by default (a rounded MCSE of 0.0 reads as
    exact)."""
    return az.summary(idata, var_names=var_names, round_to=round_to)


def bfmi(idata: az.InferenceData) -> Any:
    """E-BFMI per chain (``az.bfmi``)."""
    return az.bfmi(idata)


def loo(idata: az.InferenceData, *, scale: str = "log", quiet: bool = True) -> Any:
    """Pointwise PSIS-LOO (``az.loo(..., pointwise=True)``).

    ``quiet=True`` silences ArviZ's generic Pareto-k warning: callers report the observations
    concerned themselves, naming them.
    """
    with warnings.catch_warnings():
        if quiet:
            warnings.filterwarnings("ignore", message=_PARETO_WARNING)
        return az.loo(idata, pointwise=True, scale=scale)


#: ArviZ's generic WAIC warning (posterior variance of a log predictive density > 0.4)
_WAIC_WARNING = ".*posterior variance of the log predictive densities exceeds 0.4.*"


def waic(idata: az.InferenceData, *, scale: str = "log", quiet: bool = True) -> Any:
    """Pointwise WAIC (``az.waic(..., pointwise=True)``).

    ``quiet=True`` silences ArviZ's generic warning (some pointwise posterior variance of the
    log predictive density above 0.4); its ``warning`` flag stays in the result.
    """
    with warnings.catch_warnings():
        if quiet:
            warnings.filterwarnings("ignore", message=_WAIC_WARNING)
        return az.waic(idata, pointwise=True, scale=scale)


def compare(elpds: Mapping[str, Any], *, ic: str = "loo", scale: str = "log") -> Any:
    """``az.compare`` of precomputed PSIS-LOO (``ic="loo"``) or WAIC results, best model
    first."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PARETO_WARNING)
        warnings.filterwarnings("ignore", message=_WAIC_WARNING)
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")  # ArviZ vs pandas 3
        return az.compare(dict(elpds), ic=ic, scale=scale)


def hdi(draws: Any, *, hdi_prob: float) -> Any:
    """``az.hdi`` of an array (chain, draw, ...) or an InferenceData."""
    return az.hdi(draws, hdi_prob=hdi_prob)


#: ArviZ 0.23's matplotlib backend calls normalize_kwargs with a dict, which Matplotlib 3.11
#: deprecates: one warning per plotted artist (hundreds per figure), none of them actionable for
#: a user of bayesreg, so they are silenced around ArviZ's plots only
_MPL_ALIAS_WARNING = "Passing a dict or None as alias_mapping to normalize_kwargs"


def plot_trace(idata: Any, *, var_names: Sequence[str] | None = None, axes: Any = None) -> Any:
    """``az.plot_trace`` (compact): densities per chain and the draws."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MPL_ALIAS_WARNING)
        return az.plot_trace(idata, var_names=var_names, axes=axes, compact=True)


def plot_rank(idata: Any, *, var_names: Sequence[str] | None = None, ax: Any = None) -> Any:
    """``az.plot_rank``: rank histograms per chain."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MPL_ALIAS_WARNING)
        return az.plot_rank(idata, var_names=var_names, ax=ax)
