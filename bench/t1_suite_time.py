"""T1: the test suite's wall time, beside a baseline revision's, in one run.

Each revision gets its own checkout (a git worktree) and its own virtualenv,
installed editable as a developer would, and runs its own README test command
on both backends (MariaDB required). The baseline runs first, then this
checkout's code as committed (HEAD): same machine, same minutes.

    python t1_suite_time.py                       # baseline: before issue 21
    python t1_suite_time.py --baseline REV --keep # keep the worktrees to look at

Prints a Markdown table: wall time, tests collected, and the ratio to the
baseline (target: ≤ 0.5).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE_ISSUE_21 = "97445f9"  # the last commit before the suite was reworked


def checkout(rev: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(where), rev],
        check=True,
        capture_output=True,
    )
    venv = where / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin/pip"), "install", "--quiet", "-e", f"{where}[dev]"],
        check=True,
        capture_output=True,
    )
    return venv / "bin/python"


def run_suite(python: Path, where: Path, args: list[str]) -> tuple[float, str]:
    env = {**os.environ, "CRM_TEST_REQUIRE_MARIADB": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.monotonic() - started
    summary = next(
        (ln for ln in reversed(done.stdout.splitlines()) if re.search(r"\d+ (passed|failed)", ln)),
        f"exit {done.returncode}",
    )
    return elapsed, summary.strip("= ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BEFORE_ISSUE_21, help="revision to compare with")
    parser.add_argument("--keep", action="store_true", help="keep the worktrees")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-cli-t1-"))
    rows = []
    try:
        old = work / "baseline"
        new = work / "head"
        old_python, new_python = checkout(args.baseline, old), checkout("HEAD", new)
        base, base_summary = run_suite(old_python, old, [])
        rows.append(("baseline", args.baseline, "pytest", base, base_summary))
        for command in ([], ["--cov"]):
            elapsed, summary = run_suite(new_python, new, command)
            head = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
            ).stdout.strip()
            rows.append(("HEAD", head, " ".join(["pytest", *command]), elapsed, summary))
    finally:
        if not args.keep:
            for tree in (work / "baseline", work / "head"):
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    capture_output=True,
                )
            shutil.rmtree(work, ignore_errors=True)
    print("| id | code | command | wall time | tests | ratio to baseline | target | ok |")
    print("|---|---|---|---|---|---|---|---|")
    baseline = rows[0][3]
    for what, rev, command, elapsed, summary in rows:
        ratio = elapsed / baseline
        target, ok = ("≤ 0.5", "yes" if ratio <= 0.5 else "no") if what == "HEAD" else ("", "")
        print(
            f"| T1 | {what} {rev} | `{command}` | {elapsed:.0f} s | {summary} | "
            f"{ratio:.2f} | {target} | {ok} |"
        )


if __name__ == "__main__":
    main()
