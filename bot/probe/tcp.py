"""TCP reachability: connect to each address in turn and tell refused, timed out and unreachable apart."""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ConnectStatus = Literal["open", "refused", "timeout", "unreachable", "error"]

MIN_STEP = 0.05  # never hand a socket a zero or negative timeout: that would mean "block forever" or fail
RECORD_MARGIN = 0.15


@dataclass(frozen=True)
class Deadline:
    """The one moment the whole probe must be finished by; every socket timeout is cut to fit it."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def step(self, cap: float | None = None) -> float:
        """A timeout for one socket operation: what is left, at most ``cap``, at least MIN_STEP."""
        left = self.remaining()
        return max(MIN_STEP, left if cap is None else min(left, cap))

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass(frozen=True)
class Connect:
    status: ConnectStatus
    port: int
    address: str = ""
    ms: float = 0.0
    detail: str = ""

    @property
    def describe(self) -> str:
        where = f"{self.address} port {self.port}" if self.address else f"port {self.port}"
        words = {
            "open": f"open in {self.ms:.0f} ms",
            "refused": "refused (nothing listens there)",
            "timeout": "no answer (timed out; a firewall may drop the packets)",
            "unreachable": "unreachable (no route to the server)",
            "error": "could not connect",
        }
        extra = f": {self.detail}" if self.detail and self.status != "open" else ""
        return f"{where} {words[self.status]}{extra}"


_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}


def _classify(exc: OSError) -> ConnectStatus:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return "refused"
    if exc.errno in _UNREACHABLE:
        return "unreachable"
    return "error"


def connect_one(
    address: str, port: int, deadline: Deadline, cap: float | None = None
) -> tuple[socket.socket | None, Connect]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # Give up a moment before the deadline, so "timed out" is recorded before the runner stops waiting.
    sock.settimeout(deadline.step(cap if cap is not None else deadline.remaining() - RECORD_MARGIN))
    start = time.monotonic()
    try:
        sock.connect((address, port))
    except OSError as exc:
        sock.close()
        ms = (time.monotonic() - start) * 1000
        return None, Connect(_classify(exc), port, address, ms, exc.strerror or type(exc).__name__)
    ms = (time.monotonic() - start) * 1000
    return sock, Connect("open", port, address, ms)


def connect(addresses: Sequence[str], port: int, deadline: Deadline) -> tuple[socket.socket | None, Connect]:
    """Try the addresses in order. Only a refusal or an unreachable network moves on to the next one:
    after a timeout the time is spent, and a second wait would break the overall bound."""
    result = Connect("error", port, detail="no address")
    for address in addresses:
        sock, result = connect_one(address, port, deadline)
        if sock is not None or result.status == "timeout" or deadline.expired:
            return sock, result
    return None, result
