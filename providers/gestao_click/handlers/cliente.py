"""ERP ``clientes`` ↔ GestãoClick ``/clientes`` (natural key: cpf_cnpj).

Phones go in the Brazilian mask GestãoClick's screens show, except a foreign
client's (``tipo_pessoa`` ES, [GC-DOC] provider-apis.md §1.8) and any number
written with another country's code ("+1 212 555 0100"): those go, and come
back, as written; masking their digits would make another number.
"""

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

# on_delete: deactivate sends the row with ativo 0 (its "ativo" field): nothing more
INACTIVE: dict[str, Any] = {}

_PLAIN = ("nome", "razao_social", "inscricao_estadual", "inscricao_municipal", "rg", "email")


def _tipo(row: Mapping[str, Any]) -> str:
    tipo = row.get("tipo_pessoa")
    if tipo in ("PF", "PJ", "ES"):  # ES: estrangeiro, a foreign client
        return tipo
    return "PJ" if digits(row.get("cnpj")) and not digits(row.get("cpf")) else "PF"


def _foreign(tipo: Any, phone: Any) -> bool:
    written = text(phone).strip()
    return tipo == "ES" or (written.startswith("+") and not written.startswith("+55"))


def _phone_out(row: Mapping[str, Any], key: str) -> str:
    if _foreign(_tipo(row), row.get(key)):
        return text(row.get(key)).strip()
    return format_phone(row.get(key))


def _phone_in(record: Mapping[str, Any], key: str) -> str | None:
    if _foreign(record.get("tipo_pessoa"), record.get(key)):
        return text_or_none(text(record.get(key)).strip())
    return digits_or_none(record.get(key))


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = {key: text(row.get(key)) for key in _PLAIN}
    record.update(
        tipo_pessoa=_tipo(row),
        cpf=format_cpf(row.get("cpf")),
        cnpj=format_cnpj(row.get("cnpj")),
        data_nascimento=date_text(row.get("data_nascimento")),
        telefone=_phone_out(row, "telefone"),
        celular=_phone_out(row, "celular"),
        ativo=flag(row.get("ativo")),
    )
    return record


_FIELDS = (
    *((key, key, text_or_none) for key in _PLAIN),
    ("cpf", "cpf", digits_or_none),
    ("cnpj", "cnpj", digits_or_none),
    ("data_nascimento", "data_nascimento", date_or_none),
    ("ativo", "ativo", active),
)


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the record holds (a key it lacks is left out)."""
    row = sent(record, _FIELDS)
    for key in ("telefone", "celular"):
        if key in record:
            row[key] = _phone_in(record, key)
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
