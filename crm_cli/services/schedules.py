"""``schedules``: run PHP v3's schedules (``crm_sync_schedules``) as its screens expect.

Shops on the PHP application's v3 configure schedules in its screen: per store,
entity and direction, a frequency, an optional time window, a batch size.
v3's ``crm_sync_master.php`` ran them; with crm-cli they run here, through
``pull`` (CRM → ERP: only what changed) and the changed-only selection of
``full-sync`` followed by a batch of ``sync`` (ERP → CRM), both for
``bidirecional``. What v3's models do is kept (``ModelCrmSyncSchedule``,
``ModelCrmSyncLog`` at github.com/jrcassa/Ecletech 8074296):

- due: ``ativo = 1``, not deleted, ``proxima_execucao`` NULL or past, and now
  within ``horario_inicio``/``horario_fim`` (each when set), on the PHP clock;
- ``executando`` = 1 while a run holds it; unlike v3, it is a lease: set with
  ``atualizado_em``, a hold older than ``sync.lease_seconds`` (a run that died)
  is taken over;
- after a run: ``ultima_execucao``, ``total_execucoes`` + 1, the records and
  errors added, ``proxima_execucao`` = now + ``frequencia_minutos`` (moved into
  the window as v3's ``calcularProximaExecucao`` does), ``executando`` = 0;
- one ``crm_sync_logs`` row per batch and direction (its ``direcao`` has no
  ``bidirecional``): ``processing`` at the start, then ``completed``, ``partial``
  (some records failed) or ``failed`` (the batch could not run, ``erro_geral``).

A schedule that cannot run (its store has no active integration) is logged as
failed and rescheduled; the others run.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.clock import app_now, read_app_now
from crm_cli.db.schema import crm_sync_logs, crm_sync_schedules
from crm_cli.engine.failures import Verdict, decide
from crm_cli.integrations import Integracoes
from crm_cli.settings import Settings
from crm_cli.states import Direction

BOTH = "bidirecional"
_s = crm_sync_schedules.c


def next_run(
    now: dt.datetime, every_minutes: int, start: dt.time | None, end: dt.time | None
) -> dt.datetime:
    """v3's ``calcularProximaExecucao``: ``every_minutes`` from now; with a window,
    past its end it is the next day's start, before its start it is the start."""
    following = now + dt.timedelta(minutes=every_minutes)
    if start is not None and end is not None:
        at = following.time()
        if at > end:
            following = dt.datetime.combine(following.date() + dt.timedelta(days=1), start)
        if at < start:
            following = dt.datetime.combine(following.date(), start)
    return following.replace(microsecond=0)


def is_due(row: Any, now: dt.datetime, lease_seconds: int) -> bool:
    """v3's ``buscarProntosParaExecutar``, with ``executando`` as a lease."""
    if not row.ativo or row.deletado_em is not None:
        return False
    if row.proxima_execucao is not None and row.proxima_execucao > now:
        return False
    at = now.time()
    if row.horario_inicio is not None and _time(row.horario_inicio) > at:
        return False
    if row.horario_fim is not None and _time(row.horario_fim) < at:
        return False
    return not row.executando or _expired(row.atualizado_em, now, lease_seconds)


def _time(value: Any) -> dt.time:
    """A TIME column's value (MySQL's driver gives a timedelta)."""
    if isinstance(value, dt.timedelta):
        return (dt.datetime.min + value).time()
    return value


def _expired(since: dt.datetime | None, now: dt.datetime, lease_seconds: int) -> bool:
    return since is None or since <= now - dt.timedelta(seconds=lease_seconds)


@dataclass
class Batch:
    """One direction of a schedule's run, as its crm_sync_logs row says."""

    direcao: str
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    errors: int = 0
    failure: str | None = None

    @property
    def status(self) -> str:
        if self.failure is not None:
            return "failed"
        if self.errors:
            return "partial" if self.processed else "failed"
        return "completed"


@dataclass
class ScheduleRun:
    id: int
    id_loja: int
    entidade: str
    direcao: str
    batches: list[Batch] = field(default_factory=list)


@dataclass
class SchedulesResult:
    ran: list[ScheduleRun] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)  # held by another run
    left: int = 0  # due, not started: the run's time budget was spent
    table: bool = True  # False: no crm_sync_schedules here (not PHP v3)


def has_schedules(database: Engine) -> bool:
    return sa.inspect(database).has_table("crm_sync_schedules")


def listing(database: Engine) -> list[dict[str, Any]]:
    """Every schedule not deleted, for ``stats``."""
    if not has_schedules(database):
        return []
    with database.connect() as conn:
        rows = conn.execute(
            sa.select(crm_sync_schedules)
            .where(_s.deletado_em.is_(None))
            .order_by(_s.id_loja, _s.entidade, _s.direcao)
        ).all()
    return [
        {
            "id": r.id,
            "id_loja": r.id_loja,
            "entidade": r.entidade,
            "direcao": r.direcao,
            "ativo": bool(r.ativo),
            "executando": bool(r.executando),
            "frequencia_minutos": r.frequencia_minutos,
            "ultima_execucao": _text(r.ultima_execucao),
            "proxima_execucao": _text(r.proxima_execucao),
            "total_execucoes": r.total_execucoes,
            "total_registros_processados": r.total_registros_processados,
            "total_erros": r.total_erros,
        }
        for r in rows
    ]


def _text(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else value


def run_schedules(
    database: Engine,
    settings: Settings,
    integracoes: Integracoes,
    clock: Callable[[], float] = time.monotonic,
) -> SchedulesResult:
    """Run each due schedule once, until the run's time budget is spent."""
    result = SchedulesResult()
    if not has_schedules(database):
        result.table = False
        return result
    lease = settings.sync.lease_seconds
    deadline = clock() + settings.sync.time_budget_seconds
    with database.connect() as conn:
        now = read_app_now(conn)
        rows = conn.execute(sa.select(crm_sync_schedules).order_by(_s.proxima_execucao, _s.id))
        due = [row for row in rows if is_due(row, now, lease)]
    for row in due:
        if clock() >= deadline:
            result.left += 1
            continue
        if not _take(database, row.id, lease):
            result.busy.append(row.id)
            continue
        result.ran.append(_run_one(database, settings, integracoes, row))
    return result


def _app_now(conn: Any) -> dt.datetime:
    value = conn.execute(sa.select(app_now(conn))).scalar()
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _take(database: Engine, schedule_id: int, lease: int) -> bool:
    """``executando`` = 1, unless another run holds it (a hold past the lease is
    taken over). ``atualizado_em`` is set here, on the PHP clock: it dates the hold."""
    with database.begin() as conn:
        return bool(
            conn.execute(
                sa.update(crm_sync_schedules)
                .where(_s.id == schedule_id)
                .where(
                    sa.or_(
                        sa.not_(_s.executando),
                        _s.atualizado_em.is_(None),
                        _s.atualizado_em <= app_now(conn, -lease),
                    )
                )
                .values(executando=1, atualizado_em=app_now(conn))
            ).rowcount
        )


def _run_one(
    database: Engine, settings: Settings, integracoes: Integracoes, row: Any
) -> ScheduleRun:
    run = ScheduleRun(row.id, row.id_loja, row.entidade, row.direcao)
    directions = (
        [Direction.CRM_TO_ERP, Direction.ERP_TO_CRM] if row.direcao == BOTH else [row.direcao]
    )
    try:
        for direcao in directions:
            batch = Batch(str(direcao))
            log_id = _log_start(database, row, batch)
            try:
                _batch(database, settings, integracoes, row, batch)
            except Exception as exc:
                decision = decide(exc)
                if decision.verdict is Verdict.FATAL:
                    batch.failure = decision.message
                    _log_end(database, log_id, batch)
                    raise
                batch.failure = decision.message
            _log_end(database, log_id, batch)
            run.batches.append(batch)
    finally:
        _finish(database, row, run)
    return run


def _batch(
    database: Engine, settings: Settings, integracoes: Integracoes, row: Any, batch: Batch
) -> None:
    limit = max(1, min(int(row.batch_size or 1), settings.sync.batch_size))
    if batch.direcao == Direction.CRM_TO_ERP:
        from crm_cli.services.pull import run_pull

        pulled = run_pull(
            database, settings, integracoes, [row.id_loja], [row.entidade], limit=limit
        )
        if pulled.stopped:
            batch.failure = "; ".join(pulled.stopped)
        batch.total = pulled.applied + pulled.errors
        batch.processed = pulled.applied
        batch.created = pulled.inserted
        batch.updated = pulled.applied - pulled.inserted - pulled.same
        batch.errors = pulled.errors
        return
    from crm_cli.engine.run import SyncRun
    from crm_cli.services.full_sync import full_sync

    full_sync(database, settings, integracoes, row.entidade, row.id_loja)
    sent = SyncRun(database, settings, integracoes.cipher).run(
        limit=limit, id_loja=row.id_loja, entidade=row.entidade
    )
    batch.total = sent.claimed
    batch.processed = sent.processed
    batch.updated = sent.processed
    batch.errors = sent.errors


def _log_start(database: Engine, row: Any, batch: Batch) -> int:
    """v3's ``registrarInicio`` (its 'running' is not in the column's ENUM:
    'processing' is)."""
    with database.begin() as conn:
        now = app_now(conn)
        inserted = conn.execute(
            sa.insert(crm_sync_logs).values(
                batch_id=str(uuid.uuid4()),
                schedule_id=row.id,
                id_loja=row.id_loja,
                entidade=row.entidade,
                direcao=batch.direcao,
                total_registros=0,
                registros_processados=0,
                registros_criados=0,
                registros_atualizados=0,
                registros_com_erro=0,
                inicio=now,
                status="processing",
                criado_em=now,
            )
        )
        return int(inserted.inserted_primary_key[0])


def _log_end(database: Engine, log_id: int, batch: Batch) -> None:
    """v3's ``registrarFim``."""
    with database.begin() as conn:
        started = conn.execute(
            sa.select(crm_sync_logs.c.inicio).where(crm_sync_logs.c.id == log_id)
        ).scalar()
        now = read_app_now(conn)
        elapsed = int((now - started).total_seconds() * 1000) if started else None
        conn.execute(
            sa.update(crm_sync_logs)
            .where(crm_sync_logs.c.id == log_id)
            .values(
                total_registros=batch.total,
                registros_processados=batch.processed,
                registros_criados=batch.created,
                registros_atualizados=max(0, batch.updated),
                registros_com_erro=batch.errors,
                fim=now,
                tempo_total_ms=max(0, elapsed) if elapsed is not None else None,
                status=batch.status,
                erro_geral=batch.failure,
            )
        )


def _finish(database: Engine, row: Any, run: ScheduleRun) -> None:
    """v3's ``registrarExecucao``: counters, the next run, ``executando`` = 0."""
    processed = sum(b.processed for b in run.batches)
    errors = sum(b.errors + (1 if b.failure else 0) for b in run.batches)
    with database.begin() as conn:
        now = read_app_now(conn)
        conn.execute(
            sa.update(crm_sync_schedules)
            .where(_s.id == row.id)
            .values(
                ultima_execucao=now,
                executando=0,
                atualizado_em=now,
                total_execucoes=_s.total_execucoes + 1,
                total_registros_processados=_s.total_registros_processados + processed,
                total_erros=_s.total_erros + errors,
                proxima_execucao=next_run(
                    now,
                    int(row.frequencia_minutos or 5),
                    _time(row.horario_inicio) if row.horario_inicio is not None else None,
                    _time(row.horario_fim) if row.horario_fim is not None else None,
                ),
            )
        )
