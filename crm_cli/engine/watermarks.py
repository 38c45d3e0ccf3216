"""``crm_pull_state``: where each store's incremental pull stands, per entity.

A read of a CRM's changes starts at the store's watermark and, once every page
is applied, moves the watermark to the moment the read began (on the database
server's UTC clock), never further: a record changed while the read went on is
read again by the next one, never lost. A read longer than a run (at most a
batch of records applied per run) continues from its saved page. A lease keeps
two overlapping cron runs off the same store and entity.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.ddl import DbNow, DbNowPlus
from crm_cli.db.schema import crm_pull_state

# Each read starts this much before the watermark: the CRM's clock and the
# database server's may differ by as much. A record read again unchanged costs
# no write (its hash is the one read before).
OVERLAP = dt.timedelta(minutes=5)

_state = crm_pull_state.c


def _key(id_loja: int, entidade: str) -> sa.ColumnElement[bool]:
    return sa.and_(_state.id_loja == id_loja, _state.entidade == entidade)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A naive UTC DATETIME column as an aware instant."""
    return value.replace(tzinfo=dt.timezone.utc) if value is not None else None


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Position:
    """A leased store and entity: where its read stands."""

    id_loja: int
    entidade: str
    watermark: dt.datetime | None  # every change before it is applied (None: never read)
    read_started_at: dt.datetime  # the read's own start: the next watermark
    page: Any  # the page to read (the provider's marker; None: the first)
    skip: int  # records of that page already applied

    @property
    def since(self) -> dt.datetime | None:
        """The instant the read asks the CRM for changes since (None: not yet known)."""
        return self.watermark - OVERLAP if self.watermark is not None else None


def lease(
    database: Engine, id_loja: int, entidade: str, seconds: int, start: dt.datetime | None = None
) -> Position | None:
    """This run's lease on the store's pull of ``entidade`` (None: another run holds
    it). The read starts at ``start`` when given; a store read for the first time
    starts now otherwise (what the CRM held before is ``import``'s work)."""
    with database.begin() as conn:
        exists = conn.execute(sa.select(_state.id_loja).where(_key(id_loja, entidade))).first()
    if exists is None:
        try:
            with database.begin() as conn:
                watermark = _naive(start) if start is not None else DbNow()
                conn.execute(
                    sa.insert(crm_pull_state).values(
                        id_loja=id_loja, entidade=entidade, watermark=watermark, applied=0, errors=0
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another run made it first
    with database.begin() as conn:
        taken = conn.execute(
            sa.update(crm_pull_state)
            .where(_key(id_loja, entidade))
            .where(sa.or_(_state.leased_until.is_(None), _state.leased_until < DbNow()))
            .values(leased_until=DbNowPlus(seconds))
        ).rowcount
        if not taken:
            return None
        if start is not None:  # read again from there (``pull --since``)
            conn.execute(
                sa.update(crm_pull_state)
                .where(_key(id_loja, entidade))
                .values(watermark=_naive(start), read_started_at=None, cursor=None)
            )
        conn.execute(
            sa.update(crm_pull_state)
            .where(_key(id_loja, entidade), _state.read_started_at.is_(None))
            .values(read_started_at=DbNow(), cursor=None)
        )
        row = conn.execute(sa.select(crm_pull_state).where(_key(id_loja, entidade))).one()
    cursor = json.loads(row.cursor) if row.cursor else {}
    return Position(
        id_loja,
        entidade,
        _utc(row.watermark),
        _utc(row.read_started_at) or dt.datetime.now(dt.timezone.utc),
        cursor.get("page"),
        int(cursor.get("skip", 0)),
    )


def resting(database: Engine, id_loja: int, entidade: str, minutes: int) -> bool:
    """Whether no read is under way and the last one finished less than ``minutes``
    ago (a scan of a CRM without a change filter waits that long)."""
    with database.connect() as conn:
        return (
            conn.execute(
                sa.select(_state.id_loja).where(
                    _key(id_loja, entidade),
                    _state.read_started_at.is_(None),
                    _state.finished_at > DbNowPlus(-60 * minutes),
                )
            ).first()
            is not None
        )


def save(
    database: Engine, position: Position, page: Any, skip: int, applied: int, errors: int
) -> None:
    """Where the read stands: the next run continues from ``page``, ``skip`` records in."""
    with database.begin() as conn:
        conn.execute(
            sa.update(crm_pull_state)
            .where(_key(position.id_loja, position.entidade))
            .values(
                cursor=json.dumps({"page": page, "skip": skip}),
                applied=_state.applied + applied,
                errors=_state.errors + errors,
                leased_until=None,
            )
        )


def finish(database: Engine, position: Position, applied: int, errors: int) -> None:
    """The read is done: the watermark moves to the moment it began."""
    with database.begin() as conn:
        conn.execute(
            sa.update(crm_pull_state)
            .where(_key(position.id_loja, position.entidade))
            .values(
                watermark=_naive(position.read_started_at),
                read_started_at=None,
                cursor=None,
                applied=_state.applied + applied,
                errors=_state.errors + errors,
                finished_at=DbNow(),
                leased_until=None,
            )
        )


def release(database: Engine, position: Position) -> None:
    """Give the lease back without moving anything (the store could not be read)."""
    with database.begin() as conn:
        conn.execute(
            sa.update(crm_pull_state)
            .where(_key(position.id_loja, position.entidade))
            .values(leased_until=None)
        )


def watermarks(database: Engine) -> list[sa.Row]:
    """Every store's pull state, for ``stats``."""
    with database.connect() as conn:
        return list(
            conn.execute(sa.select(crm_pull_state).order_by(_state.id_loja, _state.entidade)).all()
        )
