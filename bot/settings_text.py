"""Plain text for a settings answer and for the differences from what a person typed (ja or en).

Short enough for one phone screen: the servers, then the password and where the values are shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.discover import VerifyCheck
from bot.model import Lang, Text
from bot.providers import Incoming, Mismatch, SettingsAnswer

SOURCE_NAMES: dict[str, Text] = {
    "provider_file": Text("ナレッジの提供元情報", "knowledge provider file"),
    "srv": Text("DNS の SRV レコード", "DNS SRV records"),
    "autoconfig": Text("自動設定ファイル（autoconfig）", "autoconfig document"),
    "mx": Text("MX レコードから判断", "recognised from the MX record"),
    "guess": Text("推測", "guess"),
    "none": Text("見つからず", "nothing found"),
}
SECURITY_WORDS: dict[str, Text] = {
    "ssl": Text("SSL/TLS（「SSL を使用」オン）", "SSL/TLS ('Use SSL' on)"),
    "starttls": Text("STARTTLS", "STARTTLS"),
    "none": Text("暗号化なし（「SSL を使用」オフ）", "none ('Use SSL' off)"),
}
MAX_NOTES = 5


def source_line(answer: SettingsAnswer, lang: Lang) -> str:
    name = SOURCE_NAMES[answer.source].get(lang)
    provider = answer.provider.name.get(lang) if answer.provider else answer.provider_name
    parts = (
        [name] + ([provider] if provider else []) + ([answer.source_detail] if answer.source_detail else [])
    )
    label = "出典" if lang == "ja" else "Source"
    return f"{label}: " + " — ".join(parts)


def username_words(server: Incoming, lang: Lang) -> str:
    if server.username == "id":
        return (
            "提供元の ID（メールアドレスではありません）"
            if lang == "ja"
            else "the provider's ID (not the e-mail address)"
        )
    if server.username == "localpart":
        return (
            f"「@」より前だけ: {server.login}"
            if lang == "ja"
            else f"only the part before '@': {server.login}"
        )
    return f"メールアドレス全体: {server.login}" if lang == "ja" else f"the whole address: {server.login}"


def server_line(n: int, server: Incoming, lang: Lang) -> str:
    protocol = "IMAP" if server.protocol == "imap" else "POP"
    port = f"ポート {server.port}" if lang == "ja" else f"port {server.port}"
    user = ("ユーザー名: " if lang == "ja" else "user name: ") + username_words(server, lang)
    line = f"{n}. {protocol}  {server.host}  {port}  {SECURITY_WORDS[server.security].get(lang)}  {user}"
    if server.host_varies:
        line += "  （* は契約ごとに違う部分）" if lang == "ja" else "  (* differs per account)"
    if not server.verified:
        line += "  [未確認]" if lang == "ja" else "  [unverified]"
    if server.note is not None:
        line += "\n   " + server.note.get(lang)
    return line


def render_settings(answer: SettingsAnswer, lang: Lang = "ja") -> str:
    """The answer to "which settings do I type?" as plain text."""
    head = (
        f"{answer.address} の受信サーバー設定"
        if lang == "ja"
        else f"Incoming-server settings for {answer.address}"
    )
    lines = [head, source_line(answer, lang)]
    if answer.incoming:
        lines += [server_line(i + 1, s, lang) for i, s in enumerate(answer.incoming)]
        lines.append("（上から順におすすめ）" if lang == "ja" else "(best first)")
    lines += [f"・{note.get(lang)}" for note in answer.notes[:MAX_NOTES]]
    if answer.source not in ("provider_file",) and answer.tried:
        checked = " → ".join(SOURCE_NAMES[a.source].get(lang) for a in answer.tried)
        lines.append(("調べた順: " if lang == "ja" else "Checked: ") + checked)
    return "\n".join(lines)


def render_mismatches(mismatches: Sequence[Mismatch], lang: Lang = "ja") -> list[str]:
    """One line per difference, classic mix-ups first, each saying what to type instead."""
    ordered = sorted(mismatches, key=lambda m: not m.classic)
    return [m.message.get(lang) for m in ordered]


VERIFY_MARKS = {"match": "✓", "differs": "✗", "inconclusive": "?", "skipped": "-"}


def render_verify(checks: Sequence[VerifyCheck], lang: Lang = "ja") -> str:
    """One line per recommended server: does it really offer that port and TLS mode?"""
    head = "接続して確認:" if lang == "ja" else "Checked by connecting:"
    lines = [head]
    for c in checks:
        line = f"{VERIFY_MARKS[c.status]} {c.server.host}:{c.server.port}  {c.message.get(lang)}"
        if c.offered and c.status == "differs":
            offered = ", ".join(c.offered)
            line += f"（実際に使えるもの: {offered}）" if lang == "ja" else f" (actually offered: {offered})"
        lines.append(line)
    return "\n".join(lines)
