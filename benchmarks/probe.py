"""Probe benchmark against real servers on loopback (needs root, Dovecot and dnsmasq, like the tests).

    python3 benchmarks/probe.py              # 30 healthy runs, 5 black-holed runs at timeout 3
    python3 benchmarks/probe.py --runs 100

Prints:
- a full probe (DNS, six ports, TLS, IMAP/POP greetings) of a healthy Dovecot: median and p95;
  target: under 300 ms;
- a full probe of an IMAP-only Dovecot whose POP ports are black-holed (their listen queue is full,
  so the SYN is dropped as by a firewall), at timeout 3: median and max; target: within 3.3 s;
- the same with every receiving port black-holed.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import ipaddress
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.model import ProbeReport
from bot.probe import run_probe
from tests.servers.dns import DnsServer, Zone, run_dnsmasq
from tests.servers.dovecot import DovecotFarm
from tests.servers.rude import full_backlog

ALLOW = (ipaddress.ip_network("127.0.0.0/8"),)
ZONE = Zone(
    a={"mail.healthy.test": "127.0.0.2", "mail.quota.test": "127.0.0.8", "mail.blackhole.test": "127.0.0.11"}
)


def timed(runs: int, call: Callable[[], ProbeReport]) -> tuple[list[float], ProbeReport]:
    times: list[float] = []
    report = call()  # warm-up: Dovecot starts its login processes on the first connection
    for _ in range(runs):
        start = time.monotonic()
        report = call()
        times.append((time.monotonic() - start) * 1000)
    return times, report


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def show(label: str, times: list[float], report: ProbeReport) -> None:
    serious = [f"{f.symptom}/{f.severity}" for f in report.findings if f.severity != "info"]
    print(
        f"{label:<44} n={len(times):<3} median {statistics.median(times):7.1f} ms  "
        f"p95 {p95(times):7.1f} ms  max {max(times):7.1f} ms  "
        f"checks={len(report.checks)} healthy={report.healthy} {' '.join(serious)}"
    )


def probe(dns: DnsServer, cafile: Path, host: str, timeout: float) -> Callable[[], ProbeReport]:
    return lambda: run_probe(host, timeout=timeout, dns_server=dns.address, cafile=str(cafile), allow=ALLOW)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="healthy runs (default 30)")
    parser.add_argument("--slow-runs", type=int, default=5, help="black-holed runs (default 5)")
    args = parser.parse_args()
    farm = DovecotFarm()
    try:
        farm.get("healthy")
        farm.get("quota")
        with tempfile.TemporaryDirectory() as tmp, run_dnsmasq(ZONE, Path(tmp)) as dns:
            times, report = timed(args.runs, probe(dns, farm.cafile, "mail.healthy.test", 8.0))
            show("healthy (IMAP+POP, TLS+STARTTLS), timeout 8", times, report)
            with full_backlog("127.0.0.8", (995, 110)):
                times, report = timed(args.slow_runs, probe(dns, farm.cafile, "mail.quota.test", 3.0))
            show("IMAP ok, POP black-holed, timeout 3", times, report)
            with full_backlog("127.0.0.11", (993, 143, 995, 110)):
                times, report = timed(args.slow_runs, probe(dns, farm.cafile, "mail.blackhole.test", 3.0))
            show("all receiving ports black-holed, timeout 3", times, report)
    finally:
        farm.close()


if __name__ == "__main__":
    main()
