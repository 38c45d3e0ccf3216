"""One bad store, item, setting or secret never stops or spoils the rest (engine.failures).

Each case puts one bad thing beside healthy neighbours and asserts what the
queue, the log and the CRM hold afterwards, for the bad one and for the others.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from crm_cli.credentials import encrypt
from crm_cli.demo import sample_erp as erp_tables
from tests.integration.support import (
    MARIADB_ONLY,
    SECRET,
    configure_store,
    php_enqueue,
    plain,
    queue_rows,
)

LINE = re.compile(r"Processados: (\d+) \| Erros: (\d+)")


def counts(result) -> tuple[str, str]:
    return LINE.search(result.stdout).groups()


# (the decision itself: tests/unit/engine/test_failures.py)


# -- a bad store beside a healthy one --------------------------------------------------


def php_store(database, loja: int, provider: str, credentials: dict, settings=None) -> None:
    """A store row as the PHP application may write it: anything goes."""
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_integracoes (id_loja, provider, credenciais, configuracoes, ativo)"
                " VALUES (:l, :p, :c, :s, 1)"
            ),
            {
                "l": loja,
                "p": provider,
                "c": encrypt(credentials, SECRET),
                "s": json.dumps(settings or {}),
            },
        )


def waiting(database, loja: int) -> list[tuple]:
    """The store's items: (status, attempts, reason)."""
    with database.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT status, tentativas, erro_mensagem FROM crm_sync_queue "
                    "WHERE id_loja = :l ORDER BY id"
                ),
                {"l": loja},
            )
        ]


BAD_STORES = {
    "credentials without a required key": ({"access_token": "only-half"}, {}),
    "timeout_seconds abc": (None, {"timeout_seconds": "abc"}),
    "rate_limit_per_second -1": (None, {"rate_limit_per_second": -1}),
}


@pytest.mark.parametrize("case", sorted(BAD_STORES))
def test_a_store_it_cannot_use_waits_and_the_others_are_sent(cli, shop, gc_emulator, case):
    credentials, settings = BAD_STORES[case]
    php_store(
        shop,
        5,
        "gestao_click",
        credentials or gc_emulator.credentials,
        {"api_base_url": gc_emulator.url, **settings},
    )
    ids = erp_tables.add_clientes(shop, 4)
    php_enqueue(shop, ids[:2], loja=5, prioridade=9)  # the bad store's items come first
    php_enqueue(shop, ids[2:], loja=1)

    result = cli("sync")
    again = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert counts(result) == ("2", "0") and counts(again) == ("0", "0")
    assert plain(result.stderr).startswith("crm-cli: warning: store 5: its items wait")
    bad = waiting(shop, 5)
    assert [(status, attempts) for status, attempts, _ in bad] == [("pending", 0)] * 2
    assert all("store 5 cannot be used as configured" in reason for _, _, reason in bad)
    assert [status for status, _, _ in waiting(shop, 1)] == ["completed", "completed"]
    assert gc_emulator.stats()["creates"] == {"clientes": 2}

    checks = cli("test-connection", "--all")
    lines = checks.stdout.splitlines()
    assert lines[0].startswith("OK gestao_click")
    assert lines[1].startswith("FAIL gestao_click: configuration error — loja 5: store 5 cannot")
    assert checks.exit_code == 1


def test_a_store_of_a_provider_crm_cli_lacks_waits(cli, shop, gc_emulator):
    php_store(shop, 6, "hubspot", {"token": "x"})
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids[:1], loja=6, prioridade=9)
    php_enqueue(shop, ids[1:], loja=1)

    result = cli("sync")

    assert counts(result) == ("1", "0")
    [(status, attempts, reason)] = waiting(shop, 6)
    assert (status, attempts) == ("pending", 0) and "unknown provider 'hubspot'" in reason


def test_a_disabled_store_waits_and_goes_when_enabled(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)
    assert cli("config", "disable", "--loja", "1").exit_code == 0

    result = cli("sync")

    assert counts(result) == ("0", "0")
    rows = waiting(shop, 1)
    assert [(status, attempts) for status, attempts, _ in rows] == [("pending", 0)] * 2
    assert "disabled" in rows[0][2]
    listed = cli("queue", "list")
    assert "waiting for its store" in listed.stdout
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["waiting_stores"][0]["id_loja"] == 1
    assert stats["waiting_stores"][0]["items"] == 2

    assert cli("config", "enable", "--loja", "1").exit_code == 0
    result = cli("sync")

    assert counts(result) == ("2", "0")
    assert gc_emulator.stats()["creates"] == {"clientes": 2}


@pytest.mark.parametrize(
    ("fault", "reason"), [("401", "HTTP 401"), ("302", "check the store's api_base_url")]
)
def test_a_store_the_crm_turns_away_waits_without_spending_attempts(
    cli, shop, gc_emulator, pd_shop, pd_emulator, fault, reason, store_1_owns_shared_rows
):
    # (the neighbour syncs products: one external_id column cannot hold two CRMs' ids)
    clients = erp_tables.add_clientes(shop, 2)
    products = erp_tables.add_produtos(shop, 2)
    php_enqueue(shop, clients, loja=1, prioridade=9)
    php_enqueue(shop, products, entidade="produto", loja=2)
    gc_emulator.add_fault(fault)

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert counts(result) == ("2", "0")
    gc_rows = waiting(shop, 1)
    assert [(status, attempts) for status, attempts, _ in gc_rows] == [("pending", 0)] * 2
    assert reason in gc_rows[0][2]
    assert gc_emulator.stats()["requests"] == 1  # the store was not tried again in this run
    assert pd_emulator.stats()["creates"] == {"products": 2}

    # fixing the credentials (config set) brings the store's items back at once
    configure_store(cli, 1, "gestao_click", gc_emulator.credentials)
    again = cli("sync")
    assert counts(again) == ("2", "0"), queue_rows(shop, "status", "erro")


# -- the secret ------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "not-the-php-secret"])
def test_a_missing_or_wrong_secret_stops_the_run_and_hands_everything_back(
    cli, shop, gc_emulator, secret
):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    env = {"JWT_SECRET": secret}  # None: unset

    result = cli("sync", env=env)

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ERRO: .*JWT_SECRET", line)
    assert queue_rows(shop, "status", "tentativas", "erro") == [("pending", 0, None)] * 3
    assert gc_emulator.stats()["requests"] == 0


def test_one_undecryptable_store_waits_while_the_others_are_sent(cli, shop, gc_emulator):
    with shop.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_integracoes (id_loja, provider, credenciais, ativo) "
                "VALUES (6, 'gestao_click', :c, 1)"
            ),
            {"c": encrypt(gc_emulator.credentials, "another-secret")},
        )
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids[:1], loja=6, prioridade=9)
    php_enqueue(shop, ids[1:], loja=1)

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert counts(result) == ("1", "0")
    [(status, attempts, reason)] = waiting(shop, 6)
    assert (status, attempts) == ("pending", 0) and "cannot be decrypted" in reason


# -- a bad item beside good ones -------------------------------------------------------


def enqueue_from_crm(cli, entity: str, record: dict) -> None:
    """Queue store 1's CRM record for the ERP, as an operator would."""
    result = cli(
        "enqueue", "--loja", "1", "--entity", entity, "--external-id", str(record["id"]),
        "--direction", "crm_para_ecletech",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_a_record_the_erp_refuses_fails_alone(cli, shop, gc_emulator):
    [local] = erp_tables.add_produtos(shop, 1)
    with shop.connect() as conn:
        code = conn.execute(sa.text("SELECT codigo_interno FROM produtos")).scalar_one()
    clash = gc_emulator.seed("produtos", {"nome": "Same code", "codigo_interno": code})
    fine = gc_emulator.seed("produtos", {"nome": "Another", "codigo_interno": "NEW-1"})
    for record in (clash, fine):
        enqueue_from_crm(cli, "produto", record)
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert counts(result) == ("2", "1")
    rows = queue_rows(shop, "status", "erro")
    assert [status for status, _ in rows] == ["failed", "completed", "completed"]
    assert rows[0][1].startswith("the ERP refused the record:")
    with shop.connect() as conn:
        names = conn.execute(sa.text("SELECT nome FROM produtos ORDER BY id")).scalars().all()
    assert len(names) == 2 and "Another" in names and local


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_a_sale_missing_a_not_null_column_fails_alone_and_import_goes_on(cli, shop, gc_emulator):
    with shop.begin() as conn:
        conn.execute(sa.text("ALTER TABLE vendas ADD COLUMN hash VARCHAR(10) NOT NULL"))
    sale = gc_emulator.seed("vendas", {"codigo": "77", "valor_total": "10.00"})
    enqueue_from_crm(cli, "venda", sale)
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    rows = queue_rows(shop, "status", "erro")
    assert rows[0][0] == "failed" and "1364" in rows[0][1]
    assert rows[1][0] == "completed"

    imported = cli("import", "--entity", "venda", "--loja", "1")
    assert imported.exit_code == 0, imported.stderr
    assert "0 imported" in imported.stdout and "1 errors" in imported.stdout


# -- a killed run ----------------------------------------------------------------------


def expire_leases(database) -> None:
    with database.begin() as conn:
        conn.execute(sa.text("UPDATE crm_sync_queue SET lease_expires_at = '2000-01-01'"))


def test_a_dead_runs_batch_mates_are_not_blamed(shop):
    from crm_cli.engine import queue

    php_enqueue(shop, [1, 2, 3])
    for _ in range(3):  # three runs died holding all three items
        queue.claim(shop, owner="dead", limit=10, lease_seconds=60)
        expire_leases(shop)
        queue.recover_expired(shop, max_attempts=3)
        with shop.begin() as conn:  # back to the normal claims, as if never alone
            conn.execute(sa.text("UPDATE crm_sync_queue SET claim_alone = 0"))

    assert queue_rows(shop, "status", "tentativas") == [("pending", 0)] * 3


def test_an_item_that_kills_its_run_alone_is_failed_and_only_it(shop):
    from crm_cli.engine import queue

    php_enqueue(shop, [1, 2, 3])
    queue.claim(shop, owner="dead", limit=10, lease_seconds=60)
    expire_leases(shop)
    queue.recover_expired(shop, max_attempts=3)
    assert queue_rows(shop, "claim_alone", "tentativas") == [(1, 0)] * 3

    for _ in range(3):  # the first item, claimed alone, kills its run each time
        [item] = queue.claim(shop, owner="alone", limit=10, lease_seconds=60, alone=True)
        assert item.id == 1
        expire_leases(shop)
        queue.recover_expired(shop, max_attempts=3)

    rows = queue_rows(shop, "status", "tentativas", "erro")
    assert rows[0][:2] == ("failed", 3) and "alone" in rows[0][2]
    assert rows[1:] == [("pending", 0, None)] * 2


def test_a_run_takes_the_items_to_claim_alone_first_then_its_batch(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE crm_sync_queue SET claim_alone = 1 WHERE id < 3"))

    result = cli("sync")

    assert counts(result) == ("3", "0")
    assert gc_emulator.stats()["creates"] == {"clientes": 3}


# -- CRMs that are down or hang --------------------------------------------------------


def test_a_crm_that_is_down_opens_its_circuit_and_the_others_carry_on(
    cli, shop, gc_emulator, pd_shop, pd_emulator, store_1_owns_shared_rows
):
    # four stores on one GestãoClick account that is down, one Pipedrive store
    for loja in (7, 8, 9):
        configure_store(
            cli, loja, "gestao_click", gc_emulator.credentials,
            api_base_url=gc_emulator.url, rate_limit_per_second=0, timeout_seconds=0.5,
        )  # fmt: skip
    clients = erp_tables.add_clientes(shop, 6)
    products = erp_tables.add_produtos(shop, 2)
    for loja, record in zip((1, 7, 8, 9, 9, 9), clients, strict=True):
        php_enqueue(shop, [record], loja=loja, prioridade=9)
    php_enqueue(shop, products, entidade="produto", loja=2)
    gc_emulator.down = "drop"

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert pd_emulator.stats()["creates"] == {"products": 2}
    # one unanswered request per store (the store's next items wait for a later
    # run); only the first costs its item an attempt: after it the CRM answered
    # nothing, an outage and no item's fault; at the third in a row the circuit
    # opened, so store 9's items went back without being tried
    attempts = [a for loja in (1, 7, 8, 9) for _, a, _ in waiting(shop, loja)]
    assert attempts == [1, 0, 0, 0, 0, 0]
    assert gc_emulator.stats()["requests"] == 3
    with shop.connect() as conn:
        failures_, paused = conn.execute(
            sa.text("SELECT failures, paused_until_ms > 0 FROM crm_rate_limits WHERE failures > 0")
        ).one()
    assert failures_ == 3 and paused
    checks = cli("test-connection", "--loja", "1")
    assert checks.stdout.startswith("FAIL gestao_click: circuit open — loja 1")
    stats = json.loads(cli("stats", "--json").stdout)
    assert [a["unanswered"] for a in stats["paused_accounts"]] == [3]


def test_a_hanging_crm_costs_a_run_no_more_than_its_time(cli, shop, gc_emulator, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  time_budget_seconds: 2\n  lease_seconds: 10\n")
    configure_store(cli, 1, "gestao_click", gc_emulator.credentials, timeout_seconds=30)
    gc_emulator.down = "hang"
    gc_emulator.slow_seconds = 4
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)

    result = cli("--config", str(config), "sync")

    assert result.exit_code == 0, result.stderr
    elapsed = float(re.search(r"Tempo: ([\d.]+)s", result.stdout).group(1))
    assert elapsed < 3.5  # the read timeout is what the run had left, not 30 s
    assert [status for status, _, _ in waiting(shop, 1)] == ["pending", "pending"]


# -- two databases on one server -------------------------------------------------------


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_record_locks_of_two_databases_do_not_meet(database, db_url):
    from crm_cli.db.backends import open_database
    from crm_cli.engine.queue import QueueItem, RecordLocks
    from crm_cli.states import Direction

    server = sa.create_engine(db_url.rsplit("/", 1)[0] + "/")
    other_name = f"{database.url.database}_staging"
    with server.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {other_name}"))
    other = open_database(db_url.rsplit("/", 1)[0] + "/" + other_name)
    same = QueueItem(1, 1, "cliente", 42, Direction.ERP_TO_CRM, 0, 1, None)
    production, staging = RecordLocks(database), RecordLocks(other)
    try:
        assert production.take([same]) == []
        assert staging.take([same]) == []  # the same (loja, entidade, id) elsewhere: free
        assert RecordLocks(database).take([same]) == [same]  # in the same database: busy
    finally:
        production.close()
        staging.close()
        other.dispose()
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE {other_name}"))
        server.dispose()


# -- the door: what is refused before anything is stored or sent ------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("timeout_seconds=abc", "timeout_seconds must be a number"),
        ("rate_limit_per_second=-1", "rate_limit_per_second must be >= 0"),
        ("daily_limit=2.5", "daily_limit must be a whole number"),
        ("api_base_url=ftp://x", "api_base_url must be an http(s) URL"),
        ("api_base_url=https://u:p@api.example.com", "must not carry a user or password"),
        ("api_token=abc", "looks like a secret"),
        ("proxy=https://u:pw@proxy.example", "is a URL with a password"),
        ("timeout_seconds=NaN", "timeout_seconds must be a finite number"),
        ("rate_limit_per_second=Infinity", "must be a finite number"),
        ("api_base_url=https://x.example/?access_token=s3cr3t", "must not carry a secret"),
        ("freight_product_id=frete", "freight_product_id must be a whole number"),
    ],
)
def test_config_set_refuses_bad_settings_and_stores_nothing(cli, migrated, setting, message):
    before = cli("config", "list", "--json").stdout
    result = cli(
        "config", "set", "--loja", "9", "--provider", "pipedrive", "--credentials-file", "-",
        "--setting", setting, input='{"api_token": "tok-123456789"}',
    )  # fmt: skip

    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr and "s3cr3t" not in result.stderr
    assert cli("config", "list", "--json").stdout == before


def test_a_directory_given_as_the_credentials_file_is_named_as_one(cli, migrated, tmp_path):
    result = cli(
        "config", "set", "--loja", "9", "--provider", "pipedrive",
        "--credentials-file", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is a directory: give the JSON file in it" in result.stderr


def test_credentials_must_be_text(cli, migrated):
    result = cli(
        "config", "set", "--loja", "9", "--provider", "pipedrive", "--credentials-file", "-",
        input='{"api_token": 12345}',
    )  # fmt: skip
    assert result.exit_code == 2
    assert "api_token must be text" in result.stderr


def test_enqueue_refuses_an_entity_the_provider_does_not_sync(cli, shop):
    [cid] = erp_tables.add_clientes(shop, 1)
    result = cli("enqueue", "--loja", "1", "--entity", "atividade", "--id", str(cid))
    assert result.exit_code == 2
    assert "gestao_click, which does not sync entity 'atividade'" in result.stderr
    assert queue_rows(shop) == []


def test_sync_dry_run_now_is_refused_and_sends_nothing(cli, shop, gc_emulator):
    [cid] = erp_tables.add_clientes(shop, 1)
    result = cli(
        "sync", "--dry-run", "--now", "--loja", "1", "--entity", "cliente", "--id", str(cid)
    )
    assert result.exit_code == 2
    assert "--dry-run goes without --now" in result.stderr
    assert gc_emulator.stats()["requests"] == 0


def test_dry_run_agrees_with_a_run_on_unchanged_deleted_and_coalesced(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, [ids[0]])
    cli("sync")  # the first is in the CRM now, unchanged since
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE clientes SET deletado_em = '2026-01-01' WHERE id = :i"),
                     {"i": ids[1]})  # fmt: skip
    php_enqueue(shop, [ids[0], ids[1], ids[2], ids[2]])
    requests = gc_emulator.stats()["requests"]

    lines = cli("sync", "--dry-run").stdout.splitlines()

    assert "would complete, sending nothing: unchanged since the last sync" in lines[0]
    assert "would complete, sending nothing: the local record is deleted" in lines[1]
    assert "would create in gestao_click" in lines[2]
    assert lines[3].endswith("would be coalesced into #4 (the same change)")
    assert gc_emulator.stats()["requests"] == requests
    assert [s for _, s, _, _ in queue_rows(shop)][1:] == ["pending"] * 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["enqueue", "--loja", "1", "--entity", "cliente", "--id", str(2**63)], "--id"),
        (["cleanup", "--queue-days", "1e11"], "--queue-days"),
        (["cleanup", "--queue-days", "100000000000"], "--queue-days"),
        (["queue", "show", "99999999999999999999"], "item_id"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(cli, migrated, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("config", "url", "message"),
    [
        (b"database:\n  url: caf\xe9\n", None, "not UTF-8 text"),
        (b"sync:\n  batch_size: 5\nsync:\n  batch_size: 6\n", None, "key 'sync' appears twice"),
        (None, "mysql://root@127.0.0.1:3306/test", "write mysql+pymysql://"),
        (None, "sqlite:////proc/crm-cli-cannot/x.sqlite3", "cannot create the folder"),
    ],
)
def test_a_bad_config_file_or_url_is_one_line_exit_2(bare_cli, tmp_path, config, url, message):
    args = []
    if config is not None:
        path = tmp_path / "config.yaml"
        path.write_bytes(config)
        args = ["--config", str(path)]
    result = bare_cli(*args, "stats", env={"CRM_DATABASE_URL": url} if url else None)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_firewall_block_page_pauses_the_account_not_the_store(
    cli, shop, gc_emulator, pd_shop, pd_emulator, store_1_owns_shared_rows
):
    # an HTML 403 (Cloudflare's page after ignored 429s) is not "credentials rejected"
    ids = erp_tables.add_produtos(shop, 2)
    php_enqueue(shop, ids, entidade="produto", loja=2)
    pd_emulator.add_fault("403_html")

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert "its items wait" not in result.stderr  # the store is not parked
    assert [(s, a, r) for s, a, r in waiting(shop, 2)] == [("pending", 0, None)] * 2
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["waiting_stores"] == []
    assert [a["seconds_left"] > 200 for a in stats["paused_accounts"]] == [True]
