"""Deletions, both ways, by the entity's policy (``entities.<e>.on_delete``).

ERP → CRM: a soft-deleted row is sent as the policy says (``ToCrm``): nothing
(``ignore``), the CRM's own inactive flag or archive (``deactivate``: the row
sent as inactive, plus the handler's ``INACTIVE`` fields), or a DELETE
(``delete``). CRM → ERP: a record the CRM reports deleted (a 404 on its own
path, or the handler's ``is_deleted``) marks the ERP row: ``active_column`` 0,
or ``deleted_at`` on the PHP application's clock. An ERP row is never removed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from crm_cli.db.clock import app_now
from crm_cli.engine import syncstate
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.outcome import Outcome
from crm_cli.engine.queue import QueueItem
from crm_cli.errors import CannotSucceed
from crm_cli.states import OnDelete, OutcomeKind

# What a record deleted in the CRM is recorded as having been sent: the same
# item again finds it deleted already and sends nothing.
DELETED = {"deleted": True}


def policy_of(table: EntityTable) -> OnDelete:
    return OnDelete(table.mapping.on_delete)


def deleted_digest(external_id: str) -> str:
    return syncstate.payload_hash(DELETED, external_id)


def reported_deleted(handler: Any, record: dict[str, Any]) -> bool:
    """Whether the CRM's record says it is deleted (Bling's situacao E, Pipedrive's
    is_deleted): the handler's ``is_deleted``, when it has one."""
    check = getattr(handler, "is_deleted", None)
    return bool(check(record)) if check is not None else False


def mark_in_erp(
    item: QueueItem, table: EntityTable, row: dict[str, Any], external_id: str, why: str
) -> Outcome:
    """The CRM deleted the record: its ERP row is marked as the policy says (``ignore``:
    CannotSucceed, as the record cannot be written)."""
    policy = policy_of(table)
    mapping = table.mapping
    record_id = row[mapping.primary_key]
    if policy is OnDelete.IGNORE:
        raise CannotSucceed(
            f"the CRM has no {item.entidade} {external_id} any more (deleted there: {why}); "
            "nothing was written, and the store keeps its link, so no second record is "
            f"created (entities.{mapping.name}.on_delete: ignore)"
        )
    if policy is OnDelete.DEACTIVATE:
        assert mapping.active_column is not None  # settings require it
        column, done = mapping.active_column, f"deactivated ({mapping.active_column} = 0)"
    else:
        assert mapping.deleted_at is not None  # settings require it
        column, done = mapping.deleted_at, f"marked deleted ({mapping.deleted_at})"

    def mark(conn: Connection) -> Any:
        value = 0 if policy is OnDelete.DEACTIVATE else app_now(conn)
        if policy is OnDelete.DEACTIVATE or row.get(column) is None:
            table.update(conn, record_id, {column: value})
        syncstate.record_success(
            conn,
            item.id_loja,
            item.entidade,
            record_id,
            external_id,
            deleted_digest(external_id),
            table.updated_at_of(conn, record_id),
        )
        return record_id

    message = (
        f"the CRM deleted {item.entidade} {external_id} ({why}): local record {record_id} "
        f"{done} (on_delete: {policy})"
    )
    return Outcome(OutcomeKind.COMPLETED, message, external_id=external_id, apply=mark)
