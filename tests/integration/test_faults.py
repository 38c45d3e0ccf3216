"""What a misbehaving CRM, a bad setting or a signal can do, and what crm-cli does then.

Each test reproduces a failure seen on an earlier version (issue 24) and holds
what a user expects instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time

import pytest
import sqlalchemy as sa

from crm_cli.db.clock import app_now
from crm_cli.demo import sample_erp
from tests.integration.support import (
    MARIADB_ONLY,
    configure_emulated_store,
    configure_store,
    php_enqueue,
    plain,
    queue_rows,
    run_cli_process,
)


@contextlib.contextmanager
def answers_changed(emulator, change):
    """While in the block, ``change(reply)`` edits every answer the emulator gives (a
    gateway rewriting headers, a CRM answering malformed), after its own last touch."""
    original = emulator.finish

    def finish(reply):
        reply = original(reply)
        change(reply)
        return reply

    emulator.finish = finish
    try:
        yield
    finally:
        emulator.finish = original


def _paused(cli) -> list[dict]:
    return json.loads(cli("stats", "--json").stdout)["paused_accounts"]


def _as_datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _latest_retry(database) -> dt.datetime:
    with database.connect() as conn:
        value = conn.execute(sa.text("SELECT MAX(proximo_retry) FROM crm_sync_queue")).scalar()
    return _as_datetime(value)


@pytest.mark.parametrize("retry_after", ["99999999999", "inf", "1e999"])
def test_a_pause_the_crm_asks_for_is_capped_told_and_lifted(cli, shop, gc_emulator, retry_after):
    ids = sample_erp.add_clientes(shop, 2)
    php_enqueue(shop, ids)
    gc_emulator.add_fault("429", retry_after=retry_after)

    result = cli("sync")

    assert result.exit_code == 0
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "its CRM account is paused for 3600 s more" in result.stderr
    assert "'crm-cli config resume --loja 1' lifts the pause" in result.stderr
    [account] = _paused(cli)
    assert 3500 < account["seconds_left"] <= 3600 and account["lojas"] == [1]
    with shop.connect() as conn:  # on the queue's clock (the application's)
        in_two_hours = conn.execute(sa.select(app_now(shop, 7200))).scalar()
    in_two_hours = _as_datetime(in_two_hours)
    assert _latest_retry(shop) < in_two_hours  # an hour away, not in the year 5195

    resumed = cli("config", "resume", "--loja", "1")

    assert resumed.exit_code == 0, resumed.stderr
    assert "a pause of" in resumed.stdout and "2 pending item(s) due now" in resumed.stdout
    assert _paused(cli) == []
    assert cli("sync").exit_code == 0
    assert {r[0] for r in queue_rows(shop, "status")} == {"completed"}


@pytest.mark.parametrize("reset", ["999999999", "inf"])
def test_a_burst_window_reset_is_seconds_not_an_epoch(cli, pd_shop, pd_emulator, reset):
    """x-ratelimit-reset is Pipedrive's 2-second window: a gateway's epoch is capped."""
    configure_emulated_store(cli, 2, pd_emulator, rate_limit_per_second=0)
    pd_emulator.rate = 1  # a burst of 2 per 2 s: the answers carry the headers

    def gateway(reply):
        reply.headers["x-ratelimit-remaining"] = "0"
        reply.headers["x-ratelimit-reset"] = reset

    ids = sample_erp.add_clientes(pd_shop, 1)
    php_enqueue(pd_shop, ids, loja=2)
    with answers_changed(pd_emulator, gateway):
        result = cli("sync")

    assert result.exit_code == 0
    assert "internal error" not in result.stderr
    assert all(account["seconds_left"] <= 60 for account in _paused(cli))
    assert queue_rows(pd_shop, "status", "tentativas") == [("completed", 1)]


@pytest.mark.parametrize("server", ["looping_pages", "ignored_pages"])
def test_an_import_whose_crm_pages_in_a_loop_stops_with_one_line(cli, shop, gc_emulator, server):
    """proxima_pagina always 2, or every page the first page's records: stop, exit 1."""
    for n in range(25):
        gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": f"C{n}", "cpf": f"{n:011d}"})
    setattr(gc_emulator, server, True)

    result = cli("import", "--loja", "1", "--entity", "cliente")

    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "pagination loops; import stopped" in line
    assert gc_emulator.stats()["requests"] <= 3
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() <= 25


def test_an_import_stops_at_its_request_budget_and_the_next_run_continues(
    cli, shop, gc_emulator, tmp_path
):
    for n in range(50):  # three pages of 20
        gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": f"C{n}", "cpf": f"{n:011d}"})
    config = tmp_path / "budget.yaml"
    config.write_text("sync:\n  import_max_requests: 2\n")

    first = cli("--config", str(config), "import", "--loja", "1", "--entity", "cliente")
    second = cli("--config", str(config), "import", "--loja", "1", "--entity", "cliente")

    assert first.exit_code == 0, first.stderr
    assert "paused after 2 requests (sync.import_max_requests" in first.stdout
    assert "40 imported" in first.stdout
    assert second.exit_code == 0 and "(resumed) finished: 50 imported" in second.stdout
    assert gc_emulator.stats()["requests"] == 3


def _time_passes(database) -> None:
    """Every pause and backoff over (an UPDATE instead of waiting)."""
    with database.begin() as conn:
        conn.execute(sa.text("UPDATE crm_rate_limits SET paused_until_ms = 0, next_slot_ms = 0"))
        conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))


def test_a_stores_dead_url_does_not_open_the_circuit_of_its_healthy_sibling(
    cli, shop, gc_emulator, store_1_owns_shared_rows
):
    """Same credentials, another api_base_url (nothing listens there): two endpoints."""
    configure_store(
        cli, 5, "gestao_click", gc_emulator.credentials,
        api_base_url="http://127.0.0.1:9", rate_limit_per_second=0, timeout_seconds=0.5,
    )  # fmt: skip
    dead = sample_erp.add_clientes(shop, 4)
    healthy = sample_erp.add_produtos(shop, 2)
    php_enqueue(shop, dead, loja=5, prioridade=9)
    for _ in range(3):  # the dead endpoint's circuit opens at the third unanswered request
        _time_passes(shop)
        cli("sync", "--loja", "5")
    php_enqueue(shop, healthy, entidade="produto", loja=1)

    result = cli("sync", "--loja", "1")

    assert result.exit_code == 0, result.stderr
    assert gc_emulator.stats()["creates"] == {"produtos": 2}
    assert cli("test-connection", "--loja", "1").stdout.startswith("OK gestao_click")
    assert "circuit open" in cli("test-connection", "--loja", "5").stdout


def test_an_outage_of_many_runs_never_ends_in_failed(cli, shop, gc_emulator):
    ids = sample_erp.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    gc_emulator.down = "drop"

    for _ in range(8):  # past max_attempts (3) several times over
        assert cli("sync").exit_code == 0
        _time_passes(shop)

    rows = queue_rows(shop, "status", "tentativas")
    assert {status for status, _ in rows} == {"pending"}
    assert max(attempts for _, attempts in rows) <= 1  # the first, before it was an outage
    gc_emulator.down = None
    _time_passes(shop)
    assert cli("sync").exit_code == 0
    assert {status for status, _ in queue_rows(shop, "status", "tentativas")} == {"completed"}


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_overlapping_runs_on_the_php_applications_duplicates_never_die(shop, gc_emulator, db_url):
    """Each record queued twice, four runs at once, three rounds: InnoDB breaks the
    deadlocks of their claims' coalescing, and each run does its transaction again."""
    ids = sample_erp.add_clientes(shop, 300)
    php_enqueue(shop, ids)
    php_enqueue(shop, ids)  # the PHP application's duplicates

    for _round in range(3):
        procs = [run_cli_process(["sync"], db_url) for _ in range(4)]
        outputs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, outputs
        assert not any("Deadlock" in err for _out, err in outputs), outputs

    assert gc_emulator.stats()["creates"] == {"clientes": 300}


@pytest.mark.parametrize(
    ("provider_shop", "stored", "named"),
    [
        # 1e999: infinite to a JSON reader (MariaDB's JSON check refuses NaN itself)
        ("shop", '{"daily_limit": 1e999}', "daily_limit must be a whole number, got inf"),
        ("bling_shop", '{"forma_pagamento_id": "abc"}', "forma_pagamento_id must be a whole"),
    ],
)
def test_a_setting_the_php_application_stored_wrong_makes_its_store_wait_named(
    cli, request, gc_emulator, bling_emulator, provider_shop, stored, named
):
    """The PHP screen can write anything: nothing is sent, nothing fails, the store waits."""
    database = request.getfixturevalue(provider_shop)
    loja = 1 if provider_shop == "shop" else 3
    ids = sample_erp.add_clientes(database, 2)
    php_enqueue(database, ids, loja=loja)
    with database.begin() as conn:
        conn.execute(
            sa.text("UPDATE crm_integracoes SET configuracoes = :c WHERE id_loja = :l"),
            {"c": stored, "l": loja},
        )

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert named in result.stderr and "internal error" not in result.stderr
    assert {(s, a) for s, a in queue_rows(database, "status", "tentativas")} == {("pending", 0)}
    assert gc_emulator.stats()["requests"] + bling_emulator.stats()["requests"] == 0


@pytest.mark.parametrize("product", ["gone", "deleted"])
def test_a_sale_whose_product_can_never_reach_the_crm_fails_at_once_naming_it(
    cli, shop, gc_emulator, product
):
    [cid] = sample_erp.add_clientes(shop, 1)
    [pid] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [cid])
    cli("sync")
    sale = sample_erp.add_venda(shop, "77", [(pid, 1, 10.0)], cliente_id=cid, situacao_venda_id=1)
    with shop.begin() as conn:
        if product == "gone":
            conn.execute(sa.text("UPDATE vendas_itens SET produto_id = 999"))
        else:
            conn.execute(sa.text("UPDATE produtos SET deleted_at = '2026-11-01 10:00:00'"))
    php_enqueue(shop, [sale], entidade="venda")

    assert cli("sync").exit_code == 0

    [(status, attempts, error)] = [
        r[1:]
        for r in queue_rows(shop, "entidade", "status", "tentativas", "erro")
        if r[0] == "venda"
    ]
    assert (status, attempts) == ("failed", 1)
    named = "999 not in produtos" if product == "gone" else f"{pid} deleted in produtos"
    assert f"venda {sale} can never be sent: its line items name product(s) {named}" in error
    with shop.connect() as conn:  # nothing queued for a product that cannot be sent
        queued = conn.execute(
            sa.text("SELECT COUNT(*) FROM crm_sync_queue WHERE entidade = 'produto'")
        ).scalar()
    assert queued == 0
    assert "vendas" not in gc_emulator.stats()["creates"]


def test_a_parked_stores_new_items_wait_with_the_others_no_login_a_minute(cli, shop, gc_emulator):
    """A store parked for a 401: the items the PHP application queues later wait too."""
    ids = sample_erp.add_clientes(shop, 3)
    php_enqueue(shop, ids[:1])
    gc_emulator.add_fault("401")
    cli("sync")  # turned away: the store is parked
    requests = gc_emulator.stats()["requests"]

    for n in (1, 2):  # the PHP application queues more, a cron minute each
        php_enqueue(shop, [ids[n]])
        assert cli("sync").exit_code == 0

    assert gc_emulator.stats()["requests"] == requests  # no new rejected login
    waiting = queue_rows(shop, "status", "tentativas", "erro_mensagem")
    assert [(s, a) for s, a, _ in waiting] == [("pending", 0)] * 3
    assert all(e.startswith("waiting for its store: ") for _, _, e in waiting)


def test_a_store_enabled_again_from_the_php_screen_is_released_at_once(cli, shop, gc_emulator):
    ids = sample_erp.add_clientes(shop, 2)
    php_enqueue(shop, ids)
    cli("config", "disable", "--loja", "1")
    cli("sync")  # the store is disabled: its items wait
    assert {s for (s,) in queue_rows(shop, "status")} == {"pending"}

    with shop.begin() as conn:  # the PHP admin screen's "activate": ativo = 1, nothing else
        conn.execute(sa.text("UPDATE crm_integracoes SET ativo = 1 WHERE id_loja = 1"))
    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert {s for (s,) in queue_rows(shop, "status")} == {"completed"}


@pytest.mark.parametrize("expires_in", ["abc", -1, None, "inf"])
def test_a_malformed_bling_token_answer_keeps_the_rotated_refresh_token(
    cli, bling_shop, bling_emulator, expires_in
):
    from crm_cli.credentials import CredentialCipher
    from crm_cli.integrations import Integracoes
    from tests.integration.support import SECRET

    def malformed(reply):
        if isinstance(reply.body, dict) and "expires_in" in reply.body:
            reply.body["expires_in"] = expires_in  # after Bling rotated the refresh token

    ids = sample_erp.add_clientes(bling_shop, 1)
    php_enqueue(bling_shop, ids, loja=3)
    with answers_changed(bling_emulator, malformed):
        result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert queue_rows(bling_shop, "status") == [("completed",)]
    stored = (
        Integracoes(bling_shop, CredentialCipher(SECRET, "JWT_SECRET")).obter_configuracao(3)
    ).credenciais
    assert stored["refresh_token"] in bling_emulator.refresh_tokens  # the rotated one, saved
    assert 5 * 3600 < stored["expires_at"] - time.time() <= 6 * 3600  # Bling's documented 6 h


def test_without_the_systems_zone_data_every_command_works(shop, gc_emulator, db_url):
    """Slim images have no /usr/share/zoneinfo: the tzdata package stands in (PEP 615)."""
    ids = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, ids)
    no_system_zones = {"PYTHONTZPATH": "/nonexistent"}

    for args in (["stats"], ["sync"], ["queue", "list"]):
        proc = run_cli_process(args, db_url, env=no_system_zones)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "ZoneInfoNotFoundError" not in err
    assert queue_rows(shop, "status") == [("completed",)]


def test_a_missing_line_item_table_holds_the_sales_only(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    [pid] = sample_erp.add_produtos(shop, 1)
    sale = sample_erp.add_venda(shop, "5", [(pid, 1, 10.0)], cliente_id=cid, situacao_venda_id=1)
    with shop.begin() as conn:
        conn.execute(sa.text("DROP TABLE vendas_itens"))
    php_enqueue(shop, [sale], entidade="venda")
    php_enqueue(shop, [cid])

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert "table 'vendas_itens' (entities.venda.items_table) does not exist" in result.stderr
    rows = {e: (s, a) for e, s, a in queue_rows(shop, "entidade", "status", "tentativas")}
    assert rows == {"venda": ("pending", 0), "cliente": ("completed", 1)}
    waiting = json.loads(cli("stats", "--json").stdout)["waiting_stores"]
    assert [w["id_loja"] for w in waiting] == [1] and "vendas_itens" in waiting[0]["reason"]


def test_sigterm_stops_a_run_like_ctrl_c_handing_back_what_it_did_not_do(shop, gc_emulator, db_url):
    import signal
    import threading

    ids = sample_erp.add_clientes(shop, 4)
    php_enqueue(shop, ids)
    second, go_on = threading.Event(), threading.Event()

    def hold_the_second(resource, reply):
        if gc_emulator.stats()["creates"][resource] == 2:
            second.set()  # the first is done; the second is in flight
            go_on.wait(30)

    gc_emulator.on_create = hold_the_second
    proc = run_cli_process(["sync"], db_url)
    try:
        assert second.wait(60), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGTERM)
    finally:
        go_on.set()
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 143, (out, err)
    assert "crm-cli: interrupted (SIGTERM)" in err and "Traceback" not in err
    statuses = [s for (s,) in queue_rows(shop, "status")]
    assert statuses[0] == "completed"  # recorded, not redone
    assert statuses[2:] == ["pending", "pending"]  # handed back at once, not left processing


@pytest.mark.parametrize("backend", ["sqlite"])  # MariaDB refuses 'abc' in a DECIMAL itself
def test_text_in_a_number_column_fails_that_record_at_once_naming_it(
    cli, shop, gc_emulator, backend
):
    [cid] = sample_erp.add_clientes(shop, 1)
    [pid] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [cid])
    php_enqueue(shop, [pid], entidade="produto")
    cli("sync")
    good = sample_erp.add_venda(shop, "1", [(pid, 1, 10.0)], cliente_id=cid, situacao_venda_id=1)
    bad = sample_erp.add_venda(shop, "2", [(pid, 1, 10.0)], cliente_id=cid, situacao_venda_id=1)
    with shop.begin() as conn:
        conn.execute(
            sa.text("UPDATE vendas_itens SET quantidade = 'abc' WHERE venda_id = :v"), {"v": bad}
        )
    php_enqueue(shop, [good, bad], entidade="venda")

    assert cli("sync").exit_code == 0

    rows = {
        r[0]: r[1:]
        for r in queue_rows(shop, "id_registro", "entidade", "status", "tentativas", "erro")
        if r[1] == "venda"
    }
    assert rows[good][1] == "completed"
    _entidade, status, attempts, error = rows[bad]
    assert (status, attempts) == ("failed", 1)
    assert "vendas_itens.quantidade of row" in error and "holds 'abc', not a number" in error


def test_crm_clis_log_and_store_rows_are_on_the_php_applications_clock(cli, shop, gc_emulator):
    """PHP writes crm_sync_log.criado_em with date() in São Paulo and orders its log
    screen by it: crm-cli's rows take the same clock, not the server's UTC default."""
    ids = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, ids)
    cli("sync")

    with shop.connect() as conn:
        logged = _as_datetime(
            conn.execute(sa.text("SELECT MAX(criado_em) FROM crm_sync_log")).scalar()
        )
        stored = _as_datetime(
            conn.execute(
                sa.text("SELECT atualizado_em FROM crm_integracoes WHERE id_loja = 1")
            ).scalar()
        )
        php_now = _as_datetime(conn.execute(sa.select(app_now(shop))).scalar())
    assert abs((php_now - logged).total_seconds()) < 120
    assert abs((php_now - stored).total_seconds()) < 120
    assert json.loads(cli("stats", "--json").stdout)["log_24h"]["sucesso"] == 1


def test_sync_now_says_what_failed_as_every_command_does(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    with shop.begin() as conn:  # GestãoClick requires a name
        conn.execute(sa.text("UPDATE clientes SET nome = ''"))

    result = cli("sync", "--now", "--loja", "1", "--entity", "cliente", "--id", str(cid))

    assert result.exit_code == 1
    [line] = plain(result.stderr).splitlines()
    assert line.startswith(f"crm-cli: error: cliente {cid} not synced: ")
    assert "nome" in line


def _time_travel(database, seconds: int) -> None:
    """``seconds`` pass for the queue's waits (both its clocks), instead of waiting."""
    with database.begin() as conn:
        if database.dialect.name == "sqlite":
            shift = "datetime({c}, '-{s} seconds')"
        else:
            shift = "{c} - INTERVAL {s} SECOND"
        columns = ("proximo_retry", "due_at")
        sets = ", ".join(f"{c} = {shift.format(c=c, s=seconds)}" for c in columns)
        conn.execute(sa.text(f"UPDATE crm_sync_queue SET {sets}"))


@pytest.mark.parametrize(
    ("before", "after", "elapsed", "due"),
    [
        ("Etc/GMT+4", "Etc/GMT+5", 660, True),  # the clock falls back: 11 min > a 10-min park
        ("Etc/GMT+5", "Etc/GMT+4", 60, False),  # it springs forward: 1 min < a 10-min park
    ],
)
def test_a_park_is_a_duration_whatever_the_applications_clock_does(
    cli, shop, gc_emulator, tmp_path, before, after, elapsed, due
):
    """A 10-minute park across a DST change lasts 10 minutes, not 70 (or none)."""
    first, second = tmp_path / "before.yaml", tmp_path / "after.yaml"
    first.write_text(f"database:\n  app_time_zone: {before}\n")
    second.write_text(f"database:\n  app_time_zone: {after}\n")
    ids = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, ids)
    gc_emulator.add_fault("401")
    cli("--config", str(first), "sync")  # turned away: parked for 10 minutes
    assert queue_rows(shop, "status", "tentativas") == [("pending", 0)]

    _time_travel(shop, elapsed)
    assert cli("--config", str(second), "sync").exit_code == 0

    assert queue_rows(shop, "status") == [("completed",) if due else ("pending",)]
