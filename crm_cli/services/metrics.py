"""``stats --prometheus`` / ``--textfile``: the figures in Prometheus' text format.

For node_exporter's textfile collector: ``--textfile PATH`` writes the file
atomically (a temporary file beside it, then a rename), so the collector never
reads half of it. Every metric is a gauge: these are the state of the queue
and of the jobs when ``stats`` ran (README, "Monitoring", lists them).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

Sample = tuple[Mapping[str, Any], float]


def prometheus_text(data: Mapping[str, Any]) -> str:
    """``stats``' figures (``crm_cli.services.stats.collect``) as exposition text."""
    queue, log = data["queue"], data["log_24h"]
    runs = data.get("last_runs") or {}
    lines: list[str] = []

    def metric(name: str, help_: str, samples: Iterable[Sample]) -> None:
        lines.append(f"# HELP crm_cli_{name} {help_}")
        lines.append(f"# TYPE crm_cli_{name} gauge")
        for labels, value in samples:
            lines.append(f"crm_cli_{name}{_labels(labels)} {_number(value)}")

    metric(
        "queue_items",
        "Queue items (crm_sync_queue) by status.",
        [({"status": s}, queue[s]) for s in ("pending", "processing", "failed")],
    )
    metric(
        "queue_completed_today", "Items completed today (UTC).", [({}, queue["completed_today"])]
    )
    metric(
        "queue_oldest_pending_seconds",
        "Age of the oldest pending item (0: none).",
        [({}, queue["oldest_pending_seconds"] or 0)],
    )
    metric(
        "log_rows_24h",
        "crm_sync_log rows of the last 24 h by status.",
        [({"status": s}, log[s]) for s in ("sucesso", "erro", "alerta")],
    )
    metric(
        "store_queue_items",
        "Queue items by store, entity and status.",
        [
            ({"loja": s["id_loja"], "entidade": s["entidade"], "status": status}, s[status])
            for s in data.get("by_store", [])
            for status in ("pending", "processing", "failed")
        ],
    )
    metric(
        "last_run_timestamp_seconds",
        "When each job's last run started (Unix time).",
        [({"job": k}, _unix(r["started_at"])) for k, r in runs.items()],
    )
    metric(
        "last_run_age_seconds",
        "Seconds since each job's last run ended (or started, if it has not ended).",
        [({"job": k}, r["seconds_ago"]) for k, r in runs.items()],
    )
    metric(
        "last_run_success",
        "1 when each job's last run ended well, 0 otherwise (failed, interrupted, running).",
        [({"job": k}, 1 if r["result"] == "ok" else 0) for k, r in runs.items()],
    )
    metric(
        "last_run_duration_seconds",
        "How long each job's last run took (absent while it runs).",
        [
            ({"job": k}, r["duration_seconds"])
            for k, r in runs.items()
            if r["duration_seconds"] is not None
        ],
    )
    metric(
        "last_run_processed",
        "Records or items each job's last run processed.",
        [({"job": k}, r["processed"]) for k, r in runs.items()],
    )
    metric(
        "last_run_errors",
        "Errors of each job's last run.",
        [({"job": k}, r["errors"]) for k, r in runs.items()],
    )
    metric(
        "parked_stores",
        "Stores whose items wait for an operator.",
        [({}, len(data.get("waiting_stores", [])))],
    )
    metric(
        "paused_accounts",
        "CRM accounts paused (429, budget, open circuit).",
        [({}, len(data.get("paused_accounts", [])))],
    )
    metric(
        "reauthorization_needed",
        "Stores whose CRM needs re-authorisation.",
        [({}, len(data.get("reauthorization_needed", [])))],
    )
    metric(
        "pull_watermark_timestamp_seconds",
        "Each store and entity's pull watermark (Unix time): changes before it are in.",
        [
            ({"loja": p["id_loja"], "entidade": p["entidade"]}, _unix(p["watermark"]))
            for p in data.get("pulls", [])
            if p.get("watermark")
        ],
    )
    metric(
        "schedule_errors",
        "PHP v3 schedules' total_erros.",
        [
            (
                {"schedule": s["id"], "loja": s["id_loja"], "entidade": s["entidade"]},
                s["total_erros"],
            )
            for s in data.get("schedules", [])
        ],
    )
    metric(
        "stats_generated_timestamp_seconds",
        "When these figures were read (Unix time).",
        [({}, _unix(data["generated_at"]))],
    )
    return "\n".join(lines) + "\n"


def write_textfile(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` at once: a temporary file beside it, then a rename."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # node_exporter runs as another user
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _labels(labels: Mapping[str, Any]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escaped(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _escaped(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _unix(text: str) -> float:
    when = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return when.timestamp()
