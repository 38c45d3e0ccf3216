"""Showing secrets without showing them: masks for output, logs and stored payloads."""

from __future__ import annotations

from typing import Any


def mask(value: Any) -> str:
    """Show a credential as its first 4 characters and '…' (only '…' when short)."""
    text = str(value)
    # A short secret would be mostly revealed by its first four characters.
    return f"{text[:4]}…" if len(text) >= 8 else "…"


def mask_all(credentials: dict[str, Any]) -> dict[str, str]:
    return {key: mask(value) for key, value in credentials.items()}


_SECRET_WORDS = ("token", "secret", "password", "senha", "api_key", "apikey", "authorization")


def mask_secrets(value: Any) -> Any:
    """A copy of a payload with every secret-looking field masked (for logs)."""
    if isinstance(value, dict):
        return {
            key: mask(item)
            if isinstance(key, str)
            and any(w in key.lower() for w in _SECRET_WORDS)
            and not isinstance(item, (dict, list))
            else mask_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value
