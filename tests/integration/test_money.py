"""The money invariant: a sale is worth the same in the ERP, in the CRM and back.

For every provider, a sale as the PHP sale screen saves it — several items,
quantities with decimals, cents, an item discount, freight and a sale discount:
the ERP's ``valor_total`` = the CRM's total as the CRM itself computes it (the
emulators compute it as the official sources say) = the ERP's ``valor_total``
after the sale is read back; and the ERP's figures still add up as its sale
screen computes them (ModelVenda::calcularTotais: valor_produtos = Σ items,
valor_total = valor_produtos + valor_frete − desconto_valor).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import php_enqueue, queue_rows

STORES = {"gestao_click": 1, "pipedrive": 2, "bling": 3}
SHOPS = {"gestao_click": "gc_store", "pipedrive": "pd_freight", "bling": "bling_shop"}
# (quantidade, valor_venda, desconto_valor, valor_total) as the ERP stores them
ITEMS = [
    (Decimal("2.5"), Decimal("19.90"), Decimal("0.75"), Decimal("49.00")),
    (Decimal("3"), Decimal("10.01"), None, Decimal("30.03")),
    (Decimal("0.333"), Decimal("9.99"), None, Decimal("3.33")),  # 3.32667, rounded up
]
FREIGHT, DISCOUNT = Decimal("12.50"), Decimal("1.55")
GOODS = sum(item[3] for item in ITEMS)  # 82.36
TOTAL = GOODS + FREIGHT - DISCOUNT  # 93.31


@pytest.fixture(params=list(STORES))
def shop(request, erp):
    request.getfixturevalue(SHOPS[request.param])
    return request.param, erp


def _sale(cli, database, loja: int) -> int:
    """Client, products and the sale, the client and products already in the CRM."""
    [client] = sample_erp.add_clientes(database, 1)
    products = sample_erp.add_produtos(database, len(ITEMS))
    php_enqueue(database, [client], loja=loja)
    php_enqueue(database, products, entidade="produto", loja=loja)
    assert cli("sync").exit_code == 0
    with database.begin() as conn:
        sale = conn.execute(
            sa.insert(sample_erp.vendas).values(
                codigo="795",
                cliente_id=client,
                situacao_venda_id=1,
                data_venda=sa.func.current_date(),
                valor_produtos=GOODS,
                valor_frete=FREIGHT,
                desconto_valor=DISCOUNT,
                valor_total=TOTAL,
            )
        ).inserted_primary_key[0]
        conn.execute(
            sa.insert(sample_erp.vendas_itens),
            [
                {
                    "venda_id": sale,
                    "produto_id": product,
                    "nome_produto": f"Produto {n}",
                    "quantidade": quantity,
                    "valor_venda": price,
                    "desconto_valor": discount,
                    "valor_total": total,
                }
                for n, (product, (quantity, price, discount, total)) in enumerate(
                    zip(products, ITEMS, strict=True)
                )
            ],
        )
    return int(sale)


def _crm_total(provider: str, emulators: dict) -> Decimal:
    """The sale's total as the CRM computed it."""
    if provider == "gestao_click":
        [sale] = emulators[provider].records["vendas"].values()
        return Decimal(sale["valor_total"])
    if provider == "pipedrive":
        [deal] = emulators[provider].records["deals"].values()
        return Decimal(str(deal["value"]))
    [order] = emulators[provider].records["pedidos/vendas"].values()
    return Decimal(str(order["total"]))


def _erp(database, sale: int) -> dict:
    with database.connect() as conn:
        row = (
            conn.execute(sa.select(sample_erp.vendas).where(sample_erp.vendas.c.id == sale))
            .one()
            ._mapping
        )
        items = conn.execute(
            sa.select(sample_erp.vendas_itens.c.valor_total).where(
                sample_erp.vendas_itens.c.venda_id == sale
            )
        ).scalars()
        return {**row, "items": sum((Decimal(str(i)) for i in items), Decimal(0))}


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def test_a_sale_is_worth_the_same_in_the_erp_in_the_crm_and_back(
    cli, shop, gc_emulator, pd_emulator, bling_emulator
):
    provider, database = shop
    emulators = {"gestao_click": gc_emulator, "pipedrive": pd_emulator, "bling": bling_emulator}
    loja = STORES[provider]
    sale = _sale(cli, database, loja)

    php_enqueue(database, [sale], entidade="venda", loja=loja)
    assert cli("sync").exit_code == 0
    assert {r[0] for r in queue_rows(database, "status")} == {"completed"}, queue_rows(
        database, "status", "erro_mensagem"
    )
    assert _crm_total(provider, emulators) == TOTAL

    php_enqueue(database, [sale], entidade="venda", loja=loja, direcao="crm_para_ecletech")
    assert cli("sync").exit_code == 0
    assert {r[0] for r in queue_rows(database, "status")} == {"completed"}

    back = _erp(database, sale)
    assert _money(back["valor_total"]) == TOTAL
    assert _money(back["valor_frete"]) == FREIGHT
    # the ERP's figures add up as its sale screen computes them
    assert _money(back["valor_produtos"]) == _money(back["items"])
    total = back["valor_produtos"] + back["valor_frete"] - (back["desconto_valor"] or 0)
    assert _money(total) == TOTAL


def test_a_sale_above_its_items_and_freight_is_refused_naming_the_figures(
    cli, shop, bling_emulator
):
    provider, database = shop
    loja = STORES[provider]
    sale = _sale(cli, database, loja)
    with database.begin() as conn:
        conn.execute(
            sa.update(sample_erp.vendas)
            .where(sample_erp.vendas.c.id == sale)
            .values(valor_total=Decimal("100.00"))
        )

    php_enqueue(database, [sale], entidade="venda", loja=loja)
    cli("sync")

    [(status, error)] = [
        (s, e)
        for s, e, ent in queue_rows(database, "status", "erro_mensagem", "entidade")
        if ent == "venda"
    ]
    if provider == "bling":  # the excess goes as the order's outrasDespesas
        assert status == "completed"
        [order] = bling_emulator.records["pedidos/vendas"].values()
        # items at their gross prices (83.11: the item discount lies inside the
        # order's) + freight 12.50 + 4.39 = 100.00
        assert (order["total"], order["outrasDespesas"]) == (100.0, 4.39)
    else:
        assert status == "failed"
        assert "valor_total 100.00 is more than its items and freight (94.86)" in error


def test_items_coming_back_recompute_the_erps_sum_of_items(cli, gc_store, erp, gc_emulator):
    """An item removed in the CRM: vendas.valor_produtos follows vendas_itens."""
    sale = _sale(cli, erp, 1)
    php_enqueue(erp, [sale], entidade="venda", loja=1)
    assert cli("sync").exit_code == 0
    [record] = gc_emulator.records["vendas"].values()
    record["produtos"] = record["produtos"][:1]  # only the 49.00 item is left
    record["valor_total"] = "59.95"  # 49.00 + 12.50 − 1.55, as GestãoClick computes it

    php_enqueue(erp, [sale], entidade="venda", loja=1, direcao="crm_para_ecletech")
    assert cli("sync").exit_code == 0

    back = _erp(erp, sale)
    assert (_money(back["items"]), _money(back["valor_produtos"])) == (Decimal("49.00"),) * 2
    assert _money(back["valor_total"]) == Decimal("59.95")
