"""`mailcheck diagnose --probe`: the probe's findings change the diagnosis (real Dovecot and dnsmasq)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli_run import run_cli
from tests.servers.dns import DnsServer, Zone, run_dnsmasq
from tests.servers.dovecot import DovecotFarm

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zone = Zone(a={"mail.healthy.test": "127.0.0.2", "mail.expired.test": "127.0.0.3"})
    with run_dnsmasq(zone, tmp_path_factory.mktemp("dns")) as server:
        yield server


@pytest.fixture
def env(dns_server: DnsServer, dovecot_farm: DovecotFarm) -> dict[str, str]:
    dovecot_farm.get("healthy")
    dovecot_farm.get("expired")
    return {
        "MAILCHECK_PROBE_ALLOW": "127.0.0.0/8",
        "MAILCHECK_DNS_SERVER": dns_server.address,
        "MAILCHECK_CAFILE": str(dovecot_farm.cafile),
    }


def test_expired_certificate_turns_vague_message_into_tls_certificate(env: dict[str, str]) -> None:
    """'Cannot connect' + a server whose certificate expired: the reply says it is the server's certificate."""
    result = run_cli("diagnose", "--probe", "--json", "--timeout", "5",
                     "iPhoneで mail.expired.test に接続できません", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["symptom"] == "tls_certificate"
    assert data["probe"]["host"] == "mail.expired.test"
    assert any(
        f["symptom"] == "tls_certificate" and f["severity"] == "error" for f in data["probe"]["findings"]
    )


def test_probe_summary_in_text_reply(env: dict[str, str]) -> None:
    """The text reply carries the short probe summary in the message's language, not the whole transcript."""
    result = run_cli("diagnose", "--probe", "--timeout", "5", "mail.expired.test に接続できません", env=env)
    assert result.returncode == 0, result.stderr
    assert "【サーバーの確認結果】" in result.stdout
    assert "サーバーの確認: mail.expired.test" in result.stdout
    assert "tcp:imaps" not in result.stdout  # the per-check transcript is for the hand-off memo


def test_healthy_server_keeps_the_message_diagnosis(env: dict[str, str]) -> None:
    """A healthy server does not override what the message says; the reply says the server is fine."""
    result = run_cli("diagnose", "--probe", "--json", "--timeout", "5",
                     "IMAPアカウントのパスワードが正しくありません mail.healthy.test", env=env)  # fmt: skip
    data = json.loads(result.stdout)
    assert data["symptom"] == "auth_failed"
    assert data["probe"]["healthy"] is True


def test_probe_refuses_private_address_without_allow() -> None:
    """Without MAILCHECK_PROBE_ALLOW a loopback target is refused and the diagnosis still answers."""
    result = run_cli(
        "diagnose", "--probe", "--json", "受信サーバーに接続できません。サーバー名は 127.0.0.2 です"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["probe"]["refused"]
    assert data["symptom"] == "cannot_connect"
