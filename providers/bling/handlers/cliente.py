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


def _document(values: Mapping[str, Any]) -> str:
    return digits(values.get("cpf")) or digits(values.get("cnpj"))


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    pj = row.get("tipo_pessoa") == "PJ" or (digits(row.get("cnpj")) and not digits(row.get("cpf")))
    return {
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
        "dadosAdicionais": {"dataNascimento": date_text(row.get("data_nascimento"))},
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    pj = record.get("tipo") == "J"
    document = digits_or_none(record.get("numeroDocumento"))
    extra = (
        record.get("dadosAdicionais") if isinstance(record.get("dadosAdicionais"), Mapping) else {}
    )
    row: dict[str, Any] = {
        "nome": text_or_none(
            record.get("fantasia") if pj and record.get("fantasia") else record.get("nome")
        ),
        "razao_social": text_or_none(record.get("nome")) if pj else None,
        "cpf": None if pj else document,
        "cnpj": document if pj else None,
        "email": text_or_none(record.get("email")),
        "telefone": digits_or_none(record.get("telefone")),
        "celular": digits_or_none(record.get("celular")),
        "inscricao_estadual": text_or_none(record.get("ie")),
        "rg": text_or_none(record.get("rg")),
        "data_nascimento": date_or_none(extra.get("dataNascimento")),
        "ativo": 0 if record.get("situacao") in ("I", "E") else 1,
    }
    if record.get("tipo") in ("F", "J", "E"):  # E: estrangeiro (the ERP's ES)
        row["tipo_pessoa"] = {"F": "PF", "J": "PJ", "E": "ES"}[record["tipo"]]
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    document = _document(row)
    return {"numeroDocumento": document} if document else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return bool(_document(row)) and digits(record.get("numeroDocumento")) == _document(row)
