"""``crm-cli schedules`` runs PHP v3's schedules (its migration 101's tables) the way its
screens read them: the counters of ``crm_sync_schedules``, one ``crm_sync_logs`` row per
batch, ``executando`` as a lease."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import queue_rows

PAST = "2000-01-01 00:00:00"


def php_schedule(database, loja: int, direcao: str, entidade: str = "cliente", **values) -> int:
    """A schedule as v3's ModelCrmSyncSchedule::criar inserts it."""
    row = {
        "id_loja": loja,
        "entidade": entidade,
        "direcao": direcao,
        "batch_size": 10,
        "frequencia_minutos": 5,
        "horario_inicio": None,
        "horario_fim": None,
        "ativo": 1,
        "criado_em": "2026-12-01 09:00:00",
        "proxima_execucao": PAST,
        **values,
    }
    columns = ", ".join(row)
    with database.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO crm_sync_schedules ({columns}) "
                f"VALUES ({', '.join(':' + k for k in row)})"
            ),
            row,
        )
        return conn.execute(sa.text("SELECT MAX(id) FROM crm_sync_schedules")).scalar()


def schedule_row(database, schedule_id: int) -> dict:
    with database.connect() as conn:
        return dict(
            conn.execute(
                sa.text("SELECT * FROM crm_sync_schedules WHERE id = :i"), {"i": schedule_id}
            )
            .one()
            ._mapping
        )


def when(value) -> dt.datetime:
    """A DATETIME as the driver gives it (SQLite: text)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def batch_logs(database) -> list[dict]:
    with database.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.text("SELECT * FROM crm_sync_logs ORDER BY id"))
        ]


def pd_catalogue(cli, pd_emulator, count: int = 3) -> list[dict]:
    people = [
        pd_emulator.seed("persons", {"name": f"P{n}", "emails": [{"value": f"p{n}@x.com"}]})
        for n in range(count)
    ]
    hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    for person in people:
        pd_emulator.backdate("persons", person["id"], hour_ago)
    assert cli("import", "--entity", "cliente", "--loja", "2").exit_code == 0
    assert cli("pull", "--loja", "2", "--entity", "cliente").exit_code == 0
    return people


def test_a_crm_to_erp_schedule_pulls_and_keeps_v3s_counters(cli, pd_shop, pd_emulator):
    people = pd_catalogue(cli, pd_emulator)
    schedule = php_schedule(pd_shop, 2, "crm_para_ecletech")
    pd_emulator.edit("persons", people[1]["id"], name="Editado")

    result = cli("schedules")

    assert result.exit_code == 0, result.stderr
    assert "Schedules: 1 run" in result.stdout
    with pd_shop.connect() as conn:
        assert conn.execute(
            sa.text("SELECT COUNT(*) FROM clientes WHERE nome = 'Editado'")
        ).scalar()
    row = schedule_row(pd_shop, schedule)
    assert (row["total_execucoes"], row["total_registros_processados"], row["total_erros"]) == (
        1,
        1,
        0,
    )
    assert not row["executando"]
    assert when(row["proxima_execucao"]) - when(row["ultima_execucao"]) == dt.timedelta(minutes=5)
    [log] = batch_logs(pd_shop)
    assert (log["schedule_id"], log["direcao"], log["status"]) == (
        schedule,
        "crm_para_ecletech",
        "completed",
    )
    assert (log["registros_processados"], log["registros_atualizados"]) == (1, 1)
    assert log["fim"] is not None and len(log["batch_id"]) == 36
    with pd_shop.connect() as conn:  # v3's buscarProntosParaExecutar, on its own clock
        ready = conn.execute(
            sa.text(
                "SELECT id FROM crm_sync_schedules WHERE ativo = 1 AND executando = 0 "
                "AND deletado_em IS NULL "
                "AND (proxima_execucao IS NULL OR proxima_execucao <= :agora)"
            ),
            {"agora": when(row["ultima_execucao"]).strftime("%Y-%m-%d %H:%M:%S")},
        ).all()
    assert ready == []  # ran: not due again until frequencia_minutos have passed


def test_an_erp_to_crm_schedule_sends_the_changed_rows(cli, shop, gc_emulator):
    ids = sample_erp.add_clientes(shop, 3)
    php_schedule(shop, 1, "ecletech_para_crm")

    cli("schedules")

    assert gc_emulator.stats()["creates"] == {"clientes": 3}
    [log] = batch_logs(shop)
    assert (log["status"], log["registros_processados"], log["registros_com_erro"]) == (
        "completed",
        3,
        0,
    )
    assert {s for (s,) in queue_rows(shop, "status")} == {"completed"}
    assert len(ids) == 3


def test_bidirecional_writes_a_batch_row_per_direction(cli, pd_shop, pd_emulator):
    pd_catalogue(cli, pd_emulator)
    php_schedule(pd_shop, 2, "bidirecional")

    cli("schedules")

    assert [log["direcao"] for log in batch_logs(pd_shop)] == [
        "crm_para_ecletech",
        "ecletech_para_crm",
    ]


def test_only_due_schedules_run_and_a_dead_runs_hold_expires(cli, pd_shop, pd_emulator):
    pd_catalogue(cli, pd_emulator)
    due = php_schedule(pd_shop, 2, "crm_para_ecletech")
    later = php_schedule(pd_shop, 2, "crm_para_ecletech", proxima_execucao="2999-01-01 00:00:00")
    off = php_schedule(pd_shop, 2, "crm_para_ecletech", ativo=0)
    held = php_schedule(pd_shop, 2, "crm_para_ecletech", executando=1, atualizado_em="2999-01-01")
    dead = php_schedule(pd_shop, 2, "crm_para_ecletech", executando=1, atualizado_em=PAST)

    result = cli("schedules")

    assert "Schedules: 2 run, 0 held" in result.stdout
    assert [log["schedule_id"] for log in batch_logs(pd_shop)] == [due, dead]
    assert schedule_row(pd_shop, held)["executando"]  # another run's, still held
    for untouched in (later, off, held):
        assert schedule_row(pd_shop, untouched)["total_execucoes"] == 0


def test_one_schedule_that_cannot_run_leaves_the_others(cli, pd_shop, pd_emulator):
    pd_catalogue(cli, pd_emulator)
    broken = php_schedule(pd_shop, 9, "crm_para_ecletech")  # store 9: no integration
    fine = php_schedule(pd_shop, 2, "crm_para_ecletech")

    result = cli("schedules")

    assert result.exit_code == 0, result.stderr
    assert f"schedule #{broken} loja 9" in result.stderr
    logs = {log["schedule_id"]: log for log in batch_logs(pd_shop)}
    assert logs[broken]["status"] == "failed" and "store 9" in logs[broken]["erro_geral"]
    assert logs[fine]["status"] == "completed"
    assert schedule_row(pd_shop, broken)["total_erros"] == 1
    assert not schedule_row(pd_shop, broken)["executando"]


def test_v3s_status_screen_reads_the_batches(cli, pd_shop, pd_emulator):
    people = pd_catalogue(cli, pd_emulator)
    schedule = php_schedule(pd_shop, 2, "crm_para_ecletech")
    pd_emulator.edit("persons", people[0]["id"], name="Outro")
    cli("schedules")

    with pd_shop.connect() as conn:  # ModelCrmSyncLog::obterEstatisticasPorSchedule
        stats = conn.execute(
            sa.text(
                "SELECT COUNT(*) as total_execucoes, SUM(registros_processados) as "
                "total_processados, SUM(registros_com_erro) as total_erros, "
                "SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) as execucoes_sucesso "
                "FROM crm_sync_logs WHERE schedule_id = :s"
            ),
            {"s": schedule},
        ).one()
    assert tuple(stats) == (1, 1, 0, 1)


def test_stats_lists_the_schedules_and_the_pulls(cli, pd_shop, pd_emulator):
    pd_catalogue(cli, pd_emulator)
    schedule = php_schedule(pd_shop, 2, "crm_para_ecletech")

    data = json.loads(cli("stats", "--json").stdout)
    table = cli("stats").stdout

    assert [s["id"] for s in data["schedules"]] == [schedule]
    assert data["schedules"][0]["direcao"] == "crm_para_ecletech"
    assert {(p["id_loja"], p["entidade"]) for p in data["pulls"]} == {(2, "cliente")}
    assert "crm_para_ecletech" in table and "watermark" in table
