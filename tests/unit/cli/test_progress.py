"""The progress bar a terminal shows: done/total and errors (``cli.render.ProgressBar``)."""

from __future__ import annotations

from types import SimpleNamespace

from rich.progress import MofNCompleteColumn

from crm_cli.cli import render
from crm_cli.states import OutcomeKind


def test_the_bar_counts_done_of_total_and_errors(monkeypatch):
    monkeypatch.setattr(render, "stdout_is_tty", lambda: True)
    bar = render.ProgressBar("sync")
    try:
        bar.update(0, 3)
        bar.item_done(None, SimpleNamespace(kind=OutcomeKind.COMPLETED))
        bar.item_done(None, SimpleNamespace(kind=OutcomeKind.RETRY))
        [task] = bar.bar.tasks
        assert (task.completed, task.total, task.fields["errors"]) == (2, 3, 1)
        assert any(isinstance(c, MofNCompleteColumn) for c in bar.bar.columns)
    finally:
        bar.stop()


def test_no_bar_under_cron(monkeypatch):
    monkeypatch.setattr(render, "stdout_is_tty", lambda: False)
    bar = render.ProgressBar("sync")
    bar.item_done(None, SimpleNamespace(kind=OutcomeKind.FAILED))

    assert bar.bar is None and (bar.done, bar.errors) == (1, 1)
