"""``full-sync`` queues what changed since it was last sent, behind the live changes."""

from __future__ import annotations

import re

import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import php_enqueue, queue_rows


def _touch(database, ids, hour: int, **values) -> None:
    """The PHP screen saves the rows at ``hour``: modificado_em moves (its clock), and
    the values may change."""
    sets = ", ".join(["modificado_em = :t", *(f"{k} = :{k}" for k in values)])
    with database.begin() as conn:
        for record in ids:
            conn.execute(
                sa.text(f"UPDATE clientes SET {sets} WHERE id = :i"),
                {"i": record, "t": f"2026-12-01 {hour:02d}:00:00", **values},
            )


def _queued(result) -> int:
    return int(re.search(r"\): (\d+) of", result.stdout).group(1))


def test_full_sync_queues_only_rows_changed_since_they_were_last_sent(cli, shop, gc_emulator):
    ids = sample_erp.add_clientes(shop, 5)
    _touch(shop, ids, hour=9)
    php_enqueue(shop, ids)
    assert cli("sync").exit_code == 0  # all five sent, as they are

    unchanged = cli("full-sync", "--entity", "cliente")
    assert _queued(unchanged) == 0 and "5 unchanged since last sent" in unchanged.stdout
    assert {s for (s,) in queue_rows(shop, "status")} == {"completed"}

    _touch(shop, ids[:2], hour=10, nome="Outro nome")  # two edited
    changed = cli("full-sync", "--entity", "cliente")
    assert _queued(changed) == 2 and "3 unchanged since last sent" in changed.stdout
    assert cli("sync").exit_code == 0
    assert gc_emulator.stats()["creates"] == {"clientes": 5}

    every = cli("full-sync", "--entity", "cliente", "--all")
    assert _queued(every) == 5


def test_a_row_saved_without_a_change_is_not_queued_again(cli, shop, gc_emulator):
    ids = sample_erp.add_clientes(shop, 2)
    _touch(shop, ids, hour=9)
    php_enqueue(shop, ids)
    cli("sync")
    _touch(shop, ids[:1], hour=10)  # saved again, same data: modificado_em moves
    assert _queued(cli("full-sync", "--entity", "cliente")) == 1
    requests = gc_emulator.stats()["requests"]
    cli("sync")  # unchanged payload: nothing sent, the new modificado_em remembered

    assert gc_emulator.stats()["requests"] == requests
    assert _queued(cli("full-sync", "--entity", "cliente")) == 0


def test_live_changes_go_before_a_full_sync_backlog_of_their_priority(cli, shop, gc_emulator):
    ids = sample_erp.add_clientes(shop, 150)
    cli("full-sync", "--entity", "cliente")  # 150 items of backlog, priority 0
    [live] = sample_erp.add_clientes(shop, 1, start=151)
    php_enqueue(shop, [live])  # the PHP application's change, queued later, priority 0

    assert cli("sync", "--limit", "1").exit_code == 0

    done = [r for r, s in queue_rows(shop, "id_registro", "status") if s == "completed"]
    assert done == [live]
    with shop.connect() as conn:  # what the PHP application's statements read is as ever
        bulk = conn.execute(
            sa.text("SELECT COUNT(*) FROM crm_sync_queue WHERE bulk = 1 AND prioridade = 0")
        ).scalar()
    assert bulk == len(ids)


def _on_update_current_timestamp(database) -> None:
    """clientes.modificado_em moves on every UPDATE, as the real table's ON UPDATE
    CURRENT_TIMESTAMP does (SQLite has no such clause: a trigger does it)."""
    with database.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                sa.text(
                    "CREATE TRIGGER clientes_on_update AFTER UPDATE ON clientes "
                    "WHEN NEW.modificado_em IS OLD.modificado_em BEGIN "
                    "UPDATE clientes SET modificado_em = datetime('now', '+1 hour') "
                    "WHERE id = NEW.id; END"
                )
            )
        else:
            conn.execute(
                sa.text(
                    "ALTER TABLE clientes MODIFY modificado_em TIMESTAMP NULL "
                    "DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"
                )
            )


def test_the_external_id_written_back_is_not_a_change_to_send(cli, shop, gc_emulator):
    _on_update_current_timestamp(shop)
    ids = sample_erp.add_clientes(shop, 3)
    _touch(shop, ids, hour=9)
    php_enqueue(shop, ids)
    assert cli("sync").exit_code == 0  # created: the external id written back moves the column

    with shop.connect() as conn:
        stamps = conn.execute(sa.text("SELECT modificado_em FROM clientes")).scalars().all()
    assert all(not str(s).startswith("2026-12-01 09:00") for s in stamps)  # it did move
    again = cli("full-sync", "--entity", "cliente")
    assert _queued(again) == 0 and "3 unchanged since last sent" in again.stdout
