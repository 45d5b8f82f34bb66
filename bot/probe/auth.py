"""The optional authenticated check: log in to a mailbox the operator configured, read its quota.

Credentials come from the operator's side only (a file or environment variables), never from chat.
A password never appears in a result, a log line or an exception message: every server text shown
is scrubbed of it, and ``Credential`` hides it from ``repr``.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import poplib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml

from bot.probe.greeting import GreetingFailed, ImapSession, PopSession, clean, is_busy

AuthStatus = Literal["ok", "rejected", "busy", "unavailable", "error"]

FULL_PERCENT = 100.0
NEARLY_FULL_PERCENT = 90.0


class CredentialError(ValueError):
    """The accounts file or variables are unusable; the message names the place, never a password."""


@dataclass(frozen=True)
class Credential:
    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credential(username={self.username!r}, password='***')"


def load_credentials(path: Path) -> dict[str, Credential]:
    """A YAML file mapping host names to ``{username, password}``; ``password_env`` reads the password
    from an environment variable instead, so the file itself can be shared.

    ```yaml
    mail.example.co.jp:
      username: check@example.co.jp
      password_env: MAILCHECK_PW_EXAMPLE
    ```
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise CredentialError(f"{path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise CredentialError(f"{path}: expected a mapping of host name to username and password")
    return {str(host).lower().rstrip("."): _entry(path, str(host), value) for host, value in data.items()}


def _entry(path: Path, host: str, value: object) -> Credential:
    if not isinstance(value, dict) or not isinstance(value.get("username"), str):
        raise CredentialError(f"{path}: {host}: needs a username")
    password = value.get("password")
    env_name = value.get("password_env")
    if isinstance(env_name, str):
        password = os.environ.get(env_name)
        if not password:
            raise CredentialError(f"{path}: {host}: the variable {env_name} is not set")
    if not isinstance(password, str) or not password:
        raise CredentialError(f"{path}: {host}: needs a password or password_env")
    return Credential(value["username"], password)


def credentials_from_env(environ: Mapping[str, str]) -> dict[str, Credential]:
    """``MAILCHECK_PROBE_ACCOUNTS`` (a file as above), or one mailbox from ``MAILCHECK_PROBE_HOST``,
    ``MAILCHECK_PROBE_USER`` and ``MAILCHECK_PROBE_PASSWORD``."""
    found: dict[str, Credential] = {}
    if environ.get("MAILCHECK_PROBE_ACCOUNTS"):
        found.update(load_credentials(Path(environ["MAILCHECK_PROBE_ACCOUNTS"])))
    trio = [environ.get(f"MAILCHECK_PROBE_{k}") for k in ("HOST", "USER", "PASSWORD")]
    if any(trio) and not all(trio):
        raise CredentialError(
            "set all of MAILCHECK_PROBE_HOST, MAILCHECK_PROBE_USER and MAILCHECK_PROBE_PASSWORD, or none"
        )
    host, user, password = trio
    if host and user and password:
        found[host.lower().rstrip(".")] = Credential(user, password)
    return found


# --- the check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthResult:
    service: str
    status: AuthStatus
    code: str = ""  # the RFC 5530 / RFC 3206 response code, e.g. AUTHENTICATIONFAILED, AUTH, IN-USE
    symptom: str | None = None
    text: str = ""
    quota_used_kb: int | None = None
    quota_limit_kb: int | None = None
    ms: float = 0.0

    @property
    def quota_percent(self) -> float | None:
        if self.quota_used_kb is None or not self.quota_limit_kb:
            return None
        return 100.0 * self.quota_used_kb / self.quota_limit_kb

    @property
    def describe(self) -> str:
        code = f"[{self.code}] " if self.code else ""
        head = {"ok": "login ok", "rejected": "login rejected", "busy": "login refused for now",
                "unavailable": "server temporarily unavailable", "error": "login failed"}[self.status]  # fmt: skip
        text = f": {code}{self.text}" if self.status != "ok" else ""
        quota = ""
        if self.quota_percent is not None:
            quota = (
                f"; mailbox {self.quota_used_kb} of {self.quota_limit_kb} KB used ({self.quota_percent:.0f}%)"
            )
        return f"{head}{text}{quota}"


# Response codes (RFC 5530 for IMAP, RFC 3206 for POP3) and the symptom each points to.
CODE_SYMPTOMS: dict[str, tuple[AuthStatus, str | None]] = {
    "AUTHENTICATIONFAILED": ("rejected", "auth_failed"),
    "AUTH": ("rejected", "auth_failed"),
    "AUTHORIZATIONFAILED": ("rejected", "account_locked"),
    "CONTACTADMIN": ("rejected", "account_locked"),
    "EXPIRED": ("rejected", "account_locked"),
    "LIMIT": ("busy", "too_many_connections"),
    "IN-USE": ("busy", "too_many_connections"),
    "INUSE": ("busy", "too_many_connections"),
    "LOGIN-DELAY": ("busy", "too_many_connections"),
    "OVERQUOTA": ("rejected", "mailbox_full"),
    "PRIVACYREQUIRED": ("rejected", "tls_mismatch"),
    "UNAVAILABLE": ("unavailable", "server_outage"),
    "SYS/TEMP": ("unavailable", "server_outage"),
    "SYS/PERM": ("rejected", "server_outage"),
}
_LOCKED_WORDS = re.compile(r"lock|disabled|suspend|blocked|ロック|停止|凍結", re.IGNORECASE)
_CODE = re.compile(r"\[([A-Z][A-Z0-9/-]*)")


def classify_rejection(text: str) -> tuple[AuthStatus, str, str | None]:
    """(status, response code, symptom) for a server's answer to a failed login."""
    codes = [c for c in _CODE.findall(text.upper()) if c in CODE_SYMPTOMS]
    if codes:
        status, symptom = CODE_SYMPTOMS[codes[0]]
        if symptom == "auth_failed" and _LOCKED_WORDS.search(text):
            symptom = "account_locked"  # POP3 has no "locked" code: Dovecot says -ERR [AUTH] plus the reason
        return status, codes[0], symptom
    if is_busy(text):
        return "busy", "", "too_many_connections"
    if _LOCKED_WORDS.search(text):
        return "rejected", "", "account_locked"
    return "rejected", "", "auth_failed"


def scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


Opener = Callable[[], ImapSession | PopSession]


def check_login(service: str, open_session: Opener, credential: Credential) -> AuthResult:
    """Log in over a verified TLS session; read the quota when the server offers it."""
    start = time.monotonic()
    result = _check_login(service, open_session, credential)
    return replace(result, ms=round((time.monotonic() - start) * 1000, 1))


def _check_login(service: str, open_session: Opener, credential: Credential) -> AuthResult:
    try:
        session = open_session()
    except GreetingFailed as exc:
        return AuthResult(
            service, "error", text=scrub(exc.greeting.text or exc.greeting.status, credential.password)
        )
    except Exception as exc:  # any failure to reach a verified session is a result, and is scrubbed
        return AuthResult(service, "error", text=scrub(clean(exc), credential.password))
    try:
        session.login(credential.username, credential.password)
    except (imaplib.IMAP4.error, poplib.error_proto) as exc:
        _close(session)
        text = scrub(_strip_prefix(clean(exc.args[0] if exc.args else exc)), credential.password)
        status, code, symptom = classify_rejection(text)
        return AuthResult(service, status, code, symptom, text)
    except (OSError, EOFError) as exc:
        _close(session)
        return AuthResult(service, "error", text=scrub(clean(exc), credential.password))
    used, limit = _quota(session)
    _close(session)
    return AuthResult(service, "ok", quota_used_kb=used, quota_limit_kb=limit)


def _strip_prefix(text: str) -> str:
    """imapclient says ``login failed: <server text>``; keep the server's own words."""
    return re.sub(r"^(login failed|LOGIN command error)\S*:?\s*", "", text, flags=re.IGNORECASE)


def _quota(session: ImapSession | PopSession) -> tuple[int | None, int | None]:
    """IMAP QUOTA (RFC 2087/9208) storage of INBOX, in KB; POP3 has no way to ask."""
    if not isinstance(session, ImapSession) or "QUOTA" not in session.capabilities():
        return None, None
    try:
        _roots, quotas = session.client.get_quota_root("INBOX")
    except (imaplib.IMAP4.error, OSError, ValueError):
        return None, None
    storage = [q for q in quotas if str(q.resource).upper() == "STORAGE"]
    if not storage:
        return None, None
    return int(storage[0].usage), int(storage[0].limit)


def _close(session: ImapSession | PopSession) -> None:
    with contextlib.suppress(OSError, EOFError):
        session.close()
