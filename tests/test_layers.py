"""The house rules of ARCHITECTURE.md, enforced: a forbidden import fails the build."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "jiliang"

# layer -> packages of jiliang it must never import
FORBIDDEN = {
    "domain": {"store", "services", "api", "web", "cli", "demo", "legal"},
    "legal": {"store", "services", "api", "web", "cli", "demo"},
    "store": {"services", "api", "web", "cli", "demo"},
    "services": {"api", "web", "cli"},
    "api": {"store", "cli", "demo", "web"},
    "web": {"store", "cli", "commands", "demo"},
    "metrology": {"store", "services", "api", "web", "cli", "commands", "demo", "legal", "trust"},
    "trust": {"store", "services", "api", "web", "cli", "commands", "demo", "legal", "metrology"},
    "commands": {"store", "api", "web", "demo", "cli"},
    "energy": {"store", "services", "api", "web", "cli", "commands", "demo", "legal", "trust"},
    "telemetry": {"store", "services", "api", "web", "cli", "commands", "demo", "legal", "trust"},
}
# The composition root of the web process mounts both the JSON API and the console's pages.
EXEMPT = {("api/app.py", "web")}
THIRD_PARTY_FORBIDDEN = {
    "domain": {"sqlalchemy", "fastapi", "httpx", "typer", "rich", "alembic", "psycopg"},
    "legal": {"sqlalchemy", "fastapi", "httpx", "typer", "rich", "alembic", "psycopg"},
    "metrology": {"sqlalchemy", "fastapi", "httpx", "typer", "rich", "alembic", "psycopg"},
    "trust": {"sqlalchemy", "fastapi", "httpx", "typer", "rich", "alembic", "psycopg"},
    "energy": {"sqlalchemy", "fastapi", "httpx", "typer", "rich", "alembic", "psycopg"},
    "telemetry": {"sqlalchemy", "fastapi", "httpx", "typer", "rich", "alembic", "psycopg", "paho"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(layer: str) -> list[Path]:
    base = SRC / layer
    return sorted(base.rglob("*.py")) if base.is_dir() else [SRC / f"{layer}.py"]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    offences = []
    for path in modules(layer):
        for name in imports_of(path):
            parts = name.split(".")
            exempt = len(parts) > 1 and (path.relative_to(SRC).as_posix(), parts[1]) in EXEMPT
            if parts[0] == "jiliang" and len(parts) > 1 and parts[1] in FORBIDDEN[layer] and not exempt:
                offences.append(f"{path.relative_to(SRC)} imports {name}")
            if parts[0] in THIRD_PARTY_FORBIDDEN.get(layer, set()):
                offences.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offences, "\n".join(offences)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from jiliang.store.models import Instrument\nimport sqlalchemy\n", encoding="utf-8")
    assert imports_of(bad) == {"jiliang.store.models", "sqlalchemy"}


def session_openings(path: Path) -> list[int]:
    """Lines where a module opens a transaction itself (platform.reading() / platform.unit_of_work())."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("reading", "unit_of_work")
    ]


@pytest.mark.parametrize("layer", ["api", "commands", "web"])
def test_interfaces_leave_transactions_to_the_services(layer: str) -> None:
    offences = [f"{p.relative_to(SRC)}:{line}" for p in modules(layer) for line in session_openings(p)]
    assert not offences, "open a session in a service function instead:\n" + "\n".join(offences)


def test_the_session_checker_sees_one(tmp_path: Path) -> None:
    bad = tmp_path / "route.py"
    bad.write_text(
        "def f(platform):\n    with platform.reading() as s:\n        return s\n", encoding="utf-8"
    )
    assert session_openings(bad) == [2]


def test_commands_never_import_the_cli_module() -> None:
    """cli.py imports the sub-apps; a command importing jiliang.cli back (even lazily, ``from jiliang import
    cli``) made ``python -m jiliang.cli`` load cli.py twice. Shared helpers live in commands/common.py."""
    offences = []
    for path in modules("commands"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "jiliang" and any(
                a.name == "cli" for a in node.names
            ):
                offences.append(f"{path.relative_to(SRC)} imports jiliang.cli")
            if isinstance(node, ast.ImportFrom) and node.module == "jiliang.cli":
                offences.append(f"{path.relative_to(SRC)} imports jiliang.cli")
    assert offences == []
