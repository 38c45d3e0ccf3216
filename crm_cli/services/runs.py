"""Each cron job's run, recorded in ``crm_cli_runs`` (revision 0012).

A run writes its row when it starts (``running``) and when it ends (``ok``,
``failed`` with the error, ``interrupted``), with its counts, host and pid.
A run that died without a word stays ``running``: its age says so. The last
run of each kind is what ``stats`` shows and ``check`` judges.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.clock import as_datetime
from crm_cli.db.ddl import DbNow
from crm_cli.db.schema import crm_cli_runs
from crm_cli.errors import CrmError, CrmWarning
from crm_cli.states import RunKind, RunOutcome

_r = crm_cli_runs.c
ERROR_MAX = 2000  # characters of an error kept


@dataclass
class Counts:
    """What the run reports as it ends (the command fills them in)."""

    processed: int = 0
    errors: int = 0
    requests: int = 0


@contextmanager
def recorded(database: Engine, kind: RunKind) -> Iterator[Counts]:
    """Record the run around the block: an error or an interruption is recorded, then
    raised again. A database without the table (not migrated yet) runs unrecorded,
    with a warning."""
    run_id = _start(database, kind)
    counts = Counts()
    try:
        yield counts
    except KeyboardInterrupt:  # Ctrl-C and SIGTERM (crm_cli.cli.reporting)
        _finish(database, run_id, counts, RunOutcome.INTERRUPTED, "interrupted")
        raise
    except Exception as exc:
        message = exc.message if isinstance(exc, CrmError) else f"{type(exc).__name__}: {exc}"
        _finish(database, run_id, counts, RunOutcome.FAILED, message)
        raise
    _finish(database, run_id, counts, RunOutcome.OK, None)


def _start(database: Engine, kind: RunKind) -> int | None:
    try:
        with database.begin() as conn:
            inserted = conn.execute(
                sa.insert(crm_cli_runs).values(
                    kind=str(kind),
                    started_at=DbNow(),
                    host=socket.gethostname()[:255],
                    pid=os.getpid(),
                    processed=0,
                    errors=0,
                    requests=0,
                    result=str(RunOutcome.RUNNING),
                )
            )
            return int(inserted.inserted_primary_key[0])
    except sa.exc.DBAPIError:
        if sa.inspect(database).has_table(crm_cli_runs.name):
            raise  # not the table missing: the database's own trouble, the run's too
        warnings.warn(
            CrmWarning("this run is not recorded (no crm_cli_runs table): run 'crm-cli migrate'"),
            stacklevel=2,
        )
        return None


def _finish(
    database: Engine, run_id: int | None, counts: Counts, result: RunOutcome, error: str | None
) -> None:
    if run_id is None:
        return
    try:
        with database.begin() as conn:
            conn.execute(
                sa.update(crm_cli_runs)
                .where(_r.id == run_id)
                .values(
                    finished_at=DbNow(),
                    processed=counts.processed,
                    errors=counts.errors,
                    requests=counts.requests,
                    result=str(result),
                    error=error[:ERROR_MAX] if error else None,
                )
            )
    except sa.exc.DBAPIError:
        if result is RunOutcome.OK:
            raise  # the run itself went well: this failure is the one to report
        # otherwise the run's own error is the one to report (the database may be why)


def last_runs(database: Engine) -> dict[str, dict[str, Any]]:
    """The last run of each kind, with the seconds since it started and ended (the
    database server's clock), by kind."""
    latest = sa.select(_r.kind, sa.func.max(_r.id).label("id")).group_by(_r.kind).subquery()
    with database.connect() as conn:
        now = as_datetime(conn.execute(sa.select(DbNow())).scalar_one())
        rows = conn.execute(sa.select(crm_cli_runs).join(latest, latest.c.id == _r.id)).all()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        started = as_datetime(row.started_at)
        finished = as_datetime(row.finished_at) if row.finished_at is not None else None
        found[row.kind] = {
            "started_at": _utc(started),
            "finished_at": _utc(finished) if finished else None,
            "seconds_ago": max(0, int((now - (finished or started)).total_seconds())),
            "duration_seconds": (
                round((finished - started).total_seconds(), 3) if finished else None
            ),
            "result": row.result,
            "processed": row.processed,
            "errors": row.errors,
            "requests": row.requests,
            "host": row.host,
            "pid": row.pid,
            "error": row.error,
        }
    return dict(sorted(found.items()))


def delete_runs_before(database: Engine, before: dt.datetime, dry_run: bool = False) -> int:
    """Runs that started before ``before`` (UTC), except the last of each kind."""
    keep = sa.select(sa.func.max(_r.id)).group_by(_r.kind).scalar_subquery()
    where = sa.and_(_r.started_at < before, _r.id.not_in(keep))
    with database.begin() as conn:
        if dry_run:
            return int(conn.execute(sa.select(sa.func.count()).where(where)).scalar_one())
        ids = conn.execute(sa.select(_r.id).where(where)).scalars().all()
        if ids:
            conn.execute(sa.delete(crm_cli_runs).where(_r.id.in_(ids)))
        return len(ids)


def _utc(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
