"""``crm_cli.engine.contract``: the 0.2 path of the client contract still works, warning."""

from __future__ import annotations

import importlib
import sys

import pytest

from crm_cli.providers import contract


def test_the_old_path_gives_the_same_classes_with_a_deprecation_warning(monkeypatch):
    monkeypatch.delitem(sys.modules, "crm_cli.engine.contract", raising=False)
    with pytest.warns(DeprecationWarning, match="crm_cli.providers.contract"):
        old = importlib.import_module("crm_cli.engine.contract")
    assert (old.Pacer, old.TokenStore) == (contract.Pacer, contract.TokenStore)
