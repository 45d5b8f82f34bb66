"""A real dnsmasq on 127.0.0.1 and a free UDP/TCP port, serving only the records a test gives it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.binaries import require_binary, stop_process


@dataclass
class Zone:
    """Records to serve. Every name not listed answers NXDOMAIN (dnsmasq is authoritative for nothing else)."""

    a: dict[str, str] = field(default_factory=dict)  # name -> IPv4
    aaaa: dict[str, str] = field(default_factory=dict)
    mx: list[tuple[str, str, int]] = field(default_factory=list)  # (domain, exchange, preference)
    srv: list[tuple[str, str, int, int, int]] = field(
        default_factory=list
    )  # (name, target, port, prio, weight)
    txt: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DnsServer:
    ip: str
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


def _free_port() -> int:
    # dnsmasq needs one number for both UDP and TCP: find one that is free for both.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for dnsmasq")


def _config(zone: Zone, port: int, log: Path) -> list[str]:
    lines = [
        f"port={port}",
        "listen-address=127.0.0.1",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "no-poll",
        "log-queries",
        f"log-facility={log}",
        # Never forward: a name we do not serve must be NXDOMAIN, not a query to the outside world.
        "local=/#/",
    ]
    lines += [f"host-record={name},{ip}" for name, ip in zone.a.items()]
    lines += [f"host-record={name},{ip}" for name, ip in zone.aaaa.items()]
    lines += [f"mx-host={d},{host},{pref}" for d, host, pref in zone.mx]
    # Target "." (RFC 2782/6186: "this service is not offered") is dnsmasq's srv-host with no target.
    lines += [
        f"srv-host={n}" if t == "." else f"srv-host={n},{t},{p},{prio},{w}" for n, t, p, prio, w in zone.srv
    ]
    lines += [f'txt-record={n},"{v}"' for n, v in zone.txt.items()]
    return lines


def _wait_until_answering(port: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dnsmasq exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError("dnsmasq did not start in time")


@contextmanager
def run_dnsmasq(zone: Zone, workdir: Path) -> Iterator[DnsServer]:
    binary = require_binary("dnsmasq", "dnsmasq-base")
    port = _free_port()
    log = workdir / "dnsmasq.log"
    conf = workdir / "dnsmasq.conf"
    conf.write_text("\n".join(_config(zone, port, log)) + "\n")
    proc = subprocess.Popen(
        [binary, "--keep-in-foreground", f"--conf-file={conf}", "--pid-file=", "--user=root"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_answering(port, proc, time.monotonic() + 10)
        yield DnsServer("127.0.0.1", port, log)
    finally:
        stop_process(proc, timeout=5)
