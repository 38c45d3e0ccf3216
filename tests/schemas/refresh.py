"""Make the schema excerpts in this folder again from the providers' published sources.

    python tests/schemas/refresh.py BLING_OPENAPI_JSON PIPEDRIVE_V2_YAML

Each excerpt keeps, unchanged, the operations crm-cli's clients and emulators use
and every component they reference; README.md says where each source comes
from (repository, commit, licence). Run it when a source moves on, then run the
tests: what no longer validates is what the provider changed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent

BLING_PATHS = (
    "/contatos",
    "/contatos/{idContato}",
    "/produtos",
    "/produtos/{idProduto}",
    "/pedidos/vendas",
    "/pedidos/vendas/{idPedidoVenda}",
    "/formas-pagamentos",
)
PIPEDRIVE_PATHS = (
    "/persons",
    "/persons/{id}",
    "/persons/search",
    "/products",
    "/products/{id}",
    "/products/search",
    "/deals",
    "/deals/{id}",
    "/deals/search",
    "/deals/products",
    "/deals/{id}/products",
    "/deals/{id}/products/{product_attachment_id}",
    "/deals/{id}/products/bulk",
    "/deals/{id}/discounts",
    "/deals/{id}/discounts/{discount_id}",
    "/activities",
    "/activities/{id}",
    "/itemSearch",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def excerpt(spec: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """The spec with only ``paths`` and the components they reach."""
    kept: dict[str, Any] = {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec.get("servers", []),
        "paths": {path: spec["paths"][path] for path in paths},
        "components": {},
    }
    pending = _refs(kept["paths"])
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        node = spec["components"][section][name]
        kept["components"].setdefault(section, {})[name] = node
        pending |= _refs(node)
    return kept


def main(bling_json: str, pipedrive_yaml: str) -> None:
    bling = json.loads(Path(bling_json).read_text(encoding="utf-8"))
    pipedrive = yaml.safe_load(Path(pipedrive_yaml).read_text(encoding="utf-8"))
    for name, spec, paths in (
        ("bling-openapi-v3.json", bling, BLING_PATHS),
        ("pipedrive-openapi-v2.json", pipedrive, PIPEDRIVE_PATHS),
    ):
        text = json.dumps(excerpt(spec, paths), ensure_ascii=False, sort_keys=True)
        (HERE / name).write_text(text + "\n", encoding="utf-8")
        print(f"{name}: {len(paths)} paths")


if __name__ == "__main__":
    main(*sys.argv[1:3])
