"""Input checks at the public boundary, with scikit-learn's wording.

Every check names the argument, shows the bad value and says what is allowed. Arrays are
copied (``np.array(..., copy=True)``) so no caller's data is ever mutated downstream.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np

__all__ = [
    "check_X_y",
    "check_binary_labels",
    "check_choice",
    "check_finite_array",
    "check_nonnegative",
    "check_positive",
    "check_positive_int",
    "check_positive_vector",
    "check_probability",
    "feature_names_of",
]


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return repr(value)


def _check_real(value: object, name: str, owner: str | None, interval: str, ok) -> float:
    """Return ``value`` as a float, or raise naming ``interval`` unless ``ok(float(value))``."""
    who = f" of {owner}" if owner else ""
    message = f"The '{name}' parameter{who} must be a float in the range {interval}."
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise TypeError(f"{message} Got {_describe(value)} instead.")
    v = float(value)
    # NaN fails every comparison, so `ok` rejects it too
    if not ok(v):
        raise ValueError(f"{message} Got {value!r} instead.")
    return v


def check_positive(value: object, name: str, owner: str | None = None) -> float:
    """Return ``value`` as a float, or raise unless it is a finite real > 0."""
    return _check_real(value, name, owner, "(0, inf)", lambda v: 0.0 < v < np.inf)


def check_positive_vector(value: object, name: str, owner: str | None = None) -> float | np.ndarray:
    """A float > 0, or a read-only copy of a non-empty 1-D array of finite reals > 0 (one value
    per coefficient); raise naming ``name`` otherwise. The caller's array is never kept."""
    if np.ndim(value) == 0:
        return check_positive(value, name, owner)
    who = f" of {owner}" if owner else ""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"The '{name}' parameter{who} must be a float or a 1-D array of floats > 0; got "
            f"{value!r}."
        ) from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"The '{name}' parameter{who} must be a float or a non-empty 1-D array (one value "
            f"per coefficient); got shape {arr.shape}."
        )
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        raise ValueError(
            f"The '{name}' parameter{who} must hold finite reals > 0; got "
            f"{float(arr[bad[0]])!r} at index {int(bad[0])}."
        )
    arr.setflags(write=False)
    return arr


def check_nonnegative(value: object, name: str, owner: str | None = None) -> float:
    """Return ``value`` as a float, or raise unless it is a finite real >= 0."""
    return _check_real(value, name, owner, "[0, inf)", lambda v: 0.0 <= v < np.inf)


def check_probability(value: object, name: str, owner: str | None = None) -> float:
    """Return ``value`` as a float, or raise unless it lies in [0, 1]."""
    return _check_real(value, name, owner, "[0, 1]", lambda v: 0.0 <= v <= 1.0)


def check_positive_int(value: object, name: str, owner: str | None = None) -> int:
    """Return ``value`` as an int, or raise unless it is an integer >= 1."""
    who = f" of {owner}" if owner else ""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 1:
        raise ValueError(
            f"The '{name}' parameter{who} must be an int in the range [1, inf). Got {value!r} instead."
        )
    return int(value)


def check_choice(value: object, name: str, allowed: Iterable[str]) -> str:
    """Raise unless ``value`` is one of ``allowed``, listing the valid options."""
    allowed = list(allowed)
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{value!r} is not a supported {name}. Must be one of: {options}.")
    return str(value)


#: above this magnitude squared sums overflow float64 (1e154^2 ~ 1e308): rescale the data
_MAX_MAGNITUDE = 1e150


def _numeric_hint(a: object) -> str:
    """What to do with an input that numpy cannot turn into float64."""
    if hasattr(a, "toarray") or type(a).__module__.startswith("scipy.sparse"):
        return " Sparse matrices are not supported: convert with .toarray()."
    if hasattr(a, "isna"):  # pandas: nullable columns hold pd.NA
        return " Missing values (pd.NA) are not allowed: impute or drop them first."
    return ""


def _as_float_array(a: object, name: str) -> np.ndarray:
    if hasattr(a, "toarray") or type(a).__module__.startswith("scipy.sparse"):
        raise ValueError(f"{name} must be a dense numeric array.{_numeric_hint(a)}")
    if np.iscomplexobj(a):
        raise ValueError(
            f"{name} must be real-valued; got complex values (dtype {np.asarray(a).dtype}). "
            "Pass the real part explicitly (np.real) if that is what you mean."
        )
    try:
        return np.array(a, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be numeric (convertible to float64); got {type(a).__name__}: {exc}."
            f"{_numeric_hint(a)}"
        ) from exc


def check_finite_array(a: object, name: str, ndim: int | None = None) -> np.ndarray:
    """Return a float64 copy of ``a``; raise on wrong ndim, empty input, NaN or inf, complex
    or sparse input, and magnitudes whose squares overflow."""
    arr = _as_float_array(a, name)
    if ndim is not None and arr.ndim != ndim:
        hint = ""
        if ndim == 2 and arr.ndim == 1:
            hint = (
                " Reshape your data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        raise ValueError(
            f"Expected a {ndim}D array for {name}, got a {arr.ndim}D array of shape "
            f"{arr.shape} instead.{hint}"
        )
    if arr.size == 0:
        raise ValueError(
            f"Found array with 0 elements in {name} (shape={arr.shape}) while a minimum of 1 is "
            "required."
        )
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        kind = "NaN" if np.isnan(arr[tuple(bad)]) else "infinity"
        raise ValueError(
            f"Input {name} contains {kind} (first at index {tuple(int(i) for i in bad)}); "
            "all values must be finite. Drop or impute those rows first."
        )
    top = float(np.max(np.abs(arr)))
    if top > _MAX_MAGNITUDE:
        raise ValueError(
            f"{name} has values up to {top:.3g} in magnitude; sums of squares overflow above "
            f"{_MAX_MAGNITUDE:.0e}. Rescale {name} (e.g. divide by {top:.0e}) first."
        )
    return arr


def feature_names_of(X: object) -> list[str] | None:
    """Column names of a pandas DataFrame (as strings), else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = [str(c) for c in columns]
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise ValueError(
            f"X has duplicated column names {dup}; feature names must be unique. Rename the "
            "columns (e.g. df.columns = [...]) first."
        )
    return names


def check_X_y(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate a design matrix (n, p) and a target (n,); return float64 copies."""
    Xa = check_finite_array(X, "X", ndim=2)
    ya = check_finite_array(y, "y")
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1:
        raise ValueError(f"y must be 1D of shape (n_samples,); got shape {ya.shape} instead.")
    if Xa.shape[0] != ya.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"X has {Xa.shape[0]} rows, y has {ya.shape[0]}."
        )
    if Xa.shape[0] < 2:
        raise ValueError(f"X must have at least 2 samples; got {Xa.shape[0]}.")
    return Xa, ya


def check_binary_labels(y: np.ndarray, name: str = "y") -> np.ndarray:
    """Raise unless every label is exactly 0 or 1 (the Bernoulli likelihood's support)."""
    values = np.unique(y)
    if not np.all(np.isin(values, (0.0, 1.0))):
        shown = values[~np.isin(values, (0.0, 1.0))][:5]
        raise ValueError(
            f"The Bernoulli likelihood needs labels {name} in {{0, 1}}; got values "
            f"{shown.tolist()} among {values.size} unique labels. Encode the classes as 0/1 first."
        )
    if values.size < 2:
        # one class only: the likelihood increases without bound as the intercept -> +-inf,
        # so there is no MAP and the posterior of the intercept is improper (flat prior)
        raise ValueError(
            f"The Bernoulli likelihood needs both classes in {name}; every label is "
            f"{values[0]:g}. With a single class the intercept's MAP is at infinity."
        )
    return y


#: seeds are reduced to ints in [0, 2**32): every backend (PyMC, nutpie, numpyro) accepts those
_SEED_BOUND = 2**32


def check_random_seed(
    value: object, name: str = "random_seed", owner: str | None = None
) -> int | None:
    """The library's one seed conversion: None, an int in [0, 2**32) or a numpy Generator.

    A Generator is consumed once (one integer drawn from it), so passing the same Generator
    twice gives two different, reproducible streams, as in numpy. Returns an int or None.
    """
    if value is None:
        return None
    if isinstance(value, np.random.Generator):
        return int(value.integers(_SEED_BOUND))
    if isinstance(value, Integral) and not isinstance(value, bool) and 0 <= value < _SEED_BOUND:
        return int(value)
    where = f" of {owner}" if owner else ""
    raise ValueError(
        f"The {name!r} parameter{where} must be None, an int in the range [0, 2**32) or a "
        f"numpy.random.Generator. Got {value!r} instead."
    )


def check_random_state(
    value: object, name: str = "random_state", owner: str | None = None
) -> int | None:
    """The estimators' seed: as :func:`check_random_seed`, also accepting a RandomState
    (scikit-learn's convention), from which one integer is drawn."""
    if isinstance(value, np.random.RandomState):
        return int(value.randint(_SEED_BOUND, dtype=np.int64))
    try:
        return check_random_seed(value, name, owner)
    except ValueError:
        where = f" of {owner}" if owner else ""
        raise ValueError(
            f"The {name!r} parameter{where} must be None, an int in the range [0, 2**32), a "
            f"numpy.random.RandomState or a numpy.random.Generator. Got {value!r} instead."
        ) from None
