"""A ProbeReport as text lines (CLI, console, Slack, the diagnosis reply) and as the ``--json`` object.

Check lines are technical (what dig or openssl would show, in English); findings are the plain
bilingual sentences, shown in the reader's language.
"""

from __future__ import annotations

from bot.model import Lang, ProbeReport

MARKS = {"ok": "✓", "warning": "!", "failed": "✗", "inconclusive": "?"}
SEVERITY_MARKS = {"info": "・", "warning": "⚠", "error": "✗"}


def _heading(report: ProbeReport, lang: Lang) -> str:
    seconds = report.ms / 1000
    if lang == "ja":
        return f"サーバーの確認: {report.host}（{seconds:.1f}秒）"
    return f"Server check: {report.host} ({seconds:.1f} s)"


def probe_lines(report: ProbeReport, lang: Lang = "ja") -> list[str]:
    """One line per check with its mark, then the findings in ``lang``."""
    if report.refused is not None:
        reason = report.findings[0].message.get(lang) if report.findings else report.refused
        heading = "サーバーの確認をしませんでした" if lang == "ja" else "The server was not checked"
        return [f"{heading}: {reason}"]
    lines = [_heading(report, lang)]
    lines += [f"{MARKS[c.status]} {c.name}: {c.detail}" for c in report.checks]
    if report.findings:
        lines.append("結果:" if lang == "ja" else "Findings:")
        lines += [f"{SEVERITY_MARKS[f.severity]} {f.message.get(lang)}" for f in report.findings]
    return lines


HEALTHY = {
    "ja": "✓ 安全な受信方法（TLS）が使え、証明書も有効です。サーバー側は正常です。",
    "en": "✓ A secure way to receive (TLS) works with a valid certificate: the server side is fine.",
}
MAX_SUMMARY = 3


def probe_summary(report: ProbeReport, lang: Lang = "ja") -> list[str]:
    """The few lines a reply has room for: what is wrong (errors first), or that the server is fine.
    The full transcript (``probe_lines``) goes into the hand-off memo."""
    if report.refused is not None:
        return probe_lines(report, lang)
    notable = [f for f in report.findings if f.severity != "info"][:MAX_SUMMARY]
    lines = [_heading(report, lang)]
    if not notable:
        return [*lines, HEALTHY[lang]] if report.healthy else lines
    return lines + [f"{SEVERITY_MARKS[f.severity]} {f.message.get(lang)}" for f in notable]


def probe_json(report: ProbeReport) -> dict[str, object]:
    """The ``mailcheck probe --json`` object (a public contract: add fields, never rename them)."""
    return {
        "host": report.host,
        "healthy": report.healthy,
        "ms": report.ms,
        "refused": report.refused,
        "checks": [
            {"name": c.name, "status": c.status, "ok": c.ok, "detail": c.detail, "ms": c.ms}
            for c in report.checks
        ],
        "findings": [
            {
                "symptom": f.symptom,
                "severity": f.severity,
                "message": {"ja": f.message.ja, "en": f.message.en},
            }
            for f in report.findings
        ],
    }
