"""``crm_cli.engine.run``: what a run's result says (the original's line, and the rest)."""

from __future__ import annotations

from crm_cli.engine.run import RunResult


def test_the_summary_is_the_originals_line():
    result = RunResult(processed=3, errors=1, requests=8, elapsed=2.0)
    assert result.summary_line("2026-12-02 10:00:00") == (
        "[2026-12-02 10:00:00] Processados: 3 | Erros: 1 | Tempo: 2.00s | Taxa: 4.00 req/s"
    )
    assert RunResult().summary_line("t") == (
        "[t] Processados: 0 | Erros: 0 | Tempo: 0.00s | Taxa: 0.00 req/s"
    )


def test_the_details_say_what_the_summary_does_not():
    assert RunResult(processed=5).details_line() is None
    result = RunResult(errors=2, failed=1, released=4, lost_leases=[17])
    assert result.details_line() == (
        "1 failed for good; 4 handed back for a later run; 1 lost to another run (lease expired)"
    )
