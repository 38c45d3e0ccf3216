"""``crm-cli demo``: the offline demonstration."""

from __future__ import annotations

import typer

from crm_cli.cli.render import ProgressBar, now_text, out, render_stats

app = typer.Typer()


@app.command()
def demo(
    keep: bool = typer.Option(False, "--keep", help="Keep the demo database afterwards."),
) -> None:
    """Offline demonstration, in under a minute: a throw-away SQLite database with
    sample ERP data, a local GestãoClick emulator, a full sync, and the stats.

    Reads and changes nothing of yours (no config, no JWT_SECRET, no database).

    Example: crm-cli demo
    """
    from crm_cli.demo.run import run_demo

    bar = ProgressBar("sync")
    try:
        result = run_demo(
            out,
            keep=keep,
            on_run=lambda r: out("   " + r.summary_line(now_text())),
            on_item=bar.item_done,
        )
    finally:
        bar.stop()
    e = result.emulator
    out(
        f"5. The CRM now holds {e['records'].get('clientes', 0)} clients and "
        f"{e['records'].get('produtos', 0)} products; {e['requests']} requests, "
        f"at most {e['max_per_second']} in any second, {e['rate_limited']} answered 429"
    )
    render_stats(result.stats)
    if keep:
        out(f"Demo database kept: {result.database}")
