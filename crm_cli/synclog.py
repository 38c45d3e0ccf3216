"""Rows of ``crm_sync_log``: the one writer, shared by the engine and the Python API.

Payloads are stored as JSON with secret-looking fields masked. A failed write
raises: the original dropped log errors silently (its defect 7).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.credentials import mask_secrets
from crm_cli.db.schema import crm_sync_log

ERP_TO_CRM = "ecletech_para_crm"
CRM_TO_ERP = "crm_para_ecletech"
MAX_MESSAGE = 2000


def jsonable(payload: Any) -> Any:
    """Decimals, dates and other values as JSON text would hold them."""
    if payload is None:
        return None
    return json.loads(json.dumps(mask_secrets(payload), ensure_ascii=False, default=str))


def write_log(
    target: Engine | Connection,
    *,
    id_loja: int,
    entidade: str,
    id_registro: int | None,
    direcao: str,
    status: str,
    mensagem: str,
    enviados: Any = None,
    recebidos: Any = None,
) -> None:
    statement = sa.insert(crm_sync_log).values(
        id_loja=id_loja,
        entidade=entidade,
        id_registro=id_registro or 0,
        direcao=direcao,
        status=status,
        mensagem=mensagem[:MAX_MESSAGE],
        dados_enviados=jsonable(enviados),
        dados_recebidos=jsonable(recebidos),
    )
    if isinstance(target, Connection):
        target.execute(statement)
    else:
        with target.begin() as conn:
            conn.execute(statement)
