"""``crontab.example`` pasted as it is: each job line run the way cron runs it (a bare
environment: ``env -i`` with the crontab's own variables, HOME and LOGNAME; ``sh
-c``), against a shop whose configuration sits where crm-cli looks by itself."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from crm_cli.demo import sample_erp
from tests.integration.support import SECRET, php_enqueue

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = "/opt/crm-cli/.venv/bin/crm-cli"  # the README's server install


def crontab() -> tuple[dict[str, str], list[str]]:
    """The crontab's variables and its job commands (what follows the five fields)."""
    variables, jobs = {}, []
    for line in (ROOT / "crontab.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, _, value = line.partition("=")
            variables[name] = value
            continue
        jobs.append(line.split(None, 5)[5])
    return variables, jobs


@pytest.fixture
def operator_home(tmp_path, db_url):
    """The cron user's home: ~/.config/crm-cli/config.yaml names the shop's database
    and a key file only that user can read."""
    home = tmp_path / "home"
    key = home / ".config" / "crm-cli" / "jwt.key"
    key.parent.mkdir(parents=True)
    key.write_text(SECRET + "\n")
    key.chmod(0o600)
    (key.parent / "config.yaml").write_text(
        f"database:\n  url: {db_url}\ncredentials:\n  key_file: {key}\n"
    )
    return home


def test_each_job_line_runs_under_crons_bare_environment(operator_home, shop, gc_emulator):
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    variables, jobs = crontab()
    crm_cli = Path(sys.executable).with_name("crm-cli")  # this checkout's install
    assert crm_cli.exists() and len(jobs) == 5

    for job in jobs:
        assert INSTALLED in job
        done = subprocess.run(
            [
                "env",
                "-i",
                *(f"{k}={v}" for k, v in variables.items()),
                f"HOME={operator_home}",
                "LOGNAME=crm",
                variables.get("SHELL", "/bin/sh"),
                "-c",
                job.replace(INSTALLED, str(crm_cli)),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (job, done.stdout, done.stderr)
        assert done.stdout == done.stderr == ""  # all of it went to the job's log

    logs = operator_home / ".local" / "state" / "crm-cli"
    assert sorted(p.name for p in logs.iterdir()) == [
        "cleanup.log",
        "full-sync.log",
        "pull.log",
        "schedules.log",
        "sync.log",
    ]
    sync = (logs / "sync.log").read_text()
    assert re.match(r"^\[[\d\- :]+\] Processados: 1 \| Erros: 0 \|", sync), sync
    assert gc_emulator.stats()["creates"] == {"clientes": 1}
    for log in logs.iterdir():
        text = log.read_text()
        assert text and "crm-cli: " not in text and "ERRO:" not in text, (log, text)
