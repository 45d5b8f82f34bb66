"""Real probes of real servers (Dovecot and dnsmasq on loopback) stored, then read back by the weekly
report: the facts the store derives from the probe's own output (uptime, connect time, certificate,
quota, MX/SRV, STARTTLS) are right, and "STARTTLS disappeared" is seen week over week."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.model import ProbeReport
from bot.probe import Credential, run_probe
from bot.store import Store
from bot.summary import build_weekly
from tests.servers.dns import DnsServer, Zone, run_dnsmasq
from tests.servers.dovecot import PASSWORD, USER, DovecotFarm
from tests.storedata import NOW, at

pytestmark = pytest.mark.servers

TOKYO = ZoneInfo("Asia/Tokyo")
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
ZONE = Zone(
    a={"mail.healthy.test": "127.0.0.2", "mail.plain.test": "127.0.0.6", "mail.quota.test": "127.0.0.8"},
    mx=[("healthy.test", "mail.healthy.test", 10)],
    srv=[("_imaps._tcp.healthy.test", "mail.healthy.test", 993, 0, 1)],
)


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    with run_dnsmasq(ZONE, tmp_path_factory.mktemp("dns")) as server:
        yield server


def probe(dns_server: DnsServer, farm: DovecotFarm, host: str, **extra: object) -> ProbeReport:
    return run_probe(host, timeout=6.0, dns_server=dns_server.address, cafile=str(farm.cafile), allow=LOOPBACK,
                     **extra)  # type: ignore[arg-type]  # fmt: skip


def stored(db_path: Path, report: ProbeReport) -> dict[str, object]:
    with Store(db_path) as store:
        store.record_probe(report, source="watch", at=at(1))
        (row,) = list(store.export("probes", at(2)))
    return row


def test_healthy_server_facts(db_path: Path, dns_server: DnsServer, dovecot_farm: DovecotFarm) -> None:
    """A healthy domain: up, a connect time, ~a year of certificate, MX and SRV, STARTTLS on 143 and 110."""
    dovecot_farm.get("healthy")
    row = stored(db_path, probe(dns_server, dovecot_farm, "healthy.test"))
    assert row["up"] == 1 and row["healthy"] == 1
    assert 0 < float(row["connect_ms"]) < 1000  # type: ignore[arg-type]
    assert int(row["cert_days_left"]) > 21  # type: ignore[call-overload]
    assert row["mx"] == '["mail.healthy.test"]'
    assert "mail.healthy.test:993" in str(row["srv"])
    assert "imap:STARTTLS" in str(row["capabilities"]) and "pop3:STLS" in str(row["capabilities"])


def test_plaintext_server_is_up_without_starttls(db_path: Path, dns_server: DnsServer,
                                                 dovecot_farm: DovecotFarm) -> None:  # fmt: skip
    """A server that answers only without encryption is reachable, and offers no STARTTLS."""
    dovecot_farm.get("plaintext")
    row = stored(db_path, probe(dns_server, dovecot_farm, "mail.plain.test"))
    caps = str(row["capabilities"])
    assert row["up"] == 1 and row["healthy"] == 0
    assert "imap:OPEN" in caps and "STARTTLS" not in caps and row["cert_days_left"] is None


def test_quota_from_a_configured_login(
    db_path: Path, dns_server: DnsServer, dovecot_farm: DovecotFarm
) -> None:
    """With operator-configured credentials the mailbox use is stored as a percentage; no password stored."""
    dovecot_farm.get("quota")
    report = probe(dns_server, dovecot_farm, "mail.quota.test",
                   credentials={"mail.quota.test": Credential(USER, PASSWORD)})  # fmt: skip
    row = stored(db_path, report)
    assert float(row["quota_used_pct"]) >= 80  # type: ignore[arg-type]
    assert PASSWORD not in str(row["report"])
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert all(PASSWORD.encode() not in f.read_bytes() for f in files if f.exists())


def test_starttls_lost_between_weeks(db_path: Path, dns_server: DnsServer, dovecot_farm: DovecotFarm) -> None:
    """Last week the server offered STARTTLS; this week it answers only in plain text: the report says so
    and gives the advice to call the provider today."""
    from bot.knowledge import load
    from bot.summary import advice_path, load_advice

    dovecot_farm.get("healthy")
    dovecot_farm.get("plaintext")
    before = probe(dns_server, dovecot_farm, "mail.healthy.test")
    # The same server name, now answering like the plain-text instance (as after a bad reconfiguration).
    after = dataclasses.replace(probe(dns_server, dovecot_farm, "mail.plain.test"), host="mail.healthy.test")
    knowledge = load(Path(__file__).resolve().parent.parent / "knowledge")
    with Store(db_path) as store:
        store.watch_add("mail.healthy.test")
        store.record_probe(before, source="watch", at=NOW - timedelta(days=8))
        store.record_probe(after, source="watch", at=at(1))
        report = build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge,
                              rules=load_advice(advice_path(knowledge.root), knowledge))  # fmt: skip
    (server,) = report.servers
    assert [c.what for c in server.changes] == ["starttls_lost"]
    assert "imap:STARTTLS" in server.changes[0].before
    assert report.advice[0].id == "starttls_lost" and report.advice[0].host == "mail.healthy.test"
