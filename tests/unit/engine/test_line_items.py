"""``crm_cli.engine.line_items``: when a CRM's items are the ERP's own."""

from __future__ import annotations

from decimal import Decimal

from crm_cli.engine.line_items import same_lines

ERP = [
    {"id": 1, "venda_id": 5, "produto_id": 3, "quantidade": Decimal("2.000"), "desconto": None},
    {"id": 2, "venda_id": 5, "produto_id": 4, "quantidade": Decimal("1.500"), "desconto": 0},
]


def test_the_same_items_compare_equal_on_what_the_crm_sent():
    crm = [
        {"produto_id": 3, "quantidade": "2", "desconto": 0},  # 0 for the ERP's NULL
        {"produto_id": 4, "quantidade": 1.5, "desconto": ""},
    ]
    assert same_lines(ERP, crm)


def test_a_changed_quantity_an_extra_or_a_missing_item_differ():
    assert not same_lines(ERP, [{"produto_id": 3, "quantidade": "3"}, {"produto_id": 4}])
    assert not same_lines(ERP, [{"produto_id": 3, "quantidade": "2"}])
    assert not same_lines(ERP[:1], [{"produto_id": 3}, {"produto_id": 9}])


def test_the_order_of_the_items_counts():
    crm = [{"produto_id": 4, "quantidade": "1.5"}, {"produto_id": 3, "quantidade": "2"}]
    assert not same_lines(ERP, crm)


def test_no_items_on_either_side():
    assert same_lines([], [])
    assert not same_lines([], [{"produto_id": 3}])
