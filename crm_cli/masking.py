"""Showing secrets without showing them: masks for output, logs and stored payloads."""

from __future__ import annotations

import functools
import re
from typing import Any


def mask(value: Any) -> str:
    """Show a credential as its first 4 characters and '…' (only '…' when short)."""
    text = str(value)
    # A short secret would be mostly revealed by its first four characters.
    return f"{text[:4]}…" if len(text) >= 8 else "…"


def mask_all(credentials: dict[str, Any]) -> dict[str, str]:
    return {key: mask(value) for key, value in credentials.items()}


_SECRET_WORDS = re.compile(
    "token|secret|password|senha|api_key|apikey|authorization", re.IGNORECASE
)


@functools.lru_cache(maxsize=1024)  # payloads of one kind repeat the same few keys
def secret_looking(key: str) -> bool:
    return _SECRET_WORDS.search(key) is not None


def mask_secrets(value: Any) -> Any:
    """A copy of a payload with every secret-looking field masked (for logs)."""
    if isinstance(value, dict):
        return {
            key: mask(item)
            if isinstance(key, str) and secret_looking(key) and not isinstance(item, (dict, list))
            else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value
