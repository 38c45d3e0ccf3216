"""A CRM account's pause, as operators see it and lift it (``config resume``, ``stats``).

A pause is kept per account (``crm_rate_limits``, one row per provider account,
shared by every store that uses it): a 429, a spent daily budget or an open
circuit stops all of them. Operators think in stores, so this module maps the
two: which stores an account pause stops, and lifting the pause of a store's
account (its stores' items due at once, attempts intact).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from crm_cli.engine import queue
from crm_cli.engine.clients import account_key
from crm_cli.engine.ratelimit import clear_pause
from crm_cli.errors import CrmError
from crm_cli.integrations import Integracoes


@dataclass(frozen=True)
class Resumed:
    account: str
    seconds_left: int  # what the lifted pause had left (0: the account was not paused)
    lojas: tuple[int, ...]  # the stores on that account
    items_due: int  # their pending items made due now


def stores_by_account(integracoes: Integracoes) -> dict[str, list[int]]:
    """Each account's stores (a store whose credentials cannot be read is left out)."""
    found: dict[str, list[int]] = {}
    for summary in integracoes.listar():
        try:
            store = integracoes.obter_configuracao(summary.id_loja)
            key = account_key(store)
        except CrmError:
            continue
        found.setdefault(key, []).append(summary.id_loja)
    return found


def resume(database: Engine, integracoes: Integracoes, id_loja: int) -> Resumed:
    """Lift the pause of the store's CRM account: every store on it, every run."""
    key = account_key(integracoes.obter_configuracao(id_loja))
    lojas = tuple(sorted(stores_by_account(integracoes).get(key, [id_loja])))
    left = clear_pause(database, key)
    return Resumed(key, left, lojas, queue.due_now(database, list(lojas)))
