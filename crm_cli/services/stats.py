"""``stats``: what the queue and the log say, counted right (a failure is never a success).

The JSON form (``stats --json``) is a stable object for monitoring:

    {"schema_version": 2, "generated_at": "…", "loja": null,
     "queue": {"pending": N, "processing": N, "failed": N, "completed_today": N,
               "oldest_pending_seconds": N | null},
     "log_24h": {"total": N, "sucesso": N, "erro": N, "alerta": N, "taxa_sucesso": % | null},
     "by_store": [{"id_loja": N, "entidade": "…", "pending": N, "processing": N,
                   "failed": N, "completed_today": N}, …],
     "reauthorization_needed": [{"id_loja": N, "provider": "…", "reason": "…"}, …],
     "waiting_stores": [{"id_loja": N, "items": N, "reason": "…"}, …],
     "paused_accounts": [{"account": "provider:hash[@endpoint]", "seconds_left": N,
                          "unanswered": N, "lojas": [N, …]}, …],
     "pulls": [{"id_loja": N, "entidade": "…", "watermark": "…Z" | null,
                "reading": true | false, "finished_at": "…Z" | null}, …],
     "schedules": [{"id": N, "id_loja": N, "entidade": "…", "direcao": "…",
                    "ativo": bool, "executando": bool, "frequencia_minutos": N,
                    "ultima_execucao": "…" | null, "proxima_execucao": "…" | null,
                    "total_execucoes": N, "total_registros_processados": N,
                    "total_erros": N}, …],
     "last_runs": {"sync": {"started_at": "…Z", "finished_at": "…Z" | null,
                            "seconds_ago": N, "duration_seconds": N | null,
                            "result": "ok|failed|interrupted|running", "processed": N,
                            "errors": N, "requests": N, "host": "…", "pid": N,
                            "error": "…" | null}, …}}

A waiting store is one whose items wait, attempts intact, until an operator
acts (disabled, turned away by its CRM, stored settings it cannot use). A
paused account is one a 429 or a spent daily budget (until 00:00 UTC) stopped, or
one of its endpoints (an account at one base URL, ``@`` a hash of it) whose
circuit opened (``unanswered`` requests in a row), with the stores on it
(``lojas``; empty when their credentials cannot be read: no secret).

"today" and "24 h" follow the database server's clock, in UTC. ``pulls`` are the
stores' ``pull`` watermarks (UTC); ``schedules`` PHP v3's (its clock), when there
are any.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Engine

from crm_cli.db.clock import as_datetime
from crm_cli.engine import watermarks
from crm_cli.engine.breaker import account_of
from crm_cli.engine.queue.admin import counts, waiting_stores
from crm_cli.engine.ratelimit import paused_accounts
from crm_cli.engine.synclog import figures
from crm_cli.services.runs import last_runs
from crm_cli.services.schedules import listing

# The JSON object's shape (README, "stats --json"): raised when a key changes
# meaning or goes; new keys keep it.
SCHEMA_VERSION = 2


def collect(
    database: Engine,
    id_loja: int | None = None,
    accounts: dict[str, list[int]] | None = None,
) -> dict[str, Any]:
    """The figures; ``accounts``: each CRM account's stores (services.pauses)."""
    # the database clock decides "today" (a first query reads it)
    probe = counts(database, dt.datetime(1970, 1, 1), id_loja)
    now = as_datetime(probe["now"])
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    queue = counts(database, today, id_loja)
    oldest = queue["oldest_pending"]
    if oldest is not None:
        oldest = as_datetime(oldest)
    app_clock = as_datetime(queue["app_now"])  # criado_em's clock: the PHP application's
    stores: dict[tuple, dict[str, Any]] = {}

    def entry(loja: int, entidade: str) -> dict[str, Any]:
        return stores.setdefault(
            (loja, entidade),
            {
                "id_loja": loja,
                "entidade": entidade,
                "pending": 0,
                "processing": 0,
                "failed": 0,
                "completed_today": 0,
            },
        )

    for loja, entidade, status, n in queue["breakdown"]:
        entry(loja, entidade)[status] = n
    for loja, entidade, n in queue["completed_breakdown"]:
        entry(loja, entidade)["completed_today"] = n
    by_status = queue["by_status"]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "loja": id_loja,
        "queue": {
            "pending": by_status["pending"],
            "processing": by_status["processing"],
            "failed": by_status["failed"],
            "completed_today": queue["completed_since"],
            "oldest_pending_seconds": (
                max(0, int((app_clock - oldest).total_seconds())) if oldest is not None else None
            ),
        },
        # the log's criado_em is on the application's clock (crm_cli.engine.synclog)
        "log_24h": figures(database, app_clock - dt.timedelta(hours=24), id_loja),
        "by_store": [stores[k] for k in sorted(stores)],
        "reauthorization_needed": _awaiting_authorisation(database, id_loja),
        "waiting_stores": waiting_stores(database, id_loja),
        "paused_accounts": [
            {
                "account": p.account,
                "seconds_left": p.seconds_left,
                "unanswered": p.unanswered,
                "lojas": (accounts or {}).get(account_of(p.account), []),
            }
            for p in paused_accounts(database)
        ],
        "pulls": [pull for pull in _pulls(database) if id_loja in (None, pull["id_loja"])],
        "schedules": [s for s in listing(database) if id_loja in (None, s["id_loja"])],
        "last_runs": last_runs(database),
    }


def _pulls(database: Engine) -> list[dict[str, Any]]:
    def utc(value: Any) -> str | None:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, dt.datetime) else value

    return [
        {
            "id_loja": row.id_loja,
            "entidade": row.entidade,
            "watermark": utc(row.watermark),
            "reading": row.read_started_at is not None,
            "finished_at": utc(row.finished_at),
        }
        for row in watermarks.watermarks(database)
    ]


def _awaiting_authorisation(database: Engine, id_loja: int | None) -> list[dict[str, Any]]:
    from crm_cli.credentials import CredentialCipher
    from crm_cli.integrations import REAUTHORIZATION, Integracoes

    stores = Integracoes(database, CredentialCipher(None, "-")).listar()  # no secret needed
    return [
        {
            "id_loja": s.id_loja,
            "provider": s.provider,
            "reason": str(s.configuracoes[REAUTHORIZATION]),
        }
        for s in stores
        if s.configuracoes.get(REAUTHORIZATION) and id_loja in (None, s.id_loja)
    ]
