"""``import bayesreg`` is fast and changes nothing global; the CLI answers --help quickly."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

_ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_ENV, check=True
    )
    return out.stdout.strip()


def test_import_loads_neither_pymc_nor_pytensor_nor_pandas():
    loaded = _run(
        "import sys, bayesreg; "
        "print([m for m in ('pymc', 'pytensor', 'pandas', 'arviz', 'formulae') "
        "if m in sys.modules])"
    )
    assert loaded == "[]"


def test_import_leaves_pytensor_blas_flags_unchanged():
    code = (
        "import pytensor; before = pytensor.config.blas__ldflags; import bayesreg; "
        "bayesreg.Gaussian(1.0); print(pytensor.config.blas__ldflags == before)"
    )
    assert _run(code) == "True"


def test_import_is_fast():
    # the bound is 1.5 s on this machine; a cold start of the interpreter is ~0.1 s
    start = time.perf_counter()
    _run("import bayesreg")
    assert time.perf_counter() - start < 1.5


def test_cli_help_is_fast():
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bayesreg", "--help"], capture_output=True, check=True, env=_ENV
    )
    assert time.perf_counter() - start < 2.0


def test_public_names_resolve_lazily():
    import bayesreg

    for name in bayesreg.__all__:
        assert getattr(bayesreg, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        bayesreg.nope  # noqa: B018


def test_configure_blas_is_explicit_and_honours_the_opt_out():
    code = (
        "import pytensor, bayesreg; before = pytensor.config.blas__ldflags; "
        "print(bayesreg.configure_blas() is False, pytensor.config.blas__ldflags == before)"
    )
    env = {**_ENV, "BAYESREG_NO_BLAS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "True True"


def test_public_functions_are_not_shadowed_by_submodules():
    """A submodule named like a public function would replace it on ``import bayesreg.<name>``
    (the import system sets the package attribute), so none may share a name."""
    import importlib
    import pkgutil

    import bayesreg

    submodules = {m.name for m in pkgutil.iter_modules(bayesreg.__path__)}
    assert not submodules & set(bayesreg.__all__)
    importlib.import_module("bayesreg.verification")
    assert callable(bayesreg.verify) and not isinstance(bayesreg.verify, type(bayesreg))
