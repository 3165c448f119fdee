"""Every domain's SQL is in its `repository.py` (docs/architecture.md "Layering"): no other module under
services/ builds a statement.

A module under services/ other than `repository.py`, `sql.py`, `uow.py` and `database.py` that calls
SQLAlchemy's `select(`, `update(`, `insert(` or `delete(` (imported from `sqlalchemy` or one of its
modules, or the dialect-aware `services.sql.insert`) fails, unless it is in `ALLOWED` with its reason.
Read with `ast` (no import, no database): a fraction of a second.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "services"
STATEMENTS = frozenset({"select", "update", "insert", "delete"})
SQL_FILE_NAMES = frozenset({"repository.py", "sql.py", "uow.py", "database.py"})
# Modules that may still build statements, each with its reason (path relative to the project root).
ALLOWED: dict[str, str] = {}


def _statement_sources(module: str | None) -> bool:
    return module is not None and (
        module == "sqlalchemy" or module.startswith("sqlalchemy.") or module == "services.sql"
    )


def statement_calls(source: str) -> list[tuple[int, str]]:
    """(line, name) of each call of a statement builder in `source`: a name imported from sqlalchemy (or
    services.sql), `sqlalchemy.select(...)` through an imported module, or `postgresql.insert(...)`
    through a module imported from sqlalchemy."""
    tree = ast.parse(source)
    names: dict[str, str] = {}  # local name -> statement it builds
    modules: set[str] = set()  # local names of sqlalchemy modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _statement_sources(node.module):
            for alias in node.names:
                if alias.name in STATEMENTS:
                    names[alias.asname or alias.name] = alias.name
                elif node.module != "services.sql":
                    modules.add(alias.asname or alias.name)  # e.g. `from sqlalchemy.dialects import postgresql`
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                    modules.add(alias.asname or alias.name.split(".")[0])
    calls: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in names:
            calls.append((node.lineno, names[func.id]))
        elif isinstance(func, ast.Attribute) and func.attr in STATEMENTS:
            base = func.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                calls.append((node.lineno, func.attr))
    return sorted(calls)


def _service_modules() -> list[Path]:
    return sorted(p for p in SERVICES.rglob("*.py") if p.name not in SQL_FILE_NAMES)


def test_services_build_statements_only_in_repositories() -> None:
    # Given every module under services/ but the repositories and the shared SQL modules
    modules = _service_modules()
    assert len(modules) > 50  # the walk found the package
    # When each is read for statement builders
    found = {
        str(path.relative_to(ROOT)): calls
        for path in modules
        if (calls := statement_calls(path.read_text(encoding="utf-8")))
    }
    # Then none builds one but the allowed, and every allowed one still does (a stale entry goes)
    offenders = {path: calls for path, calls in found.items() if path not in ALLOWED}
    assert offenders == {}, "move these statements into the domain's repository.py: " + repr(offenders)
    assert sorted(found) == sorted(ALLOWED)
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_check_sees_each_way_of_calling_a_builder() -> None:
    # Given a module that builds statements in every way the check knows, and one that only looks alike
    builds = """
from sqlalchemy import select, update as upd
from sqlalchemy.dialects import postgresql
import sqlalchemy as sa
from services.sql import insert

async def f(uow, model):
    select(model)
    upd(model)
    postgresql.insert(model)
    sa.delete(model)
    insert(uow, model)
"""
    looks_alike = """
from services.review import service as review

def select(rows): return rows

async def f(uow, rows):
    select(rows)
    await review.update(uow)
    rows.insert(0, None)
"""
    # When each is read / Then the builders are found, line by line, and nothing else is
    assert statement_calls(builds) == [(8, "select"), (9, "update"), (10, "insert"), (11, "delete"), (12, "insert")]
    assert statement_calls(looks_alike) == []
