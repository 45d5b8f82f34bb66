"""The weekly mail-health summary: the 7 days before ``now`` against the 7 days before that.

Numbers come from the store; advice comes from ``knowledge/shared/advice.yml`` (data that support staff
edit), each item tied to a symptom or leaf of the knowledge folder so the reader knows where the full
steps are. Nothing here posts or draws: the Slack post and the chart take a ``WeeklyReport``.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.model import SYMPTOM_IDS, Lang, Text
from bot.store import ProbeRow, Store
from bot.yamlsrc import Located, LocatedList, Problem, load_file

if TYPE_CHECKING:
    from bot.knowledge import Knowledge

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
TOP_CLIENTS = 5
ESCALATE = ("carrier", "isp", "rental_server", "in_house_admin", "provider", "none")
CHANGE_KINDS = ("mx", "srv", "certificate", "capabilities", "starttls_lost")
# Days-left is whole days counted at probe time: an expiry date that moves by more than this is a new
# certificate, even when the probe gives no fingerprint.
_EXPIRY_SLACK_DAYS = 2
_T = TypeVar("_T")


class ReportError(Exception):
    """Bad input for a report (a date, a time zone, the advice file); one line for the user."""


# --- time ----------------------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"MAILCHECK_TZ={name!r} is not a time zone name such as Asia/Tokyo") from None


def parse_now(text: str, tz: ZoneInfo) -> datetime:
    """``--now``: an ISO date (midnight in ``tz``) or date-time; without an offset it is ``tz`` time."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(0), tz)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(
            f"--now {text!r} is not an ISO date such as 2025-06-02 or 2025-06-02T09:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def week_key(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week a post belongs to, e.g. ``2025-W23``: the unit of "exactly once per week"."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def days(self) -> tuple[Period, ...]:
        return tuple(Period(self.start + i * DAY, self.start + (i + 1) * DAY) for i in range(7))

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


# --- advice rules (knowledge/shared/advice.yml) -----------------------------------------------------

_WHEN_KEYS = {
    "symptom": str, "at_least": int, "protocol": str, "rise_at_least": int, "stuck_share_at_least": int,
    "answered_at_least": int, "quiet": bool, "cert_days_at_most": int, "quota_at_least": int,
    "uptime_below": int, "change": str,
}  # fmt: skip
_KINDS = ("symptom", "rise_at_least", "stuck_share_at_least", "quiet", "cert_days_at_most", "quota_at_least",
          "uptime_below", "change")  # fmt: skip
_SERVER_KINDS = ("cert_days_at_most", "quota_at_least", "uptime_below", "change")
_PLACEHOLDERS = {"count", "previous", "host", "days", "pct", "before", "after"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class AdviceRule:
    id: str
    kind: str  # which of _KINDS decides
    when: Mapping[str, Any]
    text: Text
    see: str | None = None  # "symptom" or "symptom/leaf" in the knowledge folder
    escalate: str | None = None

    @property
    def per_server(self) -> bool:
        return self.kind in _SERVER_KINDS


def advice_path(knowledge_dir: Path) -> Path:
    return knowledge_dir / "shared" / "advice.yml"


def inspect_advice(
    path: Path, knowledge: Knowledge | None = None
) -> tuple[tuple[AdviceRule, ...], list[Problem]]:
    """Rules and every mistake (``file:line: what``). A missing file is no advice, not a mistake."""
    if not path.exists():
        return (), []
    label = str(path.relative_to(path.parents[2])) if len(path.parents) > 2 else str(path)
    data, problems = load_file(path, label)
    if data is None:
        return (), problems
    items = data.get("advice") if isinstance(data, Located) else None
    if not isinstance(items, LocatedList):
        return (), [*problems, Problem(label, getattr(data, "line", 1), "advice: must be a list of rules")]
    rules: list[AdviceRule] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        rule = _rule(item, items.line_at(index), label, problems, knowledge)
        if rule is not None and rule.id in seen:
            problems.append(Problem(label, items.line_at(index), f"duplicate advice id {rule.id!r}"))
        elif rule is not None:
            seen.add(rule.id)
            rules.append(rule)
    return tuple(rules), problems


def load_advice(path: Path, knowledge: Knowledge | None = None) -> tuple[AdviceRule, ...]:
    rules, problems = inspect_advice(path, knowledge)
    if problems:
        shown = "\n".join(str(p) for p in sorted(problems)[:10])
        raise ReportError(f"the advice file has mistakes; fix them:\n{shown}")
    return rules


def _rule(
    item: Any, line: int, label: str, problems: list[Problem], knowledge: Knowledge | None
) -> AdviceRule | None:
    def bad(where: int, message: str) -> None:
        problems.append(Problem(label, where, message))

    if not isinstance(item, Located):
        bad(line, "each advice must be a mapping with id, when and text")
        return None
    before = len(problems)
    for key in set(item) - {"id", "when", "text", "see", "escalate"}:
        bad(item.line_of(key), f"unknown field {key!r} (allowed: escalate, id, see, text, when)")
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        bad(item.line_of("id"), "id: missing or not lower_case_with_underscores")
    kind = _when(item, bad)
    text = _text(item, bad)
    see = _see(item, bad, knowledge)
    escalate = item.get("escalate")
    if escalate is not None and escalate not in ESCALATE:
        bad(item.line_of("escalate"), f"escalate: {escalate!r} is not one of {', '.join(ESCALATE)}")
    if len(problems) > before or kind is None or text is None:
        return None
    return AdviceRule(str(rule_id), kind, dict(item["when"]), text, see, escalate)


def _when(item: Located, bad: Any) -> str | None:
    when = item.get("when")
    if not isinstance(when, Located):
        bad(item.line_of("when"), "when: missing; a mapping such as {symptom: account_locked, at_least: 2}")
        return None
    for key, value in when.items():
        expected = _WHEN_KEYS.get(key)
        if expected is None:
            bad(
                when.line_of(key),
                f"when: unknown condition {key!r} (allowed: {', '.join(sorted(_WHEN_KEYS))})",
            )
        elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            bad(when.line_of(key), f"when.{key}: must be {expected.__name__}")
    kinds = [k for k in _KINDS if k in when]
    if len(kinds) != 1:
        bad(when.line, f"when: needs exactly one of {', '.join(_KINDS)}")
        return None
    if kinds[0] == "symptom" and when.get("symptom") not in SYMPTOM_IDS:
        bad(when.line_of("symptom"), f"when.symptom: {when.get('symptom')!r} is not a symptom id")
    if kinds[0] == "symptom" and "at_least" not in when:
        bad(when.line, "when: a symptom condition needs at_least")
    if kinds[0] == "change" and when.get("change") not in CHANGE_KINDS:
        bad(when.line_of("change"), f"when.change: must be one of {', '.join(CHANGE_KINDS)}")
    return kinds[0]


def _text(item: Located, bad: Any) -> Text | None:
    value = item.get("text")
    if not isinstance(value, Located) or not all(
        isinstance(value.get(k), str) and value[k].strip() for k in ("ja", "en")
    ):
        bad(item.line_of("text"), "text: must have ja and en texts")
        return None
    for lang in ("ja", "en"):
        unknown = set(re.findall(r"{(\w*)}", value[lang])) - _PLACEHOLDERS
        if unknown:
            bad(value.line_of(lang), f"text.{lang}: unknown placeholder {{{sorted(unknown)[0]}}} "
                f"(allowed: {', '.join(sorted(_PLACEHOLDERS))})")  # fmt: skip
    return Text(value["ja"].strip(), value["en"].strip())


def _see(item: Located, bad: Any, knowledge: Knowledge | None) -> str | None:
    see = item.get("see")
    if see is None:
        return None
    symptom, _, leaf = str(see).partition("/")
    if symptom not in SYMPTOM_IDS:
        bad(item.line_of("see"), f"see: {symptom!r} is not a symptom id")
        return None
    if knowledge is not None and leaf:
        found = knowledge.symptoms.get(symptom)
        if found is None or leaf not in found.nodes or not found.nodes[leaf].is_leaf:
            bad(item.line_of("see"), f"see: {symptom}.yml has no leaf {leaf!r}")
    return str(see)


# --- the report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    what: str  # one of CHANGE_KINDS
    before: str
    after: str


@dataclass(frozen=True)
class ServerHealth:
    host: str
    probes: int
    uptime_pct: float | None
    median_connect_ms: float | None
    cert_days_left: int | None
    quota_used_pct: float | None
    changes: tuple[Change, ...]
    daily_uptime_pct: tuple[float | None, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "probes": self.probes,
            "uptime_pct": self.uptime_pct,
            "median_connect_ms": self.median_connect_ms,
            "cert_days_left": self.cert_days_left,
            "quota_used_pct": self.quota_used_pct,
            "changes": [{"what": c.what, "before": c.before, "after": c.after} for c in self.changes],
            "daily_uptime_pct": list(self.daily_uptime_pct),
        }


@dataclass(frozen=True)
class Advice:
    id: str
    text: Text
    see: str | None = None
    see_title: Text | None = None
    escalate: str | None = None
    escalate_name: Text | None = None
    host: str | None = None

    def as_json(self) -> dict[str, object]:
        result: dict[str, object] = {"id": self.id, "text": {"ja": self.text.ja, "en": self.text.en}}
        if self.host:
            result["host"] = self.host
        if self.see:
            result["see"] = self.see
        if self.escalate:
            result["escalate"] = self.escalate
        return result


@dataclass(frozen=True)
class Incidents:
    total: int
    by_symptom: dict[str, int]
    previous_total: int
    previous_by_symptom: dict[str, int]
    by_protocol: dict[str, int]
    solved: int
    stuck: int
    top_clients: tuple[tuple[str, int], ...]

    @property
    def answered(self) -> int:
        return self.solved + self.stuck

    @property
    def solved_rate(self) -> float | None:
        """Share of answered cases (Solved or Still stuck) that were solved; None when nobody answered."""
        return round(self.solved / self.answered, 4) if self.answered else None


@dataclass(frozen=True)
class WeeklyReport:
    period: Period
    previous: Period
    tz: str
    incidents: Incidents
    daily: tuple[dict[str, int], ...]
    servers: tuple[ServerHealth, ...]
    advice: tuple[Advice, ...]
    symptom_titles: dict[str, Text] = field(default_factory=dict)
    client_names: dict[str, Text] = field(default_factory=dict)

    @property
    def days(self) -> tuple[date, ...]:
        zone_info = ZoneInfo(self.tz)
        return tuple(p.start.astimezone(zone_info).date() for p in self.period.days())

    def title_of(self, symptom: str, lang: Lang) -> str:
        title = self.symptom_titles.get(symptom)
        return title.get(lang) if title else symptom

    def as_json(self) -> dict[str, object]:
        """The public ``mailcheck report weekly --json`` contract."""
        i = self.incidents
        return {
            "period": {**self.period.as_json(), "tz": self.tz},
            "previous_period": self.previous.as_json(),
            "incidents": {
                "total": i.total,
                "by_symptom": i.by_symptom,
                "previous_total": i.previous_total,
                "previous_by_symptom": i.previous_by_symptom,
                "by_protocol": i.by_protocol,
            },
            "solved_rate": i.solved_rate,
            "outcomes": {"solved": i.solved, "stuck": i.stuck, "unanswered": i.total - i.answered},
            "top_clients": [{"client": c, "count": n} for c, n in i.top_clients],
            "daily": [
                {"date": d.isoformat(), "total": sum(counts.values()), "by_symptom": counts}
                for d, counts in zip(self.days, self.daily, strict=True)
            ],
            "servers": [s.as_json() for s in self.servers],
            "advice": [a.as_json() for a in self.advice],
        }


def build_weekly(
    store: Store,
    *,
    now: datetime,
    tz: ZoneInfo,
    knowledge: Knowledge | None = None,
    rules: Sequence[AdviceRule] = (),
) -> WeeklyReport:
    """The report for the 7 days before ``now`` (aware) against the 7 days before those."""
    # Cases are stored in whole seconds (floor); round `now` up so one recorded a moment ago is inside.
    now = (now.astimezone(tz) + timedelta(microseconds=999_999)).replace(microsecond=0)
    period = Period(now - WEEK, now)
    previous = Period(now - 2 * WEEK, now - WEEK)
    incidents = _incidents(store, period, previous)
    daily = tuple(store.symptom_counts(day.start, day.end) for day in period.days())
    hosts = sorted({e.host for e in store.watch_list()} | set(store.probed_hosts(period.start, period.end)))
    servers = tuple(_server(store, host, period) for host in hosts)
    titles = {k: s.title for k, s in knowledge.symptoms.items()} if knowledge else {}
    clients = {c.id: c.name for c in knowledge.clients} if knowledge else {}
    advice = tuple(_advise(rules, incidents, servers, knowledge))
    return WeeklyReport(period, previous, tz.key, incidents, daily, servers, advice, titles, clients)


def _incidents(store: Store, period: Period, previous: Period) -> Incidents:
    groups = store.case_groups(period.start, period.end)
    by_symptom: Counter[str] = Counter()
    by_protocol: Counter[str] = Counter()
    clients: Counter[str] = Counter()
    outcomes: Counter[str | None] = Counter()
    for g in groups:
        by_symptom[g.symptom] += g.count
        by_protocol[g.protocol or "unknown"] += g.count
        outcomes[g.outcome] += g.count
        if g.client:
            clients[g.client] += g.count
    before = store.symptom_counts(previous.start, previous.end)
    return Incidents(
        total=sum(by_symptom.values()),
        by_symptom=_ranked(by_symptom),
        previous_total=sum(before.values()),
        previous_by_symptom=_ranked(Counter(before)),
        by_protocol=_ranked(by_protocol),
        solved=outcomes["solved"],
        stuck=outcomes["stuck"],
        top_clients=tuple(sorted(clients.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLIENTS]),
    )


def _ranked(counts: Counter[str]) -> dict[str, int]:
    """Most frequent first, ties by id, so the JSON and the post read the same every time."""
    return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], kv[0])))


def _server(store: Store, host: str, period: Period) -> ServerHealth:
    probes = store.probes_of(host, period.start, period.end)
    latest = probes[-1] if probes else None
    before = store.last_probe_before(host, period.start)
    times = [p.facts.connect_ms for p in probes if p.facts.connect_ms is not None]
    return ServerHealth(
        host=host,
        probes=len(probes),
        uptime_pct=_uptime(probes),
        median_connect_ms=round(statistics.median(times), 1) if times else None,
        cert_days_left=_latest(p.facts.cert_days_left for p in probes),
        quota_used_pct=_latest(p.facts.quota_used_pct for p in probes),
        changes=_changes(before, latest),
        daily_uptime_pct=tuple(
            _uptime([p for p in probes if day.start <= p.ts < day.end]) for day in period.days()
        ),
    )


def _uptime(probes: Sequence[ProbeRow]) -> float | None:
    return round(100 * sum(p.facts.up for p in probes) / len(probes), 1) if probes else None


def _latest(values: Iterable[_T | None]) -> _T | None:
    found = [v for v in values if v is not None]
    return found[-1] if found else None


def _changes(before: ProbeRow | None, after: ProbeRow | None) -> tuple[Change, ...]:
    """What differs between the last probe before the week and the last one in it."""
    if before is None or after is None:
        return ()
    old, new = before.facts, after.facts
    changes: list[Change] = []
    if old.mx != new.mx and old.mx and new.mx:
        changes.append(Change("mx", _join(old.mx), _join(new.mx)))
    if old.srv != new.srv and old.srv and new.srv:
        changes.append(Change("srv", _join(old.srv), _join(new.srv)))
    if _cert_replaced(before, after):
        changes.append(Change("certificate", _expiry(before), _expiry(after)))
    old_caps, new_caps = _comparable(old.capabilities, new.capabilities)
    lost_tls = sorted(c for c in old_caps - new_caps if c.rsplit(":", 1)[-1] in ("STARTTLS", "STLS"))
    if lost_tls:
        changes.append(Change("starttls_lost", _join(lost_tls), _join(sorted(new_caps))))
    elif old_caps != new_caps:
        changes.append(Change("capabilities", _join(sorted(old_caps)), _join(sorted(new_caps))))
    return tuple(changes)


def _comparable(old: Sequence[str], new: Sequence[str]) -> tuple[set[str], set[str]]:
    """Capabilities of the services that answered both times (``service:OPEN``), markers left out.

    A port that was down in one probe is an uptime matter, not a lost capability.
    """

    def answered(caps: Sequence[str]) -> set[str]:
        return {c.split(":", 1)[0] for c in caps if c.endswith(":OPEN")}

    both = answered(old) & answered(new)

    def keep(caps: Sequence[str]) -> set[str]:
        return {c for c in caps if c.split(":", 1)[0] in both and not c.endswith(":OPEN")}

    return keep(old), keep(new)


def _cert_replaced(before: ProbeRow, after: ProbeRow) -> bool:
    """A new certificate: another fingerprint, or (without one) an expiry date that moved."""
    old, new = before.facts, after.facts
    if old.cert_id and new.cert_id:
        return old.cert_id != new.cert_id
    old_end, new_end = _expires(before), _expires(after)
    return old_end is not None and new_end is not None and abs((new_end - old_end).days) > _EXPIRY_SLACK_DAYS


def _expires(row: ProbeRow) -> date | None:
    days = row.facts.cert_days_left
    return (row.ts + timedelta(days=days)).date() if days is not None else None


def _expiry(row: ProbeRow) -> str:
    end = _expires(row)
    return f"~{end.isoformat()}" if end else "-"


def _join(values: Iterable[str]) -> str:
    return ", ".join(values) or "-"


# --- advice from the numbers ---------------------------------------------------------------------------


def _advise(
    rules: Sequence[AdviceRule],
    incidents: Incidents,
    servers: Sequence[ServerHealth],
    knowledge: Knowledge | None,
) -> Iterable[Advice]:
    quiet = incidents.total == 0 and not any(_server_trouble(s) for s in servers)
    for rule in rules:
        if rule.per_server:
            for server in servers:
                values = _server_match(rule, server)
                if values is not None:
                    yield _advice(rule, {**values, "host": server.host}, knowledge, server.host)
        elif (values := _case_match(rule, incidents, quiet)) is not None:
            yield _advice(rule, values, knowledge, None)


def _case_match(rule: AdviceRule, i: Incidents, quiet: bool) -> dict[str, object] | None:
    w = rule.when
    if rule.kind == "symptom":
        count = i.by_symptom.get(str(w["symptom"]), 0)
        if "protocol" in w:
            count = min(count, i.by_protocol.get(str(w["protocol"]), 0))
        return {"count": count} if count >= int(w["at_least"]) else None
    if rule.kind == "rise_at_least":
        rise = i.total - i.previous_total
        return {"count": i.total, "previous": i.previous_total} if rise >= int(w["rise_at_least"]) else None
    if rule.kind == "stuck_share_at_least":
        if i.answered < int(w.get("answered_at_least", 1)):
            return None
        share = round(100 * i.stuck / i.answered)
        return {"count": i.answered, "pct": share} if share >= int(w["stuck_share_at_least"]) else None
    if rule.kind == "quiet":
        return {} if quiet == bool(w["quiet"]) else None
    return None


def _server_match(rule: AdviceRule, s: ServerHealth) -> dict[str, object] | None:
    w = rule.when
    if rule.kind == "cert_days_at_most" and s.cert_days_left is not None:
        return {"days": s.cert_days_left} if s.cert_days_left <= int(w["cert_days_at_most"]) else None
    if rule.kind == "quota_at_least" and s.quota_used_pct is not None:
        return {"pct": _pct(s.quota_used_pct)} if s.quota_used_pct >= int(w["quota_at_least"]) else None
    if rule.kind == "uptime_below" and s.uptime_pct is not None:
        return {"pct": _pct(s.uptime_pct)} if s.uptime_pct < int(w["uptime_below"]) else None
    if rule.kind == "change":
        change = next((c for c in s.changes if c.what == w["change"]), None)
        return {"before": change.before, "after": change.after} if change else None
    return None


def _server_trouble(s: ServerHealth) -> bool:
    return bool(s.changes) or (s.uptime_pct is not None and s.uptime_pct < 100)


def _pct(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _advice(
    rule: AdviceRule, values: Mapping[str, object], knowledge: Knowledge | None, host: str | None
) -> Advice:
    filled = {key: "" for key in _PLACEHOLDERS} | {k: str(v) for k, v in values.items()}
    text = Text(rule.text.ja.format_map(filled), rule.text.en.format_map(filled))
    return Advice(rule.id, text, rule.see, _see_title(rule.see, knowledge), rule.escalate,
                  _escalate_name(rule.escalate, knowledge), host)  # fmt: skip


def _see_title(see: str | None, knowledge: Knowledge | None) -> Text | None:
    if not see or knowledge is None:
        return None
    symptom_id, _, leaf_id = see.partition("/")
    symptom = knowledge.symptoms.get(symptom_id)
    if symptom is None:
        return None
    leaf = symptom.nodes.get(leaf_id) if leaf_id else None
    return leaf.title if leaf is not None and leaf.title is not None else symptom.title


def _escalate_name(target: str | None, knowledge: Knowledge | None) -> Text | None:
    if not target or target == "none" or knowledge is None or target not in knowledge.targets:
        return None
    return knowledge.targets[target][0]


# --- plain text (CLI and the Slack fallback) -----------------------------------------------------------

_LABELS = {
    "title": Text("週次メールレポート", "Weekly mail report"),
    "incidents": Text("相談の件数", "Incidents"),
    "previous": Text("先週", "last week"),
    "solved": Text("解決率", "Solved"),
    "answered": Text("回答", "answered"),
    "none_answered": Text("回答なし", "no answers yet"),
    "clients": Text("よく使われている端末・アプリ", "Top clients"),
    "servers": Text("監視中のサーバー", "Watched servers"),
    "no_servers": Text(
        "（なし。mailcheck watch add HOST で追加）", "(none; add with mailcheck watch add HOST)"
    ),
    "uptime": Text("稼働", "up"),
    "connect": Text("接続", "connect"),
    "cert": Text("証明書の残り", "certificate"),
    "days": Text("日", " days"),
    "quota": Text("容量", "mailbox"),
    "changed": Text("変更", "changed"),
    "advice": Text("助言", "Advice"),
    "see": Text("詳しくは", "See"),
    "contact": Text("連絡先", "Contact"),
    "no_cases": Text("今週の相談はありません。", "No cases this week."),
    "no_probes": Text("今週の確認なし", "not probed this week"),
}


def label(key: str, lang: Lang | None) -> str:
    text = _LABELS[key]
    return text.get(lang) if lang else f"{text.ja} / {text.en}"


def period_label(report: WeeklyReport) -> str:
    tz = ZoneInfo(report.tz)
    start = report.period.start.astimezone(tz)
    end = (report.period.end - timedelta(seconds=1)).astimezone(tz)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} ({report.tz})"


def _change_text(n: int, previous: int) -> str:
    diff = n - previous
    return f"{diff:+d}" if diff else "±0"


def render_text(report: WeeklyReport, lang: Lang | None = None) -> str:
    """The report as plain text: one language, or both (Japanese first) when ``lang`` is None."""
    lines = [f"{label('title', lang)} — {period_label(report)}", ""]
    lines += _incident_lines(report, lang)
    lines += ["", f"{label('servers', lang)}:"] + (
        [_server_line(s, lang) for s in report.servers] or [f"  {label('no_servers', lang)}"]
    )
    if report.advice:
        lines += ["", f"{label('advice', lang)}:"]
        for item in report.advice:
            lines += _advice_lines(item, lang)
    return "\n".join(lines)


def _incident_lines(report: WeeklyReport, lang: Lang | None) -> list[str]:
    i = report.incidents
    head = (f"{label('incidents', lang)}: {i.total} ({label('previous', lang)} {i.previous_total}, "
            f"{_change_text(i.total, i.previous_total)})")  # fmt: skip
    if not i.total:
        return [head, f"  {label('no_cases', lang)}"]
    lines = [head]
    for symptom, n in i.by_symptom.items():
        title = report.title_of(symptom, lang or "ja")
        lines.append(
            f"  • {title} ({symptom}): {n} ({_change_text(n, i.previous_by_symptom.get(symptom, 0))})"
        )
    rate = i.solved_rate
    solved = (f"{rate * 100:.0f}% ({label('answered', lang)} {i.answered})" if rate is not None
              else label("none_answered", lang))  # fmt: skip
    lines.append(f"{label('solved', lang)}: {solved}")
    if i.top_clients:
        names = ", ".join(f"{_client(report, c, lang)} {n}" for c, n in i.top_clients)
        lines.append(f"{label('clients', lang)}: {names}")
    return lines


def _client(report: WeeklyReport, client: str, lang: Lang | None) -> str:
    name = report.client_names.get(client)
    return name.get(lang or "ja") if name else client


def server_facts(s: ServerHealth, lang: Lang | None) -> list[str]:
    """Uptime, connect time, certificate days and quota of one watched server (text and Slack share it)."""
    parts = [f"{label('uptime', lang)} {_pct(s.uptime_pct or 0)}%"]
    if s.median_connect_ms is not None:
        parts.append(f"{label('connect', lang)} {s.median_connect_ms:.0f} ms")
    if s.cert_days_left is not None:
        parts.append(f"{label('cert', lang)} {s.cert_days_left}{label('days', lang)}")
    if s.quota_used_pct is not None:
        parts.append(f"{label('quota', lang)} {_pct(s.quota_used_pct)}%")
    return parts


def _server_line(s: ServerHealth, lang: Lang | None) -> str:
    if not s.probes:
        return f"  • {s.host}: {label('no_probes', lang)}"
    line = f"  • {s.host}: " + ", ".join(server_facts(s, lang))
    for change in s.changes:
        line += f"\n      {label('changed', lang)} {change.what}: {change.before} → {change.after}"
    return line


def _advice_lines(item: Advice, lang: Lang | None) -> list[str]:
    langs: tuple[Lang, ...] = (lang,) if lang else ("ja", "en")
    lines = []
    for index, one in enumerate(langs):
        bullet = "  • " if index == 0 else "    "
        extra = []
        if item.see_title is not None:
            extra.append(f"{_LABELS['see'].get(one)}: {item.see_title.get(one)}")
        if item.escalate_name is not None:
            extra.append(f"{_LABELS['contact'].get(one)}: {item.escalate_name.get(one)}")
        suffix = (
            f"（{' / '.join(extra)}）"
            if extra and one == "ja"
            else (f" ({'; '.join(extra)})" if extra else "")
        )
        lines.append(bullet + item.text.get(one) + suffix)
    return lines


def report_inputs(knowledge_dir: Path) -> tuple[Knowledge | None, tuple[AdviceRule, ...]]:
    """Knowledge (for titles; None when the folder does not load) and the advice rules beside it."""
    from bot.knowledge import KnowledgeError, load

    try:
        knowledge: Knowledge | None = load(knowledge_dir)
    except KnowledgeError:
        knowledge = None  # a report is still useful with symptom ids instead of titles
    return knowledge, load_advice(advice_path(knowledge_dir), knowledge)
