"""``crm_cli.states``: the spellings the shared tables hold."""

from __future__ import annotations

from crm_cli.db.ddl import DIRECTIONS, LOG_STATUSES, QUEUE_STATUSES
from crm_cli.states import Direction, LogStatus, OutcomeKind, QueueStatus


def test_the_enums_are_the_tables_values_in_the_originals_order():
    assert DIRECTIONS == ("ecletech_para_crm", "crm_para_ecletech")
    assert LOG_STATUSES == ("sucesso", "erro", "alerta")
    assert QUEUE_STATUSES == ("pending", "processing", "completed", "failed")


def test_they_compare_and_print_as_the_text_php_reads():
    assert QueueStatus.PENDING == "pending"
    assert f"{Direction.CRM_TO_ERP}" == "crm_para_ecletech"
    assert str(LogStatus.ALERTA) == "alerta"
    assert Direction("ecletech_para_crm") is Direction.ERP_TO_CRM


def test_every_outcome_has_a_log_status():
    assert {kind.log_status for kind in OutcomeKind} == set(LogStatus)
