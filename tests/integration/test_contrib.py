"""``contrib/``: the systemd units and the logrotate snippet an operator copies, held
against systemd's own checker where this machine has it, and against crontab.example
(the same jobs, the same logs)."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.test_cron import INSTALLED, crontab

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
UNITS = sorted((CONTRIB / "systemd").glob("*"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(path)
    return parser


def test_each_timer_starts_its_service_as_cron_would():
    services = {p.stem for p in UNITS if p.suffix == ".service"}
    timers = {p.stem for p in UNITS if p.suffix == ".timer"}
    assert services == timers and len(services) == 5
    _variables, jobs = crontab()
    for name in services:
        service, timer = (
            unit(CONTRIB / "systemd" / f"{name}.service"),
            unit(CONTRIB / "systemd" / f"{name}.timer"),
        )
        assert service["Service"]["Type"] == "oneshot"
        assert service["Service"]["StandardOutput"] == "journal"
        assert "143" in service["Service"]["SuccessExitStatus"]  # SIGTERM's exit
        command = service["Service"]["ExecStart"]
        assert command.startswith(INSTALLED + " ")
        # the same job as crontab.example's line for it
        assert any(f"{command} >>" in job for job in jobs), command
        assert timer["Timer"]["Persistent"] == "true"
        assert timer["Install"]["WantedBy"] == "timers.target"


def test_systemd_accepts_the_units(tmp_path):
    """``systemd-analyze verify`` where systemd is installed (CI's image has it), with
    ExecStart at this checkout's crm-cli; else its calendar syntax by pattern."""
    analyze = shutil.which("systemd-analyze")
    crm_cli = Path(sys.executable).with_name("crm-cli")
    for path in UNITS:
        text = path.read_text().replace(INSTALLED, str(crm_cli))
        (tmp_path / path.name).write_text(text)
    calendars = [unit(p)["Timer"]["OnCalendar"] for p in UNITS if p.suffix == ".timer"]
    if analyze is None:
        for calendar in calendars:
            assert re.fullmatch(r"\*-\*-\* [\d*/:]+", calendar), calendar
        return
    checked = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == "", checked.stderr
    for calendar in calendars:
        parsed = subprocess.run(
            [analyze, "calendar", calendar], capture_output=True, text=True, timeout=60
        )
        assert parsed.returncode == 0, (calendar, parsed.stderr)


def test_logrotate_rotates_the_crontabs_logs():
    snippet = (CONTRIB / "logrotate" / "crm-cli").read_text()
    [pattern] = re.findall(r"^(/\S+) \{", snippet, re.MULTILINE)
    _variables, jobs = crontab()
    logs = {re.search(r'>> "\$HOME(/[^"]+)"', job).group(1) for job in jobs}
    for log in logs:  # each of the crontab's logs, in the cron user's home
        assert Path("/home/crm-cli" + log).match(pattern), (log, pattern)
    assert "copytruncate" in snippet and "missingok" in snippet
