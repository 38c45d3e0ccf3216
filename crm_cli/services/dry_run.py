"""``sync --dry-run``: what a run would do with the items due now, claiming nothing.

It goes through the engine's own preparation (``ToCrm.preview``) and its own
verdict on errors (``crm_cli.engine.failures``), and coalesces duplicates as
the claim would: what it prints is what a run would do, minus the sending.
"""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from crm_cli.credentials import mask_secrets
from crm_cli.engine.failures import Verdict, decide
from crm_cli.engine.outcome import Outcome
from crm_cli.engine.processor import Processor
from crm_cli.engine.queue import QueueItem, due_items
from crm_cli.engine.to_crm import Ready
from crm_cli.integrations import Integracoes
from crm_cli.settings import MAX_BATCH_SIZE, Settings
from crm_cli.states import Direction

_WHAT = {
    Verdict.RETRY: "would fail and be retried later",
    Verdict.FAIL: "would fail",
    Verdict.PARK_STORE: "would wait for its store",
    Verdict.PARK_ACCOUNT: "would wait for its CRM account",
    Verdict.FATAL: "would stop the run",
}


def preview(
    database: Engine,
    settings: Settings,
    integracoes: Integracoes,
    limit: int | None,
    loja: int | None,
    entity: str | None,
) -> list[str]:
    """One line per due item: what would be sent where (secrets masked), or why not."""
    batch = min(limit or MAX_BATCH_SIZE, settings.sync.batch_size)
    items = due_items(database, batch, loja, entity)
    processor = Processor(database, settings, integracoes)
    kept: dict[tuple, QueueItem] = {}
    for item in items:
        kept.setdefault(item.key, item)
    to_crm = [item for item in kept.values() if item.direcao == Direction.ERP_TO_CRM]
    prepared = processor.to_crm.preview(to_crm)
    lines = []
    for item in items:
        prefix = f"#{item.id} loja {item.id_loja} {item.entidade} {item.id_registro or '-'}"
        first = kept[item.key]
        if first is not item:
            lines.append(f"{prefix}: would be coalesced into #{first.id} (the same change)")
        elif item.direcao != Direction.ERP_TO_CRM:
            lines.append(f"{prefix}: {_fetch(processor, item)}")
        else:
            lines.append(f"{prefix}: {_send(prepared[item.id])}")
    return lines


def _send(prepared: Ready | Outcome | Exception) -> str:
    if isinstance(prepared, Exception):
        decision = decide(prepared)
        return f"{_WHAT[decision.verdict]}: {decision.message}"
    if isinstance(prepared, Outcome):
        return f"would complete, sending nothing: {prepared.message}"
    if prepared.delete:
        where = prepared.target.client.info.name
        return f"would delete {prepared.external_id} in {where} (on_delete: delete)"
    action = "update" if prepared.external_id else "create"
    payload = json.dumps(mask_secrets(prepared.payload), ensure_ascii=False, default=str)
    return f"would {action} in {prepared.target.client.info.name}: {payload}"


def _fetch(processor: Processor, item: QueueItem) -> str:
    try:
        provider = processor.client(item.id_loja).info.name
    except Exception as exc:
        decision = decide(exc)
        return f"{_WHAT[decision.verdict]}: {decision.message}"
    return f"would fetch {item.external_id or 'by external_id'} from {provider} into the ERP"
