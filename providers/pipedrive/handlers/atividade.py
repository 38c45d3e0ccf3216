"""ERP ``atividades`` ↔ Pipedrive activities.

Columns read from the ERP's ``atividades`` table: titulo, tipo, data_vencimento,
hora_vencimento, duracao, descricao, concluida, cliente_external_id,
venda_external_id. Activities have no search in Pipedrive, so no natural key:
a create whose outcome is unknown is failed for a person to check, never repeated.

API v2 rules (provider-apis.md §2):
- The person goes in ``participants: [{"person_id": N, "primary": true}]``,
  which every account takes; the official OpenAPI v2 (addActivity) and SDK
  (AddActivityRequest) also take ``person_id``, which some accounts have refused
  as read-only (devcommunity.pipedrive.com/t/19734). Read back, the primary
  participant is the activity's ``person_id``.
- ``due_time`` is UTC, ``HH:MM`` (AddActivityRequest in the official OpenAPI);
  the ERP's ``hora_vencimento`` is local time (``database.app_time_zone``). This
  handler deals in the ERP's local date and time; the client, which is given the
  ERP's zone, turns them into UTC and back (``due_in_utc``, ``due_in_local``).
- ``type`` is the key of an ActivityType: Pipedrive's defaults (call, meeting,
  task, deadline, email, lunch) or one the account defined. The ERP's free text
  is mapped onto the defaults, ``task`` when it names none of them.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from crm_cli.providers.brazil import date_or_none, date_text, digits, flag, text, text_or_none

# Pipedrive's default ActivityType keys, and the ERP's words for them.
TYPE_KEYS = ("call", "meeting", "task", "deadline", "email", "lunch")
_TYPE_WORDS = {
    "ligacao": "call",
    "telefonema": "call",
    "chamada": "call",
    "reuniao": "meeting",
    "visita": "meeting",
    "tarefa": "task",
    "prazo": "deadline",
    "e-mail": "email",
    "almoco": "lunch",
}


def _id(value: Any) -> int | None:
    d = digits(value)
    return int(d) if d else None


def type_key(tipo: Any) -> str:
    """The ActivityType key for the ERP's ``tipo`` (free text)."""
    word = unicodedata.normalize("NFKD", text(tipo).strip().lower())
    word = "".join(c for c in word if not unicodedata.combining(c))
    if word in TYPE_KEYS:
        return word
    return _TYPE_WORDS.get(word.replace("email", "e-mail"), "task")


def due_in_utc(day: Any, local: Any, zone: ZoneInfo) -> tuple[str, str]:
    """A local date and time in ``zone`` as Pipedrive's UTC due_date and due_time."""
    when = dt.datetime.combine(
        dt.date.fromisoformat(date_text(day)), dt.time.fromisoformat(str(local)[:5])
    ).replace(tzinfo=zone)
    utc = when.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%d"), utc.strftime("%H:%M")


def due_in_local(day: Any, utc_time: Any, zone: ZoneInfo) -> tuple[str, str]:
    """Pipedrive's UTC due_date and due_time as a local date and time in ``zone``."""
    when = dt.datetime.combine(
        dt.date.fromisoformat(str(day)[:10]), dt.time.fromisoformat(str(utc_time)[:5])
    ).replace(tzinfo=dt.timezone.utc)
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")  # as a TIME column reads


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "subject": text(row.get("titulo")),
        "type": type_key(row.get("tipo")),
        "done": flag(row.get("concluida") if row.get("concluida") is not None else 0) == "1",
        "note": text(row.get("descricao")),
    }
    if row.get("data_vencimento"):  # the ERP's local date and time (see the module doc)
        record["due_date"] = date_text(row.get("data_vencimento"))
        if row.get("hora_vencimento"):
            record["due_time"] = str(row.get("hora_vencimento"))[:5]
    person = _id(row.get("cliente_external_id"))
    if person is not None:  # as a participant: every account takes it (module doc)
        record["participants"] = [{"person_id": person, "primary": True}]
    if _id(row.get("venda_external_id")) is not None:
        record["deal_id"] = _id(row.get("venda_external_id"))
    return record


def _person(record: Mapping[str, Any]) -> Any:
    for participant in record.get("participants") or []:
        if isinstance(participant, Mapping) and (
            participant.get("primary") or participant.get("primary_flag")
        ):
            return participant.get("person_id")
    return record.get("person_id")


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    row = {
        "titulo": text_or_none(record.get("subject")),
        "tipo": text_or_none(record.get("type")),
        "data_vencimento": date_or_none(record.get("due_date")),
        "descricao": text_or_none(record.get("note")),
        "concluida": 1 if record.get("done") in (True, 1, "1", "true") else 0,
        "cliente_external_id": text_or_none(_person(record)),
        "venda_external_id": text_or_none(record.get("deal_id")),
    }
    if record.get("due_date") and record.get("due_time"):
        row["hora_vencimento"] = str(record["due_time"])[:8]
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    return None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return False


def is_deleted(record: Mapping[str, Any]) -> bool:
    """v2's ``is_deleted``: deleted, kept 30 days before it is gone."""
    return record.get("is_deleted") is True
