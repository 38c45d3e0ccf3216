"""What a misbehaving CRM, a bad setting or a signal can do, and what crm-cli does then.

Each test reproduces a failure seen on an earlier version (issue 24) and holds
what a user expects instead.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from crm_cli.db.clock import app_now
from crm_cli.demo import sample_erp
from tests.integration.support import configure_emulated_store, php_enqueue, queue_rows


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
    original = pd_emulator.finish

    def gateway(reply):
        reply = original(reply)
        reply.headers["x-ratelimit-remaining"] = "0"
        reply.headers["x-ratelimit-reset"] = reset
        return reply

    pd_emulator.finish = gateway
    try:
        ids = sample_erp.add_clientes(pd_shop, 1)
        php_enqueue(pd_shop, ids, loja=2)
        result = cli("sync")
    finally:
        pd_emulator.finish = original

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
