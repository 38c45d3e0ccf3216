"""ERP ``clientes`` ↔ Bling ``/contatos`` (natural key: numeroDocumento, digits only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import (
    date_or_none,
    date_text,
    digits,
    digits_or_none,
    flag,
    text,
    text_or_none,
)

# on_delete: deactivate sends the row with ativo 0 (situacao "I"): nothing more
INACTIVE: dict[str, Any] = {}


def is_deleted(record: Mapping[str, Any]) -> bool:
    """situacao "E": moved to Bling's deleted records (criterio "Excluídos")."""
    return record.get("situacao") == "E"


def _document(values: Mapping[str, Any]) -> str:
    return digits(values.get("cpf")) or digits(values.get("cnpj"))


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    pj = row.get("tipo_pessoa") == "PJ" or (digits(row.get("cnpj")) and not digits(row.get("cpf")))
    record = {
        "nome": text(
            row.get("razao_social") if pj and row.get("razao_social") else row.get("nome")
        ),
        "fantasia": text(row.get("nome")) if pj else "",
        "tipo": "E" if row.get("tipo_pessoa") == "ES" else ("J" if pj else "F"),
        "numeroDocumento": _document(row),
        "situacao": "A" if flag(row.get("ativo")) == "1" else "I",
        "email": text(row.get("email")),
        "telefone": digits(row.get("telefone")),
        "celular": digits(row.get("celular")),
        "ie": text(row.get("inscricao_estadual")),
        "rg": text(row.get("rg")),
    }
    if date_text(row.get("data_nascimento")):  # a date in the schema: never ""
        record["dadosAdicionais"] = {"dataNascimento": date_text(row.get("data_nascimento"))}
    return record


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the record holds, and only that.

    Bling's list items carry a subset of a contact (id, nome, codigo, situacao,
    numeroDocumento, telefone, celular; provider-apis.md §3): a field the CRM
    did not send is left out, so it never overwrites the ERP's value with None.
    """
    kind = record.get("tipo")
    document = digits_or_none(record.get("numeroDocumento"))
    if kind not in ("F", "J", "E") and document:  # a list item: its document tells
        kind = "J" if len(document) == 14 else "F"
    pj = kind == "J"
    row: dict[str, Any] = {}
    if "nome" in record or "fantasia" in record:
        row["nome"] = text_or_none(
            record.get("fantasia") if pj and record.get("fantasia") else record.get("nome")
        )
        if pj and "nome" in record:
            row["razao_social"] = text_or_none(record.get("nome"))
    if "numeroDocumento" in record:
        row["cpf"] = None if pj else document
        row["cnpj"] = document if pj else None
    for column, field in (("email", "email"), ("inscricao_estadual", "ie"), ("rg", "rg")):
        if field in record:
            row[column] = text_or_none(record.get(field))
    for column in ("telefone", "celular"):
        if column in record:
            row[column] = digits_or_none(record.get(column))
    extra = record.get("dadosAdicionais")
    if isinstance(extra, Mapping) and "dataNascimento" in extra:
        row["data_nascimento"] = date_or_none(extra.get("dataNascimento"))
    if "situacao" in record:
        row["ativo"] = 0 if record.get("situacao") in ("I", "E") else 1
    if kind in ("F", "J", "E"):  # E: estrangeiro (the ERP's ES)
        row["tipo_pessoa"] = {"F": "PF", "J": "PJ", "E": "ES"}[kind]
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    document = _document(row)
    return {"numeroDocumento": document} if document else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return bool(_document(row)) and digits(record.get("numeroDocumento")) == _document(row)
