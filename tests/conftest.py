"""Shared fixtures: a clean environment for every test, real SQLite paths, real servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One knowledge cache for the whole run, never the developer's own ~/.cache."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, cache_home: Path) -> None:
    """A developer's Slack tokens or mailcheck settings never leak into a test (bolt would switch to OAuth)."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MAILCHECK_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's real SQLite file lives."""
    return tmp_path / "mailcheck.db"


@pytest.fixture
def knowledge_dir() -> Path:
    return KNOWLEDGE


@pytest.fixture
def dns_zone_server(tmp_path: Path) -> Iterator[object]:
    """A factory: call it with a Zone to get a running dnsmasq (stopped after the test)."""
    from contextlib import ExitStack

    from tests.servers.dns import Zone, run_dnsmasq

    with ExitStack() as stack:

        def start(zone: Zone) -> object:
            workdir = tmp_path / f"dns{len(stack._exit_callbacks)}"
            workdir.mkdir()
            return stack.enter_context(run_dnsmasq(zone, workdir))

        yield start


@pytest.fixture(scope="session")
def dovecot_farm() -> Iterator[object]:
    """Real Dovecot instances on 127.0.0.2 … (tests.servers.dovecot.SPECS): each starts on first use,
    all stop at the end of the session."""
    from tests.servers.dovecot import DovecotFarm

    with DovecotFarm() as farm:
        yield farm
