"""Operations: full-sync, import, cleanup, stats, queue, logs and demo."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp as erp_tables
from tests.integration.support import configure_store, php_enqueue, queue_rows


def test_full_sync_queues_live_rows_once(cli, shop):
    ids = erp_tables.add_clientes(shop, 12)
    with shop.begin() as conn:
        conn.execute(
            sa.text("UPDATE clientes SET deletado_em = CURRENT_TIMESTAMP WHERE id = :i"),
            {"i": ids[0]},
        )
    php_enqueue(shop, [ids[1]])  # already pending: not queued again

    result = cli("full-sync", "--entity", "cliente")

    assert result.exit_code == 0, result.stderr
    assert (
        "Loja 1 (gestao_click): 10 of 11 cliente rows queued (1 already pending)" in result.stdout
    )
    assert "11 pending for the store" in result.stdout
    assert "11 pending in all, about 1 cron minute(s)" in result.stdout
    rows = queue_rows(shop, "id_registro", "prioridade", "direcao", "status")
    assert sorted(r[0] for r in rows) == ids[1:]
    assert {r[1:] for r in rows[1:]} == {(0, "ecletech_para_crm", "pending")}

    again = cli("full-sync", "--entity", "cliente", "--priority", "3")
    assert "0 of 11 cliente rows queued (11 already pending)" in again.stdout
    assert len(queue_rows(shop)) == 11


def test_full_sync_in_chunks_respects_the_store_column(cli, shop, gc_emulator, tmp_path):
    from crm_cli.credentials import CredentialCipher
    from crm_cli.integrations import Integracoes
    from crm_cli.services.full_sync import full_sync
    from crm_cli.settings import load_settings
    from tests.integration.support import SECRET

    configure_store(cli, 2, "gestao_click", gc_emulator.credentials, api_base_url=gc_emulator.url)
    config = tmp_path / "c.yaml"
    config.write_text("entities:\n  venda:\n    store_column: loja_id\n")
    with shop.begin() as conn:
        conn.execute(
            sa.insert(erp_tables.vendas),
            [{"codigo": f"V{n}", "loja_id": 1 + n % 2} for n in range(25)],
        )
    chunks: list[tuple[int, int]] = []

    results = full_sync(
        shop,
        load_settings(config),
        Integracoes(shop, CredentialCipher(SECRET, "x")),
        "venda",
        chunk=4,
        on_chunk=lambda done, total: chunks.append((done, total)),
    )

    assert [(r.id_loja, r.rows, r.queued) for r in results] == [(1, 13, 13), (2, 12, 12)]
    assert len(chunks) >= 6  # one statement per chunk of 4 rows
    with shop.connect() as conn:
        mismatched = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM crm_sync_queue q JOIN vendas v ON v.id = q.id_registro "
                "WHERE q.id_loja <> v.loja_id"
            )
        ).scalar()
    assert mismatched == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--entity", "pedido"], 2, "entity 'pedido' is not configured"),
        (["--entity", "cliente", "--loja", "9"], 1, "store 9 has no active CRM integration"),
        (["--entity", "cliente", "--priority", "11"], 2, "Invalid value for '--priority'"),
    ],
)
def test_full_sync_bad_input(cli, shop, args, code, message):
    result = cli("full-sync", *args)

    assert result.exit_code == code
    assert message in result.stderr
    assert queue_rows(shop) == []


def test_full_sync_skips_stores_whose_crm_lacks_the_entity(cli, shop):
    result = cli("full-sync", "--entity", "atividade")

    assert result.exit_code == 0
    assert (
        "Loja 1 (gestao_click): skipped, gestao_click does not support atividade" in result.stdout
    )
    assert queue_rows(shop) == []


def seed_crm_clients(emulator, count: int) -> list[dict]:
    return [
        emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": f"CRM {n}", "cpf": f"9{n:010d}"})
        for n in range(count)
    ]


def test_import_pages_through_updates_and_inserts(cli, shop, gc_emulator):
    records = seed_crm_clients(gc_emulator, 45)  # 3 pages of 20
    with shop.begin() as conn:  # one already linked locally
        conn.execute(
            sa.text("INSERT INTO clientes (id, nome, external_id) VALUES (500, 'old', :x)"),
            {"x": records[0]["id"]},
        )

    result = cli("import", "--entity", "cliente", "--loja", "1")

    assert result.exit_code == 0, result.stderr
    assert (
        "Import finished: 45 imported, 1 updated, 44 inserted, 0 enqueued, 0 errors"
        in result.stdout
    )
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() == 45
        assert conn.execute(sa.text("SELECT nome FROM clientes WHERE id = 500")).scalar() == "CRM 0"
        assert (
            conn.execute(
                sa.text("SELECT cpf FROM clientes WHERE external_id = :x"), {"x": records[44]["id"]}
            ).scalar()
            == "90000000044"
        )


def test_an_interrupted_import_resumes_where_it_stopped(cli, shop, gc_emulator):
    seed_crm_clients(gc_emulator, 45)

    first = cli("import", "--entity", "cliente", "--loja", "1", "--limit", "25")
    requests_after_first = gc_emulator.stats()["requests"]
    second = cli("import", "--entity", "cliente", "--loja", "1")

    assert "paused (run it again to continue): 25 imported" in first.stdout
    assert "Import (resumed) finished: 45 imported" in second.stdout
    # the second run started at page 2 (where the first stopped), not page 1
    assert gc_emulator.stats()["requests"] - requests_after_first == 2
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() == 45
    third = cli("import", "--entity", "cliente", "--loja", "1", "--limit", "5")
    assert "Import paused (run it again to continue): 5 imported" in third.stdout  # a fresh start


def test_import_can_enqueue_instead(cli, shop, gc_emulator):
    seed_crm_clients(gc_emulator, 3)

    result = cli("import", "--entity", "cliente", "--loja", "1", "--enqueue")

    assert "3 imported, 0 updated, 0 inserted, 3 enqueued" in result.stdout
    assert [r[1:] for r in queue_rows(shop, "id", "direcao", "status")] == [
        ("crm_para_ecletech", "pending")
    ] * 3
    cli("sync")
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--entity", "cliente", "--loja", "1", "--since", "yesterday"],
            2,
            "--since must be a date YYYY-MM-DD",
        ),
        (
            ["--entity", "atividade", "--loja", "1"],
            1,
            "entity 'atividade' is not supported by provider gestao_click",
        ),
        (["--entity", "cliente", "--loja", "4"], 1, "store 4 has no active CRM integration"),
    ],
)
def test_import_bad_input(cli, shop, args, code, message):
    result = cli("import", *args)

    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _age(database, days: int) -> None:
    """Move every row's timestamps back ``days`` days (time travel for retention tests)."""
    with database.begin() as conn:
        if database.dialect.name == "sqlite":
            shift = f"datetime(%s, '-{days} days')"
        else:
            shift = f"DATE_SUB(%s, INTERVAL {days} DAY)"
        conn.execute(
            sa.text(
                "UPDATE crm_sync_queue SET processado_em = "
                + shift % "processado_em"
                + ", criado_em = "
                + shift % "criado_em"
            )
        )
        conn.execute(sa.text("UPDATE crm_sync_log SET criado_em = " + shift % "criado_em"))


def test_cleanup_deletes_only_old_completed_items_and_old_logs(cli, shop):
    php_enqueue(shop, range(1, 9))
    with shop.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE crm_sync_queue SET status = CASE WHEN id <= 5 THEN 'completed' "
                "WHEN id = 6 THEN 'failed' WHEN id = 7 THEN 'processing' ELSE 'pending' END, "
                "processado = CASE WHEN id <= 5 THEN 1 ELSE 0 END, "
                "processado_em = CURRENT_TIMESTAMP"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_log (id_loja, entidade, id_registro, direcao, status) "
                "VALUES (1, 'cliente', 1, 'ecletech_para_crm', 'sucesso')"
            )
        )
    _age(shop, 40)
    php_enqueue(shop, [9])
    with shop.begin() as conn:  # a recent completed item stays
        conn.execute(
            sa.text(
                "UPDATE crm_sync_queue SET status = 'completed', processado = 1, "
                "processado_em = CURRENT_TIMESTAMP WHERE id = 9"
            )
        )

    dry = cli("cleanup", "--dry-run")
    assert "Cleanup (dry run): 5 queue items, 1 log rows and 0 run records would be" in dry.stdout
    assert len(queue_rows(shop)) == 9

    result = cli("cleanup")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith("Limpeza concluída: 5 itens da fila, 1 logs removidos")
    assert [r[1] for r in queue_rows(shop)] == ["failed", "processing", "pending", "completed"]


@pytest.mark.parametrize("args", [["--queue-days", "0"], ["--log-days", "-1"]])
def test_cleanup_refuses_non_positive_retention(cli, shop, args):
    php_enqueue(shop, [1])

    result = cli("cleanup", *args)

    assert result.exit_code == 2
    assert "must be at least 1" in result.stderr
    assert len(queue_rows(shop)) == 1


def test_stats_count_failures_as_failures(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 4)
    php_enqueue(shop, ids[:3])
    php_enqueue(shop, [999])  # fails: no such record
    cli("sync")
    php_enqueue(shop, [ids[3]])

    result = cli("stats", "--json")

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["queue"] == {
        "pending": 1,
        "processing": 0,
        "failed": 1,
        "completed_today": 3,
        "oldest_pending_seconds": data["queue"]["oldest_pending_seconds"],
    }
    assert 0 <= data["queue"]["oldest_pending_seconds"] < 120
    assert data["log_24h"] == {
        "total": 4,
        "sucesso": 3,
        "erro": 1,
        "alerta": 0,
        "taxa_sucesso": 75.0,
    }
    assert data["by_store"] == [
        {
            "id_loja": 1,
            "entidade": "cliente",
            "pending": 1,
            "processing": 0,
            "failed": 1,
            "completed_today": 3,
        }
    ]
    plain = cli("stats")
    assert "pending\tprocessing\tcompleted today\tfailed" in plain.stdout


def test_queue_list_show_retry_cancel(cli, shop, gc_emulator):
    php_enqueue(shop, [404, 405, 406])
    cli("sync")  # all three fail: no such records
    assert [r[1] for r in queue_rows(shop)] == ["failed"] * 3

    listed = cli("queue", "list", "--status", "failed")
    assert listed.stdout.count("record 40") == 3
    shown = cli("queue", "show", "2")
    assert "status: failed" in shown.stdout
    assert "record 405 does not exist in table clientes" in shown.stdout

    retried = cli("queue", "retry", "1")
    assert retried.stdout.startswith("1 item(s) back to pending: 1")
    assert queue_rows(shop, "status", "tentativas")[0] == ("pending", 0)
    every = cli("queue", "retry", "--failed", "--entity", "cliente")
    assert every.stdout.startswith("2 item(s) back to pending: 2, 3")

    cancelled = cli("queue", "cancel", "3")
    assert cancelled.stdout.startswith("1 item(s) cancelled: 3")
    assert [r[0] for r in queue_rows(shop, "id") if r] == [1, 2, 3]
    assert cli("queue", "list", "--status", "pending").stdout.count("\n") == 3  # header + 2
    with shop.connect() as conn:
        alerts = conn.execute(
            sa.text("SELECT COUNT(*) FROM crm_sync_log WHERE status = 'alerta'")
        ).scalar()
    assert alerts == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["retry", "1", "99"], 1, "queue item #99 does not exist"),
        (["retry"], 2, "name the items to retry"),
        (["cancel", "2"], 2, "queue item #2 is completed; only pending or failed"),
        (["show", "77"], 1, "queue item #77 does not exist"),
        (["list", "--status", "done"], 2, "--status must be one of"),
    ],
)
def test_queue_bad_input_changes_nothing(cli, shop, args, code, message):
    php_enqueue(shop, [1, 2])
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE crm_sync_queue SET status = 'completed' WHERE id = 2"))
    before = queue_rows(shop, "id", "status", "tentativas", "deletado_em")

    result = cli("queue", *args)

    assert result.exit_code == code
    assert message in result.stderr
    assert queue_rows(shop, "id", "status", "tentativas", "deletado_em") == before


def test_logs_by_record_and_errors(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, [ids[0], 999])
    cli("sync")

    by_record = cli("logs", "--entity", "cliente", "--id", str(ids[0]))
    errors = cli("logs", "--errors")

    assert by_record.stdout.count("sucesso") == 1
    assert "created in the CRM" in by_record.stdout
    assert errors.stdout.count("\terro\t") == 1
    assert cli("logs", "--id", "1").exit_code == 2


def test_demo_runs_offline_and_green(bare_cli, tmp_path):
    result = bare_cli("demo")

    assert result.exit_code == 0, result.stderr
    assert "The CRM now holds 20 clients and 15 products" in result.stdout
    assert "0 answered 429" in result.stdout
    assert "Processados: 35 | Erros: 0" in result.stdout
    assert not (tmp_path / "xdg-data" / "crm-cli").exists()  # nothing of the operator's touched
