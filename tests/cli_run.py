"""Run the real ``python -m bot`` in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, stdin: bytes | str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MAILCHECK_"))}
    if "MAILCHECK_DB" not in (env or {}):
        # The chat records by default: never into the checkout's own ./mailcheck.db.
        clean["MAILCHECK_DB"] = os.path.join(tempfile.mkdtemp(prefix="mailcheck-cli-"), "mailcheck.db")
    clean.update(env or {})
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=data if data is not None else b"",
        capture_output=True,
        cwd=ROOT,
        env=clean,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
