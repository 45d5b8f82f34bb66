"""Real Dovecot instances on 127.0.0.2, 127.0.0.3 … on the standard ports (993, 995, 143, 110).

Each instance has its own configuration file, base_dir, state_dir, log and mail folders under one
temporary directory, and its own certificate made by ``tests.servers.certs``. Dovecot binds ports below
1024 and switches users, so it runs as root; the mail folders belong to the ``dovecot`` user (Dovecot
refuses to open mail as root), which is why the temporary directory is world-traversable and not
pytest's private ``tmp_path``.

``DovecotFarm`` starts an instance the first time a test asks for it and stops them all at the end of
the session, so the suite pays for each start once.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from tests.servers.binaries import require_binary, stop_process
from tests.servers.certs import CertFiles, TestCA, self_signed

USER, PASSWORD = "test", "correct horse 7"
LOCKED_USER = "locked"
LOCKED_REASON = "Account-locked"  # passwd-file splits extra fields at spaces


@dataclass(frozen=True)
class DovecotSpec:
    name: str
    ip: str
    hostname: str  # the name a probe uses; the certificate is made for it (or, on purpose, not)
    cert: str | None  # valid | expired | wrong_name | self_signed | None (no TLS at all)
    protocols: tuple[str, ...] = ("imap", "pop3")
    max_userip_connections: int = 10
    quota_kb: int | None = None
    fill_kb: int = 0  # mail put in the INBOX before start, to fill the quota


SPECS: dict[str, DovecotSpec] = {
    s.name: s
    for s in (
        DovecotSpec("healthy", "127.0.0.2", "mail.healthy.test", "valid"),
        DovecotSpec("expired", "127.0.0.3", "mail.expired.test", "expired"),
        DovecotSpec("wrong_name", "127.0.0.4", "mail.wrongname.test", "wrong_name"),
        DovecotSpec("self_signed", "127.0.0.5", "mail.selfsigned.test", "self_signed", protocols=("imap",)),
        DovecotSpec("plaintext", "127.0.0.6", "mail.plain.test", None),
        DovecotSpec("connlimit", "127.0.0.7", "mail.connlimit.test", "valid", max_userip_connections=1),
        DovecotSpec("quota", "127.0.0.8", "mail.quota.test", "valid", ("imap",), quota_kb=20, fill_kb=19),
    )
}


def ports_of(spec: DovecotSpec) -> list[int]:
    ports: list[int] = []
    if "imap" in spec.protocols:
        ports += [143] + ([993] if spec.cert else [])
    if "pop3" in spec.protocols:
        ports += [110] + ([995] if spec.cert else [])
    return ports


@dataclass
class DovecotServer:
    spec: DovecotSpec
    root: Path
    process: subprocess.Popen[bytes]
    log: Path
    cafile: Path  # the test CA: trusts "valid", "expired" and "wrong_name" certificates
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ip(self) -> str:
        return self.spec.ip

    @property
    def hostname(self) -> str:
        return self.spec.hostname

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []

    def connection_lines(self) -> list[str]:
        """Every line where Dovecot noted a client (``rip=`` is the remote address)."""
        return [line for line in self.log_lines() if "rip=" in line]

    def wait_for_log(self, needle: str, timeout: float = 10.0) -> list[str]:
        """Poll the log until a line contains ``needle`` (Dovecot writes its log asynchronously)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            hits = [line for line in self.log_lines() if needle in line]
            if hits:
                return hits
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} did not appear in {self.log}")


def _certificate(spec: DovecotSpec, ca: TestCA, directory: Path) -> CertFiles | None:
    now = dt.datetime.now(dt.UTC)
    if spec.cert is None:
        return None
    if spec.cert == "self_signed":
        return self_signed(directory, spec.name, [spec.hostname])
    if spec.cert == "expired":
        # Expired three days and an hour ago: "3日前に期限切れ" however long the test session runs.
        return ca.issue(
            spec.name, [spec.hostname], now - dt.timedelta(days=90), now - dt.timedelta(days=3, hours=1)
        )
    names = ["mail.other-company.test"] if spec.cert == "wrong_name" else [spec.hostname]
    return ca.issue(spec.name, names, now - dt.timedelta(days=1), now + dt.timedelta(days=89, hours=12))


def _listeners(spec: DovecotSpec) -> str:
    blocks = []
    for proto, plain, secure in (("imap", 143, 993), ("pop3", 110, 995)):
        if proto not in spec.protocols:
            continue
        inner = f"  inet_listener {proto} {{\n    address = {spec.ip}\n    port = {plain}\n  }}\n"
        if spec.cert:
            inner += f"  inet_listener {proto}s {{\n    address = {spec.ip}\n    port = {secure}\n    ssl = yes\n  }}\n"
        blocks.append(f"service {proto}-login {{\n{inner}}}\n")
    return "".join(blocks)


def config_text(spec: DovecotSpec, root: Path, cert: CertFiles | None) -> str:
    tls = (
        f"ssl = yes\nssl_cert = <{cert.cert}\nssl_key = <{cert.key}\ndisable_plaintext_auth = yes\n"
        if cert
        else "ssl = no\ndisable_plaintext_auth = no\n"
    )
    quota = ""
    if spec.quota_kb:
        quota = (
            "mail_plugins = $mail_plugins quota\n"
            "protocol imap {\n  mail_plugins = $mail_plugins imap_quota\n}\n"
            f"plugin {{\n  quota = maildir:User quota\n  quota_rule = *:storage={spec.quota_kb}K\n}}\n"
        )
    return f"""# mailcheck test instance {spec.name}; written by tests/servers/dovecot.py
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = {" ".join(spec.protocols)}
listen = {spec.ip}
{tls}auth_mechanisms = plain login
# A real server waits ~2 s after a wrong password; tests need not.
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%u
mail_max_userip_connections = {spec.max_userip_connections}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
{quota}{_listeners(spec)}"""


def _passwd() -> str:
    return (
        f"{USER}:{{PLAIN}}{PASSWORD}::::::\n"
        # nologin + reason: Dovecot answers IMAP with [CONTACTADMIN] and POP3 with [AUTH] plus the reason.
        f"{LOCKED_USER}:{{PLAIN}}{PASSWORD}::::::nologin reason={LOCKED_REASON}\n"
    )


def _fill(mail: Path, kb: int) -> None:
    """Messages written straight into the maildir, so the quota is nearly used up before the first login."""
    cur = mail / USER / "cur"
    for sub in ("cur", "new", "tmp"):
        (mail / USER / sub).mkdir(parents=True, exist_ok=True)
    remaining = kb * 1024
    n = 0
    while remaining > 1024:
        size = min(remaining, 8 * 1024)
        body = "Subject: filler\r\nFrom: a@quota.test\r\n\r\n" + "x" * (size - 64)
        (cur / f"{1700000000 + n}.M{n}P1.test:2,S").write_text(body)
        remaining -= len(body)
        n += 1


def _in_use(ip: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((ip, port)) == 0


def _wait_listening(spec: DovecotSpec, process: subprocess.Popen[bytes], log: Path) -> None:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(
                f"dovecot {spec.name} exited with {process.returncode}: {log.read_text(errors='replace')[-800:]}"
            )
        if all(_in_use(spec.ip, p) for p in ports_of(spec)):
            return
        time.sleep(0.03)
    raise RuntimeError(f"dovecot {spec.name} did not listen on {spec.ip} in time")


def start(spec: DovecotSpec, base: Path, ca: TestCA) -> DovecotServer:
    binary = require_binary("dovecot", "dovecot-imapd dovecot-pop3d")
    busy = [p for p in ports_of(spec) if _in_use(spec.ip, p)]
    if busy:
        pytest.fail(
            f"{spec.ip} ports {busy} are already in use: stop whatever listens there (an old test run?)"
        )
    root = base / spec.name
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cert = _certificate(spec, ca, root)
    (root / "passwd").write_text(_passwd())
    if spec.fill_kb:
        _fill(root / "mail", spec.fill_kb)
    dovecot = pwd.getpwnam("dovecot")
    for path in [root / "mail", *(root / "mail").rglob("*")]:
        os.chown(path, dovecot.pw_uid, dovecot.pw_gid)
    conf = root / "dovecot.conf"
    conf.write_text(config_text(spec, root, cert))
    log = root / "dovecot.log"
    process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_listening(spec, process, log)
    except RuntimeError:
        stop(process)
        raise
    return DovecotServer(spec, root, process, log, ca.cafile)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Dovecot's master stops its children on SIGTERM and frees the ports."""
    stop_process(process)


class DovecotFarm:
    """Starts instances from SPECS on first use; ``close`` stops them all and removes their files."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            message = "Dovecot on 127.0.0.N standard ports needs root"
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true and {message}", pytrace=False)
            pytest.skip(message)
        require_binary("dovecot", "dovecot-imapd dovecot-pop3d")
        self.base = Path(tempfile.mkdtemp(prefix="mailcheck-dovecot-"))
        self.base.chmod(0o755)
        self.ca = TestCA(self.base)
        self._servers: dict[str, DovecotServer] = {}

    @property
    def cafile(self) -> Path:
        return self.ca.cafile

    def get(self, name: str) -> DovecotServer:
        if name not in self._servers:
            self._servers[name] = start(SPECS[name], self.base, self.ca)
        return self._servers[name]

    def close(self) -> None:
        for server in self._servers.values():
            stop(server.process)
        self._servers.clear()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> DovecotFarm:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
