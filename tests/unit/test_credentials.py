"""``crm_cli.credentials``: the cipher against PHP-made blobs and an independent
decryptor (openssl), and what it says when it cannot read a blob."""

from __future__ import annotations

import base64
import json

import pytest

from crm_cli.credentials import (
    FALLBACK_SECRET,
    CredentialCipher,
    UndecryptableError,
    decrypt,
    encrypt,
    mask,
)
from crm_cli.errors import ConfigError, CredentialsError, CrmWarning
from tests.php_vectors import VECTORS, openssl_decrypt, openssl_encrypt


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_php_blob_decrypts_to_its_credentials(vector):
    assert decrypt(vector["credenciais_blob"], vector["secret"]) == vector["credentials"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_blobs_we_write_are_read_by_an_independent_decryptor(vector):
    blob = encrypt(vector["credentials"], vector["secret"])

    assert json.loads(openssl_decrypt(blob, vector["secret"])) == vector["credentials"]


def test_each_encryption_uses_a_fresh_iv():
    creds = {"api_token": "x" * 20}
    assert encrypt(creds, "k") != encrypt(creds, "k")


@pytest.mark.parametrize(
    ("blob", "secret", "reason"),
    [
        (VECTORS[1]["credenciais_blob"], "not-the-secret", "wrong secret"),
        ("%%% not base64 %%%", "k", "not valid base64"),
        (base64.b64encode(b"0123456789abcdef").decode(), "k", "truncated"),
        (openssl_encrypt(b"hello, not json", "k"), "k", "not JSON"),
        (openssl_encrypt(b'["a", "list"]', "k"), "k", "not a JSON object"),
    ],
    ids=["wrong-secret", "corrupt-base64", "truncated", "non-json", "json-list"],
)
def test_undecryptable_blobs_say_why(blob, secret, reason):
    with pytest.raises(UndecryptableError, match=reason):
        decrypt(blob, secret)


def test_cipher_names_the_store_and_the_likely_cause():
    cipher = CredentialCipher("wrong", "JWT_SECRET")

    with pytest.raises(CredentialsError) as caught:
        cipher.decrypt(VECTORS[1]["credenciais_blob"], id_loja=7)

    assert caught.value.exit_code == 1
    assert caught.value.message.startswith("the credentials for store 7 cannot be decrypted")
    assert "$JWT_SECRET" in caught.value.message


def test_without_a_secret_writing_is_refused():
    cipher = CredentialCipher.from_environment("JWT_SECRET", allow_fallback=True)

    with pytest.raises(ConfigError, match="refusing to encrypt credentials"):
        cipher.encrypt({"api_token": "abc"})


def test_without_a_secret_reading_needs_the_explicit_opt_in():
    fallback_blob = VECTORS[0]["credenciais_blob"]
    assert VECTORS[0]["secret"] == FALLBACK_SECRET

    with pytest.raises(ConfigError, match="allow_fallback_key"):
        CredentialCipher.from_environment("JWT_SECRET").decrypt(fallback_blob, 1)

    opted_in = CredentialCipher.from_environment("JWT_SECRET", allow_fallback=True)
    with pytest.warns(CrmWarning, match="well-known fallback key"):
        assert opted_in.decrypt(fallback_blob, 1) == VECTORS[0]["credentials"]


def test_secret_comes_from_the_configured_variable(monkeypatch):
    monkeypatch.setenv("SHOP_SECRET", VECTORS[1]["secret"])
    cipher = CredentialCipher.from_environment("SHOP_SECRET")

    assert cipher.decrypt(VECTORS[1]["credenciais_blob"], 1) == VECTORS[1]["credentials"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("gc-access-0001", "gc-a…"),
        ("pd-token-çãé/ü", "pd-t…"),
        ("abc123", "…"),
        (1767225600, "1767…"),
    ],
)
def test_mask_shows_four_characters_of_long_values_only(value, shown):
    assert mask(value) == shown
