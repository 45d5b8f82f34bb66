"""Turn a Diagnosis into what a person reads: a Reply in one language, then plain text.

A reply must fit on one phone screen: a heading, one or two sentences, at most five steps, the two most
important "do not"s, and one escalation line with what to have ready.
"""

from __future__ import annotations

from bot.knowledge import Knowledge
from bot.model import Diagnosis, Lang, Reply, Text

MAX_DONTS = 2
MAX_PREPARE = 4

_LABELS = {
    "checklist": Text("やること", "What to do"),
    "donts": Text("やってはいけないこと", "Do not"),
    "escalation": Text("連絡先", "Who to contact"),
    "prepare": Text("用意するもの", "Have ready"),
    "question": Text("確認させてください", "One question"),
    "confidence": Text("確からしさ", "confidence"),
    "probe": Text("サーバーの確認結果", "Server check"),
    "password": Text(
        "⚠ パスワードらしき文字列が含まれていたので伏せました。そのパスワードはすぐに変更し、元のメッセージは削除してください。",
        "⚠ Your message seemed to contain a password; it was hidden. Change that password now and delete the "
        "original message.",
    ),
    "unknown_title": Text("エラーを特定できませんでした", "Could not tell which error this is"),
}


def label(key: str, lang: Lang) -> str:
    return _LABELS[key].get(lang)


def _escalation_line(diagnosis: Diagnosis, knowledge: Knowledge, lang: Lang) -> tuple[str, tuple[str, ...]]:
    esc = diagnosis.leaf.escalation
    if esc is None:
        return "", ()
    name, how = knowledge.targets.get(esc.to, (Text(esc.to, esc.to), Text("", "")))
    line = f"{name.get(lang)}: {esc.when.get(lang)}"
    if esc.to != "none" and how.get(lang):
        line += f"（{how.get(lang)}）" if lang == "ja" else f" ({how.get(lang)})"
    prepare = (*esc.prepare, *knowledge.prepare)[:MAX_PREPARE] if esc.to != "none" else ()
    return line, tuple(p.get(lang) for p in prepare)


def to_reply(diagnosis: Diagnosis, knowledge: Knowledge, lang: Lang, warnings: tuple[str, ...] = ()) -> Reply:
    """The reply in one language; ``warnings`` come first (e.g. settings that differ from the provider's)."""
    symptom, leaf = diagnosis.symptom, diagnosis.leaf
    escalation, prepare = _escalation_line(diagnosis, knowledge, lang)
    question: str | None = None
    if diagnosis.clarifying is not None:
        question = diagnosis.clarifying.get(lang)
    elif diagnosis.question is not None and diagnosis.question.question is not None:
        question = diagnosis.question.question.get(lang)
    title = symptom.title.get(lang)
    if leaf.title is not None and symptom.id != "unknown":
        title = f"{title} — {leaf.title.get(lang)}"
    notes = (label("password", lang),) if diagnosis.password_pasted else ()
    probe_lines = _probe_lines(diagnosis, lang)
    return Reply(
        lang=lang,
        symptom=symptom.id,
        title=title,
        summary=symptom.summary.get(lang),
        checklist=tuple(step.get(lang) for step in leaf.checklist),
        donts=tuple(d.get(lang) for d in leaf.donts[:MAX_DONTS]),
        escalation=escalation,
        question=question,
        warnings=(*notes, *warnings),
        probe_lines=probe_lines,
        extra=prepare,
    )


def _probe_lines(diagnosis: Diagnosis, lang: Lang) -> tuple[str, ...]:
    if diagnosis.probe is None:
        return ()
    from bot.probe.report import probe_lines  # presentation of the probe lives beside the probe

    return tuple(probe_lines(diagnosis.probe, lang))


def to_text(reply: Reply, confidence: float | None = None) -> str:
    """Plain text for the console chat, the CLI and Slack's notification fallback."""
    lang = reply.lang
    head = f"■ {reply.title}"
    if confidence is not None and reply.symptom != "unknown":
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
    if reply.probe_lines:
        lines += ["", f"【{label('probe', lang)}】" if lang == "ja" else f"{label('probe', lang)}:"]
        lines += list(reply.probe_lines)
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
    probe = _probe_lines(diagnosis, lang)
    if probe:
        lines += [f"{_h('probe', lang)}:", *probe]
    lines.append(_h("note", lang))
    return "\n".join(lines)
