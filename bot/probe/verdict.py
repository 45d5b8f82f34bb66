"""From raw probe facts to checks (one line each) and findings (symptom, severity, plain words).

Pure functions: no I/O, so every rule here is tested without a server. The rule that matters most:
when at least one secure way to receive works with a valid certificate, the server is healthy, and
everything else (a closed POP port, the sending ports) is information, never a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.model import Check, CheckStatus, Finding, Severity, Text
from bot.probe.auth import NEARLY_FULL_PERCENT, AuthResult
from bot.probe.dns import Lookup
from bot.probe.endpoint import EndpointResult
from bot.probe.policy import RECEIVE_SERVICES, Target
from bot.probe.tls import EXPIRY_SOON_DAYS, TlsResult

# Capabilities worth a mention: response codes (RFC 2449/3206) make errors explainable; QUOTA and IDLE
# explain "mailbox full" and push mail.
NOTABLE_CAPABILITIES = ("RESP-CODES", "AUTH-RESP-CODE", "QUOTA", "IDLE")

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

LABELS = {
    "imaps": "IMAP (SSL/TLS)",
    "imap": "IMAP (STARTTLS)",
    "pop3s": "POP3 (SSL/TLS)",
    "pop3": "POP3 (STARTTLS)",
    "submissions": "SMTP (SSL/TLS)",
    "submission": "SMTP (STARTTLS)",
}


@dataclass(frozen=True)
class Facts:
    target: Target
    host: str | None  # the server the endpoints went to (the name itself, an SRV target or the MX)
    lookups: tuple[Lookup, ...]
    endpoints: tuple[EndpointResult, ...]
    auth: AuthResult | None = None
    auth_skipped: str | None = None  # why a configured mailbox was not logged in to
    timeout: float = 8.0


def _where(r: EndpointResult) -> str:
    return f"{LABELS[r.endpoint.service]} {r.endpoint.port}"


def _ports(results: list[EndpointResult]) -> str:
    return ", ".join(str(r.endpoint.port) for r in results)


# --- checks ------------------------------------------------------------------------------------------


def checks(facts: Facts) -> tuple[Check, ...]:
    found: list[Check] = [*dns_checks(facts)]
    for result in facts.endpoints:
        found += endpoint_checks(result, facts.timeout)
    found += auth_checks(facts)
    return tuple(found)


def dns_checks(facts: Facts) -> list[Check]:
    if facts.target.ip is not None:
        return [Check("dns:address", "ok", f"{facts.target.name} is an address; no DNS lookup needed")]
    by_kind: dict[str, list[Lookup]] = {}
    for lookup in facts.lookups:
        by_kind.setdefault(_lookup_kind(lookup, facts.target.name), []).append(lookup)
    found = [_address_check("dns:address", by_kind.get("address", []), facts)]
    for kind, name in (("mx", "dns:mx"), ("srv", "dns:srv")):
        lookups = by_kind.get(kind, [])
        if (
            facts.target.from_email
            or facts.host not in (None, facts.target.name)
            or any(lk.status == "ok" for lk in lookups)
        ):
            found.append(_optional_check(name, lookups))
    other_hosts = sorted({lk.name for lk in by_kind.get("other", [])})
    found += [
        _address_check(f"dns:address:{h}", [lk for lk in by_kind["other"] if lk.name == h], facts)
        for h in other_hosts
    ]
    return found


def _lookup_kind(lookup: Lookup, name: str) -> str:
    if lookup.rdtype == "MX":
        return "mx"
    if lookup.rdtype == "SRV":
        return "srv"
    return "address" if lookup.name == name else "other"


def _address_check(name: str, lookups: list[Lookup], facts: Facts) -> Check:
    values = [v for lk in lookups for v in lk.values]
    ms = max((lk.ms for lk in lookups), default=0.0)
    detail = "; ".join(lk.describe for lk in lookups)
    if values:
        return Check(name, "ok", detail, ms)
    statuses = {lk.status for lk in lookups}
    if name == "dns:address" and facts.host and facts.host != facts.target.name:
        return Check(name, "ok", f"{detail}; using {facts.host} from the domain's SRV/MX records", ms)
    status: CheckStatus = (
        "inconclusive" if statuses & {"timeout", "error"} and not statuses & {"nxdomain"} else "failed"
    )
    return Check(name, status, detail or "not looked up", ms)


def _optional_check(name: str, lookups: list[Lookup]) -> Check:
    ms = max((lk.ms for lk in lookups), default=0.0)
    found = [lk for lk in lookups if lk.status == "ok"]
    if found:
        return Check(name, "ok", "; ".join(lk.describe for lk in found), ms)
    if any(lk.status in ("timeout", "error", "servfail") for lk in lookups):
        return Check(name, "inconclusive", "; ".join(lk.describe for lk in lookups), ms)
    return Check(name, "ok", "none (optional)", ms)


def endpoint_checks(result: EndpointResult, timeout: float) -> list[Check]:
    service = result.endpoint.service
    found = [_tcp_check(result, timeout)]
    if result.connect is None or result.connect.status != "open":
        return found
    tls_check = _tls_check(result, timeout)
    greeting_check = _greeting_check(result, timeout)
    ordered = [tls_check, greeting_check] if result.endpoint.implicit_tls else [greeting_check, tls_check]
    found += [c for c in ordered if c is not None]
    assert all(c.name.endswith(service) for c in found)
    return found


def _late(timeout: float) -> str:
    return f"no answer within the time limit ({timeout:g} s)"


def _tcp_check(result: EndpointResult, timeout: float) -> Check:
    name = f"tcp:{result.endpoint.service}"
    c = result.connect
    if c is None:
        return Check(name, "inconclusive", f"port {result.endpoint.port}: {_late(timeout)}")
    statuses: dict[str, CheckStatus] = {
        "open": "ok",
        "refused": "failed",
        "timeout": "inconclusive",
        "unreachable": "failed",
        "error": "failed",
    }
    return Check(name, statuses[c.status], c.describe, round(c.ms, 1))


def _tls_check(result: EndpointResult, timeout: float) -> Check | None:
    name = f"tls:{result.endpoint.service}"
    prefix = "" if result.endpoint.implicit_tls else "STARTTLS: "
    if result.tls is None:
        if result.pending == "tls":
            return Check(name, "inconclusive", prefix + _late(timeout))
        if not result.endpoint.implicit_tls and result.greeted and result.endpoint.protocol:
            return Check(name, "failed", "STARTTLS not offered: passwords would travel unencrypted")
        return None
    return Check(name, _tls_status(result.tls), prefix + result.tls.describe, round(result.tls_ms, 1))


def _tls_status(t: TlsResult) -> CheckStatus:
    if "timeout" in t.problems:
        return "inconclusive"
    if t.problems:
        return "failed"
    return "warning" if t.days_left is not None and t.days_left < EXPIRY_SOON_DAYS else "ok"


def _greeting_check(result: EndpointResult, timeout: float) -> Check | None:
    name = f"greeting:{result.endpoint.service}"
    g = result.after_tls or result.greeting
    if g is None:
        if result.pending in ("greeting", "capabilities after TLS"):
            return Check(name, "inconclusive", _late(timeout))
        return (
            None
            if result.endpoint.protocol is None or result.tls is not None
            else Check(name, "inconclusive", "not reached")
        )
    if g.status == "ok":
        return Check(
            name, "ok", _greeting_detail(result), round(result.greeting.ms if result.greeting else g.ms, 1)
        )
    status: CheckStatus = "inconclusive" if g.busy or g.status in ("timeout", "closed") else "failed"
    return Check(name, status, g.describe(), round(g.ms, 1))


def _greeting_detail(result: EndpointResult) -> str:
    """The greeting, then what a mail client would see: STARTTLS, login before TLS, login mechanisms."""
    before = result.greeting
    assert before is not None
    parts = [before.text or "greeting ok"]
    if not result.endpoint.implicit_tls:
        if not before.offers_starttls:
            parts.append("no STARTTLS")
            if not before.login_disabled:
                parts.append("login allowed without encryption")
        else:
            parts.append(
                ("STLS" if before.protocol == "pop3" else "STARTTLS")
                + " offered"
                + ("; login disabled before TLS" if before.login_disabled else "")
            )
    final = result.after_tls or before
    where = "after TLS " if result.after_tls else ""
    parts.append(f"login {where}by: {' '.join(final.mechanisms) or 'USER/LOGIN'}")
    notable = [c for c in NOTABLE_CAPABILITIES if c in final.capabilities]
    if notable:
        parts.append(f"also: {' '.join(notable)}")
    return "; ".join(parts)


def auth_checks(facts: Facts) -> list[Check]:
    if facts.auth_skipped:
        return [Check("auth", "inconclusive", facts.auth_skipped)]
    a = facts.auth
    if a is None:
        return []
    statuses: dict[str, CheckStatus] = {"ok": "ok", "rejected": "failed", "busy": "inconclusive",
                                        "unavailable": "inconclusive", "error": "inconclusive"}  # fmt: skip
    found = [Check(f"auth:{a.service}", statuses[a.status], a.describe, round(a.ms, 1))]
    pct = a.quota_percent
    if pct is not None:
        status: CheckStatus = "failed" if pct >= 100 else "warning" if pct >= NEARLY_FULL_PERCENT else "ok"
        found.append(
            Check(
                f"quota:{a.service}", status, f"{a.quota_used_kb} of {a.quota_limit_kb} KB used ({pct:.0f}%)"
            )
        )
    return found


# --- findings ----------------------------------------------------------------------------------------


def findings(facts: Facts) -> tuple[Finding, ...]:
    found = dns_findings(facts)
    receive = [r for r in facts.endpoints if r.endpoint.service in RECEIVE_SERVICES]
    if receive:
        secure = [r for r in receive if r.secure]
        found += healthy_findings(secure, receive) if secure else receive_findings(receive, facts)
    found += sending_findings([r for r in facts.endpoints if r.endpoint.service not in RECEIVE_SERVICES])
    found += auth_findings(facts.auth)
    if not found and not receive and facts.target.ip is None and not _dns_failed(facts):
        found.append(
            _finding(
                "unknown",
                "warning",
                "受信用のサーバーを確認できませんでした。",
                "No receiving server could be checked.",
            )
        )
    # Errors first, then warnings, then information: what matters most fits on the first lines of a phone.
    return tuple(sorted(found, key=lambda f: SEVERITY_ORDER[f.severity]))


def _finding(symptom: str, severity: Severity, ja: str, en: str) -> Finding:
    return Finding(symptom, severity, Text(ja, en))


def _dns_failed(facts: Facts) -> bool:
    return facts.host is None


def dns_findings(facts: Facts) -> list[Finding]:
    if facts.target.ip is not None or facts.host is not None:
        return []
    name = facts.target.name
    statuses = {lk.status for lk in facts.lookups if lk.name == name and lk.rdtype in ("A", "AAAA")}
    if "nxdomain" in statuses:
        return [_finding("dns_not_found", "error",
            f"「{name}」というサーバー名は DNS に登録されていません（NXDOMAIN）。メールソフトに入れたサーバー名のつづりを確認してください。合っている場合は、ドメインの契約が切れていないか提供元に確認してください。",
            f"The name {name} does not exist in DNS (NXDOMAIN). Check the spelling of the server name in the mail settings. If it is right, ask the provider whether the domain has expired.")]  # fmt: skip
    if "servfail" in statuses:
        return [_finding("dns_not_found", "error",
            f"「{name}」の DNS サーバーが正しく答えていません（SERVFAIL）。お使いの端末の問題ではありません。ドメインの管理者（提供元）に連絡してください。",
            f"The DNS servers for {name} are failing (SERVFAIL). This is not a problem with your device. Contact the domain's administrator (the provider).")]  # fmt: skip
    if statuses and statuses <= {"nodata", "nxdomain"}:
        return [_finding("dns_not_found", "error",
            f"「{name}」は DNS にありますが、接続先のアドレス（A/AAAA レコード）がありません。サーバー名が正しいか、提供元に確認してください。",
            f"{name} exists in DNS but has no address (A/AAAA record). Check the server name with the provider.")]  # fmt: skip
    return [_finding("dns_not_found", "warning",
        f"「{name}」の DNS の確認が時間内に終わりませんでした。少し待ってから、もう一度確認してください。",
        f"Looking up {name} in DNS did not finish in time. Wait a little and check again.")]  # fmt: skip


def healthy_findings(secure: list[EndpointResult], receive: list[EndpointResult]) -> list[Finding]:
    ways = "、".join(_where(r) for r in secure)
    ways_en = ", ".join(_where(r) for r in secure)
    found = [_finding("server_outage", "info", f"サーバーは正常です。{ways} で安全に受信できます。",
                      f"The server is working: mail can be received securely over {ways_en}.")]  # fmt: skip
    soon = [r for r in secure if r.tls and r.tls.days_left is not None and r.tls.days_left < EXPIRY_SOON_DAYS]
    if soon:
        days = min(r.tls.days_left for r in soon if r.tls and r.tls.days_left is not None)
        found.append(_finding("tls_certificate", "info",
            f"サーバーの証明書の期限まであと{days}日です。期限を過ぎると接続できなくなるので、更新されるか提供元に確認しておくと安心です。",
            f"The server's certificate expires in {days} days. After that, connections will fail; it is worth confirming with the provider that it will be renewed."))  # fmt: skip
    others = [r for r in receive if not r.secure]
    if others:
        found.append(_finding("cannot_connect", "info",
            f"ほかの受信方式（{'、'.join(_where(r) for r in others)}）は使えませんが、上の方式で受信できるので問題ありません。",
            f"The other ways to receive ({', '.join(_where(r) for r in others)}) do not work, which is fine because the ones above do."))  # fmt: skip
    return found


def receive_findings(receive: list[EndpointResult], facts: Facts) -> list[Finding]:
    """No secure way to receive: say why, most specific cause first."""
    found = certificate_findings(receive, facts.host or facts.target.name)
    found += protocol_findings(receive)
    found += busy_findings(receive)
    found += timeout_findings(receive)
    if not found:
        found += closed_findings(receive, facts.host or facts.target.name)
    if not found:
        found.append(_finding("unknown", "warning",
            "受信用の安全な接続（SSL/TLS）を確認できませんでした。もう一度確認するか、提供元に問い合わせてください。",
            "No secure way to receive mail could be confirmed. Check again, or ask the provider."))  # fmt: skip
    return found


def certificate_findings(receive: list[EndpointResult], host: str) -> list[Finding]:
    seen: dict[tuple[str, ...], list[EndpointResult]] = {}
    for r in receive:
        if r.tls and r.tls.established and set(r.tls.problems) - {"weak_protocol"}:
            key = (r.tls.cert.subject if r.tls.cert else "", *r.tls.problems)
            seen.setdefault(key, []).append(r)
    return [_certificate_finding(group, host) for group in seen.values()]


def _certificate_finding(group: list[EndpointResult], host: str) -> Finding:
    tls = group[0].tls
    assert tls is not None
    ja: list[str] = []
    en: list[str] = []
    days = tls.days_left if tls.days_left is not None else 0
    names = ", ".join(tls.cert.names[:3]) if tls.cert and tls.cert.names else "?"
    if "expired" in tls.problems:
        ja.append(
            "サーバーの証明書が今日期限切れになりました。"
            if days == 0
            else f"サーバーの証明書が{-days}日前に期限切れです。"
        )
        en.append(
            "The server's certificate expired today."
            if days == 0
            else f"The server's certificate expired {-days} days ago."
        )
    if "not_yet_valid" in tls.problems:
        ja.append("サーバーの証明書の有効期間がまだ始まっていません。")
        en.append("The server's certificate is not valid yet.")
    if "self_signed" in tls.problems:
        ja.append(
            "サーバーの証明書は自己署名（正式な認証局が発行したものではない）です。端末に「この証明書を信頼しますか」と出ても、信頼を押さないでください。"
        )
        en.append(
            "The server's certificate is self-signed (not issued by a recognised authority). If the device asks whether to trust it, do not accept."
        )
    if "untrusted" in tls.problems:
        ja.append(f"サーバーの証明書の発行元を確認できません（{tls.verify_message}）。")
        en.append(f"The server's certificate cannot be traced to a trusted authority ({tls.verify_message}).")
    if "name_mismatch" in tls.problems:
        ja.append(
            f"証明書は {names} 用で、{host} 用ではありません。メールソフトのサーバー名が証明書の名前と合っているか確認してください。"
        )
        en.append(
            f"The certificate is for {names}, not for {host}. Check that the server name in the mail settings matches the certificate."
        )
    ja.append(f"お使いの端末の問題ではありません。提供元に連絡してください。（ポート {_ports(group)}）")
    en.append(f"This is not a problem with your device. Contact the provider. (port {_ports(group)})")
    return _finding("tls_certificate", "error", "".join(ja), " ".join(en))


def protocol_findings(receive: list[EndpointResult]) -> list[Finding]:
    found: list[Finding] = []
    weak = [r for r in receive if r.tls and "weak_protocol" in r.tls.problems]
    if weak:
        version = next(r.tls.version for r in weak if r.tls)
        found.append(_finding("tls_mismatch", "error",
            f"サーバーは古い暗号化方式（{version}）しか使えません（ポート {_ports(weak)}）。新しい端末やメールソフトは接続を断ります。提供元に連絡してください。",
            f"The server only speaks an old encryption protocol ({version}) on port {_ports(weak)}. Current devices and mail apps refuse it. Contact the provider."))  # fmt: skip
    broken = [r for r in receive if r.tls and "handshake" in r.tls.problems and r.endpoint.implicit_tls]
    if broken:
        found.append(_finding("tls_mismatch", "error",
            f"ポート {_ports(broken)} は SSL/TLS で応答しません（{broken[0].tls.error if broken[0].tls else ''}）。メールソフトのポート番号と SSL の設定の組み合わせを確認してください。",
            f"Port {_ports(broken)} does not answer with SSL/TLS ({broken[0].tls.error if broken[0].tls else ''}). Check that the port number and the SSL setting in the mail app belong together."))  # fmt: skip
    plain = [r for r in receive if r.greeted and r.tls is None and not r.endpoint.implicit_tls]
    if plain and not any(r.tls and r.tls.established for r in receive):
        found.append(_finding("tls_mismatch", "error",
            f"サーバーは暗号化なしの接続（ポート {_ports(plain)}）にしか応答しません。メールソフトの「SSL/TLS」がオンだと接続できず、オフにするとパスワードが暗号化されずに送られます。提供元に確認してください。",
            f"The server only answers without encryption (port {_ports(plain)}). With SSL/TLS switched on the mail app cannot connect; switched off, the password travels unencrypted. Ask the provider."))  # fmt: skip
    return found


def busy_findings(receive: list[EndpointResult]) -> list[Finding]:
    busy = [r for r in receive if r.greeting and r.greeting.busy]
    if not busy:
        return []
    text = busy[0].greeting.text if busy[0].greeting else ""
    return [_finding("too_many_connections", "warning",
        f"サーバーが接続数の上限を理由に接続を断りました（「{text}」）。同じアカウントを開いている端末やアプリをいくつか閉じ、しばらく待ってから試してください。この確認自体が断られた可能性もあるため、故障とは限りません。",
        f"The server turned the connection away because of a connection limit (\"{text}\"). Close the mail app on some devices using the same account, wait a while and try again. The check itself may have been turned away, so this is not necessarily a fault.")]  # fmt: skip


def timeout_findings(receive: list[EndpointResult]) -> list[Finding]:
    slow = [r for r in receive if _timed_out(r)]
    if not slow:
        return []
    return [_finding("timeout", "warning",
        f"サーバーのポート {_ports(slow)} が時間内に応答しませんでした。ファイアウォールで止められているか、サーバーが混んでいる可能性があります。この確認だけでは故障と断定できません。少し待ってから、もう一度確認してください。",
        f"Port {_ports(slow)} of the server did not answer in time. A firewall may be dropping the connection, or the server may be overloaded; this check alone cannot tell. Wait a little and check again.")]  # fmt: skip


def _timed_out(r: EndpointResult) -> bool:
    if r.pending is not None and not r.secure:
        return True
    if r.connect is not None and r.connect.status == "timeout":
        return True
    if r.tls is not None and "timeout" in r.tls.problems:
        return True
    return r.greeting is not None and r.greeting.status == "timeout"


def closed_findings(receive: list[EndpointResult], host: str) -> list[Finding]:
    connects = [r.connect for r in receive if r.connect is not None]
    if not connects or any(c.status == "open" for c in connects):
        rejected = [r for r in receive if r.greeting and r.greeting.status in ("rejected", "closed", "error")]
        if rejected and rejected[0].greeting:
            return [_finding("server_outage", "warning",
                f"サーバーは接続を受け付けましたが、メールの応答を返しませんでした（「{rejected[0].greeting.text}」）。しばらく待ってから確認し、続く場合は提供元に連絡してください。",
                f"The server accepted the connection but refused to talk mail (\"{rejected[0].greeting.text}\"). Wait a while and check again; if it continues, contact the provider.")]  # fmt: skip
        return []
    if all(c.status == "unreachable" for c in connects):
        return [_finding("cannot_connect", "error",
            f"サーバー {host} への経路がありません（到達できません）。サーバーが止まっているか、アドレスが違う可能性があります。提供元に確認してください。",
            f"There is no route to {host} (unreachable). The server may be down or its address wrong. Ask the provider.")]  # fmt: skip
    return [_finding("cannot_connect", "error",
        f"サーバー {host} は見つかりますが、受信用のポート（{_ports(receive)}）がすべて閉じています。サーバーが止まっているか、サーバー名が違う可能性があります。提供元に確認してください。",
        f"{host} exists, but all its receiving ports ({_ports(receive)}) are closed. The server may be down, or the server name may be wrong. Ask the provider.")]  # fmt: skip


def sending_findings(sending: list[EndpointResult]) -> list[Finding]:
    closed = [r for r in sending if r.connect is not None and r.connect.status != "open"]
    if not closed:
        return []
    return [_finding("sending_smtp", "info",
        f"送信用のポート {_ports(closed)} は、この確認では接続できませんでした（受信の確認には影響しません）。",
        f"The sending port(s) {_ports(closed)} could not be reached by this check (this does not affect receiving).")]  # fmt: skip


def auth_findings(a: AuthResult | None) -> list[Finding]:
    if a is None:
        return []
    if a.status == "ok":
        return quota_findings(a)
    said = f"（サーバーの返答:「{a.text}」）" if a.text else ""
    said_en = f' (the server said: "{a.text}")' if a.text else ""
    messages: dict[str | None, tuple[Severity, str, str]] = {
        "auth_failed": ("error",
            f"確認用に登録したアカウントでログインできませんでした{said}。パスワードが変わった可能性があります。何度も試すとロックされることがあるので、続けて試さないでください。",
            f"The mailbox configured for checks could not log in{said_en}. The password may have changed. Do not keep retrying: repeated failures can lock the account."),
        "account_locked": ("error",
            f"確認用に登録したアカウントは、サーバー側で停止またはロックされています{said}。パスワードを何度も試さず、提供元に解除を依頼してください。",
            f"The mailbox configured for checks is disabled or locked on the server{said_en}. Do not retry the password; ask the provider to unlock it."),
        "too_many_connections": ("warning",
            f"同時接続数の上限のため、サーバーがログインを断りました{said}。同じアカウントを開いている端末やアプリをいくつか閉じてから試してください。",
            f"The server refused the login because of its connection limit{said_en}. Close the mail app on some of the devices using this account, then try again."),
        "mailbox_full": ("error",
            f"メールボックスが容量の上限に達しています{said}。古いメールを削除するか、容量の追加を提供元に相談してください。",
            f"The mailbox is over its quota{said_en}. Delete old mail, or ask the provider for more space."),
        "tls_mismatch": ("error",
            f"サーバーは暗号化なしのログインを断りました{said}。メールソフトの「SSL/TLS」をオンにしてください。",
            f"The server refused a login without encryption{said_en}. Switch SSL/TLS on in the mail app."),
        "server_outage": ("warning",
            f"サーバーが一時的にログインを受け付けていません{said}。しばらく待ってから確認してください。",
            f"The server is temporarily not accepting logins{said_en}. Wait a while and check again."),
    }  # fmt: skip
    if a.symptom not in messages:
        return [_finding("unknown", "warning", f"確認用アカウントのログインを確認できませんでした{said}。",
                         f"The login of the mailbox configured for checks could not be confirmed{said_en}.")]  # fmt: skip
    severity, ja, en = messages[a.symptom]
    return [_finding(a.symptom or "unknown", severity, ja, en)]


def quota_findings(a: AuthResult) -> list[Finding]:
    pct = a.quota_percent
    if pct is None or pct < NEARLY_FULL_PERCENT:
        return []
    severity: Severity = "error" if pct >= 100 else "warning"
    used, limit = a.quota_used_kb, a.quota_limit_kb
    return [_finding("mailbox_full", severity,
        f"メールボックスが容量の{pct:.0f}%（{used} / {limit} KB）まで使われています。いっぱいになると新しいメールを受け取れません。古いメールを削除するか、容量の追加を提供元に相談してください。",
        f"The mailbox is {pct:.0f}% full ({used} of {limit} KB). When it is full, new mail cannot arrive. Delete old mail, or ask the provider for more space.")]  # fmt: skip
