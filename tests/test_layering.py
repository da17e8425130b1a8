"""The package's layers (docs/architecture.md): a module imports only from lower layers.

Every import of a bayesreg module counts, at module level or inside a function (a lazy import
that goes up the layers is still a dependency). Modules of one package (``solvers.*``,
``sampling.*``) may import each other. A new module must be given a layer here and in the
architecture document.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "bayesreg"

#: component -> layer; a component is a top-level module or subpackage of bayesreg
LAYERS = {
    "_lazy": 0,
    "_validation": 0,
    "_results": 0,
    "_blas": 0,
    "_arviz": 0,
    "_linalg": 0,
    "_version": 0,
    "priors": 1,
    "likelihoods": 1,
    "_capabilities": 2,
    "conventions": 2,
    "datasets": 2,
    "_named": 2,
    "_fastlogp": 3,
    "model": 3,
    "diagnostics": 3,
    "solvers": 5,
    "sampling": 5,
    "gibbs": 4,
    "horseshoe_gibbs": 4,
    "paths": 6,
    "formula": 6,
    "moments": 6,
    "regularizers": 6,
    "nn": 7,
    "shrinkage": 6,
    "verification": 6,
    "selection": 7,
    "variable_selection": 7,
    "estimators": 8,
    "plotting": 8,
    "regularizer_plots": 8,
    "report": 9,
    "cli": 10,
    "__main__": 11,
}


def _component(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""  # "" = the package root, bayesreg/__init__


def _modules() -> list[tuple[str, pathlib.Path]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        dotted = ".".join(rel.parts).removesuffix(".__init__")
        out.append((dotted, path))
    return out


def _imports(path: pathlib.Path, dotted: str) -> set[str]:
    found = set()
    package = dotted if path.name == "__init__.py" else dotted.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            if name == "bayesreg":
                # ``from bayesreg import _arviz``: a submodule, else a name of the root
                for alias in node.names:
                    sub = ROOT / alias.name
                    is_module = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                    found.add(f"bayesreg.{alias.name}" if is_module else "bayesreg")
            elif name.startswith("bayesreg"):
                found.add(name)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bayesreg")}
    return found


def test_every_module_has_a_layer():
    missing = {_component(d) for d, _ in _modules() if d != "bayesreg"} - set(LAYERS)
    assert not missing, f"give these modules a layer in LAYERS and docs/architecture.md: {missing}"


@pytest.mark.parametrize("dotted,path", _modules(), ids=lambda v: str(v).split("/")[-1])
def test_imports_go_down_the_layers(dotted, path):
    if dotted == "bayesreg":
        return  # the root re-exports everything (lazily)
    here = _component(dotted)
    bad = []
    for target in sorted(_imports(path, dotted)):
        there = _component(target)
        if there == here:
            continue  # within one component (a package's own modules)
        if there == "" or LAYERS.get(there, 99) >= LAYERS[here]:
            bad.append(target)
    assert not bad, f"{dotted} (layer {LAYERS[here]}) imports {bad} from its layer or above"


def test_architecture_document_lists_every_component():
    text = (ROOT.parent / "docs" / "architecture.md").read_text()
    missing = [c for c in LAYERS if c != "__main__" and f"`{c}" not in text]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_only_the_door_imports_arviz():
    """bayesreg._arviz is the one module that imports ArviZ (docs/architecture.md)."""
    importers = []
    for dotted, path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            if any(n == "arviz" or n.startswith("arviz.") for n in names):
                importers.append(dotted)
    assert sorted(set(importers)) == ["bayesreg._arviz"]
