"""Modules imported on first use, so that ``import bayesreg`` stays fast and side-effect free.

``pm = lazy_module("pymc")`` at the top of a module reads like the usual ``import pymc as pm``;
PyMC (about 5 s to import) loads at the first attribute access, i.e. when a graph is built.
"""

from __future__ import annotations

import importlib
import types
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._target: types.ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_target":
            raise AttributeError(attr)
        if self._target is None:
            self._target = importlib.import_module(self.__name__)
        return getattr(self._target, attr)


def lazy_module(name: str) -> Any:
    """A stand-in for ``importlib.import_module(name)`` that imports on first attribute use."""
    return _LazyModule(name)
