"""The decision modules of runtime/ ship to the nodes: pure, standard library only, Python 3.9.

- Every module of the package never imports `halang`, and parses as Python 3.9.
- Every module of `runtime/core/` (the decision core), and the package's own `__init__`, imports only the
  modules listed in ALLOWED and calls no I/O builtin: the folder is the wall, so a module moved into it is
  held to it without a list to update.
- If a Python 3.9 interpreter is at hand, the package runs under it and places
  the examples exactly as it does here.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime.core.failures import all_components
from runtime.core.placement import place
from runtime.core.snapshot import load_snapshot
from tests.runtime.helpers import snapshot_json

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "runtime"
CORE = PACKAGE / "core"
# What a pure module may import: no clock, no I/O, no sockets, no processes, no threads.
ALLOWED = {"__future__", "dataclasses", "typing", "ipaddress", "decimal", "types", "difflib", "runtime", "hashlib", "hmac",
           "json"}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "compile", "__import__", "breakpoint"}


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append(("runtime", node.lineno))  # a relative import stays inside the package
            else:
                found.append((node.module or "", node.lineno))
    return found


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def pure_modules() -> list[Path]:
    return [PACKAGE / "__init__.py", *sorted(CORE.rglob("*.py"))]


def test_the_core_holds_the_decisions():
    names = {path.stem for path in CORE.glob("*.py")}
    assert {"engine", "placement", "topology", "membership", "paths", "failures", "snapshot"} <= names


@pytest.mark.parametrize("path", all_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_never_imports_halang_and_parses_as_python_3_9(path: Path):
    source = path.read_text()
    tree = ast.parse(source, str(path), feature_version=(3, 9))
    for module, line in imported_modules(tree):
        assert module.split(".")[0] != "halang", f"{path.name}:{line} imports {module}: runtime never imports halang"
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and _in_annotation(tree, node):
            pytest.fail(f"{path.name}:{node.lineno}: `X | Y` in an annotation; use Optional/Union (Python 3.9)")


def _in_annotation(tree: ast.AST, target: ast.AST) -> bool:
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            arguments += [arg for arg in (node.args.vararg, node.args.kwarg) if arg is not None]
            annotations.extend(arg.annotation for arg in arguments)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None and any(child is target for child in ast.walk(annotation)):
                return True
    return False


@pytest.mark.parametrize("path", pure_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_pure_module_imports_only_the_allowed(path: Path):
    name = str(path.relative_to(PACKAGE))
    tree = ast.parse(path.read_text(), str(path))
    for module, line in imported_modules(tree):
        assert module.split(".")[0] in ALLOWED, f"{name}:{line} imports {module}, which a pure module may not"
        assert module.split(".")[:2] != ["runtime", "node"], f"{name}:{line} imports {module}: the core never " \
                                                             "imports the node's I/O"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            pytest.fail(f"{name}:{node.lineno} calls {node.func.id}(): a pure module does no I/O")


def test_the_scan_catches_a_forbidden_import():
    tree = ast.parse("import time\nfrom os import path\nfrom . import snapshot\nimport socket as s\n")
    assert [module for module, _ in imported_modules(tree)] == ["time", "os", "runtime", "socket"]


def _python39() -> str | None:
    """A working Python 3.9 interpreter: $HALANG_PYTHON39, a pyenv install, or python3.9 on the PATH."""
    candidates = [os.environ.get("HALANG_PYTHON39")]
    candidates += [str(path) for path in sorted(Path.home().glob(".pyenv/versions/3.9.*/bin/python"))]
    candidates.append(shutil.which("python3.9"))
    for candidate in candidates:
        if not candidate or not Path(candidate).is_file():
            continue
        try:
            probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
                                   capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


PLACE_EVERY_SINGLE_FAILURE = """
import json, sys
from runtime import *
results = {}
for name, data in json.load(sys.stdin).items():
    cluster = load_snapshot(data)
    start = place(cluster, [])
    results[name] = {}
    for component in [""] + all_components(cluster):
        failed = [component] if component else []
        after = place(cluster, failed, start)
        # the findings and events too, so that every code path meets the old interpreter
        events(cluster, start, after, [], failed), node_load(cluster, after), overloaded_nodes(cluster, after)
        service_address_load(cluster, after, failed), dependency_violations(cluster, after)
        fallback_moves(cluster, after, failed), placement_to_json(after), partitions(cluster, failed)
        results[name][component] = [list(item) for item in after.groups]
json.dump(results, sys.stdout, sort_keys=True)
"""


def test_runs_on_python_3_9_and_places_as_here():
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 interpreter found (set HALANG_PYTHON39)")
    snapshots = {path.stem: snapshot_json(path.read_text()) for path in sorted((ROOT / "examples").glob("*.ha"))}
    completed = subprocess.run([python, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                                + PLACE_EVERY_SINGLE_FAILURE],
                               input=json.dumps(snapshots), capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    there = json.loads(completed.stdout)
    here = {}
    for name, data in snapshots.items():
        cluster = load_snapshot(data)
        here[name] = {component: [[group, list(nodes)] for group, nodes in
                                  place(cluster, [component] if component else []).groups]
                      for component in [""] + all_components(cluster)}
    assert there == here
