"""The credentials cipher, byte-compatible with the PHP application.

Format of ``crm_integracoes.credenciais`` (spec §4)::

    base64( IV[16] ‖ base64( AES-256-CBC/PKCS#7( json(credentials) ) ) )

with key = SHA-256(secret) (raw 32 bytes). This is what PHP's
``base64_encode($iv . openssl_encrypt($json, 'aes-256-cbc', $key, 0, $iv))``
produces. There is no MAC: a wrong secret shows up as bad padding or garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from crm_cli import secret_sources as secrets
from crm_cli.errors import ConfigError, CredentialsError, CrmWarning, SecretMissing
from crm_cli.masking import mask, mask_all, mask_secrets  # noqa: F401  (re-exported)

# The PHP application's fallback when JWT_SECRET is unset. Public knowledge:
# crm-cli never writes with it, and reads with it only when told to.
FALLBACK_SECRET = "ecletech-crm-secret-key"
_IV_SIZE = 16


class UndecryptableError(ValueError):
    """The blob is not a credentials object under this secret (the reason is the message)."""


def encrypt(credentials: dict[str, Any], secret: str) -> str:
    plaintext = json.dumps(credentials, ensure_ascii=False, separators=(",", ":")).encode()
    iv = os.urandom(_IV_SIZE)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(secret)), modes.CBC(iv)).encryptor()
    inner = base64.b64encode(encryptor.update(padded) + encryptor.finalize())
    return base64.b64encode(iv + inner).decode("ascii")


def decrypt(blob: str, secret: str) -> dict[str, Any]:
    """The credentials object in ``blob``; UndecryptableError saying why not."""
    try:
        raw = base64.b64decode(blob.strip(), validate=True)
        iv, inner = raw[:_IV_SIZE], raw[_IV_SIZE:]
        ciphertext = base64.b64decode(inner, validate=True)
    except (binascii.Error, ValueError):
        raise UndecryptableError("the stored value is not valid base64 (corrupt)") from None
    if len(iv) != _IV_SIZE or not ciphertext or len(ciphertext) % 16:
        raise UndecryptableError("the stored value is truncated (corrupt)")
    decryptor = Cipher(algorithms.AES(_key(secret)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise UndecryptableError("bad padding (most likely the wrong secret)") from None
    try:
        data = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UndecryptableError(
            "the plaintext is not JSON (most likely the wrong secret)"
        ) from None
    if not isinstance(data, dict):
        raise UndecryptableError("the plaintext is not a JSON object")
    return data


def _key(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


@dataclass(frozen=True)
class CredentialCipher:
    """Encrypts and decrypts stored credentials with the configured secret."""

    secret: str | None
    key_env: str
    allow_fallback: bool = False

    @classmethod
    def from_settings(cls, settings: Any, allow_fallback: bool = False) -> CredentialCipher:
        """The secret where the configuration says: ``$key_env`` when set, else
        ``credentials.key_file``, else the ``key_env`` line of ``credentials.env_file``
        (the PHP application's .env)."""
        key_env = settings.credentials_key_env
        allow = allow_fallback or settings.credentials_allow_fallback_key
        if os.environ.get(key_env) is not None:
            return cls.from_environment(key_env, allow)
        if settings.credentials_key_file:
            return cls(secrets.from_key_file(settings.credentials_key_file), key_env, allow)
        if settings.credentials_env_file:
            secret = secrets.from_env_file(settings.credentials_env_file, key_env)
            return cls(secret, key_env, allow)
        return cls.from_environment(key_env, allow)

    @classmethod
    def from_environment(cls, key_env: str, allow_fallback: bool = False) -> CredentialCipher:
        """The secret from ``$key_env``. Set but empty, it is what the PHP application
        then uses too: the key is the SHA-256 of the empty string (with a warning)."""
        secret = os.environ.get(key_env)
        if secret == "":
            warnings.warn(
                CrmWarning(
                    f"${key_env} is set but empty: like the PHP application, credentials are "
                    "read and written with the key of the empty secret (set the PHP "
                    "application's JWT_SECRET, or unset it to mean 'no secret')"
                ),
                stacklevel=2,
            )
        return cls(secret, key_env, allow_fallback)

    def encrypt(self, credentials: dict[str, Any]) -> str:
        if self.secret is None:
            raise ConfigError(
                f"${self.key_env} is not set: refusing to encrypt credentials with the "
                f"well-known fallback key; export {self.key_env} with the PHP application's secret"
            )
        return encrypt(credentials, self.secret)

    def decrypt(self, blob: str, id_loja: int) -> dict[str, Any]:
        secret = self._reading_secret()
        try:
            return decrypt(blob, secret)
        except UndecryptableError as exc:
            raise CredentialsError(
                f"the credentials for store {id_loja} cannot be decrypted: {exc}; "
                f"check that ${self.key_env} holds the PHP application's secret"
            ) from None

    def _reading_secret(self) -> str:
        if self.secret is not None:
            return self.secret
        if not self.allow_fallback:
            raise SecretMissing(
                f"${self.key_env} is not set; export it with the PHP application's secret "
                "(to read credentials the PHP application wrote with its built-in fallback "
                "key, set credentials.allow_fallback_key: true)"
            )
        warnings.warn(
            CrmWarning(
                f"${self.key_env} is not set; reading credentials with the PHP "
                "application's well-known fallback key"
            ),
            stacklevel=2,
        )
        return FALLBACK_SECRET
