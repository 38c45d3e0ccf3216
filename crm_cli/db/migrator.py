"""``crm-cli migrate``: Alembic revisions, adoption of a PHP-made schema, and
``external_id`` on the ERP's own tables where it is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

import crm_cli.migrations
from crm_cli.db.backends import open_database, parse_url
from crm_cli.db.ddl import VERSION_TABLE
from crm_cli.db.schema import ORIGINAL_TABLES, crm_integracoes, crm_sync_state
from crm_cli.errors import CrmError, DatabaseError, InvalidRequest
from crm_cli.settings import EntityMapping, Settings

ORIGINAL_REVISION = "0001"
EXTERNAL_ID_TYPE = sa.String(100)  # as the original migration adds it

# The columns the PHP migration created; adoption refuses tables lacking them.
_ORIGINAL_COLUMNS = {
    "crm_integracoes": {"id", "id_loja", "provider", "credenciais", "configuracoes", "ativo"},
    "crm_sync_queue": {"id", "id_loja", "entidade", "id_registro", "direcao", "processado"},
    "crm_sync_log": {"id", "id_loja", "entidade", "id_registro", "direcao", "status"},
}


@dataclass
class MigrationResult:
    previous_revision: str | None
    current_revision: str | None
    adopted: bool = False
    applied: list[str] = field(default_factory=list)
    host_changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.adopted or self.applied or self.host_changes)


def _alembic_config(
    connection: Connection | None = None, url: str | None = None, out: IO[str] | None = None
) -> Config:
    cfg = Config(output_buffer=out)
    cfg.set_main_option("script_location", str(Path(crm_cli.migrations.__file__).parent))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def script_directory(cfg: Config | None = None) -> ScriptDirectory:
    """crm-cli's revisions; an error when they cannot be read or there are none.

    An install that lost its revisions must never report a database "up to
    date" at revision None: the tables would simply never be created.
    """
    from alembic.util import CommandError

    cfg = cfg or _alembic_config()
    where = cfg.get_main_option("script_location")
    try:
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
    except (CommandError, OSError) as exc:
        raise CrmError(
            f"cannot read crm-cli's migrations in {where} ({exc}); reinstall crm-cli"
        ) from None
    if head is None:
        raise CrmError(
            f"crm-cli's migrations in {where} hold no revision (a broken install?); "
            "reinstall crm-cli"
        )
    return script


def current_revision(conn: Connection) -> str | None:
    ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return ctx.get_current_revision()


def head_revision() -> str:
    return str(script_directory().get_current_head())


def _pending(script: ScriptDirectory, current: str | None) -> list[str]:
    revisions = script.iterate_revisions("head", current)
    return [f"{r.revision} {r.doc.splitlines()[0]}" for r in reversed(list(revisions))]


def _check_adoptable(conn: Connection, tables: set[str]) -> bool:
    """True when the PHP migration made the CRM tables (none of ours yet)."""
    present = [t for t in ORIGINAL_TABLES if t in tables]
    if not present:
        return False
    missing = [t for t in ORIGINAL_TABLES if t not in tables]
    if missing:
        raise DatabaseError(
            f"found {', '.join(present)} but not {', '.join(missing)}: "
            "the CRM schema is incomplete; restore it or drop the partial tables, then migrate"
        )
    inspector = sa.inspect(conn)
    for table, expected in _ORIGINAL_COLUMNS.items():
        have = {c["name"] for c in inspector.get_columns(table)}
        if not expected <= have:
            lacking = ", ".join(sorted(expected - have))
            raise DatabaseError(
                f"table {table} exists but lacks the original columns {lacking}; "
                "it was not made by the PHP application's migration, so it is not adopted"
            )
    return True


def migrate(settings: Settings, database: Engine | None = None) -> MigrationResult:
    """Bring the database to the newest revision; safe to run any number of times."""
    database = database or open_database(settings.database_url, settings.app_time_zone)
    with database.begin() as conn:
        cfg = _alembic_config(conn)
        script = script_directory(cfg)
        previous = current_revision(conn)
        result = MigrationResult(previous_revision=previous, current_revision=previous)
        if previous is None and _check_adoptable(conn, set(sa.inspect(conn).get_table_names())):
            command.stamp(cfg, ORIGINAL_REVISION)
            result.adopted = True
            previous = ORIGINAL_REVISION
        result.applied = _pending(script, previous)
        if result.applied:
            command.upgrade(cfg, "head")
        result.current_revision = current_revision(conn)
    with database.begin() as conn:
        _add_external_ids(conn, settings, result)
    with database.begin() as conn:
        _link_existing_external_ids(conn, settings, result)
    return result


def _link_existing_external_ids(
    conn: Connection, settings: Settings, result: MigrationResult
) -> None:
    """External ids already in the ERP's columns (the PHP application's, or crm-cli's from
    before per-store links) become links of the store that owns the rows: the row's store
    (store_column), else entities.<e>.external_id_store, else the only active store.
    Links a store has already are kept. Without an owner nothing is linked, and said."""
    tables = set(sa.inspect(conn).get_table_names())
    stores = list(
        conn.execute(
            sa.select(crm_integracoes.c.id_loja).where(
                crm_integracoes.c.deletado_em.is_(None), crm_integracoes.c.ativo != 0
            )
        ).scalars()
    )
    for mapping in settings.entities.values():
        if mapping.table not in tables:
            continue
        table = sa.Table(mapping.table, sa.MetaData(), autoload_with=conn, resolve_fks=False)
        if mapping.external_id not in table.c or mapping.primary_key not in table.c:
            continue
        if mapping.store_column and mapping.store_column in table.c:
            owner: sa.ColumnElement[Any] = table.c[mapping.store_column]
        elif mapping.external_id_store is not None or len(stores) == 1:
            owner = sa.literal(mapping.external_id_store or stores[0])
        else:
            if stores:
                result.warnings.append(
                    f"{mapping.table}.{mapping.external_id}: not linked to a store (several "
                    f"stores, none set as its owner: entities.{mapping.name}.external_id_store)"
                )
            continue
        linked = _insert_links(conn, mapping, table, owner)
        if linked:
            result.host_changes.append(
                f"{mapping.table}.{mapping.external_id}: {linked} existing CRM id(s) linked "
                "to their store"
            )


def _insert_links(
    conn: Connection, mapping: EntityMapping, table: sa.Table, owner: sa.ColumnElement[Any]
) -> int:
    """One INSERT … SELECT: a link for each row with an external id whose owner has none."""
    state = crm_sync_state
    external_id, pk = table.c[mapping.external_id], table.c[mapping.primary_key]
    has_link = (
        sa.select(sa.literal(1))
        .select_from(state)
        .where(
            state.c.id_loja == owner, state.c.entidade == mapping.name, state.c.id_registro == pk
        )
    )
    rows = sa.select(owner, sa.literal(mapping.name), pk, external_id).where(
        external_id.is_not(None), external_id != "", owner.is_not(None), ~has_link.exists()
    )
    columns = ["id_loja", "entidade", "id_registro", "external_id"]
    return conn.execute(sa.insert(state).from_select(columns, rows)).rowcount


def _external_id_plan(
    conn: Connection, settings: Settings, result: MigrationResult
) -> list[tuple[EntityMapping, bool, bool]]:
    """For each configured entity: (mapping, add the column?, add an index?)."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    plan = []
    for mapping in settings.entities.values():
        if mapping.table not in tables:
            result.warnings.append(
                f"table '{mapping.table}' (entity '{mapping.name}') does not exist, skipped; "
                f"if it has another name, set entities.{mapping.name}.table in the config file"
            )
            continue
        columns = {c["name"] for c in inspector.get_columns(mapping.table)}
        indexed = _first_columns_of_indexes(inspector, mapping.table)
        add_column = mapping.external_id not in columns
        add_index = add_column or mapping.external_id not in indexed
        if add_column or add_index:
            plan.append((mapping, add_column, add_index))
    return plan


def _first_columns_of_indexes(inspector: sa.Inspector, table: str) -> set[str]:
    first = {i["column_names"][0] for i in inspector.get_indexes(table) if i["column_names"]}
    first |= {
        u["column_names"][0] for u in inspector.get_unique_constraints(table) if u["column_names"]
    }
    return first


def _add_external_ids(conn: Connection, settings: Settings, result: MigrationResult) -> None:
    ops = Operations(MigrationContext.configure(conn))
    for mapping, add_column, add_index in _external_id_plan(conn, settings, result):
        _apply_external_id(ops, mapping, add_column, add_index)
        what = "column and index" if add_column else "index"
        result.host_changes.append(f"{mapping.table}.{mapping.external_id}: added {what}")


def _apply_external_id(
    ops: Operations, mapping: EntityMapping, add_column: bool, add_index: bool
) -> None:
    if add_column:
        ops.add_column(mapping.table, sa.Column(mapping.external_id, EXTERNAL_ID_TYPE))
    if add_index:
        ops.create_index(
            f"idx_{mapping.table}_{mapping.external_id}", mapping.table, [mapping.external_id]
        )


def write_migration_sql(settings: Settings, out: IO[str]) -> None:
    """Print the DDL ``migrate`` would run, for a DBA; changes nothing.

    The database is read (when reachable) to start from its current revision
    and to add ``external_id`` only where it is missing.
    """
    if parse_url(settings.database_url).get_backend_name() == "sqlite":
        # SQLite alters columns by copying tables, which needs the live table:
        # there is no DDL script to hand anyone. Nobody needs a DBA for it either.
        raise InvalidRequest(
            "a DDL script is for MySQL/MariaDB: SQLite is migrated directly (its tables "
            "are altered by copying them)"
        )
    database = open_database(settings.database_url, settings.app_time_zone)
    try:
        with database.connect() as conn:
            current = current_revision(conn)
            tables = set(sa.inspect(conn).get_table_names())
            adopt = current is None and _check_adoptable(conn, tables)
            probe = MigrationResult(current, current)
            plan = _external_id_plan(conn, settings, probe)
    except sa.exc.OperationalError:
        out.write("-- database not reachable: DDL for an empty database follows\n")
        current, adopt, plan, probe = None, False, [], MigrationResult(None, None)
    finally:
        database.dispose()
    cfg = _alembic_config(url=settings.database_url, out=out)
    if adopt:
        out.write("-- the CRM tables exist (made by the PHP application): adopt them\n")
        command.stamp(cfg, ORIGINAL_REVISION, sql=True)
        current = ORIGINAL_REVISION
    if current != head_revision():
        command.upgrade(cfg, f"{current}:head" if current else "head", sql=True)
    for warning in probe.warnings:
        out.write(f"-- warning: {warning}\n")
    dialect = parse_url(settings.database_url).get_dialect()()
    ctx = MigrationContext.configure(
        dialect=dialect, opts={"as_sql": True, "output_buffer": out, "literal_binds": True}
    )
    ops = Operations(ctx)
    for mapping, add_column, add_index in plan:
        _apply_external_id(ops, mapping, add_column, add_index)
    if current == head_revision() and not plan:
        out.write("-- nothing to do: the database is up to date\n")
