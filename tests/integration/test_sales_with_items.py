"""Sales go to the CRM with their line items, in the account's own ids (issue 17).

Against the GestãoClick emulator, which refuses a sale without produtos, with
an unknown product or situação, or with pagamentos that do not add up.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import configure_emulated_store, php_enqueue, queue_rows


def _client_in_crm(gc_emulator) -> str:
    return gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": "Ana"})["id"]


def _sale(shop, gc_emulator, codigo: str, items, **values) -> int:
    values.setdefault("situacao_venda_id", 1)
    values.setdefault("cliente_external_id", _client_in_crm(gc_emulator))
    return sample_erp.add_venda(shop, codigo, items, **values)


def _crm_sale(gc_emulator, codigo: str) -> dict:
    [sale] = [s for s in gc_emulator.records["vendas"].values() if s["codigo"] == codigo]
    return sale


def test_a_sale_goes_with_its_items_and_a_payment_of_its_total(cli, shop, gc_emulator):
    p1, p2 = sample_erp.add_produtos(shop, 2)
    php_enqueue(shop, [p1, p2], entidade="produto")
    sale = _sale(shop, gc_emulator, "1", [(p1, 2, 10.0), (p2, 1.5, 4.0)], frete=5.0)
    php_enqueue(shop, [sale], entidade="venda")

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert {r[1] for r in queue_rows(shop)} == {"completed"}
    with shop.connect() as conn:
        crm_ids = dict(conn.execute(sa.text("SELECT id, external_id FROM produtos")).all())
    sent = _crm_sale(gc_emulator, "1")
    assert [
        (i["produto"]["produto_id"], i["produto"]["quantidade"], i["produto"]["valor_total"])
        for i in sent["produtos"]
    ] == [(int(crm_ids[p1]), "2", "20.00"), (int(crm_ids[p2]), "1.5", "6.00")]
    assert [p["pagamento"]["valor"] for p in sent["pagamentos"]] == ["31.00"]
    assert sent["valor_total"] == "31.00"


def test_a_sale_whose_product_is_not_in_the_crm_waits_for_it_and_queues_it(cli, shop, gc_emulator):
    [product] = sample_erp.add_produtos(shop, 1)
    sale = _sale(shop, gc_emulator, "2", [(product, 1, 10.0)])
    [other] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [sale], entidade="venda")
    php_enqueue(shop, [other])  # a neighbour: goes as usual

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert gc_emulator.stats()["creates"].get("vendas") is None  # never sent without it
    rows = queue_rows(shop, "entidade", "id_registro", "status", "erro_mensagem")
    venda = [r for r in rows if r[0] == "venda"]
    assert venda[0][2] == "pending" and "waits for product(s)" in venda[0][3]
    assert ("cliente", other, "completed", None) in rows
    assert [r[2] for r in rows if r[0] == "produto"] == ["pending"]  # queued for it

    cli("sync")  # the next run sends the product; the sale is in its backoff
    with shop.begin() as conn:  # the sale's backoff is over
        conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))
    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert {r[2] for r in queue_rows(shop, "entidade", "id_registro", "status")} == {"completed"}
    assert len(_crm_sale(gc_emulator, "2")["produtos"]) == 1


def test_a_product_earlier_in_the_same_run_lets_its_sale_go_in_that_run(cli, shop, gc_emulator):
    [product] = sample_erp.add_produtos(shop, 1)
    sale = _sale(shop, gc_emulator, "3", [(product, 3, 2.5)])
    php_enqueue(shop, [product], entidade="produto", prioridade=9)
    php_enqueue(shop, [sale], entidade="venda")

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert [r[1] for r in queue_rows(shop)] == ["completed", "completed"]
    assert _crm_sale(gc_emulator, "3")["pagamentos"][0]["pagamento"]["valor"] == "7.50"


def test_an_item_naming_no_product_fails_its_sale_only(cli, shop, gc_emulator):
    [product] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [product], entidade="produto")
    cli("sync")
    bad = _sale(shop, gc_emulator, "4", [(product, 1, 1.0)])
    good = _sale(shop, gc_emulator, "5", [(product, 1, 1.0)])
    with shop.begin() as conn:
        conn.execute(
            sa.text("UPDATE vendas_itens SET produto_id = NULL WHERE venda_id = :v"), {"v": bad}
        )
    php_enqueue(shop, [bad, good], entidade="venda")

    cli("sync")

    rows = queue_rows(shop, "id_registro", "status", "erro_mensagem")
    assert rows[-2][1] == "failed" and "names no product" in rows[-2][2]
    assert rows[-1][1:] == ("completed", None)


def test_situacoes_are_the_accounts_own_ids(cli, shop, gc_emulator):
    configure_emulated_store(cli, 1, gc_emulator, situacoes_venda={"10": "2", "11": "3"})
    [product] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [product], entidade="produto")
    cli("sync")
    mapped = _sale(shop, gc_emulator, "6", [(product, 1, 1.0)], situacao_venda_id=10)
    unmapped = _sale(shop, gc_emulator, "7", [(product, 1, 1.0)], situacao_venda_id=12)
    php_enqueue(shop, [unmapped, mapped], entidade="venda")

    cli("sync")

    assert _crm_sale(gc_emulator, "6")["situacao_id"] == "2"
    rows = queue_rows(shop, "id_registro", "status", "erro_mensagem")
    [refused] = [r for r in rows if r[0] == unmapped]
    assert refused[1] == "failed" and "situacoes_venda" in refused[2]

    # and back: the CRM's situação 3 is the ERP's 11
    _crm_sale(gc_emulator, "6")["situacao_id"] = "3"
    php_enqueue(shop, [mapped], entidade="venda", direcao="crm_para_ecletech")
    cli("sync")
    with shop.connect() as conn:
        situacao = conn.execute(
            sa.text("SELECT situacao_venda_id FROM vendas WHERE id = :v"), {"v": mapped}
        ).scalar()
    assert situacao == 11


def test_a_price_change_reaches_the_price_type_not_a_field_put_ignores(cli, shop, gc_emulator):
    [product] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [product], entidade="produto")
    cli("sync")
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE produtos SET valor_venda = 99.90"))
    php_enqueue(shop, [product], entidade="produto")

    cli("sync")

    [record] = gc_emulator.records["produtos"].values()
    assert [v["valor_venda"] for v in record["valores"]] == ["99.90"]
    assert {r[1] for r in queue_rows(shop)} == {"completed"}


def test_several_price_types_need_the_setting_naming_one(cli, shop, gc_emulator):
    gc_emulator.price_types.append({"id": "2", "nome": "Atacado"})
    [product] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [product], entidade="produto")
    cli("sync")
    with shop.begin() as conn:
        conn.execute(sa.text("UPDATE produtos SET valor_venda = 50"))
    php_enqueue(shop, [product], entidade="produto")

    cli("sync")

    [last] = queue_rows(shop, "status", "erro_mensagem")[-1:]
    assert last[0] == "failed"
    assert "1 (Varejo), 2 (Atacado)" in last[1] and "price_type_id" in last[1]

    configure_emulated_store(cli, 1, gc_emulator, price_type_id="2")
    php_enqueue(shop, [product], entidade="produto")
    cli("sync")
    [record] = gc_emulator.records["produtos"].values()
    prices = {v["tipo_id"]: v["valor_venda"] for v in record["valores"]}
    assert prices["2"] == "50.00" and prices["1"] != "50.00"


def _items(shop, sale: int) -> list[tuple]:
    with shop.connect() as conn:
        return [
            (r.produto_id, r.produto_external_id, float(r.quantidade), float(r.valor_total))
            for r in conn.execute(
                sa.text("SELECT * FROM vendas_itens WHERE venda_id = :v ORDER BY id"), {"v": sale}
            )
        ]


def _synced_sale(cli, shop, gc_emulator) -> tuple[int, int, str]:
    [product] = sample_erp.add_produtos(shop, 1)
    php_enqueue(shop, [product], entidade="produto")
    cli("sync")
    sale = _sale(shop, gc_emulator, "8", [(product, 1, 10.0)])
    php_enqueue(shop, [sale], entidade="venda")
    cli("sync")
    with shop.connect() as conn:
        crm_id = conn.execute(sa.text("SELECT external_id FROM produtos")).scalar()
    return sale, product, crm_id


def test_the_crm_s_items_come_back_into_vendas_itens(cli, shop, gc_emulator):
    sale, product, crm_id = _synced_sale(cli, shop, gc_emulator)
    other = gc_emulator.seed("produtos", {"nome": "X", "codigo_interno": "X1", "valor_custo": "1"})
    _crm_sale(gc_emulator, "8")["produtos"] = [
        {
            "produto": {
                "produto_id": int(crm_id),
                "quantidade": "4",
                "valor_venda": "10.00",
                "valor_total": "40.00",
            }
        },
        {
            "produto": {
                "produto_id": int(other["id"]),
                "quantidade": "1",
                "valor_venda": "5.00",
                "valor_total": "5.00",
            }
        },
    ]
    php_enqueue(shop, [sale], entidade="venda", direcao="crm_para_ecletech")

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    # a product the ERP does not have yet keeps its CRM id, and no produtos id
    assert _items(shop, sale) == [(product, crm_id, 4.0, 40.0), (None, other["id"], 1.0, 5.0)]


def test_the_erp_s_items_stay_when_the_erp_wins(cli, shop, gc_emulator, tmp_path):
    sale, _product, _crm_id = _synced_sale(cli, shop, gc_emulator)
    before = _items(shop, sale)
    _crm_sale(gc_emulator, "8")["produtos"] = []
    config = tmp_path / "crm.yaml"
    config.write_text("entities:\n  venda:\n    conflict: ecletech_vence\n", encoding="utf-8")
    php_enqueue(shop, [sale], entidade="venda", direcao="crm_para_ecletech")

    result = cli("--config", str(config), "sync")

    assert result.exit_code == 0, result.stderr
    assert _items(shop, sale) == before
