"""When a queue item is due: the one rule, for every wait crm-cli sets and every read.

A wait is a duration: crm-cli writes it in ``due_at``, the database server's
clock (UTC) plus the seconds, and in ``proximo_retry``, the PHP application's
wall time, for its screens (migration 0009). An item is due when its
``due_at`` has passed; one without (the PHP application scheduled it, or
nobody did) by its ``proximo_retry`` on the application's clock. So a zone's
clock falling back or springing forward never makes a 10-minute park last 70
minutes, or end at once.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crm_cli.db.clock import app_now
from crm_cli.db.ddl import DbNow, DbNowPlus
from crm_cli.db.schema import crm_sync_queue

NO_WAIT: dict[str, Any] = {"proximo_retry": None, "due_at": None}


def wait(bind: Any, seconds: int) -> dict[str, Any]:
    """The columns of a wait of ``seconds`` from now."""
    return {"proximo_retry": app_now(bind, seconds), "due_at": DbNowPlus(seconds)}


def is_due(bind: Any) -> sa.ColumnElement[bool]:
    q = crm_sync_queue.c
    return sa.or_(
        q.proximo_retry.is_(None),
        sa.and_(q.due_at.is_not(None), q.due_at <= DbNow()),
        sa.and_(q.due_at.is_(None), q.proximo_retry <= app_now(bind)),
    )


def is_waiting(bind: Any) -> sa.ColumnElement[bool]:
    q = crm_sync_queue.c
    return sa.and_(
        q.proximo_retry.is_not(None),
        sa.or_(
            sa.and_(q.due_at.is_not(None), q.due_at > DbNow()),
            sa.and_(q.due_at.is_(None), q.proximo_retry > app_now(bind)),
        ),
    )
