"""ERP ``clientes`` ↔ Pipedrive persons (natural key: e-mail, via the persons search).

The CPF/CNPJ goes to a custom field only when the store names one
(``configuracoes.document_field``): the handler hands it over as ``_document``
and the client places it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import digits, text, text_or_none


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    # The ERP's nome (a PJ's trade name) both ways: the razão social has no
    # person field, and sending it as the name would come back over nome.
    record: dict[str, Any] = {"name": text(row.get("nome"))}
    email = text(row.get("email")).strip()
    if email:
        record["emails"] = [{"value": email, "primary": True, "label": "work"}]
    phones = [p for p in (digits(row.get("celular")), digits(row.get("telefone"))) if p]
    if phones:
        record["phones"] = [
            {"value": p, "primary": i == 0, "label": "mobile" if i == 0 else "work"}
            for i, p in enumerate(phones)
        ]
    document = digits(row.get("cpf")) or digits(row.get("cnpj"))
    if document:
        record["_document"] = document
    return record


def _values(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i.get("value") if isinstance(i, Mapping) else i) for i in items if i]


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the person holds (a key it lacks is left out)."""
    row: dict[str, Any] = {}
    if "name" in record:
        row["nome"] = text_or_none(record.get("name"))
    if "emails" in record:
        emails = _values(record.get("emails"))
        row["email"] = emails[0] if emails else None
    if "phones" in record:
        phones = _values(record.get("phones"))
        row["celular"] = digits(phones[0]) or None if phones else None
        row["telefone"] = digits(phones[1]) or None if len(phones) > 1 else None
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    email = text(row.get("email")).strip()
    return {"term": email, "fields": "email", "exact_match": "true"} if email else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    email = text(row.get("email")).strip().lower()
    return bool(email) and email in [e.lower() for e in _values(record.get("emails"))]


def is_deleted(record: Mapping[str, Any]) -> bool:
    """v2's ``is_deleted``: deleted, kept 30 days before it is gone."""
    return record.get("is_deleted") is True
