"""What ``enqueue`` and ``sync --now`` check of the record they are given, before
anything is queued or sent."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from crm_cli.engine.entities import EntityTable
from crm_cli.errors import InvalidRequest, NotFoundError
from crm_cli.integrations import Integracoes
from crm_cli.providers.registry import get_provider
from crm_cli.settings import Settings


def check_target(
    database: Engine,
    settings: Settings,
    integracoes: Integracoes,
    loja: int,
    entity: str,
    record_id: int | None,
) -> None:
    """The store exists, the entity is configured and synced by the store's provider,
    and the record is there (when named)."""
    mapping = settings.entity(entity)
    stores = {s.id_loja: s for s in integracoes.listar()}
    if loja not in stores:
        raise NotFoundError(f"store {loja} has no CRM configuration (see 'crm-cli config list')")
    info = get_provider(stores[loja].provider)
    if entity not in info.entities:
        why = info.unsupported.get(entity)
        raise InvalidRequest(
            f"store {loja} uses {info.name}, which does not sync entity '{entity}'"
            + (f" ({why})" if why else "")
            + f"; it syncs: {', '.join(info.entities)}"
        )
    if record_id is not None:
        with database.connect() as conn:
            if EntityTable(database, mapping).load(conn, record_id) is None:
                raise NotFoundError(f"record {record_id} does not exist in table {mapping.table}")
