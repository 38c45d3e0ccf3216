"""Where a sync item's time goes: profile warm sync runs of 100 creates, in-process.

The emulator runs in a process of its own (`crm-cli emulator`), so the profile
holds only the sync's own work. Prints wall and CPU time per item (best of the
runs, then the median), then the profile: by package (cProfile, the default) or
as a call tree (`--tree`, needs `pip install pyinstrument`).

    ../.venv/bin/python profile_sync.py --backend mariadb [--runs 5] [--tree]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

from common import ROOT, SECRET, median, scratch_database, shop

from crm_cli.credentials import CredentialCipher
from crm_cli.demo import sample_erp
from crm_cli.engine.queue import enqueue
from crm_cli.engine.run import SyncRun
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator
from crm_cli.settings import Settings

ITEMS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), default="sqlite")
    parser.add_argument("--runs", type=int, default=5, help="runs of 100 items (default 5)")
    parser.add_argument("--tree", action="store_true", help="pyinstrument call tree")
    args = parser.parse_args()
    port = _free_port()
    emulator_process = subprocess.Popen(
        [sys.executable, "-m", "crm_cli", "emulator", "gestao_click", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        _wait_for(port)
        emulator = types.SimpleNamespace(
            url=f"http://127.0.0.1:{port}", credentials=GestaoClickEmulator.CREDENTIALS
        )
        with scratch_database(args.backend) as url:
            _profile(url, emulator, args)
    finally:
        emulator_process.terminate()
        emulator_process.wait()


def _profile(url: str, emulator: types.SimpleNamespace, args: argparse.Namespace) -> None:
    database = shop(url, emulator, rate_limit_per_second=0, daily_limit=0)
    for record_id in sample_erp.add_clientes(database, ITEMS * args.runs + 1):
        enqueue(database, id_loja=1, entidade="cliente", id_registro=record_id)
    settings = Settings(source="bench", database_url=url)
    cipher = CredentialCipher(SECRET, "JWT_SECRET")
    SyncRun(database, settings, cipher).run(limit=1)  # imports, reflection, first connections

    profiler = _profiler(args.tree)
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        result = SyncRun(database, settings, cipher).run()
        profiler.disable()
        walls.append((time.perf_counter() - wall) * 1000 / ITEMS)
        cpus.append((time.process_time() - cpu) * 1000 / ITEMS)
        assert result.processed == ITEMS, result
    database.dispose()
    print(
        f"{args.backend}: per item {min(walls):.2f} ms wall (median {median(walls):.2f}), "
        f"{min(cpus):.2f} ms CPU (median {median(cpus):.2f}), {args.runs} runs of {ITEMS}, "
        "profiler on"
    )
    profiler.show()


def _profiler(tree: bool) -> types.SimpleNamespace:
    if tree:
        from pyinstrument import Profiler

        tree_profiler = Profiler(interval=0.0002)
        return types.SimpleNamespace(
            enable=tree_profiler.start,
            disable=tree_profiler.stop,
            show=lambda: print(tree_profiler.output_text(unicode=True, color=False)),
        )
    profile = cProfile.Profile()
    return types.SimpleNamespace(
        enable=profile.enable, disable=profile.disable, show=lambda: _by_package(profile)
    )


def _by_package(profile: cProfile.Profile) -> None:
    """Own time per package (or per module of this project), largest first."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "sync.prof")
        profile.dump_stats(path)
        stats = pstats.Stats(str(path))
    own: collections.Counter[str] = collections.Counter()
    for (file, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        own[_owner(file, function)] += tottime
    total = sum(own.values())
    print(f"\nown time by package ({total:.2f} s profiled):")
    for owner, seconds in own.most_common(20):
        print(f"{seconds * 1000:9.1f} ms  {100 * seconds / total:5.1f} %  {owner}")


def _owner(file: str, function: str) -> str:
    if "site-packages" + os.sep in file:
        return file.split("site-packages" + os.sep)[1].split(os.sep)[0]
    if file.startswith(str(ROOT)):
        return os.path.relpath(file, ROOT)
    if file == "~":  # C functions: socket waits show here (recv_into = waiting for answers)
        return function
    return "stdlib " + Path(file).name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the emulator did not start on port {port}")


if __name__ == "__main__":
    main()
