"""``crm_cli.timezones``: the ERP's zone, named in the configuration."""

from __future__ import annotations

import pytest

from crm_cli import timezones
from crm_cli.errors import ConfigError


def test_a_known_zone_and_the_default(monkeypatch):
    monkeypatch.setattr(timezones, "_zone", None)
    assert timezones.app_zone().key == "America/Sao_Paulo"  # built on first use
    timezones.use_app_time_zone("Europe/Lisbon")
    assert timezones.app_zone().key == "Europe/Lisbon"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", ""])
def test_an_unknown_zone_names_the_setting_and_the_fix(name):
    with pytest.raises(ConfigError, match=r"database\.app_time_zone .* pip install tzdata"):
        timezones.zone_of(name)
