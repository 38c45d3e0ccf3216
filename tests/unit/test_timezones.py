"""``crm_cli.timezones`` and the queue's clock: zones named in the configuration, carried
by the database handle, never set for the whole process."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_cli.db.clock import APP_TIME_ZONE_OPTION, app_offset_seconds, app_zone
from crm_cli.errors import ConfigError
from crm_cli.timezones import zone_of


def test_the_database_handle_carries_the_erps_zone():
    sao_paulo = sa.create_engine("sqlite://")  # not connected: the handle only
    lisbon = sa.create_engine(
        "sqlite://", execution_options={APP_TIME_ZONE_OPTION: "Europe/Lisbon"}
    )
    assert app_zone(sao_paulo).key == "America/Sao_Paulo"  # the PHP application's default
    assert app_zone(lisbon).key == "Europe/Lisbon"
    assert app_offset_seconds(sao_paulo) == -3 * 3600  # no DST in Brazil since 2019
    assert app_offset_seconds(lisbon) in (0, 3600)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", ""])
def test_an_unknown_zone_names_the_setting_and_the_fix(name):
    with pytest.raises(ConfigError, match=r"database\.app_time_zone .* pip install tzdata"):
        zone_of(name)
