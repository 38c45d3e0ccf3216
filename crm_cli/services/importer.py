"""``import``: page through a CRM's records and bring them into the ERP, resumably.

Where it stands (the next page, the counts) is saved in ``crm_import_state``
after every page, so an interrupted import continues from there. Requests go
through the provider's shared rate limiter like any other.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.ddl import DbNow
from crm_cli.db.schema import crm_import_state
from crm_cli.engine.conflicts import Clocks, crm_modified_at
from crm_cli.engine.failures import Verdict, decide
from crm_cli.engine.processor import Processor
from crm_cli.engine.queue import QueueItem, enqueue
from crm_cli.engine.synclog import write_log
from crm_cli.errors import UnexpectedAnswer
from crm_cli.integrations import Integracoes
from crm_cli.settings import Settings
from crm_cli.states import Direction, LogStatus


@dataclass
class ImportResult:
    imported: int = 0
    updated: int = 0
    inserted: int = 0
    enqueued: int = 0
    errors: int = 0
    resumed: bool = False
    finished: bool = False
    budget_spent: bool = False  # stopped at sync.import_max_requests (resumable)


class PageGuard:
    """Stops an import whose CRM pages in a loop: a next page already read, or a page
    of only records already read (a server that ignores the page asked for). Such a
    loop would spend the account's daily budget, every store's, on nothing."""

    def __init__(self, crm: str) -> None:
        self.crm = crm
        self.pages: set[str] = set()
        self.ids: set[str] = set()

    def check(self, page: Any, following: Any, ids: list[str]) -> None:
        self.pages.add(repr(page))
        if ids and self.ids.issuperset(ids):
            raise UnexpectedAnswer(
                f"{self.crm}: page {page or 1} holds only records already read: its "
                "pagination loops; import stopped (run it again once the CRM pages right)"
            )
        self.ids.update(ids)
        if following is not None and repr(following) in self.pages:
            raise UnexpectedAnswer(
                f"{self.crm}: the page after {page or 1} is {following}, already read: its "
                "pagination loops; import stopped (run it again once the CRM pages right)"
            )


def _state(database: Engine, id_loja: int, entidade: str) -> sa.Row | None:
    with database.connect() as conn:
        return conn.execute(
            sa.select(crm_import_state).where(
                crm_import_state.c.id_loja == id_loja, crm_import_state.c.entidade == entidade
            )
        ).first()


def _save(
    database: Engine,
    id_loja: int,
    entidade: str,
    page: Any,
    result: ImportResult,
    finished: bool,
    skip: int = 0,
) -> None:
    """Where to continue: the page, and how many of its records are done already."""
    values = dict(
        cursor=None if finished else json.dumps({"page": page, "skip": skip}),
        imported=result.imported,
        updated=result.updated,
        inserted=result.inserted,
        errors=result.errors,
        finished_at=DbNow() if finished else None,
    )
    key = sa.and_(crm_import_state.c.id_loja == id_loja, crm_import_state.c.entidade == entidade)
    with database.begin() as conn:
        if not conn.execute(sa.update(crm_import_state).where(key).values(**values)).rowcount:
            conn.execute(
                sa.insert(crm_import_state).values(
                    id_loja=id_loja, entidade=entidade, started_at=DbNow(), **values
                )
            )


def _start(database: Engine, id_loja: int, entidade: str) -> tuple[Any, int, ImportResult]:
    """The page to read first, records of it already done, and the counts so far
    (an unfinished import resumes; a finished one starts again)."""
    state = _state(database, id_loja, entidade)
    if state is None or state.finished_at is not None or state.cursor is None:
        with database.begin() as conn:
            conn.execute(
                sa.delete(crm_import_state).where(
                    crm_import_state.c.id_loja == id_loja, crm_import_state.c.entidade == entidade
                )
            )
        return None, 0, ImportResult()
    result = ImportResult(
        imported=state.imported,
        updated=state.updated,
        inserted=state.inserted,
        errors=state.errors,
        resumed=True,
    )
    cursor = json.loads(state.cursor)
    return cursor["page"], int(cursor.get("skip", 0)), result


def run_import(
    database: Engine,
    settings: Settings,
    integracoes: Integracoes,
    id_loja: int,
    entidade: str,
    limit: int | None = None,
    since: dt.date | None = None,
    to_queue: bool = False,
    on_record: Callable[[int], None] | None = None,
) -> ImportResult:
    processor = Processor(database, settings, integracoes)
    client = processor.client(id_loja)
    processor.links(id_loja).settled(processor.table(entidade))
    handler = client.entity(entidade).load_handler()
    table = processor.table(entidade)
    zones = Clocks(processor.erp_zone, client.record_zone)
    page, skip, result = _start(database, id_loja, entidade)
    taken = 0
    pages = PageGuard(client.info.title)
    budget = settings.sync.import_max_requests
    while True:
        if processor.requests_sent >= budget:
            _save(database, id_loja, entidade, page, result, finished=False, skip=skip)
            result.budget_spent = True
            return result
        listing = client.listar(entidade, page)
        pages.check(page, listing.next, [client.external_id(r) for r in listing.records])
        for position, record in enumerate(listing.records):
            if position < skip:
                continue  # done by the interrupted run
            if limit is not None and taken >= limit:
                _save(database, id_loja, entidade, page, result, finished=False, skip=position)
                return result
            if since is not None and not _changed_since(handler, record, since, zones):
                continue
            taken += 1
            _one(database, processor, table, client, id_loja, entidade, record, to_queue, result)
            if on_record:
                on_record(taken)
        finished = listing.next is None
        _save(database, id_loja, entidade, listing.next, result, finished)
        _log(
            database,
            id_loja,
            entidade,
            LogStatus.SUCESSO,
            f"page {page or 1} read ({len(listing.records)} records)",
        )
        if finished:
            result.finished = True
            return result
        page, skip = listing.next, 0


def _log(
    database: Engine,
    id_loja: int,
    entidade: str,
    status: LogStatus,
    message: str,
    record: dict | None = None,
) -> None:
    """An import's log row: not about one ERP record (id_registro 0), CRM → ERP."""
    write_log(
        database,
        id_loja=id_loja,
        entidade=entidade,
        id_registro=0,
        direcao=Direction.CRM_TO_ERP,
        status=status,
        mensagem=f"import: {message}",
        recebidos=record,
    )


def _changed_since(handler: Any, record: dict, since: dt.date, zones: Clocks) -> bool:
    """The record changed on ``since`` or later, that day as the ERP's clock counts it."""
    modified = crm_modified_at(handler, record, zones.crm)
    return modified is None or modified.astimezone(zones.erp).date() >= since


def _one(
    database: Engine,
    processor: Processor,
    table: Any,
    client: Any,
    id_loja: int,
    entidade: str,
    record: dict,
    to_queue: bool,
    result: ImportResult,
) -> None:
    try:
        external_id = client.external_id(record)
        if to_queue:
            enqueue(
                database,
                id_loja=id_loja,
                entidade=entidade,
                external_id=external_id,
                direcao=Direction.CRM_TO_ERP,
                prioridade=1,
            )
            result.enqueued += 1
            result.imported += 1
            return
        with database.connect() as conn:
            row = processor.find_row(conn, id_loja, entidade, external_id)
        item = QueueItem(
            id=0,
            id_loja=id_loja,
            entidade=entidade,
            id_registro=row[table.mapping.primary_key] if row else None,
            direcao=Direction.CRM_TO_ERP,
            prioridade=0,
            tentativas=1,
            external_id=external_id,
        )
        outcome = processor.absorb(item, record, row, external_id)
        with database.begin() as conn:
            outcome.apply(conn)
        result.imported += 1
        if row is None:
            result.inserted += 1
        else:
            result.updated += 1
    except Exception as exc:
        decision = decide(exc)
        match decision.verdict:
            case Verdict.FATAL | Verdict.PARK_STORE | Verdict.PARK_ACCOUNT:
                raise  # not this record's fault: the import of this store stops here
            case Verdict.RETRY | Verdict.FAIL:
                # this record's problem: logged and counted; the import goes on (a
                # later import reads it again, which is the retry an import has)
                result.errors += 1
                _log(database, id_loja, entidade, LogStatus.ERRO, decision.message, record)
