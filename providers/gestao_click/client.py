"""GestãoClick's client: two auth headers, the code/status/data envelope, ``pagina`` pages.

Quirks handled here (spec §1): POST answers 200; ids are strings; a validation
error arrives as HTTP 404 with the reason in ``data.mensagem``, which is told
apart from a missing record by the request (a POST's route exists) and the text.
"""

from __future__ import annotations

from typing import Any

import requests

from crm_cli import http
from crm_cli.errors import UnexpectedAnswer, ValidationFailed
from crm_cli.providers.client import BaseClient

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
        self.listar("cliente", params={"limite": 1})


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
