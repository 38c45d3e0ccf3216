"""The schema the PHP application expects, written from the spec
(shared/spec/original-system.md §1), not from crm-cli's own table definitions.

Types are MySQL column types; defaults as written in the original DDL.
"""

from __future__ import annotations

from typing import NamedTuple


class Col(NamedTuple):
    name: str
    type: str
    nullable: bool
    default: str | None = None
    on_update: bool = False


DIRECTION = "enum('ecletech_para_crm','crm_para_ecletech')"
TS_DEFAULT = "current_timestamp"

ORIGINAL_COLUMNS = {
    "crm_integracoes": [
        Col("id", "int", False),
        Col("id_loja", "int", False),
        Col("provider", "varchar(50)", False),
        Col("credenciais", "text", False),
        Col("configuracoes", "json", True),
        Col("ativo", "tinyint(1)", True, "1"),
        Col("criado_em", "timestamp", True, TS_DEFAULT),
        Col("atualizado_em", "timestamp", True, TS_DEFAULT, on_update=True),
        Col("deletado_em", "timestamp", True),
    ],
    "crm_sync_queue": [
        Col("id", "int", False),
        Col("id_loja", "int", False),
        Col("entidade", "varchar(50)", False),
        Col("id_registro", "int", False),
        Col("direcao", DIRECTION, False),
        Col("prioridade", "int", True, "0"),
        Col("tentativas", "int", True, "0"),
        Col("processado", "tinyint(1)", True, "0"),
        Col("erro", "text", True),
        Col("criado_em", "timestamp", True, TS_DEFAULT),
        Col("processado_em", "timestamp", True),
        Col("deletado_em", "timestamp", True),
    ],
    "crm_sync_log": [
        Col("id", "int", False),
        Col("id_loja", "int", False),
        Col("entidade", "varchar(50)", False),
        Col("id_registro", "int", False),
        Col("direcao", DIRECTION, False),
        Col("status", "enum('sucesso','erro','alerta')", False),
        Col("mensagem", "text", True),
        Col("dados_enviados", "json", True),
        Col("dados_recebidos", "json", True),
        Col("criado_em", "timestamp", True, TS_DEFAULT),
    ],
}

# Spec §1 "columns the application's team added later", plus the lease.
QUEUE_ADDITIONS = [
    Col("external_id", "varchar(100)", True),
    Col("status", "enum('pending','processing','completed','failed')", False, "pending"),
    Col("started_at", "datetime", True),
    Col("completed_at", "datetime", True),
    Col("tempo_processamento_ms", "int unsigned", True),
    Col("proximo_retry", "datetime", True),
    Col("erro_mensagem", "text", True),
    Col("batch_id", "varchar(36)", True),
    Col("lease_owner", "varchar(64)", True),
    Col("lease_expires_at", "datetime", True),
    Col("claim_alone", "smallint", False, "0"),  # revision 0006
    Col("schedule_id", "int unsigned", True),  # revision 0007: PHP v3's
    Col("due_at", "datetime", True),  # revision 0009: crm-cli's waits as durations
    Col("bulk", "smallint", False, "0"),  # revision 0010: queued by full-sync
]


def expected_columns() -> dict[str, list[Col]]:
    """The schema after ``crm-cli migrate``: original + additions, id_registro NULLable."""
    queue = [
        c._replace(nullable=True) if c.name == "id_registro" else c
        for c in ORIGINAL_COLUMNS["crm_sync_queue"]
    ]
    return {**ORIGINAL_COLUMNS, "crm_sync_queue": queue + QUEUE_ADDITIONS}


# name -> (unique, [(column, descending)])
ORIGINAL_INDEXES = {
    "crm_integracoes": {
        "unique_loja": (True, [("id_loja", False)]),
        "idx_provider": (False, [("provider", False)]),
        "idx_ativo": (False, [("ativo", False)]),
    },
    "crm_sync_queue": {
        "idx_processar": (
            False,
            [("processado", False), ("id_loja", False), ("prioridade", True), ("criado_em", False)],
        ),
        "idx_entidade": (False, [("entidade", False), ("id_registro", False)]),
        "idx_loja": (False, [("id_loja", False)]),
        "idx_processado_em": (False, [("processado_em", False)]),
    },
    "crm_sync_log": {
        "idx_entidade_registro": (False, [("entidade", False), ("id_registro", False)]),
        "idx_loja": (False, [("id_loja", False)]),
        "idx_status": (False, [("status", False)]),
        "idx_criado_em": (False, [("criado_em", False)]),
    },
}

CLAIM_INDEX = (  # revision 0010 put bulk in it: full-sync's backlog after live changes
    "idx_claim",
    (
        False,
        [
            ("status", False),
            ("prioridade", True),
            ("bulk", False),
            ("criado_em", False),
            ("id", False),
        ],
    ),
)

# PHP v3's migration 101 indexes on the queue (crm-cli's revision 0007 adds them).
V3_QUEUE_INDEXES = {
    "idx_batch_id": (False, [("batch_id", False)]),
    "idx_schedule_id": (False, [("schedule_id", False)]),
    "idx_status": (False, [("status", False)]),
    "idx_proximo_retry": (False, [("proximo_retry", False)]),
}
