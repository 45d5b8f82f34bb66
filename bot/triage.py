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
from bot.model import Diagnosis, Lang, Match, ProbeReport, Redaction, Reply
from bot.redact import redact
from bot.reply import to_reply
from bot.text import clip

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
        reply = to_reply(diagnosis, self.knowledge, match.lang)
        return Outcome(diagnosis, reply, redaction)
