"""Error paths a user can meet and no other test walks: each one's verdict, what the
queue, the log and the CRM hold afterwards, and that the neighbours are unharmed."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import signal
import threading

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp as erp_tables
from crm_cli.errors import UnexpectedAnswer
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from tests.integration.support import (
    expire_leases,
    php_enqueue,
    queue_rows,
    run_cli_process,
)

LINE = re.compile(r"Processados: (\d+) \| Erros: (\d+)")


def counts(result) -> tuple[str, str]:
    return LINE.search(result.stdout).groups()


def queue_crm_item(database, *, id_registro=None, external_id=None) -> None:
    """A CRM→ERP item as the PHP application queues one."""
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, external_id, direcao) "
                "VALUES (1, 'cliente', :i, :x, 'crm_para_ecletech')"
            ),
            {"i": id_registro, "x": external_id},
        )


def log_messages(database) -> list[str]:
    with database.connect() as conn:
        return list(
            conn.execute(sa.text("SELECT mensagem FROM crm_sync_log ORDER BY id")).scalars()
        )


# -- CRM → ERP items that can never succeed ---------------------------------------------


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"id_registro": 999}, "record 999 does not exist in table clientes"),
        ({"id_registro": "own"}, "nothing to fetch: the item and the record have no external_id"),
        ({"external_id": "999"}, "the CRM has no cliente 999"),
    ],
    ids=["record-gone", "nothing-to-fetch", "gone-in-the-crm"],
)
def test_a_crm_item_that_cannot_succeed_fails_at_once_beside_a_healthy_one(
    cli, shop, gc_emulator, item, reason
):
    [unlinked] = erp_tables.add_clientes(shop, 1)  # in the ERP, never sent to the CRM
    healthy = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "No CRM"})
    if item.get("id_registro") == "own":
        item = {"id_registro": unlinked}
    queue_crm_item(shop, **item)
    queue_crm_item(shop, external_id=healthy["id"])

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert counts(result) == ("1", "1")
    rows = queue_rows(shop, "status", "tentativas", "erro")
    assert rows[0] == ("failed", 1, reason)  # at once: no retry can fix it
    assert rows[1][:2] == ("completed", 1)
    with shop.connect() as conn:
        names = conn.execute(sa.text("SELECT nome FROM clientes ORDER BY id")).scalars().all()
    assert "No CRM" in names
    assert any(reason in message for message in log_messages(shop))


# -- import: a bad record among good ones ---------------------------------------------------


def test_a_record_the_erp_refuses_mid_import_is_counted_and_the_import_goes_on(
    cli, shop, gc_emulator
):
    for n, cpf in enumerate(("11111111111", "11111111111", "22222222222")):
        gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": f"CRM {n}", "cpf": cpf})

    result = cli("import", "--entity", "cliente", "--loja", "1")

    assert result.exit_code == 0, result.stderr
    assert "Import finished: 2 imported, 0 updated, 2 inserted, 0 enqueued, 1 errors" in (
        result.stdout
    )
    with shop.connect() as conn:
        names = conn.execute(sa.text("SELECT nome FROM clientes ORDER BY id")).scalars().all()
        refused = conn.execute(
            sa.text("SELECT mensagem FROM crm_sync_log WHERE status = 'erro'")
        ).scalar_one()
    assert names == ["CRM 0", "CRM 2"]  # the one after the refused record is there too
    assert refused.startswith("import: the ERP refused the record:")


# -- a run that lost its lease -----------------------------------------------------------


def test_a_run_that_lost_an_items_lease_records_nothing_on_it_and_says_so(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)

    def another_run_takes_item_1(resource, reply):
        if gc_emulator.stats()["creates"][resource] == 1:
            with shop.begin() as conn:  # its lease expired; another run claimed it
                conn.execute(
                    sa.text("UPDATE crm_sync_queue SET lease_owner = 'another-run' WHERE id = 1")
                )

    gc_emulator.on_create = another_run_takes_item_1

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert "crm-cli: warning: item #1: lease lost to another run" in result.stderr
    assert "1 lost to another run (lease expired)" in result.stdout
    rows = queue_rows(shop, "status", "lease_owner")
    assert rows == [("processing", "another-run"), ("completed", None)]


# -- sync --now when its log row cannot be written --------------------------------------


def test_sync_now_whose_log_write_fails_keeps_the_record_and_exits_1(cli, shop, gc_emulator):
    [cid] = erp_tables.add_clientes(shop, 1)
    with shop.begin() as conn:
        conn.execute(sa.text("DROP TABLE crm_sync_log"))

    result = cli("sync", "--now", "--loja", "1", "--entity", "cliente", "--id", str(cid))

    assert result.exit_code == 1
    assert "the sync log could not be written" in result.stderr
    assert "Traceback" not in result.stderr
    assert gc_emulator.stats()["creates"] == {"clientes": 1}
    with shop.connect() as conn:  # the record knows its CRM id: the next sync updates it
        assert conn.execute(sa.text("SELECT external_id FROM clientes")).scalar() is not None


# -- the database failing while a result is written ------------------------------------------


def test_a_database_error_while_writing_a_result_stops_the_run_and_loses_nothing(
    cli, shop, gc_emulator
):
    record = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Nome no CRM"})
    with shop.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO clientes (id, nome, external_id) VALUES (7, 'Nome local', :x)"),
            {"x": record["id"]},
        )
        # every update of clientes now fails on the database's side (not the row's):
        # a trigger writing to a table that is gone
        conn.execute(sa.text("CREATE TABLE gone (id INTEGER)"))
        if shop.dialect.name == "sqlite":
            body = "BEGIN INSERT INTO gone VALUES (1); END"
        else:
            body = "FOR EACH ROW INSERT INTO gone VALUES (1)"
        conn.execute(sa.text(f"CREATE TRIGGER break_updates BEFORE UPDATE ON clientes {body}"))
        conn.execute(sa.text("DROP TABLE gone"))
    queue_crm_item(shop, id_registro=7)

    result = cli("sync")

    assert result.exit_code == 1
    assert "] ERRO: database error" in result.stderr
    assert "Traceback" not in result.stderr
    [(status, _attempts)] = queue_rows(shop, "status", "tentativas")
    assert status != "failed"  # not the item's fault: it is done again once the database is

    with shop.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER break_updates"))
    expire_leases(shop)
    again = cli("sync")
    assert counts(again) == ("1", "0")
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT nome FROM clientes")).scalar() == "Nome no CRM"


# -- a CRM whose pages never end ------------------------------------------------------------


def test_a_listing_whose_pages_repeat_is_stopped(migrated, gc_store, gc_emulator):
    gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "A"})
    gc_emulator.looping_pages = True
    client = ServiceCrm(migrated, load_settings()).client(1)

    with pytest.raises(UnexpectedAnswer, match="pagination repeats page 2"):
        list(client.iterar("cliente"))
    assert gc_emulator.stats()["requests"] == 2  # page 1, then page 2 naming itself next


# -- Retry-After as an HTTP date -----------------------------------------------------------


def test_a_429_whose_retry_after_is_a_date_pauses_the_account_that_long(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)
    in_two_minutes = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=120)
    gc_emulator.add_fault("429", retry_after=email.utils.format_datetime(in_two_minutes, True))

    result = cli("sync")

    assert counts(result) == ("0", "0")
    assert queue_rows(shop, "status", "tentativas") == [("pending", 0)] * 2  # attempts intact
    stats = cli("stats", "--json")
    [paused] = json.loads(stats.stdout)["paused_accounts"]
    assert 100 <= paused["seconds_left"] <= 121
    assert gc_emulator.stats()["requests"] == 1  # nothing more was sent meanwhile


# -- interrupted: Ctrl-C, a closed pipe -----------------------------------------------------


def test_ctrl_c_mid_request_exits_130_and_the_next_run_makes_no_duplicate(
    shop, gc_emulator, db_url
):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    in_flight, go_on = threading.Event(), threading.Event()

    def hold_the_answer(resource, reply):
        if gc_emulator.stats()["creates"][resource] == 1:
            in_flight.set()  # the CRM stored it; the client waits for the answer
            go_on.wait(30)

    gc_emulator.on_create = hold_the_answer
    proc = run_cli_process(["sync"], db_url)
    try:
        assert in_flight.wait(60), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGINT)
    finally:
        go_on.set()
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, (out, err)
    assert "crm-cli: interrupted" in err
    assert "Traceback" not in err
    gc_emulator.on_create = None
    for _ in range(3):  # later cron runs: what was handed back, what was in flight
        expire_leases(shop)
        run_cli_process(["sync"], db_url).communicate(timeout=60)
    assert {r[1] for r in queue_rows(shop)} == {"completed"}
    assert gc_emulator.stats()["creates"] == {"clientes": 3}  # the one in flight was adopted


def test_a_reader_that_goes_away_ends_the_command_quietly(migrated, db_url):
    php_enqueue(migrated, range(1, 6))
    proc = run_cli_process(["queue", "list"], db_url)
    proc.stdout.close()  # like `crm-cli queue list | head -0`: nobody reads what it prints
    err = proc.stderr.read()
    proc.wait(timeout=60)

    assert proc.returncode == 1  # it could not say what it had to
    assert err == ""  # nobody is left to tell: no traceback, no "Exception ignored"
