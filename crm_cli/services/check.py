"""``check``: one status line for an uptime monitor, by the monitoring-plugin rules.

OK (0), WARNING (1), CRITICAL (2), UNKNOWN (3: the check itself could not tell),
then `` - `` what is wrong (or the main figures), then `` | `` perfdata
(``label=value[unit];warn;crit``). The verdict is a pure function of ``stats``'
figures (``evaluate``), so each threshold is tested without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_cli.states import CheckStatus, RunOutcome

NAME = "CRM-CLI"


@dataclass(frozen=True)
class Thresholds:
    """When each figure turns WARNING or CRITICAL (None: never)."""

    # job → seconds since its last run ended (or began, when it never ended): beyond
    # it the job is not running: CRITICAL. A job not named is not judged.
    max_age: Mapping[str, int] = field(default_factory=lambda: {"sync": 300})
    pending_warning: int | None = 900  # the oldest pending item's age, in seconds
    pending_critical: int | None = 3600
    failed_warning: int | None = 1  # items failed for good, waiting for an operator
    failed_critical: int | None = None


@dataclass(frozen=True)
class Verdict:
    status: CheckStatus
    line: str


def evaluate(data: Mapping[str, Any], limits: Thresholds) -> Verdict:
    """The verdict on ``stats``' figures (``crm_cli.services.stats.collect``)."""
    found: list[tuple[CheckStatus, str]] = []
    perf: list[str] = []
    runs = data.get("last_runs") or {}
    for kind, most in sorted(limits.max_age.items()):
        run = runs.get(kind)
        if run is None:
            found.append((CheckStatus.CRITICAL, f"no {kind} run recorded"))
            continue
        age = int(run["seconds_ago"])
        perf.append(f"{_label(kind)}_age={age}s;;{most}")
        if age > most:
            found.append((CheckStatus.CRITICAL, f"last {kind} run {age} s ago (max {most})"))
        if run["result"] == RunOutcome.FAILED:
            found.append((CheckStatus.WARNING, f"last {kind} run failed: {run.get('error')}"))
    queue = data["queue"]
    oldest = queue.get("oldest_pending_seconds") or 0
    found += _level(
        oldest,
        limits.pending_warning,
        limits.pending_critical,
        f"oldest pending item {oldest} s old",
    )
    found += _level(
        queue["failed"],
        limits.failed_warning,
        limits.failed_critical,
        f"{queue['failed']} item(s) failed",
    )
    waiting = len(data.get("waiting_stores") or [])
    paused = len(data.get("paused_accounts") or [])
    reauthorize = len(data.get("reauthorization_needed") or [])
    if waiting:
        found.append((CheckStatus.WARNING, f"{waiting} store(s) parked"))
    if paused:
        found.append((CheckStatus.WARNING, f"{paused} CRM account(s) paused"))
    if reauthorize:
        found.append((CheckStatus.CRITICAL, f"{reauthorize} store(s) need re-authorisation"))
    perf += [
        f"pending={queue['pending']}",
        f"oldest_pending={oldest}s;{_or(limits.pending_warning)};{_or(limits.pending_critical)}",
        f"failed={queue['failed']};{_or(limits.failed_warning)};{_or(limits.failed_critical)}",
        f"parked_stores={waiting};1",
        f"paused_accounts={paused};1",
        f"reauthorization_needed={reauthorize};;1",
    ]
    status = max((level for level, _why in found), default=CheckStatus.OK)
    summary = "; ".join(why for level, why in sorted(found, key=lambda f: -f[0]))
    if not summary:
        ages = ", ".join(
            f"last {kind} {runs[kind]['seconds_ago']} s ago" for kind in sorted(limits.max_age)
        )
        summary = f"{ages + ', ' if ages else ''}{queue['pending']} pending"
    return Verdict(status, f"{NAME} {status.name} - {summary} | {' '.join(perf)}")


def unknown(why: str) -> Verdict:
    """The check could not tell (no database, a bad threshold)."""
    return Verdict(CheckStatus.UNKNOWN, f"{NAME} UNKNOWN - {why}")


def _level(
    value: int, warning: int | None, critical: int | None, why: str
) -> list[tuple[CheckStatus, str]]:
    if critical is not None and value >= critical:
        return [(CheckStatus.CRITICAL, why)]
    if warning is not None and value >= warning:
        return [(CheckStatus.WARNING, why)]
    return []


def _or(value: int | None) -> str:
    return "" if value is None else str(value)


def _label(kind: str) -> str:
    return kind.replace("-", "_")
