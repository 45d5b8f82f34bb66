"""Handle one message: the single pipeline behind Slack, the console chat and the CLI.

redact -> classify -> (probe) -> diagnose -> render. The edges differ only in how text arrives and how
the reply leaves; they never re-implement a step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.classify import Index, build_index, rank
from bot.diagnose import diagnose
from bot.knowledge import Knowledge
from bot.model import Diagnosis, Lang, Match, ProbeReport, Redaction, Reply, Text
from bot.redact import MASK, redact
from bot.reply import to_reply
from bot.text import clip, detect_lang

ProbeFn = Callable[[str], ProbeReport]


@dataclass(frozen=True)
class Outcome:
    diagnosis: Diagnosis
    reply: Reply
    redaction: Redaction

    @property
    def text(self) -> str:
        """The message as it may be stored or quoted: secrets already masked."""
        return self.redaction.text

    def as_json(self) -> dict[str, object]:
        """The public `--json` contract (documented in README)."""
        d, r = self.diagnosis, self.reply
        match = d.match
        reply: dict[str, object] = {
            "title": r.title,
            "summary": r.summary,
            "checklist": list(r.checklist),
            "donts": list(r.donts),
            "escalation": {
                "to": d.leaf.escalation.to if d.leaf.escalation else "none",
                "text": r.escalation,
                "prepare": list(r.extra),
            },
        }
        if r.question:
            reply["question"] = r.question
        if r.warnings:
            reply["warnings"] = list(r.warnings)
        result: dict[str, object] = {
            "symptom": d.symptom.id,
            "confidence": d.confidence,
            "candidates": [{"symptom": c.symptom, "score": c.score} for c in match.candidates],
            "evidence": list(match.best.evidence),
            "lang": r.lang,
            "client": match.entities.client,
            "protocol": match.entities.protocol,
            "entities": match.entities.as_dict(),
            "password_pasted": self.redaction.password_pasted,
            "path": [{"node": s.node, "answer": s.answer, "how": s.how} for s in d.path],
            "leaf": d.leaf.id,
            "reply": reply,
        }
        if d.probe is not None:
            from bot.probe.report import probe_json

            result["probe"] = probe_json(d.probe)
        return result


def probe_target(match: Match) -> str | None:
    """The host worth probing: a named server first, else the domain of an address."""
    if match.entities.hosts:
        return match.entities.hosts[0]
    if match.entities.addresses:
        return match.entities.addresses[0].split("@", 1)[1]
    return None


class Triage:
    """Built once per process (knowledge loaded, rules compiled), then called per message."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.index: Index = build_index(knowledge)

    def classify(self, text: str, lang: Lang | None = None) -> tuple[Match, Redaction]:
        # An error message is short: past MAX_CHARS only the head and tail are kept (and stored).
        redaction = redact(clip(text))
        # The mask is bilingual; the language is the writer's, so it is read without the mask.
        lang = lang or detect_lang(redaction.text.replace(MASK, " "))
        return rank(self.index, redaction.text, lang), redaction

    def handle(
        self,
        text: str,
        *,
        lang: Lang | None = None,
        answers: Mapping[str, str] | None = None,
        symptom_id: str | None = None,
        probe: ProbeFn | None = None,
    ) -> Outcome:
        match, redaction = self.classify(text, lang)
        report = None
        if probe is not None and (target := probe_target(match)) is not None:
            report = probe(target)
        diagnosis = diagnose(
            self.knowledge,
            match,
            symptom_id=symptom_id,
            answers=answers,
            probe=report,
            password_pasted=redaction.password_pasted,
        )
        reply = to_reply(diagnosis, self.knowledge, match.lang, settings_advice(self.knowledge, match))
        return Outcome(diagnosis, reply, redaction)


USERNAME_WORDS = {
    "address": Text("メールアドレス全体", "the full address"),
    "localpart": Text("@より前の部分", "the part before @"),
    "id": Text("通知書に書かれたID", "the ID on your settings sheet"),
}
# Symptoms where the values typed into the mail app are the usual culprit.
SETTINGS_SYMPTOMS = {
    "account_setup",
    "auth_failed",
    "cannot_connect",
    "timeout",
    "tls_mismatch",
    "dns_not_found",
}


def settings_advice(knowledge: Knowledge, match: Match) -> tuple[str, ...]:
    """Lines comparing what the person typed with the provider's published settings (knowledge only, no
    network): the classic SSL/port and address/ID mix-ups first, then the recommended server."""
    from bot.providers import AddressError, Typed, compare, settings_offline, typed_from_entities

    typed = typed_from_entities(match.entities)
    lang = match.lang
    answer = None
    if match.entities.addresses:
        try:
            answer = settings_offline(match.entities.addresses[0], list(knowledge.providers))
        except AddressError:
            answer = None
    if answer is None:
        if typed == Typed():
            return ()
        from bot.providers import classic_mismatches

        return tuple(m.message.get(lang) for m in classic_mismatches(typed))
    found = sorted(compare(answer, typed), key=lambda m: not m.classic)
    lines = [m.message.get(lang) for m in found]
    if answer.provider is not None and answer.incoming and match.best.symptom in SETTINGS_SYMPTOMS:
        best = answer.incoming[0]
        login = best.login or USERNAME_WORDS[best.username].get(lang)
        head = "推奨設定" if lang == "ja" else "Recommended"
        user = "ユーザー名" if lang == "ja" else "user name"
        lines.append(f"{head} ({answer.provider.name.get(lang)}): {best.protocol.upper()} {best.host} "
                     f"{best.port} {best.security.upper()}, {user}: {login}")  # fmt: skip
    return tuple(lines)
