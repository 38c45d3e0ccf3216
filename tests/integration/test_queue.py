"""Queue mechanics: claim plan, leases, the old-server fallback, retry policy, DB loss."""

from __future__ import annotations

import signal
import threading

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp as erp_tables
from crm_cli.engine import queue
from tests.integration.support import (
    MARIADB_ONLY,
    expire_leases,
    php_enqueue,
    queue_rows,
    run_cli_process,
)


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_claim_query_uses_the_claim_index_without_filesort(migrated):
    with migrated.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, "
                "prioridade, status) VALUES (:l, 'cliente', :i, 'ecletech_para_crm', :p, :s)"
            ),
            [
                {"l": i % 7, "i": i, "p": i % 11, "s": "pending" if i % 10 == 0 else "completed"}
                for i in range(5000)
            ],
        )
        conn.execute(sa.text("ANALYZE TABLE crm_sync_queue"))
    statement = queue.claim_select(100, bind=migrated).with_for_update(skip_locked=True)
    sql = str(statement.compile(migrated, compile_kwargs={"literal_binds": True}))

    with migrated.connect() as conn:
        plan = conn.execute(sa.text("EXPLAIN " + sql)).mappings().all()

    assert plan[0]["key"] == "idx_claim"
    assert "filesort" not in (plan[0]["Extra"] or "")


def test_a_run_that_lost_its_lease_cannot_overwrite_the_result(shop):
    php_enqueue(shop, [1])
    [mine] = queue.claim(shop, owner="run-a", limit=10, lease_seconds=60)
    with shop.begin() as conn:  # run A's lease expires; run B takes the item
        conn.execute(sa.text("UPDATE crm_sync_queue SET lease_expires_at = '2000-01-01'"))
    queue.recover_expired(shop, max_attempts=3)
    [theirs] = queue.claim(shop, owner="run-b", limit=10, lease_seconds=60)

    with shop.begin() as conn:
        assert not queue.complete(conn, mine, "run-a", 5)
        assert not queue.fail(conn, mine, "run-a", "late")
        assert queue.complete(conn, theirs, "run-b", 5)
    assert queue_rows(shop, "status", "tentativas", "erro") == [("completed", 2, None)]


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_recovering_expired_leases_waits_for_no_item_another_run_is_finishing(shop, db_url):
    """A run starting while another finishes an item must not lock that item: the two
    would wait on each other (a deadlock kills one) or, here, time out."""
    php_enqueue(shop, [1, 2])
    [finishing, dead] = queue.claim(shop, owner="run-a", limit=2, lease_seconds=60)
    with shop.begin() as conn:
        conn.execute(
            sa.text("UPDATE crm_sync_queue SET lease_expires_at = '2000-01-01' WHERE id = :i"),
            {"i": dead.id},
        )
    impatient = sa.create_engine(
        db_url, connect_args={"init_command": "SET SESSION innodb_lock_wait_timeout = 1"}
    )
    with shop.connect() as other_run:
        assert queue.complete(other_run, finishing, "run-a", 5)  # not committed yet

        recovered = queue.recover_expired(impatient, max_attempts=3)

        other_run.commit()
    impatient.dispose()
    assert recovered == (1, 0)
    assert queue_rows(shop, "status") == [("completed",), ("pending",)]


def test_expired_leases_out_of_attempts_become_failed(shop):
    php_enqueue(shop, [1])
    for _ in range(3):  # three runs died holding it
        queue.claim(shop, owner="dead", limit=1, lease_seconds=60)
        with shop.begin() as conn:
            conn.execute(sa.text("UPDATE crm_sync_queue SET lease_expires_at = '2000-01-01'"))
        queue.recover_expired(shop, max_attempts=3)

    [(status, tentativas, erro)] = queue_rows(shop, "status", "tentativas", "erro")
    assert (status, tentativas) == ("failed", 3)
    assert "stopped before finishing" in erro


def test_released_items_get_their_attempt_back(shop):
    php_enqueue(shop, [1, 2])
    items = queue.claim(shop, owner="r", limit=10, lease_seconds=60)

    assert queue.release(shop, items, "r", delay_seconds=30) == 2
    assert queue_rows(shop, "status", "tentativas") == [("pending", 0), ("pending", 0)]
    assert queue.claim(shop, owner="r2", limit=10, lease_seconds=60) == []  # not due for 30 s


def test_concurrent_claims_never_share_an_item(shop, monkeypatch, backend):
    if backend == "mariadb":  # also the GET_LOCK path of servers without SKIP LOCKED
        monkeypatch.setattr(queue.claims, "supports_skip_locked", lambda conn: False)
    php_enqueue(shop, range(1, 301))
    claimed: list[list[int]] = []

    def worker(n: int) -> None:
        claimed.append([i.id for i in queue.claim(shop, owner=f"w{n}", limit=50, lease_seconds=60)])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 300


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_database_lost_mid_run_exits_1_and_a_later_run_finishes_without_duplicates(
    shop, gc_emulator, db_url, tmp_path
):
    from tests.integration.tcpproxy import TcpProxy

    url = sa.engine.make_url(db_url)
    proxy = TcpProxy(url.host, url.port or 3306)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    ids = erp_tables.add_clientes(shop, 6)
    php_enqueue(shop, ids)

    def cut_on_third(resource, reply):
        if gc_emulator.stats()["creates"][resource] == 3:
            proxy.cut()  # the database goes away while the CRM answers the 3rd create

    gc_emulator.on_create = cut_on_third
    config = tmp_path / "c.yaml"
    config.write_text("sync:\n  lease_seconds: 3\n  time_budget_seconds: 2\n")
    proc = run_cli_process(["sync"], proxied, config)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 1, (out, err)
    assert "] ERRO: database error" in err
    assert "Traceback" not in err
    created = set(gc_emulator.records["clientes"])
    with shop.connect() as conn:
        done = (
            conn.execute(
                sa.text("SELECT external_id FROM crm_sync_queue WHERE status = 'completed'")
            )
            .scalars()
            .all()
        )
    assert set(done) <= created  # nothing completed that was not sent

    gc_emulator.on_create = None
    for _ in range(5):  # later cron runs, once the dead run's leases expired
        if {r[1] for r in queue_rows(shop)} == {"completed"}:
            break
        expire_leases(shop)
        run_cli_process(["sync"], db_url, config).communicate(timeout=60)
    assert [r[1] for r in queue_rows(shop)] == ["completed"] * 6
    # those sent before the cut are found by their CPF, not created again
    assert gc_emulator.stats()["creates"] == {"clientes": 6}
    assert proc.returncode != -signal.SIGKILL
