"""Rows of ``crm_sync_log``: the one writer, shared by the engine and the Python API.

Payloads are stored as JSON with secret-looking fields masked. A failed write
raises: the original dropped log errors silently (its defect 7). ``criado_em``
is written on the PHP application's clock (``database.app_time_zone``), as its
own rows are: its log screen orders both kinds of row by it, and crm-cli reads
it on that clock too (stats' 24 h, cleanup's age).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.clock import app_now
from crm_cli.db.schema import crm_sync_log
from crm_cli.masking import mask_secrets
from crm_cli.states import Direction, LogStatus

MAX_MESSAGE = 2000


def _insert(bind: Engine | Connection) -> sa.Insert:
    """The log's INSERT, its ``criado_em`` the application's clock (see the module)."""
    return sa.insert(crm_sync_log).values(criado_em=app_now(bind))


def write_log(target: Engine | Connection, **fields: Any) -> None:
    """Write one log row (``fields`` as ``log_row`` takes them)."""
    row = log_row(**fields)
    if isinstance(target, Connection):
        target.execute(_insert(target), row)
    else:
        with target.begin() as conn:
            conn.execute(_insert(conn), row)


def write_logs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write rows made by ``log_row``, in one statement where the driver can."""
    if rows:
        conn.execute(_insert(conn), rows)


def log_row(
    *,
    id_loja: int,
    entidade: str,
    id_registro: int | None,
    direcao: Direction,
    status: LogStatus,
    mensagem: str,
    enviados: Any = None,
    recebidos: Any = None,
) -> dict[str, Any]:
    """A ``crm_sync_log`` row, message cut to its column and payloads masked."""
    return dict(
        id_loja=id_loja,
        entidade=entidade,
        id_registro=id_registro or 0,
        direcao=direcao,
        status=status,
        mensagem=mensagem[:MAX_MESSAGE],
        # Decimals and dates are written as text by the engine's JSON serializer.
        dados_enviados=mask_secrets(enviados),
        dados_recebidos=mask_secrets(recebidos),
    )


def delete_older_than(database: Engine, older_than: Any, chunk: int, dry_run: bool = False) -> int:
    """Delete log rows written before ``older_than``, ``chunk`` rows per transaction."""
    old = crm_sync_log.c.criado_em < older_than
    if dry_run:
        with database.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(crm_sync_log).where(old)
            ).scalar_one()
    deleted = 0
    while True:
        with database.begin() as conn:
            ids = list(conn.execute(sa.select(crm_sync_log.c.id).where(old).limit(chunk)).scalars())
            if ids:
                conn.execute(sa.delete(crm_sync_log).where(crm_sync_log.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < chunk:
            return deleted


def figures(database: Engine, since: Any, id_loja: int | None = None) -> dict[str, Any]:
    """The original's 24 h figures from the log: total, successes, errors, success rate."""
    where = [crm_sync_log.c.criado_em >= since]
    if id_loja is not None:
        where.append(crm_sync_log.c.id_loja == id_loja)
    with database.connect() as conn:
        by_status = dict(
            conn.execute(
                sa.select(crm_sync_log.c.status, sa.func.count())
                .where(*where)
                .group_by(crm_sync_log.c.status)
            ).all()
        )
    total = sum(by_status.values())
    successes = by_status.get(LogStatus.SUCESSO, 0)
    return {
        "total": total,
        "sucesso": successes,
        "erro": by_status.get(LogStatus.ERRO, 0),
        "alerta": by_status.get(LogStatus.ALERTA, 0),
        "taxa_sucesso": round(100.0 * successes / total, 2) if total else None,
    }


def entries(
    database: Engine,
    *,
    id_loja: int | None = None,
    entidade: str | None = None,
    id_registro: int | None = None,
    errors_only: bool = False,
    limit: int = 50,
    since: Any = None,
    until: Any = None,
) -> list[dict[str, Any]]:
    """Log rows, newest first: by record (the original's "logs by record") or errors;
    ``since``/``until``: their criado_em (the PHP clock)."""
    log = crm_sync_log.c
    query = sa.select(crm_sync_log).order_by(log.id.desc()).limit(limit)
    if id_loja is not None:
        query = query.where(log.id_loja == id_loja)
    if entidade:
        query = query.where(log.entidade == entidade)
    if id_registro is not None:
        query = query.where(log.id_registro == id_registro)
    if errors_only:
        query = query.where(log.status == LogStatus.ERRO)
    if since is not None:
        query = query.where(log.criado_em >= since)
    if until is not None:
        query = query.where(log.criado_em <= until)
    with database.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
