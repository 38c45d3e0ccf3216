"""ERP ``atividades`` ↔ Pipedrive activities.

Columns read from the ERP's ``atividades`` table: titulo, tipo, data_vencimento,
hora_vencimento, duracao, descricao, concluida, cliente_external_id,
venda_external_id. Activities have no search in Pipedrive, so no natural key:
a create whose outcome is unknown is failed for a person to check, never repeated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import date_or_none, date_text, digits, flag, text, text_or_none


def _id(value: Any) -> int | None:
    d = digits(value)
    return int(d) if d else None


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "subject": text(row.get("titulo")),
        "type": text(row.get("tipo")) or "task",
        "done": flag(row.get("concluida") if row.get("concluida") is not None else 0) == "1",
        "note": text(row.get("descricao")),
    }
    if row.get("data_vencimento"):
        record["due_date"] = date_text(row.get("data_vencimento"))
    if row.get("hora_vencimento"):
        record["due_time"] = str(row.get("hora_vencimento"))[:5]
    for column, field in (("cliente_external_id", "person_id"), ("venda_external_id", "deal_id")):
        if _id(row.get(column)) is not None:
            record[field] = _id(row.get(column))
    return record


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "titulo": text_or_none(record.get("subject")),
        "tipo": text_or_none(record.get("type")),
        "data_vencimento": date_or_none(record.get("due_date")),
        "descricao": text_or_none(record.get("note")),
        "concluida": 1 if record.get("done") in (True, 1, "1", "true") else 0,
        "cliente_external_id": text_or_none(record.get("person_id")),
        "venda_external_id": text_or_none(record.get("deal_id")),
    }


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    return None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return False
