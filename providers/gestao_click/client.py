"""GestãoClick's client: two auth headers, the code/status/data envelope, ``pagina`` pages.

Quirks handled here (spec §1): POST answers 200; ids are strings; a validation
error arrives as HTTP 404 with the reason in ``data.mensagem``, which is told
apart from a missing record by the request (a POST's route exists) and the text.

What a store's settings decide (the ids are the account's own, [GC-DOC] via
provider-apis.md §1.8):
- ``situacoes_venda``: ERP ``situacao_venda_id`` → GestãoClick ``situacao_id``
  (read ``/situacoes_vendas``); a sale whose situação it lacks is refused here.
- ``forma_pagamento_id``: the payment form of the sale's ``pagamentos``.
- ``price_type_id``: the price type (``valores[].tipo_id``) a product's price
  goes to. A PUT ignores a flat ``valor_venda`` ("Se os dados de valores não
  forem informados, os valores de venda permanecerão inalterados"), so without
  the setting the product's own price types are read: one is used; several
  need the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from crm_cli import http
from crm_cli.errors import RecordNotFound, UnexpectedAnswer, ValidationFailed
from crm_cli.providers.client import BaseClient
from crm_cli.providers.fields import SELLER

_NOT_FOUND_WORDS = ("não encontrad", "nao encontrad", "not found", "inexistente")


class GestaoClickClient(BaseClient):
    def auth_headers(self) -> dict[str, str]:
        return {
            "access-token": str(self.credentials["access_token"]),
            "secret-access-token": str(self.credentials["secret_access_token"]),
        }

    def unwrap_body(self, response: requests.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 300:
            if not isinstance(body, dict) or "data" not in body:
                where = http.where(response.request.method or "?", response.request.url or "")
                raise UnexpectedAnswer(f"{where}: answer is not GestãoClick's JSON envelope")
            if body.get("status") == "error":
                raise ValidationFailed(f"GestãoClick refused it: {_reason(body)}")
            return body
        reason = _reason(body)
        if response.status_code == 404 and reason and _is_validation(response, reason):
            where = http.where(response.request.method or "?", response.request.url or "")
            raise ValidationFailed(f"{where}: GestãoClick refused it: {reason}")
        http.raise_for_status(response, reason)
        return body  # not reached

    def data_of(self, body: Any) -> Any:
        return body["data"]

    def page_params(self, page: Any) -> dict[str, Any]:
        return {"pagina": int(page or 1)}

    def next_page(self, body: Any, page: Any) -> Any:
        meta = body.get("meta") if isinstance(body, dict) else None
        following = (meta or {}).get("proxima_pagina")
        if following in (None, "", 0):
            return None
        try:
            return int(following)
        except (TypeError, ValueError):
            raise UnexpectedAnswer(f"GestãoClick: meta.proxima_pagina is {following!r}") from None

    def ping(self) -> None:
        self.listar("cliente")  # one page: GestãoClick documents no page size to ask for

    # -- the account's own ids ------------------------------------------------------

    def atualizar(self, entity: str, record_id: str, payload: Mapping[str, Any]) -> dict:
        if entity == "produto":
            payload = self._priced(record_id, dict(payload))
        try:
            return super().atualizar(entity, record_id, payload)
        except RecordNotFound as missing:
            # GestãoClick answers a refused payload with 404 too, in words that may say
            # "não encontrado" of something else ("Tipo de valor não encontrado"): the
            # record is gone only when its own path says so.
            try:
                self.buscar(entity, record_id)
            except RecordNotFound:
                raise missing from None
            raise ValidationFailed(
                f"{missing.message} (the record is there: GestãoClick refused the update)"
            ) from None

    def outgoing(self, entity: str, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        if entity != "venda":
            return payload
        seller = self.seller(payload)
        if seller is not None:
            payload["vendedor_id"] = seller
        situacao = payload.get("situacao_id")
        mapping = self._situacoes()
        if mapping:
            if str(situacao) not in mapping:
                raise ValidationFailed(
                    f"the sale's situação {situacao!r} has no GestãoClick situacao_id in "
                    f"configuracoes.situacoes_venda (it maps {', '.join(sorted(mapping))})"
                )
            payload["situacao_id"] = mapping[str(situacao)]
        forma = self.settings.get("forma_pagamento_id")
        if forma is not None:
            for entry in payload.get("pagamentos") or []:
                entry["pagamento"]["forma_pagamento_id"] = str(forma)
        return payload

    def incoming(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        if entity != "venda":
            return record
        record = dict(record)
        seller = self.erp_seller(record.get("vendedor_id"))
        if seller is not None:
            record[SELLER] = seller
        mapping = self._situacoes()
        if not mapping or "situacao_id" not in record:
            return record
        back = {crm: erp for erp, crm in mapping.items()}
        crm = str(record.pop("situacao_id"))
        if crm in back:  # a situação the ERP has no id for is not written at all
            record["situacao_id"] = back[crm]
        return record

    def _situacoes(self) -> dict[str, str]:
        mapping = self.settings.get("situacoes_venda") or {}
        return {str(erp): str(crm) for erp, crm in mapping.items()}

    def _priced(self, record_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The price goes in ``valores`` (a PUT ignores a flat ``valor_venda``)."""
        price = payload.pop("valor_venda", None)
        if price in (None, ""):
            return payload  # no price: the product's prices stay as they are
        tipo = self.settings.get("price_type_id") or self._only_price_type(record_id)
        payload["valores"] = [{"tipo_id": str(tipo), "valor_venda": price}]
        return payload

    def _only_price_type(self, record_id: str) -> str:
        record = self.buscar("produto", record_id)
        valores = [v for v in record.get("valores") or [] if isinstance(v, Mapping)]
        tipos = {str(v.get("tipo_id")): str(v.get("nome_tipo") or "") for v in valores}
        if len(tipos) == 1:
            return next(iter(tipos))
        named = ", ".join(f"{t} ({n})" if n else t for t, n in tipos.items()) or "none"
        raise ValidationFailed(
            f"GestãoClick product {record_id} has price types {named}: set "
            "configuracoes.price_type_id to the one crm-cli keeps the ERP's price in"
        )


def _reason(body: Any) -> str:
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        return str(data.get("mensagem") or data.get("erro") or "")[:300]
    return ""


def _is_validation(response: requests.Response, reason: str) -> bool:
    """A 404 with a reason is a refused payload unless it says the record is missing."""
    method = (response.request.method or "").upper()
    if method == "POST":
        return True  # the collection route exists: the 404 can only be validation
    if method == "PUT":
        return not any(word in reason.lower() for word in _NOT_FOUND_WORDS)
    return False
