"""The ERP's own tables, addressed only through the ``entities`` configuration."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.errors import ConfigError
from crm_cli.settings import EntityMapping
from crm_cli.states import OnDelete


class EntityTable:
    """One configured entity's table, reflected once per run."""

    def __init__(self, database: Engine, mapping: EntityMapping) -> None:
        self.mapping = mapping
        try:
            # resolve_fks=False: an ERP table's foreign keys would otherwise
            # have every table they point at reflected too, on every run.
            self.table = sa.Table(
                mapping.table, sa.MetaData(), autoload_with=database, resolve_fks=False
            )
        except sa.exc.NoSuchTableError:
            raise ConfigError(
                f"table '{mapping.table}' of entity '{mapping.name}' does not exist "
                f"(fix entities.{mapping.name}.table in the config)"
            ) from None
        columns = self.table.c
        for role in ("primary_key", "external_id", "updated_at", "deleted_at", "store_column"):
            name = getattr(mapping, role)
            if name is not None and name not in columns:
                raise ConfigError(
                    f"table '{mapping.table}' has no column '{name}' "
                    f"(entities.{mapping.name}.{role}; run 'crm-cli migrate' for external_id)"
                )
        if mapping.on_delete == OnDelete.DEACTIVATE and mapping.active_column not in columns:
            raise ConfigError(
                f"table '{mapping.table}' has no column '{mapping.active_column}' "
                f"(entities.{mapping.name}.active_column, which on_delete: deactivate clears)"
            )
        self.pk = columns[mapping.primary_key]
        self.external_id = columns[mapping.external_id]
        # Built once: a sync reads and writes back one row per item.
        self._load = sa.select(self.table).where(self.pk == sa.bindparam("p_id"))
        self._taken = (
            sa.select(self.pk)
            .where(self.external_id == sa.bindparam("p_external_id"))
            .where(self.pk != sa.bindparam("p_id"))
            .limit(1)
        )
        self._set_external_id = (
            sa.update(self.table)
            .where(self.pk == sa.bindparam("p_id"))
            .values({mapping.external_id: sa.bindparam("p_external_id")})
        )

    def load(self, conn: Connection, record_id: Any) -> dict[str, Any] | None:
        row = conn.execute(self._load, {"p_id": record_id}).first()
        return dict(row._mapping) if row is not None else None

    def updated_at_of(self, conn: Connection, record_id: Any) -> Any:
        """The row's updated_at as it is now (None: the entity has no such column): an
        ``ON UPDATE CURRENT_TIMESTAMP`` column moves when crm-cli writes the row too."""
        if self.mapping.updated_at is None:
            return None
        column = self.table.c[self.mapping.updated_at]
        return conn.execute(sa.select(column).where(self.pk == record_id)).scalar()

    def load_many(self, conn: Connection, record_ids: list[Any]) -> dict[Any, dict[str, Any]]:
        """Rows by id (missing ids are absent)."""
        if not record_ids:
            return {}
        rows = conn.execute(sa.select(self.table).where(self.pk.in_(record_ids)))
        return {row._mapping[self.pk.name]: dict(row._mapping) for row in rows}

    def find_all_by_external_id(self, conn: Connection, external_id: str) -> list[dict[str, Any]]:
        """Rows whose external_id column holds ``external_id`` (whichever store wrote it:
        see ``crm_cli.engine.links`` for a store's own view)."""
        query = sa.select(self.table).where(self.external_id == external_id).order_by(self.pk)
        return [dict(row._mapping) for row in conn.execute(query)]

    def is_deleted(self, row: dict[str, Any]) -> bool:
        column = self.mapping.deleted_at
        return column is not None and row.get(column) is not None

    def set_external_id(self, conn: Connection, record_id: Any, external_id: str) -> bool:
        """Write the CRM id into the row's external_id column, unless another row's column
        holds it already (the column is UNIQUE in the ERP's schema, and two stores' CRMs
        number their records alike): the store's link says it all the same."""
        taken = conn.execute(self._taken, {"p_id": record_id, "p_external_id": external_id}).first()
        if taken is not None:
            return False
        conn.execute(self._set_external_id, {"p_id": record_id, "p_external_id": external_id})
        return True

    def writable(self, values: dict[str, Any]) -> dict[str, Any]:
        """The values that name a column of this table (never its key)."""
        skip = {self.mapping.primary_key}
        return {k: v for k, v in values.items() if k in self.table.c and k not in skip}

    def update(self, conn: Connection, record_id: Any, values: dict[str, Any]) -> None:
        values = self.writable(values)
        if values:
            conn.execute(sa.update(self.table).where(self.pk == record_id).values(values))

    def insert(self, conn: Connection, values: dict[str, Any]) -> Any:
        result = conn.execute(sa.insert(self.table).values(self.writable(values)))
        return result.inserted_primary_key[0]

    def live_ids(self, store: int | None = None) -> sa.Select:
        """SELECT of the ids of live rows (not soft-deleted), of one store when configured."""
        query = sa.select(self.pk)
        if self.mapping.deleted_at:
            query = query.where(self.table.c[self.mapping.deleted_at].is_(None))
        if self.mapping.store_column and store is not None:
            query = query.where(self.table.c[self.mapping.store_column] == store)
        return query


def unreadable_numbers(
    conn: Connection, table: sa.Table, key: sa.Column, values: list[Any]
) -> dict[Any, str]:
    """Rows (by ``key``'s value, among ``values``) whose numeric columns hold what is no
    number ("abc" in vendas_itens.quantidade: SQLite keeps anything), each with what
    to fix, as the operator reads it. The values are read as the database holds them,
    without the column type's conversion that fails on them."""
    numeric = [c for c in table.c if isinstance(c.type, (sa.Numeric, sa.Integer))]
    if not numeric or not values:
        return {}
    pk = table.primary_key.columns.values()[0] if table.primary_key.columns else key
    query = sa.select(
        sa.type_coerce(key, sa.String).label("k"),
        sa.type_coerce(pk, sa.String).label("pk"),
        *(sa.type_coerce(c, sa.String).label(c.name) for c in numeric),
    ).where(key.in_(values))
    found: dict[Any, str] = {}
    for row in conn.execute(query):
        for column in numeric:
            raw = row._mapping[column.name]
            if raw is not None and not _is_number(raw):
                found.setdefault(
                    _same_type(row.k, values),
                    f"{table.name}.{column.name} of row {row.pk} holds {raw!r}, not a number: "
                    "correct it in the ERP, then 'crm-cli queue retry'",
                )
    return found


def _is_number(raw: Any) -> bool:
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        return True
    try:
        return Decimal(str(raw).strip()).is_finite()
    except ArithmeticError:
        return False


def _same_type(raw: Any, values: list[Any]) -> Any:
    """``raw`` (read as text) as the value of ``values`` it is."""
    return next((v for v in values if str(v) == str(raw)), raw)
