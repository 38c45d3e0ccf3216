"""``cleanup``: completed queue items, old log rows and old run records go, in short
transactions.

Pending, processing and failed items are never deleted, nor the last run of each
kind (``check`` reads it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.clock import as_datetime, read_app_now
from crm_cli.db.ddl import DbNow
from crm_cli.engine.queue.admin import delete_completed
from crm_cli.engine.synclog import delete_older_than
from crm_cli.services.runs import delete_runs_before

CHUNK = 2000  # rows per transaction: each one holds its locks for milliseconds


@dataclass(frozen=True)
class CleanupResult:
    queue_items: int
    log_rows: int
    runs: int = 0  # crm_cli_runs rows (the last of each kind is kept)


def cleanup(
    database: Engine, queue_days: int, log_days: int, dry_run: bool = False, chunk: int = CHUNK
) -> CleanupResult:
    with database.connect() as conn:  # processado_em is on the PHP application's clock
        app_clock = read_app_now(conn)
        utc_clock = as_datetime(conn.execute(sa.select(DbNow())).scalar_one())
    return CleanupResult(
        runs=delete_runs_before(database, utc_clock - dt.timedelta(days=log_days), dry_run),
        queue_items=delete_completed(
            database, app_clock - dt.timedelta(days=queue_days), chunk, dry_run
        ),
        log_rows=delete_older_than(
            database, app_clock - dt.timedelta(days=log_days), chunk, dry_run
        ),
    )
