"""Every third-party module the code imports is a declared, bounded and pinned dependency.

A module that is only installed because another package happens to pull it in (threadpoolctl
through scikit-learn, say) can vanish with that package's next release. So: each import in
ganlens/ and plugins/ (outside ``if TYPE_CHECKING:``) is the standard library, ganlens itself
or a distribution of pyproject.toml's [project].dependencies; tests/, benchmarks/ and examples/
may also use the ``test`` extra. Each declared distribution has a lower bound and an exact pin in
constraints.txt that its specifier accepts.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_TREES = ("ganlens", "plugins")
DEV_TREES = ("tests", "benchmarks", "examples")
# Import name -> distribution, for modules not installed here (packages_distributions() knows
# the installed ones) or whose name differs from their distribution's.
KNOWN = {"PIL": "pillow", "sklearn": "scikit-learn", "umap": "umap-learn", "yaml": "pyyaml",
         "cv2": "opencv-python", "skimage": "scikit-image"}

tomllib = pytest.importorskip("tomllib")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(source: str) -> set[str]:
    """Top-level names of the absolute imports in ``source``, except under ``if TYPE_CHECKING``."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def _requirements(specs: list[str]) -> dict[str, str]:
    from packaging.requirements import Requirement

    return {normalise(Requirement(s).name): s for s in specs}


def declared() -> tuple[dict[str, str], dict[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return (_requirements(project["dependencies"]),
            _requirements(project.get("optional-dependencies", {}).get("test", [])))


@functools.cache
def _installed() -> dict[str, list[str]]:
    return packages_distributions()


def distributions(module: str) -> set[str]:
    """The distributions that may provide ``module`` (installed ones first, then :data:`KNOWN`)."""
    names = {normalise(d) for d in _installed().get(module, [])}
    return names or {normalise(KNOWN.get(module, module))}


def undeclared(root: Path, trees: tuple[str, ...], allowed: set[str],
               local: frozenset[str] = frozenset()) -> list[str]:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    problems = []
    for tree in trees:
        for path in sorted((root / tree).rglob("*.py")):
            for module in sorted(imports(path.read_text())):
                if module in stdlib or module.startswith("ganlens") or module in local:
                    continue
                if not distributions(module) & allowed:
                    problems.append(f"{path.relative_to(root).as_posix()} imports {module!r} "
                                    f"(distribution {'/'.join(sorted(distributions(module)))})")
    return problems


def test_the_import_scanner_skips_type_checking_and_relative_imports():
    source = ("from __future__ import annotations\nimport numpy.linalg as la\nfrom . import x\n"
              "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\nelse:\n"
              "    import yaml\ndef f():\n    from PIL import Image\n")
    assert imports(source) == {"__future__", "numpy", "typing", "yaml", "PIL"}
    assert distributions("PIL") == {"pillow"} and distributions("sklearn") == {"scikit-learn"}
    assert distributions("umap") == {"umap-learn"} and distributions("yaml") == {"pyyaml"}


def optional_extras() -> set[str]:
    """Distributions of the integration extras (``ganlens[safetensors]`` ...), not ``test``:
    ganlens imports them only where they are used, with a message naming the extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {k: v for k, v in project.get("optional-dependencies", {}).items() if k != "test"}
    return {name for specs in extras.values() for name in _requirements(specs)}


def test_every_import_of_ganlens_and_plugins_is_declared():
    runtime, _test = declared()
    problems = undeclared(ROOT, RUNTIME_TREES, set(runtime) | optional_extras())
    assert not problems, ("imported but not in pyproject.toml [project].dependencies or an "
                          "integration extra (test-only packages may be imported only in "
                          "tests/):\n  " + "\n  ".join(problems))


def test_every_import_of_tests_benchmarks_and_examples_is_declared():
    runtime, test = declared()
    local = {p.stem for tree in DEV_TREES for p in (ROOT / tree).rglob("*.py")}
    local |= {p.name for tree in DEV_TREES for p in (ROOT / tree).rglob("*") if p.is_dir()}
    problems = undeclared(ROOT, DEV_TREES, set(runtime) | set(test), frozenset(local))
    assert not problems, ("imported but in neither [project].dependencies nor the test "
                          "extra:\n  " + "\n  ".join(problems))


def test_a_missing_declaration_is_found(tmp_path):
    """The check on a tree with a known fault: threadpoolctl imported, not declared."""
    (tmp_path / "ganlens").mkdir()
    (tmp_path / "ganlens" / "m.py").write_text("def f():\n    from threadpoolctl import x\n")
    assert undeclared(tmp_path, ("ganlens",), {"numpy"}) == [
        "ganlens/m.py imports 'threadpoolctl' (distribution threadpoolctl)"]
    assert undeclared(tmp_path, ("ganlens",), {"threadpoolctl"}) == []


def test_every_dependency_has_a_lower_bound_and_a_pin_it_accepts():
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {line!r} is not an exact pin"
            pins[normalise(name)] = pinned.strip()
    runtime, test = declared()
    problems = []
    for name, spec in {**runtime, **test}.items():
        req = Requirement(spec)
        if not any(s.operator in (">=", "==", "~=", ">") for s in req.specifier):
            problems.append(f"{spec!r} has no lower bound")
        if name not in pins:
            problems.append(f"{name} is not pinned in constraints.txt")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"constraints.txt pins {name}=={pins[name]}, outside {spec!r}")
    assert not problems, "\n".join(problems)
