"""Direct calls to a store's CRM, as the original's ``ServiceCrm``.

``criar`` / ``atualizar`` take the ERP's row and send the handler's
``to_external`` of it; ``buscar`` / ``listar`` answer CRM records alongside the
handler's ``to_internal``. Every call writes a ``crm_sync_log`` row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from crm_cli.credentials import CredentialCipher
from crm_cli.engine.clients import StoreClients
from crm_cli.engine.failures import Verdict, decide
from crm_cli.engine.ratelimit import AccountPolicy
from crm_cli.engine.synclog import write_log
from crm_cli.integrations import Integracoes
from crm_cli.providers.client import BaseClient
from crm_cli.settings import Settings
from crm_cli.states import Direction, LogStatus
from crm_cli.timezones import zone_of


@dataclass(frozen=True)
class CrmRecord:
    external_id: str
    dados: dict[str, Any]  # as the CRM holds it
    interno: dict[str, Any]  # as the ERP would (the handler's to_internal)


class ServiceCrm:
    def __init__(
        self, database: Engine, settings: Settings, cipher: CredentialCipher | None = None
    ) -> None:
        self.database = database
        cipher = cipher or CredentialCipher.from_settings(settings)
        self.integracoes = Integracoes(database, cipher)
        self.clients = StoreClients(
            database,
            self.integracoes,
            policy=AccountPolicy.of(settings.sync),
            erp_zone=zone_of(settings.app_time_zone),
        )

    def client(self, id_loja: int) -> BaseClient:
        return self.clients.get(id_loja)

    def _record(self, client: BaseClient, entidade: str, data: dict[str, Any]) -> CrmRecord:
        handler = client.entity(entidade).load_handler()
        return CrmRecord(client.external_id(data), data, handler.to_internal(data))

    def _logged(self, id_loja, entidade, id_registro, direcao, what, enviados, call):  # type: ignore[no-untyped-def]
        row = dict(id_loja=id_loja, entidade=entidade, id_registro=id_registro, direcao=direcao)
        try:
            result = call()
        except Exception as exc:
            decision = decide(exc)  # what it means, as a sync run would log it
            if decision.verdict is not Verdict.FATAL:  # a fatal one may be the log's own
                waits = decision.verdict in (Verdict.PARK_STORE, Verdict.PARK_ACCOUNT)
                status = LogStatus.ALERTA if waits else LogStatus.ERRO
                message = f"{what}: {decision.message}"
                write_log(self.database, status=status, mensagem=message, enviados=enviados, **row)
            raise
        recebidos = result.dados if isinstance(result, CrmRecord) else None
        write_log(
            self.database,
            status=LogStatus.SUCESSO,
            mensagem=what,
            enviados=enviados,
            recebidos=recebidos,
            **row,
        )
        return result

    def criar(
        self, id_loja: int, entidade: str, dados: Mapping[str, Any], id_registro: int = 0
    ) -> CrmRecord:
        client = self.client(id_loja)
        payload = client.entity(entidade).load_handler().to_external(dados)
        return self._logged(
            id_loja,
            entidade,
            id_registro,
            Direction.ERP_TO_CRM,
            f"criar {entidade}",
            payload,
            lambda: self._record(client, entidade, client.criar(entidade, payload)),
        )

    def atualizar(
        self,
        id_loja: int,
        entidade: str,
        external_id: str,
        dados: Mapping[str, Any],
        id_registro: int = 0,
    ) -> CrmRecord:
        client = self.client(id_loja)
        payload = client.entity(entidade).load_handler().to_external(dados)
        return self._logged(
            id_loja,
            entidade,
            id_registro,
            Direction.ERP_TO_CRM,
            f"atualizar {entidade} {external_id}",
            payload,
            lambda: self._record(
                client, entidade, client.atualizar(entidade, external_id, payload)
            ),
        )

    def buscar(
        self, id_loja: int, entidade: str, external_id: str, id_registro: int = 0
    ) -> CrmRecord:
        client = self.client(id_loja)
        return self._logged(
            id_loja,
            entidade,
            id_registro,
            Direction.CRM_TO_ERP,
            f"buscar {entidade} {external_id}",
            None,
            lambda: self._record(client, entidade, client.buscar(entidade, external_id)),
        )

    def deletar(self, id_loja: int, entidade: str, external_id: str, id_registro: int = 0) -> None:
        client = self.client(id_loja)
        self._logged(
            id_loja,
            entidade,
            id_registro,
            Direction.ERP_TO_CRM,
            f"deletar {entidade} {external_id}",
            None,
            lambda: client.deletar(entidade, external_id),
        )

    def listar(
        self,
        id_loja: int,
        entidade: str,
        pagina: Any = None,
        filtros: Mapping[str, Any] | None = None,
    ) -> tuple[list[CrmRecord], Any]:
        """One page of records and the marker of the next page (None on the last)."""
        client = self.client(id_loja)

        def page() -> tuple[list[CrmRecord], Any]:
            result = client.listar(entidade, pagina, filtros)
            return [self._record(client, entidade, r) for r in result.records], result.next

        return self._logged(
            id_loja,
            entidade,
            0,
            Direction.CRM_TO_ERP,
            f"listar {entidade} página {pagina or 1}",
            filtros,
            page,
        )
