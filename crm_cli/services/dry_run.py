"""``sync --dry-run``: what a run would do with the items due now, claiming nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Engine

from crm_cli.credentials import mask_secrets
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.queue import ERP_TO_CRM, QueueItem, due_items
from crm_cli.errors import CrmError, EntityNotSupported, NotFoundError
from crm_cli.integrations import Integracoes
from crm_cli.providers.base import ProviderInfo
from crm_cli.providers.registry import get_provider
from crm_cli.settings import MAX_BATCH_SIZE, Settings


def preview(
    engine: Engine,
    settings: Settings,
    integracoes: Integracoes,
    limit: int | None,
    loja: int | None,
    entity: str | None,
) -> list[str]:
    """One line per due item: what would be sent where (secrets masked), or why it would fail."""
    batch = min(limit or MAX_BATCH_SIZE, settings.sync.batch_size)
    stores = {s.id_loja: s for s in integracoes.listar()}
    lines = []
    for item in due_items(engine, batch, loja, entity):
        store = stores.get(item.id_loja)
        prefix = f"#{item.id} loja {item.id_loja} {item.entidade} {item.id_registro or '-'}"
        if store is None or not store.ativo:
            lines.append(f"{prefix}: would fail: store has no active CRM integration")
            continue
        if item.direcao != ERP_TO_CRM:
            lines.append(
                f"{prefix}: would fetch {item.external_id or 'by external_id'} from "
                f"{store.provider} into the ERP"
            )
            continue
        try:
            payload, action = _payload(engine, settings, get_provider(store.provider), item)
        except Exception as exc:  # describe, do not stop the preview
            why = exc.message if isinstance(exc, CrmError) else f"{type(exc).__name__}: {exc}"
            lines.append(f"{prefix}: would fail: {why}")
            continue
        shown = json.dumps(mask_secrets(payload), ensure_ascii=False, default=str)
        lines.append(f"{prefix}: would {action} in {store.provider}: {shown}")
    return lines


def _payload(
    engine: Engine, settings: Settings, info: ProviderInfo, item: QueueItem
) -> tuple[dict[str, Any], str]:
    spec = info.entities.get(item.entidade)
    if spec is None:
        raise EntityNotSupported(f"entity '{item.entidade}' is not supported by {info.name}")
    table = EntityTable(engine, settings.entity(item.entidade))
    with engine.connect() as conn:
        row = table.load(conn, item.id_registro)
    if row is None:
        raise NotFoundError(f"record {item.id_registro} does not exist in {table.mapping.table}")
    action = "update" if row.get(table.mapping.external_id) else "create"
    return spec.load_handler().to_external(row), action
