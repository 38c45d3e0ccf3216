"""Output helpers: rich for a person at a terminal, plain lines for cron and pipes."""

from __future__ import annotations

import sys
from typing import Any


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


def out(line: str = "") -> None:
    print(line, file=sys.stdout, flush=True)


def warn(line: str) -> None:
    print(f"crm-cli: warning: {line}", file=sys.stderr, flush=True)


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
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.task = self.bar.add_task(label, total=None)
            self.bar.start()

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)

    def advance(self, *_: Any) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
