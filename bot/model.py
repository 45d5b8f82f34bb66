"""Frozen result types shared by every layer.

Nothing here does I/O. Bilingual text is a ``Text`` (ja + en) so a reply can be rendered in either
language from the same diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")

# Symptom ids are a public contract (weekly report, probe findings, Slack buttons).
SYMPTOM_IDS: tuple[str, ...] = (
    "cannot_connect",
    "timeout",
    "dns_not_found",
    "auth_failed",
    "account_locked",
    "tls_certificate",
    "tls_mismatch",
    "mailbox_full",
    "too_many_connections",
    "messages_missing",
    "sending_smtp",
    "account_setup",
    "server_outage",
    "unknown",
)

EscalationTarget = Literal["carrier", "isp", "rental_server", "in_house_admin", "provider", "none"]
CheckStatus = Literal["ok", "warning", "failed", "inconclusive"]
Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Text:
    """One piece of prose in both languages."""

    ja: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class Escalation:
    to: EscalationTarget
    when: Text
    prepare: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Node:
    """A decision-tree node: a question (``yes``/``no`` set) or a leaf (``checklist`` set)."""

    id: str
    question: Text | None = None
    yes: str | None = None
    no: str | None = None
    default: Literal["yes", "no"] = "yes"
    # Conditions on extracted entities that answer the question without asking, e.g. {"protocol": "pop3"}.
    auto_yes: tuple[tuple[str, str], ...] = ()
    auto_no: tuple[tuple[str, str], ...] = ()
    title: Text | None = None
    checklist: tuple[Text, ...] = ()
    donts: tuple[Text, ...] = ()
    escalation: Escalation | None = None

    @property
    def is_leaf(self) -> bool:
        return self.question is None


@dataclass(frozen=True)
class Evidence:
    """One way to recognise a symptom: a literal phrase, a regular expression or a client error code."""

    kind: Literal["phrase", "pattern", "code"]
    value: str
    weight: float
    # For patterns: literals one of which every match contains (bot/prefilter.py); worked out once when
    # the knowledge is validated, so a start-up from the cache needs no regex parsing at all.
    needles: frozenset[str] | None = None


@dataclass(frozen=True)
class Symptom:
    id: str
    title: Text
    summary: Text
    evidence: tuple[Evidence, ...]
    probe_checks: tuple[str, ...]
    start: str
    nodes: dict[str, Node]
    source_file: str = ""


@dataclass(frozen=True)
class Entities:
    hosts: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    addresses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    client: str | None = None
    protocol: str | None = None  # "imap" | "pop3" | "smtp"
    ssl: bool | None = None  # what the user says the SSL switch is set to
    usernames: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "hosts": list(self.hosts),
            "ports": list(self.ports),
            "addresses": list(self.addresses),
            "codes": list(self.codes),
            "client": self.client,
            "protocol": self.protocol,
            "ssl": self.ssl,
            "usernames": list(self.usernames),
        }


@dataclass(frozen=True)
class Redaction:
    text: str
    password_pasted: bool
    secrets_found: int


@dataclass(frozen=True)
class Candidate:
    symptom: str
    score: float  # calibrated confidence 0..1
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """Result of classification: ranked candidates over the normalised message."""

    lang: Lang
    entities: Entities
    candidates: tuple[Candidate, ...]
    normalised: str

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


@dataclass(frozen=True)
class Step:
    """One answered question on the walk through a tree."""

    node: str
    answer: Literal["yes", "no"]
    how: Literal["auto", "default", "user"]


@dataclass(frozen=True)
class Check:
    """One live probe check (DNS, TCP, TLS, greeting, auth)."""

    name: str
    status: CheckStatus
    detail: str
    ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Finding:
    symptom: str
    severity: Severity
    message: Text


@dataclass(frozen=True)
class ProbeReport:
    host: str
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    ms: float = 0.0
    refused: str | None = None  # why the probe refused to connect at all (policy), if it did

    @property
    def healthy(self) -> bool:
        return self.refused is None and not any(f.severity != "info" for f in self.findings)


@dataclass(frozen=True)
class Diagnosis:
    symptom: Symptom
    match: Match
    confidence: float
    path: tuple[Step, ...]
    leaf: Node
    question: Node | None  # the first question answered by default, which the user may refine
    clarifying: Text | None = None  # for `unknown`: the one question to ask
    probe: ProbeReport | None = None
    password_pasted: bool = False


@dataclass(frozen=True)
class Reply:
    """What a person reads: already in one language, ready to render as text or Block Kit."""

    lang: Lang
    symptom: str
    title: str
    summary: str
    checklist: tuple[str, ...]
    donts: tuple[str, ...]
    escalation: str
    question: str | None = None
    warnings: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # what to have ready before calling
