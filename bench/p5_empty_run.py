"""P5: what cron pays every minute: `crm-cli sync` on an empty queue, against
`python -c "import sqlalchemy, requests"` measured in the same run (medians of 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import SECRET, arguments, median, report, scratch_database, shop

from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator


def wall(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> list[dict]:
    args = arguments(__doc__)
    with scratch_database(args.backend) as url, GestaoClickEmulator() as emulator:
        shop(url, emulator).dispose()
        env = {**os.environ, "CRM_DATABASE_URL": url, "JWT_SECRET": SECRET}
        baseline, run = [], []
        for _ in range(7):
            baseline.append(wall([sys.executable, "-c", "import sqlalchemy, requests"], env))
            run.append(wall([sys.executable, "-m", "crm_cli", "sync"], env))
    b, r = median(baseline), median(run)
    rows = [
        {
            "id": "P5",
            "what": "crm-cli sync, empty queue",
            "backend": args.backend,
            "result": f"{r:.3f} s",
            "baseline": f"imports {b:.3f} s",
            "ratio": f"{r / b:.2f}",
            "target": "≤ 1.5 × baseline",
            "ok": r <= 1.5 * b,
        }
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
