"""Find a server binary, or skip (locally) / fail (under CI=true) with a message that says how to install it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def require_binary(name: str, debian_package: str) -> str:
    path = shutil.which(name) or next(
        (os.path.join(d, name) for d in SBIN if os.access(os.path.join(d, name), os.X_OK)), None
    )
    if path:
        return path
    message = f"{name} is not installed: apt-get install {debian_package}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM lets a server stop its children and free its ports; SIGKILL only if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stderr:
        process.stderr.close()
