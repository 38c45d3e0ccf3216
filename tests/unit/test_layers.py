"""The tree tells the architecture: cli → services → engine → providers / db, and no
import goes up a layer (nor across, between providers and db).

Every import counts, at module level or inside a function: a lazy import is
a dependency all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit import tree

# Top to bottom. A module may import its own layer and any layer of a lower rank.
# providers and db share a rank: neither may import the other.
LAYERS: dict[str, tuple[int, tuple[str, ...]]] = {
    "cli": (5, ("crm_cli.cli", "crm_cli.__main__")),
    "services": (4, ("crm_cli.services", "crm_cli.demo")),
    # integrations.py is the stores' table (crm_integracoes), read by the engine's rules
    "engine": (3, ("crm_cli.engine", "crm_cli.integrations")),
    "providers": (2, ("crm_cli.providers",)),
    "db": (2, ("crm_cli.db", "crm_cli.migrations")),
    # what every layer may use: errors, states, settings, time zones, HTTP, secrets
    "foundation": (
        1,
        (
            "crm_cli.errors",
            "crm_cli.states",
            "crm_cli.settings",
            "crm_cli.store_settings",
            "crm_cli.timezones",
            "crm_cli.http",
            "crm_cli.masking",
            "crm_cli.credentials",
            "crm_cli.secret_sources",
        ),
    ),
}


def layer_of(module: str) -> str | None:
    for name, (_rank, prefixes) in LAYERS.items():
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return "foundation" if module == "crm_cli" else None


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n == "crm_cli" or n.startswith("crm_cli.")}


def test_every_module_has_a_layer():
    assert [m for m in tree.modules() if layer_of(m) is None] == []


def test_no_import_goes_up_a_layer():
    wrong = []
    for module, path in sorted(tree.modules().items()):
        mine = layer_of(module)
        for target in sorted(imported(path)):
            theirs = layer_of(target)
            if theirs is None or theirs == mine:
                continue
            if LAYERS[theirs][0] >= LAYERS[mine][0]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert wrong == []


def test_the_check_sees_an_import_that_goes_up(tmp_path):
    """The rule itself: an engine module importing the CLI is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from crm_cli.cli.render import out\n")
    assert imported(bad) == {"crm_cli.cli.render"}
    assert LAYERS[layer_of("crm_cli.cli.render")][0] > LAYERS[layer_of("crm_cli.engine.run")][0]
    assert layer_of("crm_cli.providers.client") != layer_of("crm_cli.db.clock")
