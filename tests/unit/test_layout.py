"""The installed package's shape: what the wheel can contain, and imports without cycles."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest
from alembic.config import Config

from crm_cli.db.migrator import script_directory
from crm_cli.errors import CrmError
from tests.unit import tree
from tests.unit.tree import MOUNTS, ROOT


def test_every_folder_of_code_is_a_package_the_wheel_ships():
    # find_packages() skips a folder without __init__.py: its modules would be
    # missing from the wheel while an editable install still imports them.
    folders = {p.parent for folder in MOUNTS for p in (ROOT / folder).rglob("*.py")}
    missing = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
    assert missing == []


def _imports(path: Path) -> set[str]:
    """Modules imported when ``path`` is imported (not those behind TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_level_import_cycle():
    modules = tree.modules()
    graph = defaultdict(set)
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    cycles = []

    def visit(name: str, stack: list[str], done: set[str]) -> None:
        for other in sorted(graph[name]):
            if other in stack:
                cycles.append([*stack[stack.index(other) :], other])
            elif other not in done:
                done.add(other)
                visit(other, [*stack, other], done)

    for name in sorted(modules):
        visit(name, [name], {name})
    assert cycles == []


def _script_config(location: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    return cfg


def test_migrations_without_a_revision_are_an_error_not_up_to_date(tmp_path):
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text("")
    with pytest.raises(CrmError, match="hold no revision"):
        script_directory(_script_config(tmp_path))


def test_unreadable_migrations_are_an_error(tmp_path):
    with pytest.raises(CrmError, match="cannot read crm-cli's migrations"):
        script_directory(_script_config(tmp_path / "absent"))
