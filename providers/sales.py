"""A sale's money as the CRMs that work a total out themselves see it."""

from __future__ import annotations

from decimal import Decimal

from crm_cli.errors import ValidationFailed
from crm_cli.providers.brazil import money


def discount_to_total(goods: Decimal, freight: Decimal, total: Decimal, how: str) -> Decimal:
    """The sale's discount that makes a CRM's own total (``goods`` + ``freight`` −
    discount) the ERP's ``total``. A total above goods and freight cannot be a
    discount: the sale is refused, naming both figures and ``how`` the CRM computes."""
    discount = goods + freight - total
    if discount < 0:
        raise ValidationFailed(
            f"the sale's valor_total {money(total)} is more than its items and freight "
            f"({money(goods + freight)}), and {how}: correct the sale's items or total in "
            "the ERP"
        )
    return discount
