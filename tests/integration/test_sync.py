"""``crm-cli sync``: exactly once under overlap and crashes, outcomes, pacing, output."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm_cli.db.clock import app_offset_seconds
from crm_cli.demo import sample_erp as erp_tables
from tests.integration.support import (
    MARIADB_ONLY,
    configure_emulated_store,
    expire_leases,
    php_enqueue,
    plain,
    queue_rows,
    run_cli_process,
)

# The original's summary line, byte for byte, first on stdout (a second line may
# follow: what was handed back or failed for good, see details_line).
LINE = re.compile(
    r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] Processados: (\d+) \| Erros: (\d+) \| "
    r"Tempo: [\d.]+s \| Taxa: [\d.]+ req/s$",
    re.MULTILINE,
)
DETAILS = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] (.+)$", re.MULTILINE)


def as_datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def drain(cli, runs: int = 20, *args: str) -> list[str]:
    """Run sync until nothing is left to claim; the runs' lines."""
    lines = []
    for _ in range(runs):
        result = cli("sync", *args)
        assert result.exit_code == 0, result.stderr
        lines.append(result.stdout.strip())
        if LINE.match(lines[-1]).group(1) == "0" and LINE.match(lines[-1]).group(2) == "0":
            return lines
    return lines


def add_linked_cliente(shop, record_id: int, external_id: str, modificado_em=None) -> None:
    """A local client, 'Nome local', already linked to the CRM's record ``external_id``."""
    with shop.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO clientes (id, tipo_pessoa, nome, external_id, modificado_em) "
                "VALUES (:i, 'PF', 'Nome local', :x, :m)"
            ),
            {"i": record_id, "x": external_id, "m": modificado_em},
        )


def test_a_run_creates_writes_back_and_logs(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    match = LINE.match(result.stdout.strip())
    assert match and match.groups() == ("3", "0")
    assert result.stderr == ""
    assert queue_rows(shop) == [
        (1, "completed", 1, 1),
        (2, "completed", 1, 1),
        (3, "completed", 1, 1),
    ]
    with shop.connect() as conn:
        externals = (
            conn.execute(sa.text("SELECT external_id FROM clientes ORDER BY id")).scalars().all()
        )
        queued = (
            conn.execute(sa.text("SELECT external_id FROM crm_sync_queue ORDER BY id"))
            .scalars()
            .all()
        )
        logs = conn.execute(sa.text("SELECT status, dados_enviados FROM crm_sync_log")).all()
    assert externals == queued == sorted(gc_emulator.records["clientes"], key=int)
    assert [status for status, _ in logs] == ["sucesso"] * 3
    assert gc_emulator.stats()["creates"] == {"clientes": 3}


def test_unchanged_payload_is_not_sent_again(cli, shop, gc_emulator):
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    drain(cli)
    requests = gc_emulator.stats()["requests"]

    php_enqueue(shop, [cid])
    drain(cli)

    assert gc_emulator.stats()["requests"] == requests
    with shop.connect() as conn:
        last = conn.execute(
            sa.text("SELECT status, mensagem FROM crm_sync_log ORDER BY id DESC")
        ).first()
    assert last.status == "sucesso"
    assert "unchanged since the last sync; nothing sent" in last.mensagem

    with shop.begin() as conn:  # a real change is sent, as an update
        conn.execute(sa.text("UPDATE clientes SET nome = 'Novo Nome' WHERE id = :i"), {"i": cid})
    php_enqueue(shop, [cid])
    drain(cli)
    [record] = gc_emulator.records["clientes"].values()
    assert record["nome"] == "Novo Nome"
    assert gc_emulator.stats()["creates"] == {"clientes": 1}


def test_priority_then_age_decides_the_order(cli, shop):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, [ids[0]], prioridade=0)
    php_enqueue(shop, [ids[1]], prioridade=9)
    php_enqueue(shop, [ids[2]], prioridade=9)

    assert cli("sync", "--limit", "1").exit_code == 0
    assert [r[1] for r in queue_rows(shop)] == ["pending", "completed", "pending"]
    assert cli("sync", "--limit", "1").exit_code == 0
    assert [r[1] for r in queue_rows(shop)] == ["pending", "completed", "completed"]


def test_duplicates_inserted_by_php_are_coalesced(cli, shop, gc_emulator):
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid, cid, cid])

    drain(cli)

    assert gc_emulator.stats()["creates"] == {"clientes": 1}
    assert [r[1] for r in queue_rows(shop)] == ["completed"] * 3
    notes = queue_rows(shop, "erro_mensagem")
    assert notes[1:] == [("coalesced into item #1",), ("coalesced into item #1",)]


@pytest.mark.parametrize("fault", ["500", "timeout", "bad_json"])
def test_provider_faults_schedule_a_retry_with_backoff(cli, shop, gc_emulator, fault):
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    gc_emulator.add_fault(fault)

    result = cli("sync")

    assert result.exit_code == 0
    assert "Traceback" not in result.stderr
    assert LINE.match(result.stdout.strip()).groups() == ("0", "1")
    with shop.connect() as conn:
        item = conn.execute(
            sa.text(
                "SELECT status, tentativas, processado, erro, proximo_retry, started_at "
                "FROM crm_sync_queue"
            )
        ).one()
    assert (item.status, item.tentativas, item.processado) == ("pending", 1, 0)
    assert item.erro
    # proximo_retry is on the PHP application's clock, started_at on the server's UTC
    delay = (
        as_datetime(item.proximo_retry) - as_datetime(item.started_at)
    ).total_seconds() - app_offset_seconds(shop)
    assert 60 * 0.8 - 2 <= delay <= 60 * 1.2 + 2  # backoff_seconds[0] with jitter
    assert cli("sync").stdout.startswith("[")  # not due yet: nothing claimed
    assert queue_rows(shop)[0][1] == "pending"


def test_a_validation_error_fails_at_once(cli, shop, gc_emulator):
    with shop.begin() as conn:  # GestãoClick requires a name
        conn.execute(
            sa.text("INSERT INTO clientes (id, tipo_pessoa, nome, cpf) VALUES (50, 'PF', '', '1')")
        )
    php_enqueue(shop, [50])

    cli("sync")

    [(status, tentativas, processado, processado_em, erro)] = queue_rows(
        shop, "status", "tentativas", "processado", "processado_em", "erro"
    )
    # failed: processado = 1 with processado_em NULL, so PHP neither counts it
    # pending nor processed, and queues the record's next change as a new item
    assert (status, tentativas, processado, processado_em) == ("failed", 1, 1, None)
    assert "O campo nome é obrigatório" in erro


def test_missing_local_record_and_unknown_store_fail_with_their_cause(cli, shop):
    php_enqueue(shop, [404])
    php_enqueue(shop, [1], loja=77)
    php_enqueue(shop, [1], entidade="orcamento")

    cli("sync")

    rows = queue_rows(shop, "status", "erro")
    assert rows[0] == ("failed", "record 404 does not exist in table clientes")
    assert rows[1][0] == "failed" and "store 77 has no active CRM integration" in rows[1][1]
    assert rows[2][0] == "failed" and "entity 'orcamento' is not configured" in rows[2][1]


def test_after_max_attempts_an_item_is_failed_not_processed(cli, shop, gc_emulator, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  max_attempts: 2\n")
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])

    for _ in range(2):
        gc_emulator.add_fault("500")
        with shop.begin() as conn:  # time travel: the retry is due now
            conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))
        assert cli("--config", str(config), "sync").exit_code == 0

    [(status, tentativas, processado, processado_em, erro)] = queue_rows(
        shop, "status", "tentativas", "processado", "processado_em", "erro"
    )
    assert (status, tentativas, processado, processado_em) == ("failed", 2, 1, None)
    assert "failed after 2 attempts" in erro
    with shop.connect() as conn:
        logs = conn.execute(sa.text("SELECT status FROM crm_sync_log")).scalars().all()
    assert logs == ["erro", "erro"]


def test_429_with_retry_after_hands_items_back_without_using_attempts(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    gc_emulator.add_fault("429", retry_after=120)  # longer than the run's time budget

    result = cli("sync")

    assert result.exit_code == 0
    assert "Traceback" not in result.stderr
    assert LINE.match(result.stdout.strip()).groups() == ("0", "0")
    rows = queue_rows(shop, "status", "tentativas", "proximo_retry")
    assert [(s, t) for s, t, _ in rows] == [("pending", 0)] * 3
    assert all(r[2] is not None for r in rows)
    assert gc_emulator.stats()["requests"] == 1  # the paused account sent nothing more


def test_429_that_fits_the_budget_is_waited_out(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)
    gc_emulator.add_fault("429", retry_after=1)

    result = cli("sync")

    assert LINE.match(result.stdout.strip()).groups() == ("2", "0")
    assert gc_emulator.stats()["creates"] == {"clientes": 2}


def test_time_budget_hands_the_rest_back(cli, shop, gc_emulator, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  time_budget_seconds: 1\n  lease_seconds: 30\n")
    gc_emulator.latency_ms = 400
    ids = erp_tables.add_clientes(shop, 8)
    php_enqueue(shop, ids)

    result = cli("--config", str(config), "sync")

    done = int(LINE.match(result.stdout.strip()).group(1))
    assert 1 <= done < 8
    rows = queue_rows(shop, "status", "tentativas")
    assert rows.count(("completed", 1)) == done
    assert rows.count(("pending", 0)) == 8 - done  # handed back with their attempt
    # the operator sees what the summary line does not say
    assert DETAILS.findall(result.stdout)[-1] == f"{8 - done} handed back for a later run"
    with shop.connect() as conn:
        markers = conn.execute(
            sa.text("SELECT COUNT(*) FROM crm_sync_state WHERE create_started_at IS NOT NULL")
        ).scalar()
    assert markers == 0  # records handed back unsent: no "create may have been sent" left


def pace_store_1(cli, gc_emulator, per_second: float) -> None:
    """Store 1 on the GestãoClick emulator, paced at ``per_second`` requests/s."""
    from tests.integration.support import configure_store

    configure_store(
        cli,
        1,
        "gestao_click",
        gc_emulator.credentials,
        api_base_url=gc_emulator.url,
        rate_limit_per_second=per_second,
    )


def test_no_request_waits_for_its_slot_past_the_time_budget(cli, shop, gc_emulator, tmp_path):
    """Paced at 1 request/s with a 2 s budget: the third slot would open after the budget
    ends, so the third item goes back instead of waiting for it (items are read ahead,
    and each must still wait only for what is left of the run)."""
    pace_store_1(cli, gc_emulator, per_second=1)
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  time_budget_seconds: 2\n  lease_seconds: 30\n")
    ids = erp_tables.add_clientes(shop, 5)
    php_enqueue(shop, ids)

    result = cli("--config", str(config), "sync")

    assert LINE.match(result.stdout.strip()).groups() == ("2", "0")
    rows = queue_rows(shop, "status", "tentativas")
    assert rows == [("completed", 1)] * 2 + [("pending", 0)] * 3
    assert gc_emulator.stats()["creates"] == {"clientes": 2}


def test_a_paced_run_commits_each_item_while_the_next_waits_for_its_slot(cli, shop, gc_emulator):
    """Outcomes are committed several at a time, but a wait for a rate-limit slot is
    used to commit what is finished: at each create, every earlier item is recorded."""
    pace_store_1(cli, gc_emulator, per_second=1)
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    completed_at_each_create: list[int] = []

    def count_completed(resource, reply):
        completed = [r for r in queue_rows(shop) if r[1] == "completed"]
        completed_at_each_create.append(len(completed))

    gc_emulator.on_create = count_completed

    result = cli("sync")

    assert LINE.match(result.stdout.strip()).groups() == ("3", "0")
    assert completed_at_each_create == [0, 1, 2]


def test_a_record_changed_from_the_crm_is_sent_as_changed(cli, shop, gc_emulator, tmp_path):
    """Items read ahead never include one whose record an earlier CRM→ERP item rewrites."""
    config = tmp_path / "c.yaml"
    config.write_text("entities:\n  cliente:\n    conflict: crm_vence\n")
    record = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Nome no CRM"})
    [first] = erp_tables.add_clientes(shop, 1)
    add_linked_cliente(shop, 50, record["id"])
    php_enqueue(shop, [first], prioridade=9)  # ERP→CRM, read with what follows it
    php_enqueue(shop, [50], prioridade=8, direcao="crm_para_ecletech")  # takes the CRM's name
    php_enqueue(shop, [50], prioridade=7)  # then sends the record back as it now is

    result = cli("--config", str(config), "sync")

    assert LINE.match(result.stdout.strip()).groups() == ("3", "0")
    with shop.connect() as conn:
        local = conn.execute(sa.text("SELECT nome FROM clientes WHERE id = 50")).scalar()
    assert local == "Nome no CRM"
    assert gc_emulator.records["clientes"][record["id"]]["nome"] == "Nome no CRM"


def test_crm_to_erp_inserts_a_new_local_row(cli, shop, gc_emulator):
    record = gc_emulator.seed(
        "clientes",
        {"tipo_pessoa": "PJ", "nome": "Do CRM", "cnpj": "12.345.678/0001-95", "ativo": "1"},
    )
    result = cli(
        "enqueue",
        "--loja",
        "1",
        "--entity",
        "cliente",
        "--external-id",
        record["id"],
        "--direction",
        "crm_para_ecletech",
    )
    assert result.exit_code == 0, result.stderr

    drain(cli)

    with shop.connect() as conn:
        row = conn.execute(
            sa.text("SELECT id, nome, cnpj, tipo_pessoa, external_id FROM clientes")
        ).one()
        item = conn.execute(sa.text("SELECT status, id_registro FROM crm_sync_queue")).one()
    assert (row.nome, row.cnpj, row.tipo_pessoa, row.external_id) == (
        "Do CRM",
        "12345678000195",
        "PJ",
        record["id"],
    )
    assert (item.status, item.id_registro) == ("completed", row.id)


@pytest.mark.parametrize(
    ("strategy", "expected_nome", "expected_email"),
    [
        ("crm_vence", "Nome no CRM", "crm@example.com"),
        ("ecletech_vence", "Nome local", None),
        ("mesclar", "Nome local", "crm@example.com"),
        ("mais_recente", "Nome local", None),  # the local row is newer
    ],
)
def test_conflict_strategies(
    cli, shop, gc_emulator, tmp_path, strategy, expected_nome, expected_email
):
    config = tmp_path / "c.yaml"
    config.write_text(f"entities:\n  cliente:\n    conflict: {strategy}\n")
    record = gc_emulator.seed(
        "clientes", {"tipo_pessoa": "PF", "nome": "Nome no CRM", "email": "crm@example.com"}
    )
    record["modificado_em"] = "2020-01-01 00:00:00"
    add_linked_cliente(shop, 5, record["id"], modificado_em="2026-01-01 00:00:00")
    php_enqueue(shop, [5], direcao="crm_para_ecletech")

    assert cli("--config", str(config), "sync").exit_code == 0

    with shop.connect() as conn:
        row = conn.execute(sa.text("SELECT nome, email FROM clientes WHERE id = 5")).one()
    assert (row.nome, row.email) == (expected_nome, expected_email)
    assert queue_rows(shop)[0][1] == "completed"


def test_mais_recente_takes_the_crm_copy_when_it_is_newer(cli, shop, gc_emulator, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("entities:\n  cliente:\n    conflict: mais_recente\n")
    record = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Nome no CRM"})
    record["modificado_em"] = "2030-01-01 00:00:00"
    add_linked_cliente(shop, 5, record["id"], modificado_em="2026-01-01 00:00:00")
    php_enqueue(shop, [5], direcao="crm_para_ecletech")

    cli("--config", str(config), "sync")

    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT nome FROM clientes")).scalar() == "Nome no CRM"


def test_dry_run_claims_and_sends_nothing(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)

    result = cli("sync", "--dry-run")

    assert result.exit_code == 0
    assert "#1 loja 1 cliente 1: would create in gestao_click" in result.stdout
    assert '"cpf": "000.000.000-01"' in result.stdout
    assert queue_rows(shop) == [(1, "pending", 0, 0), (2, "pending", 0, 0)]
    assert gc_emulator.stats()["requests"] == 0


def test_sync_now_serves_one_record_without_the_queue(cli, shop, gc_emulator):
    [cid] = erp_tables.add_clientes(shop, 1)

    result = cli("sync", "--now", "--loja", "1", "--entity", "cliente", "--id", str(cid))

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"OK cliente {cid}: created in the CRM")
    assert queue_rows(shop) == []
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM crm_sync_log")).scalar() == 1
    bad = cli("sync", "--now", "--loja", "1", "--entity", "cliente", "--id", "999")
    assert bad.exit_code == 1
    # one line, as every command's errors (not a format of its own)
    [line] = plain(bad.stderr).splitlines()
    assert line == "crm-cli: error: record 999 does not exist in table clientes"


def test_a_failed_log_write_keeps_the_outcome_and_is_reported(cli, shop, gc_emulator):
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    with shop.begin() as conn:
        conn.execute(sa.text("DROP TABLE crm_sync_log"))

    result = cli("sync")

    assert result.exit_code == 1
    assert "ERRO: the sync log could not be written for 1 item(s)" in result.stderr
    assert queue_rows(shop)[0][1] == "completed"
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT external_id FROM clientes")).scalar() is not None


def test_a_log_row_refused_in_a_commit_of_several_costs_only_that_row(cli, shop, gc_emulator):
    ids = erp_tables.add_clientes(shop, 3)
    php_enqueue(shop, ids)
    refuse = f"NEW.id_registro = {ids[1]}"
    with shop.begin() as conn:
        if shop.dialect.name == "sqlite":
            body = f"WHEN {refuse} BEGIN SELECT RAISE(ABORT, 'log refused'); END"
        else:
            body = f"FOR EACH ROW IF {refuse} THEN SIGNAL SQLSTATE '45000'; END IF"
        conn.execute(sa.text(f"CREATE TRIGGER refuse_log BEFORE INSERT ON crm_sync_log {body}"))

    result = cli("sync")

    assert result.exit_code == 1
    assert "ERRO: the sync log could not be written for 1 item(s)" in result.stderr
    assert [r[1] for r in queue_rows(shop)] == ["completed"] * 3
    with shop.connect() as conn:
        logged = conn.execute(sa.text("SELECT id_registro FROM crm_sync_log ORDER BY id"))
        assert logged.scalars().all() == [ids[0], ids[2]]


def test_unreachable_database_is_a_fatal_error_line(bare_cli):
    result = bare_cli("sync", env={"CRM_DATABASE_URL": "mysql+pymysql://root@127.0.0.1:1/x"})

    assert result.exit_code == 1
    assert re.match(
        r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ERRO: database error: cannot connect", result.stderr
    )
    assert "Traceback" not in result.stderr


def test_enqueue_reuses_the_pending_item_and_raises_priority(cli, shop):
    [cid] = erp_tables.add_clientes(shop, 1)

    first = cli(
        "enqueue", "--loja", "1", "--entity", "cliente", "--id", str(cid), "--priority", "2"
    )
    second = cli(
        "enqueue", "--loja", "1", "--entity", "cliente", "--id", str(cid), "--priority", "7"
    )
    lower = cli(
        "enqueue", "--loja", "1", "--entity", "cliente", "--id", str(cid), "--priority", "1"
    )

    assert first.stdout.startswith("Queued item #1")
    assert second.stdout.startswith("Reused pending item #1")
    assert lower.stdout.startswith("Reused pending item #1")
    assert queue_rows(shop, "id", "prioridade") == [(1, 7)]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--loja", "1", "--entity", "pedido", "--id", "1"],
            2,
            "entity 'pedido' is not configured",
        ),
        (
            ["--loja", "9", "--entity", "cliente", "--id", "1"],
            1,
            "store 9 has no CRM configuration",
        ),
        (["--loja", "1", "--entity", "cliente", "--id", "99"], 1, "record 99 does not exist"),
        (["--loja", "1", "--entity", "cliente"], 2, "needs --id"),
        (
            ["--loja", "1", "--entity", "cliente", "--id", "1", "--direction", "x"],
            2,
            "--direction must be one of",
        ),
        (
            ["--loja", "1", "--entity", "cliente", "--id", "1", "--priority", "11"],
            2,
            "Invalid value for '--priority'",
        ),
    ],
)
def test_enqueue_bad_input(cli, shop, args, code, message):
    erp_tables.add_clientes(shop, 1)

    result = cli("enqueue", *args)

    assert result.exit_code == code
    assert message in result.stderr
    assert queue_rows(shop) == []


def test_concurrent_enqueues_of_one_record_make_one_item(shop, db_url):
    [cid] = erp_tables.add_clientes(shop, 1)
    procs = [
        run_cli_process(
            [
                "enqueue",
                "--loja",
                "1",
                "--entity",
                "cliente",
                "--id",
                str(cid),
                "--priority",
                str(p),
            ],
            db_url,
        )
        for p in range(6)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [0] * 6, outputs
    assert queue_rows(shop, "id", "prioridade", "status") == [(1, 5, "pending")]


def test_overlapping_runs_create_every_record_exactly_once(shop, gc_emulator, db_url):
    ids = erp_tables.add_clientes(shop, 1000)
    php_enqueue(shop, ids)

    for _round in range(10):
        procs = [run_cli_process(["sync"], db_url) for _ in range(4)]
        outputs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, outputs
        for out, _err in outputs:
            assert int(LINE.match(out.strip()).group(1)) <= 100
        if all(r[1] == "completed" for r in queue_rows(shop)):
            break
        with shop.begin() as conn:  # what a busy machine handed back is due (time passes)
            conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))

    assert {r[1] for r in queue_rows(shop)} == {"completed"}
    assert gc_emulator.stats()["creates"] == {"clientes": 1000}
    assert len(gc_emulator.records["clientes"]) == 1000
    with shop.connect() as conn:
        # (each run's own line said at most 100; batch_id is PHP v3's, never ours)
        assert conn.execute(sa.text("SELECT COUNT(batch_id) FROM crm_sync_queue")).scalar() == 0
        linked = conn.execute(
            sa.text(
                "SELECT COUNT(DISTINCT external_id) FROM clientes WHERE external_id IS NOT NULL"
            )
        ).scalar()
    assert linked == 1000


def _kill_on_create(emulator, victim_pid: list[int], after: int) -> None:
    """Kill the sync process right after the CRM stored its Nth create, before it answers:
    the window between the CRM's create and the write-back."""

    def kill(resource, reply):
        if emulator.stats()["creates"].get(resource) == after and victim_pid:
            os.kill(victim_pid.pop(), signal.SIGKILL)

    emulator.on_create = kill


def test_a_run_killed_mid_batch_leaves_no_duplicate(shop, gc_emulator, db_url, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  lease_seconds: 3\n  time_budget_seconds: 2\n")
    ids = erp_tables.add_clientes(shop, 10)
    php_enqueue(shop, ids)
    victim: list[int] = []
    _kill_on_create(gc_emulator, victim, after=4)

    proc = run_cli_process(["sync"], db_url, config)
    victim.append(proc.pid)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert [r[1] for r in queue_rows(shop)].count("processing") >= 1

    for _ in range(5):  # later cron runs, once the dead run's lease expired
        expire_leases(shop)
        later = run_cli_process(["sync"], db_url, config)
        later.communicate(timeout=60)
        assert later.returncode == 0
        if all(r[1] == "completed" for r in queue_rows(shop)):
            break

    assert {r[1] for r in queue_rows(shop)} == {"completed"}
    assert gc_emulator.stats()["creates"] == {"clientes": 10}
    with shop.connect() as conn:
        adopted = conn.execute(
            sa.text("SELECT COUNT(*) FROM crm_sync_log WHERE mensagem LIKE '%adopted%'")
        ).scalar()
    # the four created before the kill, their outcomes not yet committed, found by their CPF
    assert adopted == 4


def test_unknown_create_outcome_without_natural_key_fails_instead_of_duplicating(
    shop, gc_emulator, db_url, tmp_path
):
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  lease_seconds: 2\n  time_budget_seconds: 1\n")
    ids = erp_tables.add_clientes(shop, 4, with_document=False)
    php_enqueue(shop, ids)
    victim: list[int] = []
    _kill_on_create(gc_emulator, victim, after=2)

    proc = run_cli_process(["sync"], db_url, config)
    victim.append(proc.pid)
    proc.communicate(timeout=60)

    unfinished = ("pending", "processing")
    for _ in range(5):  # later cron runs, once the dead run's lease expired
        if not {r[1] for r in queue_rows(shop)} & set(unfinished):
            break
        expire_leases(shop)
        run_cli_process(["sync"], db_url, config).communicate(timeout=60)

    rows = queue_rows(shop, "status", "erro")
    assert [status for status, _ in rows] == ["completed", "failed", "completed", "completed"]
    assert "may have created this record in the CRM" in rows[1][1]
    # the records not yet sent when the run died are created, once
    assert gc_emulator.stats()["creates"] == {"clientes": 4}


def test_a_paused_account_does_not_hold_up_other_stores(
    cli, shop, gc_emulator, pd_shop, pd_emulator, store_1_owns_shared_rows
):
    ids = erp_tables.add_clientes(shop, 4)
    php_enqueue(shop, ids[:2], loja=1, prioridade=9)  # GestãoClick first: it will be paused
    php_enqueue(shop, ids[2:], loja=2)
    gc_emulator.add_fault("429", retry_after=600)

    result = cli("sync")

    assert LINE.match(result.stdout.strip()).groups() == ("2", "0")
    rows = queue_rows(shop, "id_loja", "status", "tentativas")
    assert rows == [(1, "pending", 0), (1, "pending", 0), (2, "completed", 1), (2, "completed", 1)]
    assert pd_emulator.stats()["creates"] == {"persons": 2}


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_a_record_another_run_holds_goes_back_untouched(cli, shop, gc_emulator):
    from crm_cli.engine.queue import QueueItem, RecordLocks
    from crm_cli.states import Direction

    ids = erp_tables.add_clientes(shop, 2)
    php_enqueue(shop, ids)
    other_run = RecordLocks(shop)  # another run, working on the first record
    held = QueueItem(1, 1, "cliente", ids[0], Direction.ERP_TO_CRM, 0, 1, None)
    assert other_run.take([held]) == []
    try:
        result = cli("sync")
    finally:
        other_run.close()

    assert result.exit_code == 0, result.stderr
    assert LINE.match(result.stdout.strip()).groups() == ("1", "0")
    # the held record's item is back, attempt intact, due again in a few seconds
    assert queue_rows(shop, "id_registro", "status", "tentativas") == [
        (ids[0], "pending", 0),
        (ids[1], "completed", 1),
    ]
    assert gc_emulator.stats()["creates"] == {"clientes": 1}
    with shop.connect() as conn:
        waits = conn.execute(
            sa.text(
                "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), proximo_retry) - :offset "
                "FROM crm_sync_queue WHERE id_registro = :i"
            ),
            {"i": ids[0], "offset": app_offset_seconds(shop)},  # proximo_retry: the app's clock
        ).scalar_one()
    assert 1 <= waits <= 5


def test_a_record_adopted_by_its_natural_key_is_brought_up_to_date(cli, shop, gc_emulator):
    """An earlier attempt may have died between the create and its answer, or the CRM
    holds someone's older copy: the record found is sent the ERP's data."""
    [cid] = erp_tables.add_clientes(shop, 1)
    with shop.connect() as conn:
        cpf = conn.execute(sa.text("SELECT cpf FROM clientes")).scalar()
    stale = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Old name", "cpf": cpf})
    php_enqueue(shop, [cid])
    with shop.begin() as conn:  # as after a first attempt that died
        conn.execute(sa.text("UPDATE crm_sync_queue SET tentativas = 1"))

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert gc_emulator.stats()["creates"] == {}
    assert gc_emulator.records["clientes"][stale["id"]]["nome"] == "Cliente 1"
    with shop.connect() as conn:
        assert conn.execute(sa.text("SELECT external_id FROM clientes")).scalar() == stale["id"]


@pytest.mark.parametrize("provider", ["gestao_click", "pipedrive"])
@pytest.mark.parametrize(
    ("crm_utc", "erp_sao_paulo", "newer"),
    [
        ("2026-05-01 15:00", "2026-05-01 12:20", "erp"),  # 15:20Z: minutes after the CRM
        ("2026-05-01 15:00", "2026-05-01 11:40", "crm"),  # 14:40Z
        ("2026-05-02 02:00", "2026-05-01 23:50", "erp"),  # 02:50Z: the CRM's day is the next
        ("2026-05-02 03:30", "2026-05-01 23:50", "crm"),  # hours apart, across midnight
    ],
)
def test_mais_recente_takes_the_newer_edit_whatever_the_clocks(
    cli, erp, gc_emulator, pd_emulator, tmp_path, provider, crm_utc, erp_sao_paulo, newer
):
    """Pipedrive's update_time is UTC, GestãoClick's modificado_em Brazilian time, the
    ERP's modificado_em the PHP application's São Paulo wall time: compared as instants."""
    emulator = {"gestao_click": gc_emulator, "pipedrive": pd_emulator}[provider]
    # a busy CI machine may take more than the default half second to answer
    configure_emulated_store(cli, 1, emulator, timeout_seconds=5)
    config = tmp_path / "c.yaml"
    config.write_text("entities:\n  cliente:\n    conflict: mais_recente\n")
    crm_time = dt.datetime.fromisoformat(crm_utc).replace(tzinfo=dt.timezone.utc)
    if provider == "pipedrive":
        record = emulator.seed("persons", {"name": "Nome no CRM"})
        record["update_time"] = crm_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        record = emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Nome no CRM"})
        local = crm_time.astimezone(ZoneInfo("America/Sao_Paulo"))
        record["modificado_em"] = local.strftime("%Y-%m-%d %H:%M:%S")
    add_linked_cliente(erp, 7, str(record["id"]), dt.datetime.fromisoformat(erp_sao_paulo))
    php_enqueue(erp, [7], direcao="crm_para_ecletech")

    result = cli("--config", str(config), "sync")

    assert result.exit_code == 0, result.stderr
    assert queue_rows(erp, "status", "erro") == [("completed", None)]
    with erp.connect() as conn:
        name = conn.execute(sa.text("SELECT nome FROM clientes WHERE id = 7")).scalar()
    assert name == {"erp": "Nome local", "crm": "Nome no CRM"}[newer]


@pytest.mark.parametrize(
    ("crm_utc", "newer"),
    # New York falls back at 2026-11-01 02:00 EDT: the ERP's 01:30 is read as the
    # first 01:30 (EDT, 05:30Z), the wall clock's own reading of an ambiguous time
    [("2026-11-01T05:15:00Z", "erp"), ("2026-11-01T05:45:00Z", "crm")],
)
def test_mais_recente_across_a_dst_change_on_the_erps_clock(
    cli, erp, pd_emulator, tmp_path, crm_utc, newer
):
    configure_emulated_store(cli, 1, pd_emulator)
    config = tmp_path / "c.yaml"
    config.write_text(
        "database:\n  app_time_zone: America/New_York\n"
        "entities:\n  cliente:\n    conflict: mais_recente\n"
    )
    record = pd_emulator.seed("persons", {"name": "Nome no CRM"})
    record["update_time"] = crm_utc
    add_linked_cliente(erp, 7, str(record["id"]), dt.datetime(2026, 11, 1, 1, 30))
    php_enqueue(erp, [7], direcao="crm_para_ecletech")

    result = cli("--config", str(config), "sync")

    assert result.exit_code == 0, result.stderr
    with erp.connect() as conn:
        name = conn.execute(sa.text("SELECT nome FROM clientes WHERE id = 7")).scalar()
    assert name == {"erp": "Nome local", "crm": "Nome no CRM"}[newer]
