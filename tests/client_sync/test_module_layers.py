"""The laptop package's modules depend on one another one way, and its SQL has one owner.

The store knows nothing of photos, bundles or the engine; photos and bundles need only the
store (not a `FieldDevice`), so importing one of them does not drag in the device and its
engine. These read the source (imports and SQL calls), so they need no database or hub.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import client_sync

PACKAGE = Path(client_sync.__file__).parent
#: Modules allowed to run SQL: the store, opening its file, and the daemon's lock file.
SQL_OWNERS = ("store/", "database.py", "migrations/", "instance_lock.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every client_sync module `path` imports, at any level (TYPE_CHECKING ones too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # the CLI is a shell over everything and registers its commands late; the package's
    # own __init__ names its public classes lazily
    inner = {
        name: path
        for name, path in modules.items()
        if name != "client_sync" and not name.startswith("client_sync.cli")
    }
    # a module may name its own package (it is importing already): not a circle
    return {
        name: {m for m in imports_of(path) & inner.keys() if not f"{name}.".startswith(f"{m}.")}
        for name, path in inner.items()
    }


def test_the_laptop_modules_import_one_another_without_a_circle():
    edges = graph()
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            pytest.fail("import circle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(edges[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])


@pytest.mark.parametrize(
    "module", ["client_sync.store", "client_sync.photos", "client_sync.bundle"]
)
def test_importing_a_module_below_the_device_does_not_import_the_device(module):
    probe = (
        f"import sys, {module}; "
        "print(sorted(m for m in ('client_sync.device', 'client_sync.engine') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    assert done.stdout.strip() == "[]"


def test_no_sql_runs_outside_the_store():
    strays = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(SQL_OWNERS):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "executemany", "executescript")
            ):
                strays.append(f"{relative}:{node.lineno}")
    assert strays == []
