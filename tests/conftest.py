"""What both tiers share. The unit tier (tests/unit) imports no database driver and
opens no socket; the integration tier's fixtures are in tests/integration/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config or database."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for name in ("CRM_CONFIG", "CRM_DATABASE_URL", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
