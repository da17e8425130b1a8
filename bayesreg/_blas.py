"""Link PyTensor's C BLAS ops to the OpenBLAS inside scipy's wheel.

pip-installed PyTensor finds no system BLAS ("PyTensor could not link to a BLAS installation")
and then runs its matrix-vector products (``Gemv``, ``Gemm``, ``Dot22``) as Python ops: in a
regression log-density with its gradient they are most of the time of one evaluation.
scipy's wheel ships an LP64 OpenBLAS whose symbols carry a ``scipy_`` prefix
(``scipy_dgemm_``); compiling PyTensor's C code with ``-Ddgemm_=scipy_dgemm_`` (one define per
symbol PyTensor declares and the library exports) and linking that library gives PyTensor a
real BLAS without installing anything. ``benchmarks/bench_sampling.py`` measures the gain.

``configure_blas()`` runs when bayesreg builds its first model graph, before the first PyTensor
compilation (``import bayesreg`` itself changes no configuration); call it yourself to give
PyTensor graphs of your own the same BLAS. It is cheap after the first time: whether the flags compile, link and run is probed
once (about a second of C compilation) and the verdict is kept in a small JSON file in
PyTensor's compile directory, keyed by a hash of the flags, the PyTensor version and the
compiler, so a new scipy, PyTensor or compiler is probed again.

Opt out with the environment variable ``BAYESREG_NO_BLAS=1``; a BLAS chosen by the user
(``blas__ldflags`` in ``PYTENSOR_FLAGS`` or a ``.pytensorrc``) is always left alone.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import json
import os
import re
import shlex
import tempfile

__all__ = [
    "BLAS_OPT_OUT_ENV",
    "configure_blas",
    "linked_blas_flags",
    "scipy_openblas_ldflags",
]

#: set this environment variable to 1 (or true/yes) to keep PyTensor's own BLAS choice
BLAS_OPT_OUT_ENV = "BAYESREG_NO_BLAS"

_PROBE_FILE = "bayesreg_blas_probe.json"
_linked: str | None = None  # the flags this process set, once set


def scipy_openblas_ldflags() -> str:
    """``blas__ldflags`` that link PyTensor's C BLAS ops to the OpenBLAS in scipy's wheel.

    ``-Ddgemm_=scipy_dgemm_`` (one per symbol PyTensor declares and the library exports)
    renames PyTensor's calls at compile time. Returns "" when there is no such library (a
    scipy built against a system BLAS, or an ILP64-only build whose 64-bit ints PyTensor's
    declarations do not match).
    """
    try:
        import scipy
        from pytensor.tensor import blas_headers
    except ImportError:  # pragma: no cover - both are dependencies
        return ""
    libdir = os.path.realpath(os.path.join(os.path.dirname(scipy.__file__), "..", "scipy.libs"))
    libs = sorted(glob.glob(os.path.join(libdir, "libscipy_openblas*.so")))
    libs = [lib for lib in libs if "64_" not in os.path.basename(lib)]  # ILP64 ints: not ours
    if not libs:
        return ""
    try:
        handle = ctypes.CDLL(libs[0])
        import inspect

        declared = set(re.findall(r"\b([sdczi][a-z0-9]{2,8}_)\(", inspect.getsource(blas_headers)))
    except (OSError, TypeError):  # pragma: no cover
        return ""
    defs = [f"-D{n}=scipy_{n}" for n in sorted(declared) if hasattr(handle, f"scipy_{n}")]
    if not any(d.startswith("-Ddgemm_=") for d in defs):
        return ""
    # -l<name> for lib<name>.so (PyTensor's ldflags parser looks the name up in the -L folder)
    name = os.path.basename(libs[0])[len("lib") : -len(".so")]
    return f"-L{libdir} -l{name} -Wl,-rpath,{libdir} " + " ".join(defs)


def _user_set_blas_flags() -> bool:
    """True when the user chose PyTensor's BLAS flags (environment or .pytensorrc)."""
    if "blas__ldflags" in os.environ.get("PYTENSOR_FLAGS", ""):
        return True
    rc = os.environ.get("PYTENSORRC", os.path.expanduser("~/.pytensorrc"))
    for path in rc.split(os.pathsep):
        try:
            with open(path) as fh:
                if "ldflags" in fh.read():
                    return True
        except OSError:
            continue
    return False


def _opted_out() -> bool:
    return os.environ.get(BLAS_OPT_OUT_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _probe_key(flags: str) -> str:
    import pytensor

    text = "\n".join([flags, pytensor.__version__, str(pytensor.config.cxx)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _probe_path() -> str:
    import pytensor

    return os.path.join(pytensor.config.compiledir, _PROBE_FILE)


def _read_verdicts(path: str) -> dict[str, bool]:
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return {str(k): bool(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_verdict(path: str, key: str, verdict: bool) -> None:
    """Add one verdict to the cache file; atomic (write a temp file, then rename)."""
    data = _read_verdicts(path)
    data[key] = verdict
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".bayesreg_blas_")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:  # a read-only compile dir only costs a new probe next time
        pass


def _probe(flags: str) -> bool:
    from pytensor.link.c.cmodule import try_blas_flag

    try:
        return bool(try_blas_flag(shlex.split(flags)))
    except Exception:  # a compiler problem must never break the import of bayesreg
        return False


def configure_blas(force: bool = False, *, use_cache: bool = True) -> bool:
    """Point PyTensor's C BLAS ops at scipy's OpenBLAS, unless the user chose otherwise.

    Call it before the first PyTensor compilation (bayesreg does when it builds its first
    model graph; repeated calls are free). It does nothing
    and returns False when the environment variable ``BAYESREG_NO_BLAS`` is set to 1, when
    ``blas__ldflags`` is set in ``PYTENSOR_FLAGS`` or a ``.pytensorrc`` (unless ``force``),
    when scipy ships no OpenBLAS, or when a test program does not compile, link and run with
    the flags.

    Parameters
    ----------
    force : bool, default False
        Link even when the user set ``blas__ldflags`` (the opt-out variable still wins).
    use_cache : bool, default True
        Reuse the verdict of an earlier probe of the same flags, PyTensor version and compiler
        (kept in ``<pytensor compiledir>/bayesreg_blas_probe.json``); False probes again.

    Returns
    -------
    bool
        True when the flags are set (now or by an earlier call in this process).
    """
    global _linked
    if _opted_out():
        return False
    if _linked is not None:
        return True
    if not force and _user_set_blas_flags():
        return False
    flags = scipy_openblas_ldflags()
    if not flags:
        return False
    try:
        key, path = _probe_key(flags), _probe_path()
    except Exception:  # pragma: no cover - no usable compile dir: probe every time
        key, path = "", ""
    verdicts = _read_verdicts(path) if (use_cache and path) else {}
    if key in verdicts:
        ok = verdicts[key]
    else:
        ok = _probe(flags)
        if path:
            _write_verdict(path, key, ok)
    if not ok:
        return False
    _set_flags(flags)
    _linked = flags
    return True


def _set_flags(flags: str) -> None:
    import pytensor

    pytensor.config.blas__ldflags = flags


def linked_blas_flags() -> str | None:
    """The flags :func:`configure_blas` set in this process, or None."""
    return _linked
