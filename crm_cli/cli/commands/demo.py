"""``crm-cli demo``: the offline demonstration."""

from __future__ import annotations

import typer

from crm_cli.cli.render import ProgressBar, now_text, out, render_stats

app = typer.Typer()


@app.command()
def demo(
    keep: bool = typer.Option(False, "--keep", help="Keep the demo database afterwards."),
    database: str | None = typer.Option(
        None,
        "--database",
        metavar="URL",
        help="Run it in this database (e.g. MariaDB's) and leave it there, ready to go on "
        "by hand; a database with ERP tables already is refused.",
    ),
    force: bool = typer.Option(
        False, "--force", help="With --database: add the sample rows to ERP tables already there."
    ),
    port: int = typer.Option(
        8765, "--port", min=0, max=65535, help="With --database: the emulator's port (0: any)."
    ),
) -> None:
    """Offline demonstration, in under a minute: a throw-away SQLite database with
    sample ERP data, a local GestãoClick emulator, a full sync, and the stats.

    Reads and changes nothing of yours (no config, no JWT_SECRET, no database).
    With --database URL it runs in that database instead (MariaDB, say: create an
    empty one first) and prints the commands to go on from there.

    Example: crm-cli demo
    """
    from crm_cli.demo.run import run_demo

    if database is not None:
        _refuse_a_shop(database, force)
    bar = ProgressBar("sync")
    try:
        result = run_demo(
            out,
            keep=keep,
            on_run=lambda r: out("   " + r.summary_line(now_text())),
            on_item=bar.item_done,
            database_url=database,
            port=port if database is not None else 0,
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
    if database is not None:
        _next_commands(database, result.emulator_port)
    elif keep:
        out(f"Demo database kept: {result.database}")


def _refuse_a_shop(url: str, force: bool) -> None:
    """A database holding ERP tables already may be a shop's: not without --force."""
    from crm_cli.db.backends import display_url, open_database
    from crm_cli.demo.run import sample_tables_in
    from crm_cli.errors import UsageError

    engine = open_database(url)
    try:
        present = sample_tables_in(engine)
    finally:
        engine.dispose()
    if present and not force:
        raise UsageError(
            f"{display_url(url)} has ERP tables already ({', '.join(present)}): the demo "
            "adds its sample rows only to an empty database (create one, or --force)"
        )


def _next_commands(url: str, port: int) -> None:
    from crm_cli.db.backends import display_url
    from crm_cli.demo.run import DEMO_SECRET

    shown = display_url(url)
    password = "   # with its password, as you gave --database" if shown != url else ""
    out("")
    out("The demo's data stays in that database. To go on by hand:")
    out(f"  export CRM_DATABASE_URL='{shown}'{password}")
    out(f"  export JWT_SECRET={DEMO_SECRET}   # the demo store's credentials are encrypted with it")
    out(f"  crm-cli emulator gestao_click --port {port} --rate 3 &   # the store's CRM")
    out("    (it starts empty: what the demo sent went with the demo's emulator; rows you add")
    out("    to clientes or produtos and enqueue are created there)")
    out("  crm-cli enqueue --loja 1 --entity cliente --id 1 && crm-cli sync")
    out("  crm-cli stats; crm-cli queue list; crm-cli logs")
