"""Several stores on one database: a CRM record is only ever written by the ERP row, and
the store, it belongs to (per-store links, the external_id column's owner, exact
adoption, a sale's client by the store's link)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import configure_emulated_store, php_enqueue, queue_rows

OWNED_BY_STORE_1 = """\
entities:
  cliente:
    external_id_store: 1
  produto:
    external_id_store: 1
  venda:
    store_column: loja_id
"""


@pytest.fixture
def two_stores(cli, erp, gc_emulator, gc_emulator_b, tmp_path, monkeypatch):
    """Store 1 on one GestãoClick account, store 2 on another whose CRM already holds 50
    clients and products (so the two CRMs' ids never coincide), sharing the ERP's rows."""
    config = tmp_path / "crm-cli.yaml"
    config.write_text(OWNED_BY_STORE_1)
    monkeypatch.setenv("CRM_CONFIG", str(config))
    for n in range(50):
        gc_emulator_b.seed("clientes", {"tipo_pessoa": "PF", "nome": f"Outro {n}"})
        gc_emulator_b.seed("produtos", {"nome": f"Outro {n}", "codigo_interno": f"X{n}"})
    configure_emulated_store(cli, 1, gc_emulator)
    configure_emulated_store(cli, 2, gc_emulator_b)
    return config


def drain(cli, runs: int = 10) -> None:
    for _ in range(runs):
        result = cli("sync")
        assert result.exit_code == 0, result.stderr
        if "Processados: 0 | Erros: 0" in result.stdout:
            return


def linked(database, loja: int, entidade: str, record_id: int) -> str | None:
    with database.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT external_id FROM crm_sync_state "
                "WHERE id_loja = :l AND entidade = :e AND id_registro = :i"
            ),
            {"l": loja, "e": entidade, "i": record_id},
        ).scalar()


def column(database, table: str, record_id: int, name: str = "external_id"):
    with database.connect() as conn:
        return conn.execute(
            sa.text(f"SELECT {name} FROM {table} WHERE id = :i"), {"i": record_id}
        ).scalar()


def request_ids(emulator, resource: str) -> set[str]:
    """The record ids the CRM's requests named in their paths (PUT /clientes/7 …)."""
    pattern = re.compile(rf"^/{resource}/([^/]+)$")
    return {m[1] for _method, path, _body in emulator.journal if (m := pattern.match(path))}


def test_two_stores_on_two_accounts_each_keep_their_own_records(
    cli, erp, gc_emulator, gc_emulator_b, two_stores
):
    clients = sample_erp.add_clientes(erp, 3)
    products = sample_erp.add_produtos(erp, 2)
    sale_1 = sample_erp.add_venda(
        erp, "1001", [(products[0], 1, 10.0)], cliente_id=clients[0], loja_id=1, situacao_venda_id=1
    )
    sale_2 = sample_erp.add_venda(
        erp, "1002", [(products[1], 2, 5.0)], cliente_id=clients[1], loja_id=2, situacao_venda_id=1
    )
    for entity in ("cliente", "produto", "venda"):
        queued = cli("full-sync", "--entity", entity)
        assert queued.exit_code == 0, queued.stderr

    drain(cli)

    assert {r[1] for r in queue_rows(erp)} == {"completed"}, [
        r
        for r in queue_rows(erp, "id", "entidade", "id_loja", "status", "erro")
        if r[3] != "completed"
    ]
    crm_a, crm_b = gc_emulator.records, gc_emulator_b.records
    assert (len(crm_a["clientes"]), len(crm_a["produtos"])) == (3, 2)
    assert (len(crm_b["clientes"]), len(crm_b["produtos"])) == (53, 52)  # 50 were there
    assert [s["codigo"] for s in crm_a["vendas"].values()] == ["1001"]  # sales per store
    assert [s["codigo"] for s in crm_b["vendas"].values()] == ["1002"]
    for cliente in clients:
        a, b = linked(erp, 1, "cliente", cliente), linked(erp, 2, "cliente", cliente)
        assert a in crm_a["clientes"] and b in crm_b["clientes"]
        assert column(erp, "clientes", cliente) == a  # the PHP application's view: store 1's
    # each sale names its client and products by its own CRM's ids
    [sent_b] = crm_b["vendas"].values()
    assert sent_b["cliente_id"] == linked(erp, 2, "cliente", clients[1])
    assert [str(p["produto"]["produto_id"]) for p in sent_b["produtos"]] == [
        linked(erp, 2, "produto", products[1])
    ]
    assert column(erp, "vendas", sale_2, "cliente_external_id") == sent_b["cliente_id"]
    assert column(erp, "vendas", sale_1) in crm_a["vendas"]

    # an ERP edit reaches both CRMs, each through its own id, creating nothing
    with erp.begin() as conn:
        conn.execute(
            sa.text("UPDATE clientes SET nome = 'Renomeado' WHERE id = :i"), {"i": clients[0]}
        )
    php_enqueue(erp, [clients[0]], loja=1)
    php_enqueue(erp, [clients[0]], loja=2)
    drain(cli)
    assert crm_a["clientes"][linked(erp, 1, "cliente", clients[0])]["nome"] == "Renomeado"
    assert crm_b["clientes"][linked(erp, 2, "cliente", clients[0])]["nome"] == "Renomeado"
    assert (len(crm_a["clientes"]), len(crm_b["clientes"])) == (3, 53)
    assert request_ids(gc_emulator, "clientes") <= set(crm_a["clientes"])
    assert request_ids(gc_emulator_b, "clientes") <= set(crm_b["clientes"])


def sent_by_both_stores(cli, erp, count: int) -> list[int]:
    """``count`` new ERP clients, sent to both stores' CRMs."""
    clients = sample_erp.add_clientes(erp, count)
    php_enqueue(erp, clients, loja=1)
    php_enqueue(erp, clients, loja=2)
    drain(cli)
    return clients


def test_a_record_changed_in_the_second_stores_crm_comes_back_to_its_own_row(
    cli, erp, gc_emulator, gc_emulator_b, two_stores
):
    clients = sent_by_both_stores(cli, erp, 2)
    theirs = linked(erp, 2, "cliente", clients[1])
    gc_emulator_b.records["clientes"][theirs]["nome"] = "Mudou no CRM B"

    php_enqueue(erp, [clients[1]], loja=2, direcao="crm_para_ecletech")
    drain(cli)

    assert column(erp, "clientes", clients[1], "nome") == "Mudou no CRM B"
    assert column(erp, "clientes", clients[0], "nome") == "Cliente 1"  # the neighbour
    assert column(erp, "clientes", clients[1]) == linked(erp, 1, "cliente", clients[1])


def test_a_crm_item_naming_only_an_external_id_finds_the_row_by_its_own_stores_link(
    cli, erp, gc_emulator, gc_emulator_b, two_stores
):
    clients = sent_by_both_stores(cli, erp, 2)
    theirs = linked(erp, 2, "cliente", clients[0])
    gc_emulator_b.records["clientes"][theirs]["nome"] = "Pelo CRM B"
    with erp.begin() as conn:  # as the PHP application queues a webhook's record
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, external_id, direcao) "
                "VALUES (2, 'cliente', :x, 'crm_para_ecletech')"
            ),
            {"x": theirs},
        )

    drain(cli)

    assert column(erp, "clientes", clients[0], "nome") == "Pelo CRM B"
    with erp.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() == 2


def test_existing_external_ids_stay_the_owning_stores(
    cli, erp, gc_emulator, gc_emulator_b, two_stores
):
    """A shop that synced store 1 before links (or through the PHP application): its
    external_id column holds store 1's ids. Store 1 updates them; store 2 creates its own."""
    [cliente] = sample_erp.add_clientes(erp, 1)
    record = gc_emulator.seed(
        "clientes", {"tipo_pessoa": "PF", "nome": "Velho", "cpf": "00000000001"}
    )
    with erp.begin() as conn:
        conn.execute(
            sa.text("UPDATE clientes SET external_id = :x WHERE id = :i"),
            {"x": record["id"], "i": cliente},
        )
    php_enqueue(erp, [cliente], loja=1)
    php_enqueue(erp, [cliente], loja=2)

    drain(cli)

    assert gc_emulator.stats()["creates"] == {}  # store 1 updated the record it had
    assert gc_emulator.records["clientes"][record["id"]]["nome"] == "Cliente 1"
    assert gc_emulator_b.stats()["creates"] == {"clientes": 1}
    assert linked(erp, 1, "cliente", cliente) == record["id"]
    assert linked(erp, 2, "cliente", cliente) != record["id"]
    assert column(erp, "clientes", cliente) == record["id"]


def test_no_owner_for_shared_rows_is_said_up_front_and_holds_only_that_entity(
    cli, erp, gc_emulator, gc_emulator_b, tmp_path, monkeypatch
):
    config = tmp_path / "crm-cli.yaml"
    config.write_text("entities:\n  venda:\n    store_column: loja_id\n")
    monkeypatch.setenv("CRM_CONFIG", str(config))
    configure_emulated_store(cli, 1, gc_emulator)
    second = cli(
        "config",
        "set",
        "--loja",
        "2",
        "--provider",
        "gestao_click",
        "--credentials-file",
        "-",
        "--setting",
        f"api_base_url={gc_emulator_b.url}",
        "--setting",
        "rate_limit_per_second=0",
        input='{"access_token": "demo-access-token", "secret_access_token": "demo-secret-token"}',
    )
    assert second.exit_code == 0, second.stderr
    assert "set entities.cliente.external_id_store" in second.stderr
    assert "set entities.produto.external_id_store" in second.stderr
    assert "entities.venda" not in second.stderr  # vendas.loja_id says whose each sale is

    clients = sample_erp.add_clientes(erp, 1)
    full = cli("full-sync", "--entity", "cliente")
    assert full.exit_code == 0
    assert full.stdout.count("skipped, stores 1, 2 are on different CRM accounts") == 2
    assert queue_rows(erp) == []

    php_enqueue(erp, clients, loja=1)  # queued by the PHP application all the same
    [product] = sample_erp.add_produtos(erp, 1)
    result = cli("sync")
    assert result.exit_code == 0
    [(status, attempts, why)] = queue_rows(erp, "status", "tentativas", "erro_mensagem")
    assert (status, attempts) == ("pending", 0)
    assert "set entities.cliente.external_id_store" in why
    assert gc_emulator.stats()["requests"] == 0
    assert "store 1: its items wait" in result.stderr

    # the store's other entities are not held: once settled, clients go too
    config.write_text(OWNED_BY_STORE_1)
    with erp.begin() as conn:
        conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))
    php_enqueue(erp, [product], entidade="produto", loja=1)
    drain(cli)
    assert {r[1] for r in queue_rows(erp)} == {"completed"}


# -- exact adoption: two rows, one natural key ------------------------------------------


def two_rows_one_cpf(database) -> tuple[int, int]:
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO clientes (id, tipo_pessoa, nome, cpf) VALUES "
                "(1, 'PF', 'Primeiro', '00000000077'), (2, 'PF', 'Segundo', '000.000.000-77')"
            )
        )
    return 1, 2


def retry_now(database) -> None:
    with database.begin() as conn:  # time travel past the item's backoff
        conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))


def test_a_lost_create_is_adopted_by_the_row_that_made_it_not_by_its_twin(cli, shop, gc_emulator):
    first, second = two_rows_one_cpf(shop)
    php_enqueue(shop, [first])
    cli("sync")
    mine = linked(shop, 1, "cliente", first)
    lost = []

    def lose_the_answer(resource, reply):  # stored, but the client never hears of it
        if not lost:
            lost.append(reply.body["data"]["id"])
            raise ConnectionError("the answer is lost on the way back")

    gc_emulator.on_create = lose_the_answer
    php_enqueue(shop, [second])
    cli("sync")
    gc_emulator.on_create = None
    retry_now(shop)

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert queue_rows(shop, "status")[-1] == ("completed",)
    assert linked(shop, 1, "cliente", second) == lost[0]  # its own, not its twin's
    assert gc_emulator.records["clientes"][mine]["nome"] == "Primeiro"
    assert len(gc_emulator.records["clientes"]) == 2


def test_a_row_whose_key_is_its_twins_fails_naming_both_and_writes_nothing(cli, shop, gc_emulator):
    first, second = two_rows_one_cpf(shop)
    php_enqueue(shop, [first])
    cli("sync")
    mine = linked(shop, 1, "cliente", first)
    gc_emulator.add_fault("drop")  # the create may or may not have reached the CRM
    php_enqueue(shop, [second])
    cli("sync")
    retry_now(shop)
    before = gc_emulator.stats()["by_status"]

    cli("sync")

    [status, erro] = queue_rows(shop, "status", "erro")[-1]
    assert status == "failed"  # at once: no retry can tell the two rows apart
    assert erro.startswith("cliente 2 shares its natural key with cliente 1: the CRM's ")
    assert "nothing was sent" in erro
    assert gc_emulator.records["clientes"][mine]["nome"] == "Primeiro"
    assert len(gc_emulator.records["clientes"]) == 1
    assert gc_emulator.stats()["by_status"].get("200", 0) - before.get("200", 0) == 1  # the search


def test_migrate_links_the_external_ids_the_erp_holds_to_their_store(
    cli, erp, gc_emulator, two_stores
):
    clients = sample_erp.add_clientes(erp, 3)
    with erp.begin() as conn:  # as the PHP application (or crm-cli before links) left them
        for cliente in clients[:2]:
            conn.execute(
                sa.text("UPDATE clientes SET external_id = :x WHERE id = :i"),
                {"x": f"gc-{cliente}", "i": cliente},
            )
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_state (id_loja, entidade, id_registro, external_id) "
                "VALUES (1, 'cliente', :i, 'kept')"
            ),
            {"i": clients[1]},
        )

    result = cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert "clientes.external_id: 1 existing CRM id(s) linked to their store" in result.stdout
    assert linked(erp, 1, "cliente", clients[0]) == f"gc-{clients[0]}"
    assert linked(erp, 1, "cliente", clients[1]) == "kept"  # a store's own link stays
    assert linked(erp, 1, "cliente", clients[2]) is None  # no external id: nothing to link
    assert linked(erp, 2, "cliente", clients[0]) is None  # the other store's are its own
    again = cli("migrate")
    assert "linked to their store" not in again.stdout


# -- a sale's seller: the store's map of ERP sellers to CRM users ----------------------

SELLER_FIELD = {
    "gestao_click": ("vendas", lambda sale: sale.get("vendedor_id")),
    "pipedrive": ("deals", lambda deal: deal.get("owner_id")),
    "bling": ("pedidos/vendas", lambda order: (order.get("vendedor") or {}).get("id")),
}
SHOPS = {
    "gestao_click": ("gc_emulator", 1),
    "pipedrive": ("pd_emulator", 2),
    "bling": ("bling_emulator", 3),
}


@pytest.mark.parametrize("provider", list(SELLER_FIELD))
def test_a_sales_seller_goes_as_the_crms_user_the_store_maps_and_comes_back(
    request, cli, erp, provider
):
    fixture, loja = SHOPS[provider]
    emulator = request.getfixturevalue(fixture)
    if provider == "bling":
        request.getfixturevalue("bling_shop")
        cli(
            "config",
            "set",
            "--loja",
            "3",
            "--provider",
            "bling",
            "--setting",
            'vendedores={"3": "77"}',
        )
    else:
        configure_emulated_store(cli, loja, emulator, vendedores={"3": "77"})
    [cliente] = sample_erp.add_clientes(erp, 1)
    [produto] = sample_erp.add_produtos(erp, 1)
    sold = sample_erp.add_venda(
        erp, "501", [(produto, 1, 10.0)], cliente_id=cliente, vendedor_id=3, situacao_venda_id=1
    )
    unmapped = sample_erp.add_venda(
        erp, "502", [(produto, 1, 10.0)], cliente_id=cliente, vendedor_id=4, situacao_venda_id=1
    )
    php_enqueue(erp, [cliente], loja=loja)
    php_enqueue(erp, [produto], entidade="produto", loja=loja)
    php_enqueue(erp, [sold, unmapped], entidade="venda", loja=loja)
    drain(cli)

    resource, seller_of = SELLER_FIELD[provider]
    [sent] = emulator.records[resource].values()
    assert str(seller_of(sent)) == "77"
    [(_s1, _e1), (status, erro)] = queue_rows(erp, "status", "erro")[-2:]
    assert status == "failed"
    assert "vendedor_id 4 has no" in erro and "configuracoes.vendedores" in erro

    php_enqueue(erp, [sold], entidade="venda", loja=loja, direcao="crm_para_ecletech")
    drain(cli)
    assert column(erp, "vendas", sold, "vendedor_id") == 3
    assert column(erp, "vendas", sold, "cliente_id") == cliente
