"""The command line as an operator meets it: help, exit codes, no tracebacks."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.integration.support import plain

SUBCOMMANDS = [
    "migrate",
    "config",
    "test-connection",
    "enqueue",
    "sync",
    "cleanup",
    "full-sync",
    "import",
    "stats",
    "queue",
    "demo",
]


def test_help_lists_every_subcommand(bare_cli):
    result = bare_cli("--help")

    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(bare_cli, name):
    result = bare_cli(name, "--help")

    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert len(result.stdout.split()) > 12  # a real explanation, not a bare usage line


def test_unknown_option_is_one_line_exit_2(bare_cli):
    result = bare_cli("migrate", "--no-such-flag")

    assert result.exit_code == 2
    assert plain(result.stderr) == (
        "crm-cli: error: No such option: --no-such-flag (see 'crm-cli migrate --help')\n"
    )


def test_unknown_command_is_exit_2(bare_cli):
    result = bare_cli("synk")

    assert result.exit_code == 2
    assert "No such command 'synk'" in result.stderr


def test_version(bare_cli):
    from crm_cli import __version__

    result = bare_cli("--version")
    assert result.stdout == f"crm-cli {__version__}\n"


def test_python_dash_m_and_console_script_agree(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    by_module = subprocess.run(
        [sys.executable, "-m", "crm_cli", "--help"], capture_output=True, text=True, env=env
    )
    assert by_module.returncode == 0
    assert "migrate" in by_module.stdout


def test_internal_errors_show_a_traceback_only_with_verbose(tmp_path):
    # a directory where the SQLite file should be: an OS-level failure
    (tmp_path / "db").mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
    }
    quiet = subprocess.run(
        [sys.executable, "-m", "crm_cli", "migrate"], capture_output=True, text=True, env=env
    )
    loud = subprocess.run(
        [sys.executable, "-m", "crm_cli", "--verbose", "migrate"],
        capture_output=True,
        text=True,
        env=env,
    )

    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr
    assert quiet.stderr.count("\n") == 1
    assert "Traceback" in loud.stderr


def test_emulator_on_a_busy_port_says_so(bare_cli):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = bare_cli("emulator", "gestao_click", "--port", str(port))

    assert result.exit_code == 1
    assert plain(result.stderr) == (
        f"crm-cli: error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another with --port\n"
    )


def test_emulator_flags_are_the_providers_own(bare_cli):
    result = bare_cli("emulator", "bling", "--port", "0", "--api-token", "x")

    assert result.exit_code == 2
    assert "unknown option --api-token (this emulator's own: --client-id" in result.stderr


def test_a_reader_that_goes_away_gets_no_error_text(tmp_path):
    """`crm-cli ... | head`: stdout closes early; no 'internal error', no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crm_cli", "--help"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    proc.stdout.close()  # before the process writes anything: its first write fails
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == ""
    assert proc.returncode == 1


def test_cli_reports_config_errors_in_one_line_exit_2(bare_cli, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sync:\n  batch_size: 101\n")

    result = bare_cli("--config", str(path), "migrate")

    assert result.exit_code == 2
    assert plain(result.stderr) == (
        f"crm-cli: error: config error in {path}: sync.batch_size: must be at most 100 (got 101)\n"
    )


def test_under_cron_each_stderr_line_has_its_time_and_level(bare_cli, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sync:\n  batch_size: 0\n")

    result = bare_cli("--config", str(path), "migrate")  # stderr is not a terminal here

    assert re.match(
        r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] crm-cli: error: config error", result.stderr
    )


def _commands():
    from typer.main import get_command

    from crm_cli.cli.app import app

    def walk(command, path):
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path

    return list(walk(get_command(app), []))


def test_every_commands_help_ends_with_an_example(bare_cli):
    commands = _commands()
    missing = [
        " ".join(path)
        for path in commands
        if "Example: crm-cli" not in bare_cli(*path, "--help").stdout
    ]

    assert len(commands) > 20 and missing == []


def test_shell_completion_is_offered(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    script = subprocess.run(
        [sys.executable, "-m", "crm_cli", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env=env,
    )
    completed = subprocess.run(
        [sys.executable, "-m", "crm_cli"],
        capture_output=True,
        text=True,
        env={
            **env,
            "_CRM_CLI_COMPLETE": "complete_bash",
            "COMP_WORDS": "crm-cli sy",
            "COMP_CWORD": "1",
        },
    )

    assert script.returncode == 0 and "_crm_cli_completion" in script.stdout
    assert completed.returncode == 0 and completed.stderr == ""
    assert completed.stdout.split() == ["sync"]
