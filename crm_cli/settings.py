"""The YAML configuration: where it is found, what it may hold, and its defaults.

Every key is validated when the file is loaded, so a typo fails the first
command an operator runs (exit 2, one line naming file, key and problem)
instead of misbehaving at three in the morning under cron.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crm_cli.errors import ConfigError, EntityNotConfigured
from crm_cli.states import OnDelete

CONFIG_ENV = "CRM_CONFIG"
BUILT_IN = "built-in defaults"  # Settings.source when no file was found
DATABASE_URL_ENV = "CRM_DATABASE_URL"
MAX_BATCH_SIZE = 100  # the product's promise: no run touches more than 100 items
DAY = 86_400  # seconds: no wait crm-cli imposes may be longer
CONFLICT_STRATEGIES = ("crm_vence", "ecletech_vence", "mais_recente", "mesclar")

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_ENTITY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


SYSTEM_CONFIG = Path("/etc/crm-cli/config.yaml")


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "crm-cli" / "config.yaml"


def system_config_path() -> Path:
    """The system's configuration: /etc/crm-cli/config.yaml ($CRM_SYSTEM_CONFIG: elsewhere)."""
    return Path(os.environ.get("CRM_SYSTEM_CONFIG") or SYSTEM_CONFIG)


def config_candidates() -> tuple[Path, ...]:
    """Where a configuration is looked for when none is named: the user's, then the
    system's (what cron, systemd and an operator's shell all find)."""
    return (default_config_path(), system_config_path())


def default_database_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "crm-cli" / "crm-cli.sqlite3"


@dataclass(frozen=True)
class EntityMapping:
    """How one entity (cliente, produto, …) maps onto a table of the ERP."""

    name: str
    table: str
    primary_key: str = "id"
    external_id: str = "external_id"
    updated_at: str | None = None
    deleted_at: str | None = None
    store_column: str | None = None
    conflict: str = "crm_vence"
    # A table of line items (a sale's vendas_itens): sent with the record, each
    # item's product by the CRM id its produto row holds.
    items_table: str | None = None
    items_parent_key: str | None = None  # the item's column naming its record
    items_product_key: str | None = None  # the item's column naming its product
    # When the CRM's items replace the record's, the record's ``items_sum`` column
    # becomes the sum of its items' ``items_total`` column, as the PHP sale screen
    # computes it (ModelVenda::calcularTotais: valor_produtos = SUM(itens.valor_total)).
    items_sum: str | None = None
    items_total: str | None = None
    # The store whose CRM ids the ERP's external_id column holds, when several
    # stores share the rows (no store_column): the PHP application's view.
    external_id_store: int | None = None
    # Columns naming another entity's row (a sale's cliente_id): sent as that row's
    # CRM id for the store, in the column's ``_external_id`` twin (cliente_external_id).
    references: tuple[tuple[str, str], ...] = ()
    # What a deletion on one side does on the other (crm_cli.states.OnDelete), and
    # the ERP's flag of an active row (1/0) that ``deactivate`` clears.
    on_delete: str = "ignore"
    active_column: str | None = None

    def reference_target(self, column: str) -> str:
        """The column a reference's CRM id goes in: cliente_id → cliente_external_id."""
        return (
            column[: -len("_id")] + "_external_id"
            if column.endswith("_id")
            else column + "_external_id"
        )


DEFAULT_ENTITIES: dict[str, EntityMapping] = {
    "cliente": EntityMapping(
        "cliente",
        "clientes",
        updated_at="modificado_em",
        deleted_at="deletado_em",
        active_column="ativo",
    ),
    "produto": EntityMapping(
        "produto",
        "produtos",
        updated_at="updated_at",
        deleted_at="deleted_at",
        active_column="ativo",
    ),
    "venda": EntityMapping(
        "venda",
        "vendas",
        updated_at="modificado_em",
        deleted_at="deletado_em",
        items_table="vendas_itens",
        items_parent_key="venda_id",
        items_product_key="produto_id",
        items_sum="valor_produtos",
        items_total="valor_total",
        references=(("cliente_id", "cliente"),),
        active_column="ativo",
    ),
    "atividade": EntityMapping(
        "atividade", "atividades", updated_at="atualizado_em", deleted_at="deletado_em"
    ),
}


@dataclass(frozen=True)
class SyncSettings:
    """The run's policy. Every wait crm-cli imposes is one of these values, with its
    default here and nowhere else (``config.example.yaml`` lists them)."""

    batch_size: int = MAX_BATCH_SIZE
    max_attempts: int = 3
    lease_seconds: int = 120
    time_budget_seconds: int = 50  # under cron's minute, so runs rarely overlap
    backoff_seconds: tuple[int, ...] = (60, 300, 1800, 7200)  # before each retry of an item
    breaker_failures: int = 3  # requests in a row without an answer open an account's circuit
    breaker_seconds: int = 30  # its first pause (doubling …
    breaker_max_seconds: int = 600  # … up to this)
    # a store whose CRM did not answer: its other items wait this long
    unanswered_store_seconds: int = 30
    # a store that cannot be used (disabled, refused credentials, unusable settings):
    # its items wait this long, attempts intact, unless an operator acts first
    park_store_seconds: int = 600
    # an item handed back for a passing reason (its record busy in another run)
    release_seconds: int = 5
    # a 429 that says no Retry-After: the account pauses this long, doubling while
    # 429s keep coming, up to pause_max_seconds
    pause_first_seconds: int = 1
    pause_max_seconds: int = 60
    # a CRM's edge firewall answering with its block page: the account rests
    edge_block_seconds: int = 300
    # requests one ``import`` run may send: it stops there, resumable, leaving the
    # account's daily budget to the queue (GestãoClick: 30 000 a day)
    import_max_requests: int = 2000
    # ``pull`` of a CRM that cannot list only what changed (GestãoClick) reads all
    # its records; a finished scan starts again after this many minutes: changes
    # there reach the ERP within it, and a scan of N records costs N/20 requests
    pull_scan_minutes: int = 360


@dataclass(frozen=True)
class CleanupSettings:
    queue_days: int = 7
    log_days: int = 30


@dataclass(frozen=True)
class Settings:
    source: str  # the file read, or "built-in defaults"
    database_url: str
    # the zone of the timestamps the PHP application writes (crm_cli.db.clock)
    app_time_zone: str = "America/Sao_Paulo"
    credentials_key_env: str = "JWT_SECRET"
    # no configuration named a database: the embedded SQLite file (a newcomer's)
    database_is_embedded: bool = False
    credentials_allow_fallback_key: bool = False
    # where the secret is, when $key_env is not set: a file holding only it (readable
    # by its owner alone), or the PHP application's .env (its key_env line)
    credentials_key_file: str | None = None
    credentials_env_file: str | None = None
    sync: SyncSettings = field(default_factory=SyncSettings)
    cleanup: CleanupSettings = field(default_factory=CleanupSettings)
    entities: dict[str, EntityMapping] = field(default_factory=lambda: dict(DEFAULT_ENTITIES))

    def entity(self, name: str) -> EntityMapping:
        try:
            return self.entities[name]
        except KeyError:
            known = ", ".join(sorted(self.entities))
            raise EntityNotConfigured(
                f"entity '{name}' is not configured (configured: {known}); "
                f"add it under 'entities:' in {self.source}"
            ) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Find and validate the configuration: PATH, else $CRM_CONFIG, else
    ~/.config/crm-cli/config.yaml, else /etc/crm-cli/config.yaml.

    A missing file is an error when it was named (flag or env var); the default
    locations may be absent, and then the built-in defaults apply.
    """
    named = path or os.environ.get(CONFIG_ENV)
    found = [Path(named)] if named else [p for p in config_candidates() if p.exists()]
    config_path = found[0] if found else None
    if config_path is not None and config_path.exists():
        raw, source = _read_yaml(config_path), str(config_path)
    elif named:
        how = "--config" if path else f"${CONFIG_ENV}"
        raise ConfigError(f"config file {named} (from {how}) does not exist")
    else:
        raw, source = {}, BUILT_IN
    settings = _parse(raw, source)
    env_url = os.environ.get(DATABASE_URL_ENV)
    if env_url:
        settings = replace(settings, database_url=env_url, database_is_embedded=False)
    return settings


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # only commands that read a config pay for the import

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config error in {path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
            f"line {line}); save the file as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_unique_keys_loader())
    except DuplicateKey as exc:
        raise ConfigError(f"config error in {path}: {exc}") from None
    except RecursionError:  # thousands of nested lists: no configuration is that deep
        raise ConfigError(
            f"config error in {path}: nested too deeply to be a crm-cli configuration"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config error in {path}: invalid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config error in {path}: the top level must be a mapping of keys")
    return data


MERGE_TAG = "tag:yaml.org,2002:merge"  # YAML's merge key, "<<"


class DuplicateKey(Exception):
    """A YAML mapping names a key twice (PyYAML would silently keep the last)."""


def _unique_keys_loader() -> type:
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            seen: set = set()
            for key_node, _value in node.value:
                if key_node.tag == MERGE_TAG:  # "<<: *base": its keys may be overridden
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    mark = key_node.start_mark
                    raise DuplicateKey(
                        f"key '{key}' appears twice (again at line {mark.line + 1}); keep one"
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


class _Reader:
    """Reads typed values out of one mapping, naming the dotted key on error."""

    def __init__(self, source: str, data: Any, prefix: str, allowed: set[str]) -> None:
        self.source, self.prefix = source, prefix
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.fail(prefix.rstrip("."), f"must be a mapping, got {_kind(data)}")
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            self.fail(
                prefix + unknown[0],
                f"unknown key (allowed here: {', '.join(sorted(allowed))})",
            )
        self.data = data

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(f"config error in {self.source}: {key}: {problem}")

    def integer(self, key: str, default: int, minimum: int, maximum: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(self.prefix + key, f"must be a whole number, got {_kind(value)}")
        if value < minimum:
            self.fail(self.prefix + key, f"must be at least {minimum} (got {value})")
        if maximum is not None and value > maximum:
            self.fail(self.prefix + key, f"must be at most {maximum} (got {value})")
        return value

    def text(self, key: str, default: str | None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            self.fail(self.prefix + key, f"must be a non-empty string, got {_kind(value)}")
        return value

    def optional_integer(self, key: str, default: int | None, minimum: int) -> int | None:
        if self.data.get(key, default) is None:
            return None
        return self.integer(key, default or minimum, minimum, 2**31 - 1)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(self.prefix + key, f"must be true or false, got {_kind(value)}")
        return value

    def identifier(self, key: str, default: str | None, required: bool = False) -> str | None:
        value = self.text(key, default)
        if value is None and required:
            self.fail(self.prefix + key, "is required")
        if value is not None and not _IDENTIFIER.match(value):
            self.fail(
                self.prefix + key,
                f"'{value}' is not a plain SQL identifier (letters, digits, underscore)",
            )
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            self.fail(self.prefix + key, f"must be one of {', '.join(choices)} (got {value!r})")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"{type(value).__name__} {value!r}"


def _parse(raw: dict[str, Any], source: str) -> Settings:
    top = _Reader(source, raw, "", {"database", "credentials", "sync", "cleanup", "entities"})
    database = _Reader(source, top.data.get("database"), "database.", {"url", "app_time_zone"})
    url = database.text("url", None) or f"sqlite:///{default_database_path()}"
    from crm_cli.timezones import DEFAULT_APP_TIME_ZONE, zone_of

    app_time_zone = database.text("app_time_zone", DEFAULT_APP_TIME_ZONE) or ""
    try:
        zone_of(app_time_zone)
    except ConfigError as exc:
        raise ConfigError(f"config error in {source}: {exc.message}") from None
    credentials = _Reader(
        source,
        top.data.get("credentials"),
        "credentials.",
        {"key_env", "allow_fallback_key", "key_file", "env_file"},
    )
    return Settings(
        source=source,
        database_url=url,
        database_is_embedded=database.text("url", None) is None,
        app_time_zone=app_time_zone,
        credentials_key_env=credentials.identifier("key_env", "JWT_SECRET"),
        credentials_allow_fallback_key=credentials.boolean("allow_fallback_key", False),
        credentials_key_file=credentials.text("key_file", None),
        credentials_env_file=credentials.text("env_file", None),
        sync=_parse_sync(_Reader(source, top.data.get("sync"), "sync.", _fields(SyncSettings))),
        cleanup=_parse_cleanup(
            _Reader(source, top.data.get("cleanup"), "cleanup.", _fields(CleanupSettings))
        ),
        entities=_parse_entities(source, top.data.get("entities")),
    )


def _fields(cls: type) -> set[str]:
    return set(cls.__dataclass_fields__)


def _parse_sync(r: _Reader) -> SyncSettings:
    d = SyncSettings()
    budget = r.integer("time_budget_seconds", d.time_budget_seconds, 1, 3600)
    lease = r.integer("lease_seconds", d.lease_seconds, 1, 86400)
    if lease <= budget:
        # A lease that ends before the run does would let a second run take
        # items the first is still sending: the double-processing of old.
        r.fail(
            "sync.lease_seconds",
            f"must be longer than sync.time_budget_seconds ({lease} <= {budget})",
        )
    backoff = r.data.get("backoff_seconds", list(d.backoff_seconds))
    if (
        not isinstance(backoff, list)
        or not backoff
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in backoff)
    ):
        r.fail("sync.backoff_seconds", "must be a non-empty list of whole seconds (each >= 1)")
    breaker_first, breaker_max = _doubling(r, "breaker_seconds", "breaker_max_seconds", d)
    pause_first, pause_max = _doubling(r, "pause_first_seconds", "pause_max_seconds", d)
    return SyncSettings(
        batch_size=r.integer("batch_size", d.batch_size, 1, MAX_BATCH_SIZE),
        max_attempts=r.integer("max_attempts", d.max_attempts, 1, 100),
        lease_seconds=lease,
        time_budget_seconds=budget,
        backoff_seconds=tuple(backoff),
        breaker_failures=r.integer("breaker_failures", d.breaker_failures, 1, 1000),
        breaker_seconds=breaker_first,
        breaker_max_seconds=breaker_max,
        unanswered_store_seconds=r.integer(
            "unanswered_store_seconds", d.unanswered_store_seconds, 1, DAY
        ),
        park_store_seconds=r.integer("park_store_seconds", d.park_store_seconds, 1, DAY),
        release_seconds=r.integer("release_seconds", d.release_seconds, 1, DAY),
        pause_first_seconds=pause_first,
        pause_max_seconds=pause_max,
        edge_block_seconds=r.integer("edge_block_seconds", d.edge_block_seconds, 1, DAY),
        import_max_requests=r.integer("import_max_requests", d.import_max_requests, 1, 10_000_000),
        pull_scan_minutes=r.integer("pull_scan_minutes", d.pull_scan_minutes, 1, 7 * 24 * 60),
    )


def _doubling(r: _Reader, first: str, most: str, defaults: SyncSettings) -> tuple[int, int]:
    """A wait that doubles from ``first`` up to ``most`` seconds: both, checked."""
    low = r.integer(first, getattr(defaults, first), 1, DAY)
    high = r.integer(most, getattr(defaults, most), 1, DAY)
    if high < low:
        r.fail(f"sync.{most}", f"must be at least sync.{first} ({high} < {low})")
    return low, high


def _parse_cleanup(r: _Reader) -> CleanupSettings:
    d = CleanupSettings()
    return CleanupSettings(
        queue_days=r.integer("queue_days", d.queue_days, 1, 36_500),
        log_days=r.integer("log_days", d.log_days, 1, 36_500),
    )


def _parse_entities(source: str, raw: Any) -> dict[str, EntityMapping]:
    if raw is None:
        raw = {}
    entities = dict(DEFAULT_ENTITIES)
    allowed = set(raw) if isinstance(raw, dict) else set()
    top = _Reader(source, raw, "entities.", allowed)
    for name, value in top.data.items():
        if not isinstance(name, str) or not _ENTITY_NAME.match(name):
            top.fail(f"entities.{name}", "entity names are lower-case words (a-z, 0-9, _)")
        r = _Reader(source, value, f"entities.{name}.", _fields(EntityMapping) - {"name"})
        base = entities.get(name) or EntityMapping(name, table="")
        entities[name] = EntityMapping(
            name=name,
            table=r.identifier("table", base.table or None, required=True),
            primary_key=r.identifier("primary_key", base.primary_key, required=True),
            external_id=r.identifier("external_id", base.external_id, required=True),
            updated_at=r.identifier("updated_at", base.updated_at),
            deleted_at=r.identifier("deleted_at", base.deleted_at),
            store_column=r.identifier("store_column", base.store_column),
            conflict=r.choice("conflict", base.conflict, CONFLICT_STRATEGIES),
            items_table=r.identifier("items_table", base.items_table),
            items_parent_key=r.identifier("items_parent_key", base.items_parent_key),
            items_product_key=r.identifier("items_product_key", base.items_product_key),
            items_sum=r.identifier("items_sum", base.items_sum),
            items_total=r.identifier("items_total", base.items_total),
            external_id_store=r.optional_integer("external_id_store", base.external_id_store, 1),
            references=_references(r, base.references),
            on_delete=r.choice("on_delete", base.on_delete, tuple(OnDelete)),
            active_column=r.identifier("active_column", base.active_column),
        )
        _check_on_delete(top, entities[name])
        _check_items(top, entities[name])
    for mapping in entities.values():
        for column, entity in mapping.references:
            if entity not in entities:
                top.fail(
                    f"entities.{mapping.name}.references.{column}",
                    f"names entity '{entity}', which is not configured",
                )
    return entities


def _references(r: _Reader, default: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """``references: {cliente_id: cliente}`` (null: none)."""
    if "references" not in r.data:
        return default
    raw = r.data["references"]
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        r.fail(r.prefix + "references", f"must map columns to entities, got {_kind(raw)}")
    for column, entity in raw.items():
        if not isinstance(column, str) or not _IDENTIFIER.match(column):
            r.fail(r.prefix + "references", f"{column!r} is not a plain SQL identifier")
        if not isinstance(entity, str) or not _ENTITY_NAME.match(entity):
            r.fail(r.prefix + f"references.{column}", f"{entity!r} is not an entity name")
    return tuple(sorted(raw.items()))


def _check_on_delete(top: _Reader, mapping: EntityMapping) -> None:
    if mapping.on_delete == OnDelete.DEACTIVATE and not mapping.active_column:
        top.fail(
            f"entities.{mapping.name}.on_delete",
            "deactivate needs active_column (the ERP's 1/0 column of an active row)",
        )
    if mapping.on_delete == OnDelete.DELETE and not mapping.deleted_at:
        top.fail(
            f"entities.{mapping.name}.on_delete",
            "delete needs deleted_at (the ERP's soft-delete column: rows are never removed)",
        )


def _check_items(top: _Reader, mapping: EntityMapping) -> None:
    if mapping.items_table and not (mapping.items_parent_key and mapping.items_product_key):
        top.fail(
            f"entities.{mapping.name}.items_table",
            "needs items_parent_key and items_product_key (the item's columns naming "
            "its record and its product)",
        )
    if bool(mapping.items_sum) != bool(mapping.items_total):
        top.fail(
            f"entities.{mapping.name}.items_sum",
            "needs items_total too (the item's column whose sum it holds), or both null",
        )
