"""Reading a CRM record into ERP columns: only what the record holds.

A key the CRM did not send (a list endpoint's subset, an older API version)
is left out of the row, so it never overwrites the ERP's value with None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from crm_cli.providers.brazil import flag

Field = tuple[str, str, Callable[[Any], Any]]  # (ERP column, CRM key, conversion)


def sent(record: Mapping[str, Any], fields: Iterable[Field]) -> dict[str, Any]:
    """ERP column → converted value, for each of ``fields`` whose CRM key ``record`` holds."""
    return {column: convert(record.get(key)) for column, key, convert in fields if key in record}


# A sale's seller as the ERP names it (vendas.vendedor_id), handed by the venda
# handlers to their client, which sends the CRM's user for it (BaseClient.seller).
SELLER = "_vendedor_id"


def active(value: Any) -> int:
    """A CRM's "1"/"0" (or true/false) as the ERP's ``ativo``."""
    return 1 if flag(value) == "1" else 0
