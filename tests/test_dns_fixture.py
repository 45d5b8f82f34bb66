"""The dnsmasq fixture itself answers A, MX, SRV and NXDOMAIN as configured."""

from __future__ import annotations

from collections.abc import Callable

import dns.resolver
import pytest

from tests.servers.dns import DnsServer, Zone


def _resolver(server: DnsServer) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [server.ip]
    r.port = server.port
    r.lifetime = 3
    return r


def test_dnsmasq_serves_a_mx_srv_and_nxdomain(dns_zone_server: Callable[[Zone], DnsServer]) -> None:
    """The records a test gives are served; other names are NXDOMAIN, never forwarded."""
    zone = Zone(
        a={"mail.example.test": "127.0.0.2"},
        mx=[("example.test", "mx.example.test", 10)],
        srv=[("_imaps._tcp.example.test", "mail.example.test", 993, 0, 1)],
    )
    server = dns_zone_server(zone)
    r = _resolver(server)
    assert [a.address for a in r.resolve("mail.example.test", "A")] == ["127.0.0.2"]
    assert [str(m.exchange) for m in r.resolve("example.test", "MX")] == ["mx.example.test."]
    srv = list(r.resolve("_imaps._tcp.example.test", "SRV"))
    assert (str(srv[0].target), srv[0].port) == ("mail.example.test.", 993)
    with pytest.raises(dns.resolver.NXDOMAIN):
        r.resolve("nothing.example.test", "A")
