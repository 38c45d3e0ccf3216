"""Output helpers: rich for a person at a terminal, plain lines for cron and pipes."""

from __future__ import annotations

import sys
from typing import Any


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


def out(line: str = "") -> None:
    print(line, file=sys.stdout, flush=True)


def out_json(value: Any) -> None:
    """One JSON document on stdout (times as ISO text, as the database holds them)."""
    import json

    out(json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_value))


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return (
            value.isoformat(sep=" ")
            if hasattr(value, "hour") and hasattr(value, "day")
            else value.isoformat()
        )
    return str(value)


def warn(line: str) -> None:
    say(f"crm-cli: warning: {line}")


def say(line: str) -> None:
    """One line on stderr; under cron (not a terminal) it starts with the time, like
    the run's own lines, so a log read later says when."""
    stamp = "" if sys.stderr.isatty() else f"[{now_text()}] "
    print(f"{stamp}{line}", file=sys.stderr, flush=True)


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table on a terminal; tab-separated lines with a header otherwise."""
    if stdout_is_tty():
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for column in columns:
            t.add_column(column)
        for row in rows:
            t.add_row(*("" if v is None else str(v) for v in row))
        Console().print(t)
        return
    out("\t".join(columns))
    for row in rows:
        out("\t".join("" if v is None else str(v) for v in row))


class ProgressBar:
    """A rich progress bar on a terminal; nothing at all under cron or in a pipe."""

    def __init__(self, label: str) -> None:
        self.bar: Any = None
        self.done = 0
        if stdout_is_tty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),  # done/total
                TextColumn("{task.fields[errors]} error(s)"),
                TimeElapsedColumn(),
                transient=True,
            )
            self.task = self.bar.add_task(label, total=None, errors=0)
            self.bar.start()
        self.errors = 0

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)

    def advance(self, failed: bool = False) -> None:
        """One more done (``failed``: one more error too)."""
        self.done += 1
        self.errors += int(failed)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, errors=self.errors)

    def item_done(self, _item: Any, outcome: Any) -> None:
        """A run's ``on_item``: one more item, an error when it failed or will retry."""
        from crm_cli.states import OutcomeKind

        self.advance(outcome.kind in (OutcomeKind.RETRY, OutcomeKind.FAILED))

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def now_text() -> str:
    """The local time as the original worker printed it: ``YYYY-MM-DD HH:MM:SS``."""
    from datetime import datetime

    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def render_stats(data: dict[str, Any]) -> None:
    """``crm-cli stats`` (and the end of the demo): the figures, then what is paused."""
    q, log = data["queue"], data["log_24h"]
    rate = "-" if log["taxa_sucesso"] is None else f"{log['taxa_sucesso']}%"
    oldest = q["oldest_pending_seconds"]
    table(
        f"crm-cli stats ({data['generated_at']})",
        [
            "pending",
            "processing",
            "completed today",
            "failed",
            "errors 24h",
            "success 24h",
            "oldest pending",
        ],
        [
            [
                q["pending"],
                q["processing"],
                q["completed_today"],
                q["failed"],
                log["erro"],
                rate,
                "-" if oldest is None else f"{oldest} s",
            ]
        ],
    )
    for store in data.get("reauthorization_needed", []):
        out(
            f"store {store['id_loja']} ({store['provider']}): re-authorization needed — "
            f"{store['reason']}"
        )
    for store in data.get("waiting_stores", []):
        out(f"store {store['id_loja']}: {store['items']} item(s) waiting — {store['reason']}")
    for account in data.get("paused_accounts", []):
        why = (
            f"circuit open: {account['unanswered']} requests in a row unanswered"
            if account.get("unanswered")
            else "rate limit or daily budget"
        )
        lojas = account.get("lojas") or []
        stores = f" (stores {', '.join(map(str, lojas))})" if lojas else ""
        lift = f"; 'crm-cli config resume --loja {lojas[0]}' lifts it" if lojas else ""
        out(
            f"account {account['account']}{stores}: paused for {account['seconds_left']} s "
            f"({why}){lift}"
        )
    if data["by_store"]:
        table(
            "by store and entity",
            ["loja", "entidade", "pending", "processing", "failed", "completed today"],
            [
                [
                    s["id_loja"],
                    s["entidade"],
                    s["pending"],
                    s["processing"],
                    s["failed"],
                    s["completed_today"],
                ]
                for s in data["by_store"]
            ],
        )
    if data.get("pulls"):
        table(
            "pull watermarks (UTC)",
            ["loja", "entidade", "watermark", "reading", "last read done"],
            [
                [
                    p["id_loja"],
                    p["entidade"],
                    p["watermark"] or "-",
                    p["reading"],
                    p["finished_at"] or "-",
                ]
                for p in data["pulls"]
            ],
        )
    if data.get("schedules"):
        table(
            "PHP v3 schedules (PHP clock)",
            ["#", "loja", "entidade", "direcao", "ativo", "running", "next", "runs", "errors"],
            [
                [
                    s["id"],
                    s["id_loja"],
                    s["entidade"],
                    s["direcao"],
                    s["ativo"],
                    s["executando"],
                    s["proxima_execucao"] or "-",
                    s["total_execucoes"],
                    s["total_erros"],
                ]
                for s in data["schedules"]
            ],
        )
    if data.get("last_runs"):
        table(
            "last run of each job (UTC)",
            ["job", "started", "result", "ago", "processed", "errors", "host"],
            [
                [
                    kind,
                    run["started_at"],
                    run["result"],
                    f"{run['seconds_ago']} s",
                    run["processed"],
                    run["errors"],
                    run["host"],
                ]
                for kind, run in data["last_runs"].items()
            ],
        )
        for kind, run in data["last_runs"].items():
            if run.get("error"):
                out(f"last {kind} run {run['result']}: {run['error']}")
