"""The layers of ganlens, declared once here (ARCHITECTURE.md explains them), and the checks that
hold the code to them: no import cycle, no import from a lower layer to a higher one, and plugins
that import only the public API.

Every import counts: top-level ones, those inside functions, and those under ``TYPE_CHECKING``.
Each check is first run on a small made-up tree with a known fault, so that a check that could
not fail is itself a failure.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ganlens

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module may import from its own layer and from the layers below it.
# An entry ending in ".*" is a package with everything under it; other entries are one module.
LAYERS: list[tuple[str, list[str]]] = [
    ("leaf", ["ganlens._version", "ganlens.markers"]),
    ("kernel", ["ganlens.core.*"]),
    ("contract", ["ganlens.hookspecs"]),
    ("builtin", ["ganlens.builtin.*"]),
    ("engine", ["ganlens.engine.*"]),
    ("face", ["ganlens", "ganlens.api", "ganlens.cli", "ganlens.__main__", "ganlens.testing",
              "ganlens.errors", "ganlens.capture", "ganlens.plotting", "ganlens.images",
              "ganlens.maths"]),
]

# What a plugin (built-in or third-party) may import from ganlens.
PUBLIC_MODULES = {"ganlens", "ganlens.errors", "ganlens.capture", "ganlens.plotting",
                  "ganlens.images", "ganlens.maths", "ganlens.hookspecs", "ganlens.testing"}

PLUGIN_ROOTS = [ROOT / "plugins", ROOT / "examples" / "custom_analyzer"]


# ---------------------------------------------------------------------------------------------
# The import graph
# ---------------------------------------------------------------------------------------------


def modules_under(package_dirs: list[Path]) -> dict[str, Path]:
    """Module name -> file for every .py file of the packages in ``package_dirs`` (each a
    folder with an ``__init__.py``, importable from its parent folder)."""
    out = {}
    for pkg in package_dirs:
        for path in sorted(pkg.rglob("*.py")):
            rel = path.relative_to(pkg.parent).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module ``name`` imports (absolute names), wherever the import statement stands."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found


def graph(package_dirs: list[Path]) -> dict[str, set[str]]:
    """The import graph among the given packages' modules."""
    mods = modules_under(package_dirs)
    known = set(mods)
    return {name: {m for m in imports_of(name, path, known) if m in known and m != name}
            for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def layer_of(module: str, layers: list[tuple[str, list[str]]]) -> int | None:
    best, best_len = None, -1
    for rank, (_name, entries) in enumerate(layers):
        for entry in entries:
            if entry.endswith(".*"):
                pkg = entry[:-2]
                if (module == pkg or module.startswith(pkg + ".")) and len(pkg) > best_len:
                    best, best_len = rank, len(pkg)
            elif module == entry and len(entry) > best_len:
                best, best_len = rank, len(entry)
    return best


def upward_imports(g: dict[str, set[str]], layers: list[tuple[str, list[str]]]) -> list[str]:
    out = []
    for src, targets in sorted(g.items()):
        a = layer_of(src, layers)
        for dst in sorted(targets):
            b = layer_of(dst, layers)
            if a is not None and b is not None and b > a:
                out.append(f"{src} ({layers[a][0]}) imports {dst} ({layers[b][0]})")
    return out


def unlayered(g: dict[str, set[str]], layers: list[tuple[str, list[str]]]) -> list[str]:
    return sorted(m for m in g if layer_of(m, layers) is None)


def non_public_imports(package_dirs: list[Path], public: set[str],
                       facade_names: set[str]) -> list[str]:
    """Imports of ganlens by plugin code that reach past the public API."""
    out = []
    for name, path in modules_under(package_dirs).items():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "ganlens" and alias.name not in public:
                        out.append(f"{name}: import {alias.name}")
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                if node.module.split(".")[0] != "ganlens":
                    continue
                if node.module not in public:
                    out.append(f"{name}: from {node.module} import ...")
                elif node.module == "ganlens":
                    for alias in node.names:
                        if alias.name not in facade_names and f"ganlens.{alias.name}" not in public:
                            out.append(f"{name}: from ganlens import {alias.name}")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "ganlens" and node.attr in ("core", "builtin", "engine"):
                out.append(f"{name}: ganlens.{node.attr}")
    return out


def _packages(folder: Path) -> list[Path]:
    return sorted(p.parent for p in folder.glob("*/__init__.py"))


# ---------------------------------------------------------------------------------------------
# The checks fail on known faults (a made-up tree)
# ---------------------------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checks_find_a_cycle_an_upward_import_and_a_private_import(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low/__init__.py": "",
        "pkg/low/a.py": "def f():\n    from ..high import b\n",  # upward, inside a function
        "pkg/high/__init__.py": "",
        "pkg/high/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                         "    from pkg.high.c import X\n",
        "pkg/high/c.py": "from . import b\n",  # b <-> c: a cycle through TYPE_CHECKING
        "plug/__init__.py": "import ganlens\nfrom ganlens.core.gan import GAN\n"
                            "from ganlens import Analyzer, secret\nx = ganlens.engine\n",
    })
    g = graph([tmp_path / "pkg"])
    assert g["pkg.low.a"] == {"pkg.high.b"}
    assert cycles(g) == [["pkg.high.b", "pkg.high.c"]]
    layers = [("low", ["pkg.low.*"]), ("high", ["pkg.high.*", "pkg"])]
    assert upward_imports(g, layers) == ["pkg.low.a (low) imports pkg.high.b (high)"]
    assert unlayered(g, layers[:1]) == ["pkg", "pkg.high", "pkg.high.b", "pkg.high.c"]
    bad = non_public_imports([tmp_path / "plug"], {"ganlens"}, {"Analyzer"})
    assert sorted(bad) == ["plug: from ganlens import secret",
                           "plug: from ganlens.core.gan import ...", "plug: ganlens.engine"]


# ---------------------------------------------------------------------------------------------
# The checks on ganlens itself
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ganlens_graph():
    return graph([ROOT / "ganlens", *_packages(ROOT / "plugins"),
                        *_packages(ROOT / "examples" / "custom_analyzer")])


def test_no_import_cycle(ganlens_graph):
    assert cycles(ganlens_graph) == []


def test_every_module_of_ganlens_has_a_layer(ganlens_graph):
    core = {m: v for m, v in ganlens_graph.items() if m == "ganlens" or m.startswith("ganlens.")}
    assert len(core) > 40
    assert unlayered(core, LAYERS) == []


def test_no_import_from_a_lower_layer_to_a_higher_one(ganlens_graph):
    assert upward_imports(ganlens_graph, LAYERS) == []


def test_plugins_import_only_the_public_api():
    roots = [*_packages(ROOT / "plugins"), *_packages(ROOT / "examples" / "custom_analyzer")]
    assert len(roots) == 10  # the nine built-in analyzers and the example
    assert non_public_imports(roots, PUBLIC_MODULES, set(ganlens.__all__)) == []


def test_plugins_import_no_other_plugin(ganlens_graph):
    owners = {p.name for p in _packages(ROOT / "plugins")}
    crossing = [f"{src} imports {dst}" for src, dsts in ganlens_graph.items()
                for dst in dsts if src.split(".")[0] in owners and dst.split(".")[0] in owners
                and src.split(".")[0] != dst.split(".")[0]]
    assert crossing == []


def test_the_public_modules_export_what_they_list():
    import importlib

    for name in sorted(PUBLIC_MODULES):
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        assert exported, f"{name} declares no __all__"
        missing = [n for n in exported if not hasattr(module, n)]
        assert missing == [], (name, missing)


def test_every_builtin_analyzer_has_the_same_shape():
    """The class in analyzer.py, the registration hook in __init__.py, a README."""
    for pkg in [*_packages(ROOT / "plugins"), *_packages(ROOT / "examples" / "custom_analyzer")]:
        assert (pkg / "analyzer.py").is_file(), pkg.name
        init = (pkg / "__init__.py").read_text()
        assert "def ganlens_register_analyzers" in init, pkg.name
        classes = [n for n in ast.parse(init).body if isinstance(n, ast.ClassDef)]
        assert classes == [], f"{pkg.name}/__init__.py defines a class"
        analyzer = (pkg / "analyzer.py").read_text()
        assert "(ganlens.Analyzer)" in analyzer, pkg.name
        readme = pkg / "README.md" if (pkg / "README.md").exists() else pkg.parent / "README.md"
        assert readme.is_file(), pkg.name
