"""Presentation: plain text of a reply (console chat, CLI, Slack's notification fallback) and the
escalation hand-off memo."""

from __future__ import annotations

from bot.knowledge import Knowledge
from bot.model import Diagnosis, Lang, Text
from bot.reply import label
from bot.triage import Outcome


def probe_lines(diagnosis: Diagnosis, lang: Lang, *, full: bool = False) -> tuple[str, ...]:
    """The probe's own wording (shared with its CLI): a short summary for a reply that must fit on a
    phone screen, or the full transcript (``full``) for the hand-off memo."""
    if diagnosis.probe is None:
        return ()
    from bot.probe.report import probe_lines as transcript
    from bot.probe.report import probe_summary

    return tuple((transcript if full else probe_summary)(diagnosis.probe, lang))


def to_text(outcome: Outcome) -> str:
    """Plain text for the console chat, the CLI and Slack's notification fallback."""
    reply, confidence = outcome.reply, outcome.diagnosis.confidence
    lang = reply.lang
    head = f"■ {reply.title}"
    if confidence and reply.symptom != "unknown":  # a symptom chosen by a button press has no score
        head += f"  ({label('confidence', lang)} {confidence:.0%})"
    lines = [*reply.warnings, head, reply.summary]
    if reply.checklist:
        lines += ["", f"【{label('checklist', lang)}】" if lang == "ja" else f"{label('checklist', lang)}:"]
        lines += [f"{i}. {step}" for i, step in enumerate(reply.checklist, 1)]
    if reply.donts:
        lines += [f"【{label('donts', lang)}】" if lang == "ja" else f"{label('donts', lang)}:"]
        lines += [f"✗ {d}" for d in reply.donts]
    if reply.escalation:
        lines += [f"【{label('escalation', lang)}】" if lang == "ja" else f"{label('escalation', lang)}:"]
        lines.append(reply.escalation)
        if reply.extra:
            lines.append(f"{label('prepare', lang)}: " + " / ".join(reply.extra))
    probe = probe_lines(outcome.diagnosis, lang)
    if probe:
        lines += ["", f"【{label('probe', lang)}】" if lang == "ja" else f"{label('probe', lang)}:"]
        lines += list(probe)
    if reply.question:
        lines += ["", f"❓ {reply.question}"]
    return "\n".join(lines).strip()


_HANDOFF = {
    "head": Text(
        "【問い合わせ用メモ】このまま提供元・管理者に貼り付けてください",
        "[Hand-off] Paste this to your provider or admin",
    ),
    "symptom": Text("症状", "Problem"),
    "error": Text("エラーの文面", "Exact error"),
    "device": Text("端末・アプリ", "Device / app"),
    "settings": Text("入力している設定", "Settings in use"),
    "answers": Text("確認したこと", "Answers given"),
    "tried": Text("試したこと", "Already tried"),
    "probe": Text("サーバー確認の記録", "Server check transcript"),
    "unknown": Text("不明", "unknown"),
    "yes": Text("はい", "yes"),
    "no": Text("いいえ", "no"),
    "note": Text("※パスワードは記載していません", "(No password included)"),
    "contact": Text("連絡先", "Contact"),
}


def _h(key: str, lang: Lang) -> str:
    return _HANDOFF[key].get(lang)


def handoff(diagnosis: Diagnosis, knowledge: Knowledge, text: str, lang: Lang) -> str:
    """One message, ready to paste to the provider or the admin. ``text`` must already be redacted."""
    entities = diagnosis.match.entities
    client = next((c.name.get(lang) for c in knowledge.clients if c.id == entities.client), None)
    quoted = "\n".join(f"> {line}" for line in text.strip().splitlines()[:12]) or f"> {_h('unknown', lang)}"
    lines = [
        _h("head", lang),
        f"{_h('symptom', lang)}: {diagnosis.symptom.title.get(lang)} ({diagnosis.symptom.id})",
        f"{_h('error', lang)}:",
        quoted,
        f"{_h('device', lang)}: {client or _h('unknown', lang)}"
        + (f" / {entities.protocol.upper()}" if entities.protocol else ""),
    ]
    settings = [*entities.hosts, *(f"port {p}" for p in entities.ports)]
    if entities.ssl is not None:
        settings.append("SSL " + ("on" if entities.ssl else "off"))
    if settings:
        lines.append(f"{_h('settings', lang)}: " + ", ".join(settings))
    asked = [
        f"- {node.question.get(lang)} → {_h(step.answer, lang)}"
        for step in diagnosis.path
        if step.how != "default" and (node := diagnosis.symptom.nodes[step.node]).question is not None
    ]
    if asked:
        lines += [f"{_h('answers', lang)}:", *asked]
    if diagnosis.leaf.checklist:
        lines += [f"{_h('tried', lang)}:", *(f"- {s.get(lang)}" for s in diagnosis.leaf.checklist)]
    probe = probe_lines(diagnosis, lang, full=True)
    if probe:
        lines += [f"{_h('probe', lang)}:", *probe]
    esc = diagnosis.leaf.escalation
    if esc is not None and esc.to in knowledge.targets and esc.to != "none":
        name, how = knowledge.targets[esc.to]
        lines.append(f"{_h('contact', lang)}: {name.get(lang)} — {how.get(lang)}")
    lines.append(_h("note", lang))
    return "\n".join(lines)
