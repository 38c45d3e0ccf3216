"""``check``'s verdict for each threshold (``services.check.evaluate``), from figures."""

from __future__ import annotations

import pytest

from crm_cli.services.check import Thresholds, evaluate, unknown
from crm_cli.states import CheckStatus


def figures(**changes):
    data = {
        "queue": {"pending": 3, "failed": 0, "oldest_pending_seconds": 20},
        "last_runs": {
            "sync": {"seconds_ago": 40, "result": "ok", "error": None},
            "pull": {"seconds_ago": 200, "result": "ok", "error": None},
        },
        "waiting_stores": [],
        "paused_accounts": [],
        "reauthorization_needed": [],
    }
    for key, value in changes.items():
        if key in ("pending", "failed", "oldest_pending_seconds"):
            data["queue"][key] = value
        else:
            data[key] = value
    return data


def test_all_well_is_ok_with_perfdata():
    verdict = evaluate(figures(), Thresholds())

    assert verdict.status is CheckStatus.OK
    assert verdict.line.startswith("CRM-CLI OK - last sync 40 s ago, 3 pending | ")
    assert "sync_age=40s;;300" in verdict.line and "failed=0;1;" in verdict.line


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"last_runs": {"sync": {"seconds_ago": 301, "result": "ok"}}}, "CRITICAL", "301 s ago"),
        ({"last_runs": {}}, "CRITICAL", "no sync run recorded"),
        (
            {"last_runs": {"sync": {"seconds_ago": 5, "result": "failed", "error": "boom"}}},
            "WARNING",
            "failed: boom",
        ),
        ({"oldest_pending_seconds": 900}, "WARNING", "900 s old"),
        ({"oldest_pending_seconds": 3600}, "CRITICAL", "3600 s old"),
        ({"failed": 2}, "WARNING", "2 item(s) failed"),
        ({"waiting_stores": [{"id_loja": 1}]}, "WARNING", "1 store(s) parked"),
        ({"paused_accounts": [{"account": "x"}]}, "WARNING", "1 CRM account(s) paused"),
        ({"reauthorization_needed": [{"id_loja": 3}]}, "CRITICAL", "re-authorisation"),
    ],
)
def test_each_threshold(changes, status, words):
    verdict = evaluate(figures(**changes), Thresholds())

    assert verdict.status is CheckStatus[status]
    assert verdict.line.startswith(f"CRM-CLI {status} - ") and words in verdict.line


def test_max_age_per_job_and_thresholds_off():
    limits = Thresholds(max_age={"pull": 100}, failed_warning=None, pending_warning=None)

    verdict = evaluate(figures(failed=5, oldest_pending_seconds=1000), limits)

    assert verdict.status is CheckStatus.CRITICAL  # pull ran 200 s ago
    assert "last pull run 200 s ago (max 100)" in verdict.line
    assert "failed" not in verdict.line.split("|")[0]


def test_the_worst_comes_first():
    verdict = evaluate(figures(failed=1, reauthorization_needed=[{}]), Thresholds())

    assert verdict.line.split(" - ")[1].startswith("1 store(s) need re-authorisation; 1 item")


def test_unknown():
    assert unknown("no database").line == "CRM-CLI UNKNOWN - no database"
    assert unknown("x").status == 3
