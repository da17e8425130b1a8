"""One serializer for result objects: frozen dataclasses whose ``to_dict()`` is JSON-safe.

Every public result (``MapEstimate``, ``DescentResult``, ``Diagnosis``, ``SelectionResult``,
``VerificationReport``, ...) is a frozen dataclass deriving from :class:`Result`; the report,
the CLI and the tests serialize it through :func:`jsonable` and nothing else.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["Result", "jsonable"]


def jsonable(obj: Any) -> Any:
    """Recursively convert to JSON types: numpy -> Python, NaN/inf -> None, others -> str.

    Dataclasses become dicts of their fields (through their ``to_dict`` when they have one),
    pandas DataFrames lists of records.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if hasattr(obj, "to_dict") and not isinstance(obj, type):
        try:
            return jsonable(obj.to_dict(orient="records"))  # a pandas DataFrame
        except TypeError:
            return jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


class Result:
    """Mixin for frozen result dataclasses: ``to_dict()`` through :func:`jsonable`."""

    def to_dict(self) -> dict[str, Any]:
        """The result's fields (and any ``_extra_dict`` entries) as JSON-safe values."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        out.update(self._extra_dict())
        return jsonable(out)

    def _extra_dict(self) -> dict[str, Any]:
        """Derived values worth serializing (properties); subclasses override."""
        return {}
