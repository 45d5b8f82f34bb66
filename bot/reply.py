"""Build a Reply in one language from a Diagnosis: pure selection of the knowledge's texts.

A reply must fit on one phone screen: a heading, one or two sentences, at most five steps, the two most
important "do not"s, and one escalation line with what to have ready. Formatting (plain text, Block Kit)
is the presentation layer's job (``render.py``, ``slack/blocks.py``).
"""

from __future__ import annotations

import re

from bot.knowledge import Knowledge
from bot.model import Diagnosis, Lang, Reply, Text

MAX_DONTS = 2
MAX_PREPARE = 3

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
    """Whom to contact and when, plus what to have ready: the leaf's own items first. How to reach the
    target and the full list go into the hand-off memo, which has room for them."""
    esc = diagnosis.leaf.escalation
    if esc is None:
        return "", ()
    name, _how = knowledge.targets.get(esc.to, (Text(esc.to, esc.to), Text("", "")))
    line = f"{name.get(lang)}: {esc.when.get(lang)}"
    prepare = (*esc.prepare, *knowledge.prepare)[:MAX_PREPARE] if esc.to != "none" else ()
    return line, tuple(p.get(lang) for p in prepare)


_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+(?=[A-Z])")


def first_sentence(text: str) -> str:
    """Replies show the summary's first sentence; the rest stays in the knowledge for staff."""
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip()


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
    return Reply(
        lang=lang,
        symptom=symptom.id,
        title=title,
        summary=first_sentence(symptom.summary.get(lang)),
        checklist=tuple(step.get(lang) for step in leaf.checklist),
        donts=tuple(d.get(lang) for d in leaf.donts[:MAX_DONTS]),
        escalation=escalation,
        question=question,
        warnings=(*notes, *warnings),
        extra=prepare,
    )
