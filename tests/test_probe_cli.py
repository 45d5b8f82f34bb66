"""``mailcheck probe`` run as a user would, in a subprocess, against the real Dovecot and dnsmasq."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.cli_run import run_cli
from tests.servers.dns import DnsServer, Zone, run_dnsmasq
from tests.servers.dovecot import PASSWORD, USER, DovecotFarm
from tests.servers.rude import full_backlog

pytestmark = pytest.mark.servers

ALLOW = {"MAILCHECK_PROBE_ALLOW": "127.0.0.0/8"}


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zone = Zone(
        a={
            "mail.healthy.test": "127.0.0.2",
            "mail.expired.test": "127.0.0.3",
            "mail.blackhole.test": "127.0.0.11",
        }
    )
    with run_dnsmasq(zone, tmp_path_factory.mktemp("dns")) as server:
        yield server


@pytest.fixture
def env(dns_server: DnsServer, dovecot_farm: DovecotFarm) -> dict[str, str]:
    """The environment an operator sets: DNS server, CA file and the allowed range."""
    dovecot_farm.get("healthy")
    dovecot_farm.get("expired")
    return {**ALLOW, "MAILCHECK_DNS_SERVER": dns_server.address, "MAILCHECK_CAFILE": str(dovecot_farm.cafile)}


def test_json_output_follows_the_contract(env: dict[str, str]) -> None:
    """--json prints host, checks (name, status, ok, detail, ms) and findings (symptom, severity, ja/en); exit 0."""
    result = run_cli("probe", "mail.healthy.test", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["host"] == "mail.healthy.test" and data["healthy"] is True
    check = next(c for c in data["checks"] if c["name"] == "tls:imaps")
    assert set(check) == {"name", "status", "ok", "detail", "ms"} and check["ok"] is True
    assert all(set(f) == {"symptom", "severity", "message"} for f in data["findings"])
    assert all(set(f["message"]) == {"ja", "en"} for f in data["findings"])
    assert {f["severity"] for f in data["findings"]} == {"info"}


def test_human_output_marks_each_check_then_findings_in_japanese(env: dict[str, str]) -> None:
    """Default output: one marked line per check, then the findings in Japanese."""
    result = run_cli("probe", "mail.healthy.test", env=env)
    lines = result.stdout.splitlines()
    assert result.returncode == 0
    assert lines[0].startswith("サーバーの確認: mail.healthy.test")
    assert any(line.startswith("✓ tls:imaps: TLSv1.3") for line in lines)
    assert any(line.startswith("✗ tcp:submission: ") for line in lines)
    assert "結果:" in lines and any("サーバーは正常です" in line for line in lines)


def test_sick_server_still_exits_zero_and_says_why(env: dict[str, str]) -> None:
    """An expired certificate is a result, not an error: exit 0, the finding in the chosen language."""
    result = run_cli("probe", "mail.expired.test", "--lang", "en", env=env)
    assert result.returncode == 0
    assert "The server's certificate expired 3 days ago." in result.stdout


def test_black_holed_server_the_command_returns_within_the_limit(env: dict[str, str]) -> None:
    """Every receiving port black-holed, --timeout 2: the whole command (Python start included) ends on time."""
    with full_backlog("127.0.0.11", (993, 143, 995, 110)):
        start = time.monotonic()
        result = run_cli("probe", "mail.blackhole.test", "--timeout", "2", "--lang", "en", env=env)
        elapsed = time.monotonic() - start
    assert result.returncode == 0 and "did not answer in time" in result.stdout
    assert elapsed < 2 + 3  # generous: interpreter start-up; no straggler thread may hold the process


def test_options_override_the_environment(dns_server: DnsServer, dovecot_farm: DovecotFarm) -> None:
    """--dns-server and --cafile work without any MAILCHECK_ variable but the allowed range."""
    dovecot_farm.get("healthy")
    args = ("--dns-server", dns_server.address, "--cafile", str(dovecot_farm.cafile), "--json")
    result = run_cli("probe", "mail.healthy.test", *args, "--timeout", "5", env=ALLOW)
    assert result.returncode == 0 and json.loads(result.stdout)["healthy"] is True


def test_configured_mailbox_logs_in_and_the_password_is_never_printed(env: dict[str, str]) -> None:
    """MAILCHECK_PROBE_HOST/USER/PASSWORD: the login check runs; stdout and stderr never contain the password."""
    creds = {
        "MAILCHECK_PROBE_HOST": "mail.healthy.test",
        "MAILCHECK_PROBE_USER": USER,
        "MAILCHECK_PROBE_PASSWORD": PASSWORD,
    }
    result = run_cli("probe", "mail.healthy.test", "--json", env={**env, **creds})
    data = json.loads(result.stdout)
    assert next(c for c in data["checks"] if c["name"] == "auth:imaps")["status"] == "ok"
    assert PASSWORD not in result.stdout and PASSWORD not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("10.0.0.8",), "10.0.0.8 は社内・家庭用（プライベート）のアドレスです"),
        (("169.254.169.254", "--lang", "en"), "169.254.169.254 is a link-local address"),
        (("mail.healthy.test", "--json"), '"refused": "address_not_allowed: mail.healthy.test (127.0.0.2)'),
        (("bad host",), "「bad host」はサーバー名として使えません"),
    ],
    ids=["private", "metadata", "loopback-name-json", "invalid-name"],
)
def test_refused_hosts_exit_2_with_the_reason(
    dns_server: DnsServer, args: tuple[str, ...], expected: str
) -> None:
    """Refused or invalid hosts: exit 2, the reason on stdout, no traceback."""
    result = run_cli("probe", *args, env={"MAILCHECK_DNS_SERVER": dns_server.address})
    assert result.returncode == 2
    assert expected in result.stdout and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("mail.healthy.test", "--port", "imaps=22"), "Error: port 22 is not a mail port"),
        (("mail.healthy.test", "--port", "imaps"), "Error: --port 'imaps': expected NAME=PORT"),
        (("mail.healthy.test", "--dns-server", "dns.example"), "Error: DNS server 'dns.example'"),
        (
            ("mail.healthy.test", "--cafile", "/nonexistent.pem"),
            "Error: CA file '/nonexistent.pem' cannot be used",
        ),
        (("mail.healthy.test", "--timeout", "0"), "Error: the timeout must be more than 0"),
    ],
    ids=["non-mail-port", "port-syntax", "dns-name", "missing-cafile", "zero-timeout"],
)
def test_bad_options_exit_2_with_one_error_line(args: tuple[str, ...], expected: str) -> None:
    """Unusable options: exit 2 and one 'Error:' line naming the option, never a traceback."""
    result = run_cli("probe", *args, env=ALLOW)
    assert result.returncode == 2
    assert result.stderr.startswith(expected) and "Traceback" not in result.stderr
