"""Brazilian document, phone and money formats (pure functions, shared by handlers).

Outbound the CRM wants them punctuated (CPF 000.000.000-00, CNPJ
00.000.000/0000-00, CEP 00000-000, phone (00) 00000-0000 / (00) 0000-0000);
inbound the ERP keeps digits only.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


def digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def _mask(value: Any, size: int, pattern: str) -> str:
    d = digits(value)
    if len(d) != size:
        return d  # not a well-formed number: send what we have, unformatted
    out, it = [], iter(d)
    for ch in pattern:
        out.append(next(it) if ch == "0" else ch)
    return "".join(out)


def format_cpf(value: Any) -> str:
    return _mask(value, 11, "000.000.000-00")


def format_cnpj(value: Any) -> str:
    return _mask(value, 14, "00.000.000/0000-00")


def format_cep(value: Any) -> str:
    return _mask(value, 8, "00000-000")


def format_phone(value: Any) -> str:
    """A Brazilian number in its usual mask ("11987654321" → "(11) 98765-4321"; with
    the country code, "+55 (11) 98765-4321"); anything else as its digits. Every
    digit is kept."""
    d = digits(value)
    if len(d) in (12, 13) and d.startswith("55"):  # the country code, written
        return "+55 " + format_phone(d[2:])
    if len(d) == 11:
        return _mask(d, 11, "(00) 00000-0000")
    if len(d) == 10:
        return _mask(d, 10, "(00) 0000-0000")
    return d


def digits_or_none(value: Any) -> str | None:
    return digits(value) or None


def money(value: Any, places: int = 2) -> str:
    """Decimal text as the CRMs send it ("60.00"); "" for no value."""
    if value in (None, ""):
        return ""
    quantum = Decimal(1).scaleb(-places)
    return str(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def date_text(value: Any) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def date_or_none(value: Any) -> dt.date | None:
    if value in (None, "", "0000-00-00"):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def flag(value: Any) -> str:
    """ERP boolean → "1"/"0" (an absent value means active, as the ERP's default)."""
    if value is None:
        return "1"
    return "1" if str(value).lower() in ("1", "true", "t", "yes", "s", "sim") else "0"


def text(value: Any) -> str:
    return "" if value is None else str(value)


def text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
