"""What operators read: every listing as JSON, time windows, whole errors, labelled
clocks."""

from __future__ import annotations

import json

import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import php_enqueue

LONG_ERROR = "x" * 70 + " the end of a long error"


def failed_item(database) -> None:
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, status, "
                "processado, erro, criado_em) VALUES (1, 'cliente', 9, 'ecletech_para_crm', "
                "'failed', 1, :e, '2026-11-20 10:00:00')"
            ),
            {"e": LONG_ERROR},
        )


def test_queue_list_as_json_with_a_time_window_and_whole_errors(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    failed_item(shop)

    everything = json.loads(cli("queue", "list", "--json").stdout)
    recent = json.loads(cli("queue", "list", "--json", "--since", "2026-11-21").stdout)
    that_day = json.loads(cli("queue", "list", "--json", "--until", "2026-11-20").stdout)
    short = cli("queue", "list", "--status", "failed").stdout
    wide = cli("queue", "list", "--status", "failed", "--wide").stdout
    bad = cli("queue", "list", "--since", "yesterday")

    assert len(everything) == 2 and "lease_owner" not in everything[0]
    assert [i["id_registro"] for i in recent] == [cid]
    assert [i["erro"] for i in that_day] == [LONG_ERROR]
    assert "the end of a long error" not in short and "…" in short
    assert "the end of a long error" in wide
    assert bad.exit_code == 2 and "--since must be YYYY-MM-DD" in bad.stderr


def test_queue_show_labels_each_clock_and_speaks_json(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    cli("sync")
    with shop.connect() as conn:
        item_id = conn.execute(sa.text("SELECT id FROM crm_sync_queue")).scalar()

    shown = cli("queue", "show", str(item_id)).stdout
    data = json.loads(cli("queue", "show", str(item_id), "--json").stdout)

    lines = dict(line.split(": ", 1) for line in shown.splitlines() if ": " in line)
    assert lines["criado_em"].endswith("(PHP clock, America/Sao_Paulo)")
    assert lines["processado_em"].endswith("(PHP clock, America/Sao_Paulo)")
    assert lines["completed_at"].endswith("(UTC)")
    assert data["item"]["status"] == "completed"
    assert data["log"][0]["status"] == "sucesso"


def test_logs_as_json_within_a_window(cli, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    cli("sync")

    rows = json.loads(cli("logs", "--json").stdout)
    none = json.loads(cli("logs", "--json", "--until", "2000-01-01").stdout)

    assert [r["status"] for r in rows] == ["sucesso"]
    assert rows[0]["entidade"] == "cliente" and rows[0]["criado_em"]
    assert none == []


def test_test_connection_as_json(cli, shop, gc_emulator):
    result = cli("test-connection", "--all", "--json")

    [store] = json.loads(result.stdout)
    assert result.exit_code == 0
    assert (store["id_loja"], store["provider"], store["ok"]) == (1, "gestao_click", True)
