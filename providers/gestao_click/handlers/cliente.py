"""ERP ``clientes`` ↔ GestãoClick ``/clientes`` (natural key: cpf_cnpj)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import (
    date_or_none,
    date_text,
    digits,
    digits_or_none,
    flag,
    format_cnpj,
    format_cpf,
    format_phone,
    text,
    text_or_none,
)
from crm_cli.providers.fields import active, sent

_PLAIN = ("nome", "razao_social", "inscricao_estadual", "inscricao_municipal", "rg", "email")


def _tipo(row: Mapping[str, Any]) -> str:
    tipo = row.get("tipo_pessoa")
    if tipo in ("PF", "PJ", "ES"):  # ES: estrangeiro, a foreign client
        return tipo
    return "PJ" if digits(row.get("cnpj")) and not digits(row.get("cpf")) else "PF"


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = {key: text(row.get(key)) for key in _PLAIN}
    record.update(
        tipo_pessoa=_tipo(row),
        cpf=format_cpf(row.get("cpf")),
        cnpj=format_cnpj(row.get("cnpj")),
        data_nascimento=date_text(row.get("data_nascimento")),
        telefone=format_phone(row.get("telefone")),
        celular=format_phone(row.get("celular")),
        ativo=flag(row.get("ativo")),
    )
    return record


_FIELDS = (
    *((key, key, text_or_none) for key in _PLAIN),
    ("cpf", "cpf", digits_or_none),
    ("cnpj", "cnpj", digits_or_none),
    ("data_nascimento", "data_nascimento", date_or_none),
    ("telefone", "telefone", digits_or_none),
    ("celular", "celular", digits_or_none),
    ("ativo", "ativo", active),
)


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the record holds (a key it lacks is left out)."""
    row = sent(record, _FIELDS)
    if record.get("tipo_pessoa") in ("PF", "PJ", "ES"):  # the ERP's ENUM has all three
        row["tipo_pessoa"] = record["tipo_pessoa"]
    return row


def _document(values: Mapping[str, Any]) -> str:
    return digits(values.get("cpf")) or digits(values.get("cnpj"))


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    document = _document(row)
    return {"cpf_cnpj": document} if document else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return bool(_document(row)) and _document(record) == _document(row)
