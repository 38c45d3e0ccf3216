"""When PHP v3's schedules are due and when they run next (``services.schedules``)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from crm_cli.services.schedules import is_due, next_run

NOW = dt.datetime(2026, 12, 2, 10, 0, 0)


@pytest.mark.parametrize(
    ("now", "every", "start", "end", "expected"),
    [
        (NOW, 5, None, None, dt.datetime(2026, 12, 2, 10, 5)),
        (NOW, 60, dt.time(8), dt.time(18), dt.datetime(2026, 12, 2, 11, 0)),
        # past the window's end: the next day's start (v3's calcularProximaExecucao)
        (dt.datetime(2026, 12, 2, 17, 58), 5, dt.time(8), dt.time(18), dt.datetime(2026, 12, 3, 8)),
        # before the window's start: its start
        (dt.datetime(2026, 12, 2, 6, 0), 5, dt.time(8), dt.time(18), dt.datetime(2026, 12, 2, 8)),
        # across midnight, past the end: the day after the one it fell on
        (dt.datetime(2026, 12, 2, 23, 58), 5, dt.time(8), dt.time(18), dt.datetime(2026, 12, 3, 8)),
        # a window given by half is none (v3 needs both)
        (NOW, 5, dt.time(11), None, dt.datetime(2026, 12, 2, 10, 5)),
    ],
)
def test_next_run(now, every, start, end, expected):
    assert next_run(now, every, start, end) == expected


def schedule(**changes):
    base = dict(
        ativo=1,
        deletado_em=None,
        proxima_execucao=NOW - dt.timedelta(minutes=1),
        horario_inicio=None,
        horario_fim=None,
        executando=0,
        atualizado_em=None,
    )
    return SimpleNamespace(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "due"),
    [
        ({}, True),
        ({"proxima_execucao": None}, True),
        ({"proxima_execucao": NOW + dt.timedelta(seconds=1)}, False),
        ({"ativo": 0}, False),
        ({"deletado_em": NOW}, False),
        ({"horario_inicio": dt.time(11)}, False),
        ({"horario_fim": dt.time(9)}, False),
        ({"horario_inicio": dt.timedelta(hours=9), "horario_fim": dt.timedelta(hours=11)}, True),
        ({"executando": 1, "atualizado_em": NOW - dt.timedelta(seconds=60)}, False),
        ({"executando": 1, "atualizado_em": NOW - dt.timedelta(seconds=120)}, True),  # expired
        ({"executando": 1, "atualizado_em": None}, True),
    ],
)
def test_is_due(changes, due):
    assert is_due(schedule(**changes), NOW, lease_seconds=120) is due
