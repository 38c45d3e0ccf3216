"""``crm-cli pull``: an edit made in each CRM reaches the ERP in one run, asking only
for what changed, and nothing crm-cli wrote comes back (no ping-pong)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.support import php_enqueue, queue_rows


@dataclass(frozen=True)
class Crm:
    """One provider as the tests edit it: its store, its resource and name field."""

    shop: str  # the fixture of the shop whose store is on it
    emulator: str
    loja: int
    resource: str
    name: str

    def seed(self, emulator: Any, n: int) -> dict:
        record = {self.name: f"CRM {n}"}
        if self.emulator == "gc_emulator":
            record.update(tipo_pessoa="PF", cpf=f"9{n:010d}")
        if self.emulator == "bling_emulator":
            record.update(numeroDocumento=f"9{n:010d}", tipo="F")
        if self.emulator == "pd_emulator":
            record.update(emails=[{"value": f"p{n}@example.com", "primary": True}])
        return emulator.seed(self.resource, record)


CRMS = [
    Crm("shop", "gc_emulator", 1, "clientes", "nome"),
    Crm("pd_shop", "pd_emulator", 2, "persons", "name"),
    Crm("bling_shop", "bling_emulator", 3, "contatos", "nome"),
]


@pytest.fixture(params=CRMS, ids=lambda c: c.emulator.split("_")[0])
def crm(request):
    """(provider, ERP database, emulator) with 30 clients imported and a first pull made."""
    chosen: Crm = request.param
    database = request.getfixturevalue(chosen.shop)
    emulator = request.getfixturevalue(chosen.emulator)
    cli = request.getfixturevalue("cli")
    records = [chosen.seed(emulator, n) for n in range(30)]
    hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    for record in records:  # a catalogue older than the pull's overlap, as a shop's is
        emulator.backdate(chosen.resource, record["id"], hour_ago)
    imported = cli("import", "--entity", "cliente", "--loja", str(chosen.loja))
    assert imported.exit_code == 0, imported.stderr
    first = cli("pull", "--loja", str(chosen.loja), "--entity", "cliente")
    assert first.exit_code == 0, first.stderr
    scan_due(database)
    return chosen, database, emulator, records


def scan_due(database) -> None:
    """The last read finished long ago: a scan (GestãoClick) is due again."""
    with database.begin() as conn:
        conn.execute(sa.text("UPDATE crm_pull_state SET finished_at = '2000-01-01 00:00:00'"))


def erp_name(database, external_id) -> str | None:
    with database.connect() as conn:
        return conn.execute(
            sa.text("SELECT nome FROM clientes WHERE external_id = :x"), {"x": str(external_id)}
        ).scalar()


def requests_of(emulator) -> int:
    return emulator.stats()["requests"]


def writes_of(emulator) -> int:
    """Creates and updates the CRM took."""
    return sum(n for k, n in emulator.counters.items() if k.startswith(("create:", "update:")))


def test_an_edit_in_the_crm_reaches_the_erp_in_one_pull(cli, crm):
    provider, database, emulator, records = crm
    emulator.edit(provider.resource, records[7]["id"], **{provider.name: "Editado no CRM"})
    before = requests_of(emulator)

    result = cli("pull", "--loja", str(provider.loja), "--entity", "cliente")

    assert result.exit_code == 0, result.stderr
    assert "Pull: 1 applied (0 held already)" in result.stdout
    assert erp_name(database, records[7]["id"]) == "Editado no CRM"
    assert erp_name(database, records[8]["id"]) == "CRM 8"
    spent = requests_of(emulator) - before
    if provider.emulator == "gc_emulator":  # no change filter: its 2 pages, read whole
        assert spent == 2
    else:  # the changed records only: one list (+ Bling's detail of the one record)
        assert spent == (2 if provider.emulator == "bling_emulator" else 1)


def test_what_the_pull_wrote_is_not_sent_back(cli, crm):
    provider, database, emulator, records = crm
    emulator.edit(provider.resource, records[3]["id"], **{provider.name: "Do CRM"})
    cli("pull", "--loja", str(provider.loja), "--entity", "cliente")
    writes = writes_of(emulator)

    queued = cli("full-sync", "--entity", "cliente", "--loja", str(provider.loja))
    with database.connect() as conn:
        row_id = conn.execute(
            sa.text("SELECT id FROM clientes WHERE external_id = :x"), {"x": str(records[3]["id"])}
        ).scalar()
    php_enqueue(database, [row_id], loja=provider.loja)  # as if the PHP screen saved it
    synced = cli("sync")
    again = cli("pull", "--loja", str(provider.loja), "--entity", "cliente")

    assert "0 of 30 cliente rows queued (30 unchanged" in queued.stdout
    assert synced.exit_code == 0, synced.stderr
    assert writes_of(emulator) == writes  # nothing sent back to the CRM
    assert "Pull: 0 applied" in again.stdout
    with database.connect() as conn:
        message = conn.execute(
            sa.text("SELECT mensagem FROM crm_sync_log WHERE direcao = 'ecletech_para_crm'")
        ).scalar()
    assert message.endswith("unchanged since the last sync; nothing sent")


def test_what_sync_sent_does_not_come_back_as_a_write(cli, crm):
    provider, database, _emulator, records = crm
    with database.begin() as conn:
        row_id = conn.execute(
            sa.text("SELECT id FROM clientes WHERE external_id = :x"), {"x": str(records[5]["id"])}
        ).scalar()
        conn.execute(
            sa.text("UPDATE clientes SET nome = 'Do ERP', modificado_em = :t WHERE id = :i"),
            {"t": "2026-12-01 10:00:00", "i": row_id},
        )
    php_enqueue(database, [row_id], loja=provider.loja)
    assert cli("sync").exit_code == 0

    result = cli("pull", "--loja", str(provider.loja), "--entity", "cliente")

    assert result.exit_code == 0, result.stderr
    assert "(1 held already)" in result.stdout or "Pull: 0 applied" in result.stdout
    assert erp_name(database, records[5]["id"]) == "Do ERP"
    assert queue_rows(database, "status") == [("completed",)]  # nothing queued by the pull
    with database.connect() as conn:
        written = conn.execute(
            sa.text("SELECT modificado_em FROM clientes WHERE id = :i"), {"i": row_id}
        ).scalar()
        logged = (
            conn.execute(
                sa.text(
                    "SELECT mensagem FROM crm_sync_log WHERE mensagem LIKE 'pull:%' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
    assert str(written).startswith("2026-12-01 10:00:00")  # the row was not written
    assert all("nothing written" in m for m in logged), logged


def test_a_record_changed_on_both_sides_is_logged_as_such(cli, crm):
    provider, database, emulator, records = crm
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE clientes SET nome = 'No ERP', modificado_em = :t WHERE external_id = :x"
            ),
            {"t": "2026-12-01 11:00:00", "x": str(records[2]["id"])},
        )
    emulator.edit(provider.resource, records[2]["id"], **{provider.name: "No CRM"})

    cli("pull", "--loja", str(provider.loja), "--entity", "cliente")

    with database.connect() as conn:
        status, message = conn.execute(
            sa.text("SELECT status, mensagem FROM crm_sync_log WHERE mensagem LIKE 'pull:%'")
        ).one()
    assert status == "alerta"
    assert "changed on both sides" in message and "crm_vence" in message
    assert erp_name(database, records[2]["id"]) == "No CRM"  # crm_vence decided


def test_a_run_applies_at_most_its_batch_and_the_next_goes_on(cli, pd_shop, pd_emulator):
    people = [
        pd_emulator.seed("persons", {"name": f"P{n}", "emails": [{"value": f"p{n}@x.com"}]})
        for n in range(130)
    ]
    cli("import", "--entity", "cliente", "--loja", "2")
    cli("pull", "--loja", "2", "--entity", "cliente")
    for person in people:
        pd_emulator.edit("persons", person["id"], name=f"Novo {person['id']}")

    first = cli("pull", "--loja", "2", "--entity", "cliente")
    began = pull_state(pd_shop)["read_started_at"]
    second = cli("pull", "--loja", "2", "--entity", "cliente")

    # the watermark moves to the moment the read began, in its first run: not later
    assert began is not None and when(pull_state(pd_shop)["watermark"]) == when(began)
    assert pull_state(pd_shop)["read_started_at"] is None
    assert "Pull: 100 applied" in first.stdout
    assert "more to read next run: loja 2 cliente" in first.stdout
    assert "Pull: 30 applied" in second.stdout
    with pd_shop.connect() as conn:
        names = conn.execute(sa.text("SELECT nome FROM clientes")).scalars().all()
    assert sorted(names) == sorted(f"Novo {p['id']}" for p in people)


def when(value) -> dt.datetime:
    """A DATETIME as the driver gives it (SQLite: text)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def pull_state(database) -> dict:
    with database.connect() as conn:
        return dict(conn.execute(sa.text("SELECT * FROM crm_pull_state")).one()._mapping)


def test_a_store_read_by_another_run_is_left_to_it(cli, pd_shop, pd_emulator):
    cli("pull", "--loja", "2", "--entity", "cliente")
    with pd_shop.begin() as conn:  # another run holds the lease
        conn.execute(
            sa.text("UPDATE crm_pull_state SET leased_until = :t"), {"t": "2999-01-01 00:00:00"}
        )
    before = requests_of(pd_emulator)

    result = cli("pull", "--loja", "2", "--entity", "cliente")

    assert result.exit_code == 0, result.stderr
    assert "loja 2 cliente: being read by another run" in result.stdout
    assert requests_of(pd_emulator) == before


def test_one_stores_trouble_leaves_the_others_pulling(cli, pd_shop, pd_emulator, bling_emulator):
    from tests.integration.support import configure_emulated_store

    configure_emulated_store(cli, 3, bling_emulator)
    cli("pull", "--entity", "cliente")
    person = pd_emulator.seed("persons", {"name": "Ana", "emails": [{"value": "a@x.com"}]})
    bling_emulator.add_fault("500", count=10)

    result = cli("pull", "--entity", "cliente")

    assert "Pull: 1 applied" in result.stdout
    assert "loja 3 cliente:" in result.stderr
    with pd_shop.connect() as conn:  # linked by store 2 (two accounts: no one's column)
        linked = conn.execute(
            sa.text(
                "SELECT c.nome FROM clientes c JOIN crm_sync_state s ON s.id_registro = c.id "
                "WHERE s.id_loja = 2 AND s.external_id = :x"
            ),
            {"x": str(person["id"])},
        ).scalar()
    assert linked == "Ana"


def test_an_unknown_entity_or_store_is_one_line(cli, pd_shop):
    entity = cli("pull", "--entity", "nada")
    store = cli("pull", "--loja", "77")

    assert entity.exit_code == 2 and "nada" in entity.stderr
    assert store.exit_code != 0 and "store 77" in store.stderr
    assert "Traceback" not in entity.stderr + store.stderr


def test_a_crm_without_a_change_filter_is_scanned_once_per_interval(cli, shop, gc_emulator):
    cli("pull", "--loja", "1", "--entity", "cliente")  # a first scan, just finished
    client = gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Nova", "cpf": "1"})
    before = requests_of(gc_emulator)

    resting = cli("pull", "--loja", "1", "--entity", "cliente")
    assert requests_of(gc_emulator) == before  # sync.pull_scan_minutes not over: no request
    assert "Pull: 0 applied" in resting.stdout
    scan_due(shop)
    scanned = cli("pull", "--loja", "1", "--entity", "cliente")

    assert "Pull: 1 applied" in scanned.stdout
    assert erp_name(shop, client["id"]) == "Nova"


def test_edited_deals_come_back_with_their_products_in_two_requests(cli, pd_shop, pd_emulator):
    from crm_cli.demo import sample_erp

    [pid] = sample_erp.add_produtos(pd_shop, 1)
    [cid] = sample_erp.add_clientes(pd_shop, 1)
    php_enqueue(pd_shop, [pid], entidade="produto", loja=2)
    php_enqueue(pd_shop, [cid], loja=2)
    cli("sync")
    sales = [
        sample_erp.add_venda(pd_shop, f"V-{n}", [(pid, 2, 30.0)], cliente_id=cid) for n in range(3)
    ]
    php_enqueue(pd_shop, sales, entidade="venda", loja=2)
    assert cli("sync").exit_code == 0
    cli("pull", "--loja", "2", "--entity", "venda")
    for deal in pd_emulator.records["deals"].values():
        pd_emulator.edit("deals", deal["id"], title=f"{deal['title']} (editado)")
    before = requests_of(pd_emulator)

    result = cli("pull", "--loja", "2", "--entity", "venda")

    assert "Pull: 3 applied" in result.stdout
    assert requests_of(pd_emulator) - before == 2  # the deals, then their products at once
    products = [e for e in pd_emulator.exchanges if e.path == "/api/v2/deals/products"]
    assert len(products[-1].query["deal_ids"]) == 3
    with pd_shop.connect() as conn:
        items = conn.execute(sa.text("SELECT COUNT(*) FROM vendas_itens")).scalar()
    assert items == 3  # each sale keeps its item


def test_since_reads_again_from_that_day(cli, pd_shop, pd_emulator):
    person = pd_emulator.seed("persons", {"name": "Ana", "emails": [{"value": "a@x.com"}]})
    pd_emulator.backdate("persons", person["id"], dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc))
    cli("pull", "--loja", "2", "--entity", "cliente")  # starts now: Ana is older
    assert erp_name_by_link(pd_shop, person["id"]) is None

    again = cli("pull", "--loja", "2", "--entity", "cliente", "--since", "2026-01-01")
    bad = cli("pull", "--since", "ontem")

    assert "Pull: 1 applied" in again.stdout
    assert erp_name_by_link(pd_shop, person["id"]) == "Ana"
    assert bad.exit_code == 2 and "--since must be a date YYYY-MM-DD" in bad.stderr


def erp_name_by_link(database, external_id) -> str | None:
    with database.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT c.nome FROM clientes c JOIN crm_sync_state s ON s.id_registro = c.id "
                "WHERE s.entidade = 'cliente' AND s.external_id = :x"
            ),
            {"x": str(external_id)},
        ).scalar()
