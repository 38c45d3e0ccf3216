"""``crm_cli.masking``: secrets shown without showing them."""

from __future__ import annotations

from crm_cli.masking import mask, mask_all, mask_secrets, secret_looking


def test_short_secrets_show_nothing_long_ones_four_characters():
    assert mask("abc123") == "…"
    assert mask("abcd1234") == "abcd…"
    assert mask_all({"api_token": "tok-0123456789"}) == {"api_token": "tok-…"}


def test_secret_looking_keys():
    for key in ("api_token", "client_secret", "Authorization", "senha", "API_KEY"):
        assert secret_looking(key)
    for key in ("nome", "email", "client_id", "codigo"):
        assert not secret_looking(key)


def test_payloads_are_masked_all_the_way_down_and_not_changed_in_place():
    payload = {
        "nome": "A",
        "auth": {"access_token": "abcdefghijkl", "nested": [{"secret": "s3cr3t-value"}]},
        "itens": [{"valor": 1}],
    }
    masked = mask_secrets(payload)
    assert masked == {
        "nome": "A",
        "auth": {"access_token": "abcd…", "nested": [{"secret": "s3cr…"}]},
        "itens": [{"valor": 1}],
    }
    assert payload["auth"]["access_token"] == "abcdefghijkl"
