"""``test-connection``: one cheap authenticated request per store, and its verdict."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from crm_cli.engine.clients import StoreClients
from crm_cli.engine.failures import Verdict, decide
from crm_cli.integrations import Integracoes

PING_MAX_WAIT = 5.0  # seconds a check may wait for its rate-limit slot


@dataclass(frozen=True)
class ConnectionCheck:
    id_loja: int
    provider: str
    ok: bool
    latency_ms: int | None = None
    cause: str = ""
    detail: str = ""
    skipped: bool = False

    def line(self) -> str:
        if self.ok:
            return f"OK {self.provider} {self.latency_ms} ms — loja {self.id_loja}"
        verdict = "SKIP" if self.skipped else "FAIL"
        detail = f": {self.detail}" if self.detail and self.detail != self.cause else ""
        return f"{verdict} {self.provider}: {self.cause} — loja {self.id_loja}{detail}"


def check_store(database: Engine, integracoes: Integracoes, id_loja: int) -> ConnectionCheck:
    summary = next((s for s in integracoes.listar() if s.id_loja == id_loja), None)
    provider = summary.provider if summary is not None else "-"
    clients = StoreClients(database, integracoes, max_wait=PING_MAX_WAIT)
    try:
        client = clients.get(id_loja)
        started = time.perf_counter()
        client.ping()
    except Exception as exc:  # one store's trouble must not hide the others' lines
        decision = decide(exc)
        if decision.verdict is Verdict.FATAL:  # the secret, the database: no line can help
            raise
        return ConnectionCheck(
            id_loja, provider, False, cause=decision.cause, detail=decision.message
        )
    latency = round((time.perf_counter() - started) * 1000)
    return ConnectionCheck(id_loja, provider, True, latency_ms=latency)


def check_all(database: Engine, integracoes: Integracoes) -> list[ConnectionCheck]:
    results = []
    for store in integracoes.listar():
        if not store.ativo:
            results.append(
                ConnectionCheck(
                    store.id_loja, store.provider, False, cause="store inactive", skipped=True
                )
            )
        else:
            results.append(check_store(database, integracoes, store.id_loja))
    return results
