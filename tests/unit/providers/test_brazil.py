"""``providers.brazil``: the Brazilian formats of the original (CPF, CNPJ, CEP, phones,
money), as pure functions."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from crm_cli.providers.brazil import (
    date_or_none,
    date_text,
    decimal_or_none,
    digits,
    digits_or_none,
    flag,
    format_cep,
    format_cnpj,
    format_cpf,
    format_phone,
    money,
    text_or_none,
)

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=20)


def test_formats_of_the_original():
    assert format_cpf("12345678901") == "123.456.789-01"
    assert format_cnpj("12345678000195") == "12.345.678/0001-95"
    assert format_cep("01310100") == "01310-100"
    assert format_phone("11987654321") == "(11) 98765-4321"
    assert format_phone("1133334444") == "(11) 3333-4444"
    assert format_phone("123") == "123"  # not a phone number: digits, unformatted
    assert format_cpf("123.456.789-01") == "123.456.789-01"  # already formatted: idempotent


@given(DIGITS)
def test_formatting_keeps_every_digit(value):
    for fmt in (format_cpf, format_cnpj, format_cep, format_phone):
        assert digits(fmt(value)) == value


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_cpf_shape(value):
    assert re.fullmatch(r"\d{3}\.\d{3}\.\d{3}-\d{2}", format_cpf(value))


def test_money_has_two_decimals():
    assert money(Decimal("60")) == "60.00"
    assert money("10.005") == "10.01"
    assert money(None) == ""


def test_empty_values_are_none_where_the_erp_wants_null():
    assert digits_or_none("") is None
    assert digits_or_none("123.456.789-01") == "12345678901"
    assert decimal_or_none("") is None
    assert decimal_or_none("12.50") == Decimal("12.50")
    assert text_or_none("") is None
    assert text_or_none(0) == "0"
    assert date_or_none("") is None
    assert date_or_none("0000-00-00") is None  # MySQL's zero date
    assert date_or_none("not a date") is None


def test_dates_both_ways():
    assert date_text(dt.date(2000, 1, 2)) == "2000-01-02"
    assert date_or_none("2000-01-02") == dt.date(2000, 1, 2)


def test_flags_are_the_apis_one_and_zero():
    assert flag(True) == "1"
    assert flag(False) == "0"
    assert flag("sim") == "1"
    assert flag(None) == "1"  # absent: active, as the ERP's default
