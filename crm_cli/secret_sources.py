"""Where the credentials secret can come from besides the environment.

- ``credentials.key_file``: a file holding only the secret, readable by its
  owner alone (a file others can read is refused: the secret unlocks every
  store's CRM credentials).
- ``credentials.env_file``: the PHP application's ``.env``, where it keeps
  ``JWT_SECRET``; only that variable is read (dotenv syntax: ``KEY=value``,
  optional ``export``, quotes, ``#`` comments).
"""

from __future__ import annotations

import stat
import warnings
from pathlib import Path

from crm_cli.errors import ConfigError, CrmWarning


def from_key_file(path: str) -> str:
    """The secret in ``path`` (its last line break dropped)."""
    file = Path(path).expanduser()
    try:
        info = file.stat()
    except FileNotFoundError:
        raise ConfigError(f"credentials.key_file {file} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"credentials.key_file {file}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"credentials.key_file {file} is not a file")
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"credentials.key_file {file} can be read by others (mode "
            f"{stat.filemode(info.st_mode)}): make it its owner's alone with 'chmod 600 {file}'"
        )
    secret = _read(file, "credentials.key_file").rstrip("\r\n")
    if not secret:
        raise ConfigError(f"credentials.key_file {file} is empty: write the secret into it")
    return secret


def from_env_file(path: str, name: str) -> str | None:
    """``name``'s value in the dotenv file ``path`` (None: not there; the PHP
    application then uses its fallback key too)."""
    file = Path(path).expanduser()
    value = None
    for line in _read(file, "credentials.env_file").splitlines():
        key, found = _assignment(line)
        if key == name:
            value = found  # the last one wins, as in dotenv loaders
    if value == "":
        warnings.warn(
            CrmWarning(
                f"{name} is empty in {file}: like the PHP application, credentials are read "
                "and written with the key of the empty secret"
            ),
            stacklevel=2,
        )
    return value


def _assignment(line: str) -> tuple[str | None, str]:
    text = line.strip()
    if not text or text.startswith("#") or "=" not in text:
        return None, ""
    if text.startswith("export "):
        text = text[len("export ") :].lstrip()
    key, _, value = text.partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    elif " #" in value:
        value = value.split(" #", 1)[0].rstrip()
    return key.strip(), value


def _read(file: Path, setting: str) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{setting} {file} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{setting} {file} is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{setting} {file}: cannot read it ({why})") from None
