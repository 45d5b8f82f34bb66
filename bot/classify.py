"""Rank every symptom for a message, with a confidence and the evidence that matched.

Pure: the index is built once from the knowledge (patterns compiled, phrases normalised) and then used
for every message, so bulk triage does not pay for loading per line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.knowledge import Knowledge
from bot.model import SYMPTOM_IDS, Candidate, Entities, Lang, Match
from bot.text import clip, detect_lang, extract, normalise

# How quickly evidence saturates confidence: one verbatim error text (weight 3) gives ~0.86 on its own.
# Fitted on the tuning corpus so that answered messages' confidence matches their accuracy
# (benchmarks/core.py prints the calibration error on the held-out set too).
SATURATION = 1.5
# Below this confidence we ask instead of guessing (see knowledge/shared/questions.yml "clarifying"):
# about one everyday word's worth of evidence (weight 0.8) with no rival.
THRESHOLD = 0.4


@dataclass(frozen=True)
class _Rule:
    symptom: str
    kind: str
    label: str
    weight: float
    literal: str | None = None  # phrases and codes: a substring test
    pattern: str | None = None  # patterns: compiled on first use (re's cache), most never are per message
    needles: frozenset[str] | None = None  # one of these must be in the text for the pattern to match

    def search(self, norm: str) -> bool:
        if self.literal is not None:
            return self.literal in norm
        if self.needles is not None and not any(needle in norm for needle in self.needles):
            return False
        return self.pattern is not None and re.search(self.pattern, norm) is not None


@dataclass(frozen=True)
class Index:
    rules: tuple[_Rule, ...]
    codes: dict[str, tuple[_Rule, ...]]
    clients: tuple[tuple[str, re.Pattern[str]], ...]


def build_index(knowledge: Knowledge) -> Index:
    rules: list[_Rule] = []
    codes: dict[str, list[_Rule]] = {}
    for symptom in knowledge.symptoms.values():
        for ev in symptom.evidence:
            if ev.kind == "code":
                rule = _Rule(symptom.id, "code", ev.value, ev.weight, literal=_code_literal(ev.value))
                codes.setdefault(ev.value, []).append(rule)
            elif ev.kind == "pattern":
                rules.append(
                    _Rule(symptom.id, "pattern", ev.value, ev.weight, pattern=ev.value, needles=ev.needles)
                )
            else:
                rules.append(_Rule(symptom.id, "phrase", ev.value, ev.weight, literal=ev.value))
    clients = tuple((c.id, p) for c in knowledge.clients for p in c.patterns)
    return Index(tuple(rules), {k: tuple(v) for k, v in codes.items()}, clients)


def _code_literal(code: str) -> str:
    """Codes like ``-ERR [IN-USE]`` are also searched as text (lower case, as normalised)."""
    return normalise(code)


def _score(index: Index, norm: str, entities: Entities) -> dict[str, list[tuple[float, str]]]:
    hits: dict[str, list[tuple[float, str]]] = {}
    found_codes = set(entities.codes)
    for code, rules in index.codes.items():
        for rule in rules:
            if code in found_codes or (rule.literal and rule.literal in norm):
                hits.setdefault(rule.symptom, []).append((rule.weight, f"code {rule.label}"))
    for rule in index.rules:
        if rule.search(norm):
            hits.setdefault(rule.symptom, []).append((rule.weight, f"{rule.kind} {rule.label!r}"))
    return hits


def _confidence(raw: float, rival: float) -> float:
    """Grows with the evidence and shrinks when another symptom has nearly as much."""
    if raw <= 0:
        return 0.0
    return round((1 - math.exp(-raw / SATURATION)) * raw / (raw + rival), 3)


def rank(index: Index, text: str, lang: Lang | None = None) -> Match:
    """Every symptom that matched, best first; ``unknown`` alone when nothing did."""
    norm = normalise(clip(text))
    entities = extract(norm, index.clients)
    hits = _score(index, norm, entities)
    totals = {s: sum(w for w, _ in found) for s, found in hits.items()}
    order = {s: i for i, s in enumerate(SYMPTOM_IDS)}
    ranked = sorted(totals, key=lambda s: (-totals[s], -max(w for w, _ in hits[s]), order.get(s, 99)))
    candidates = []
    for symptom in ranked:
        rival = max((totals[o] for o in ranked if o != symptom), default=0.0)
        evidence = tuple(label for _, label in sorted(hits[symptom], key=lambda h: -h[0]))
        candidates.append(Candidate(symptom, _confidence(totals[symptom], rival), evidence))
    if not candidates or candidates[0].score < THRESHOLD:
        top = candidates[0].score if candidates else 0.0
        candidates.insert(0, Candidate("unknown", round(1 - top, 3), ()))
    return Match(lang or detect_lang(text), entities, tuple(candidates), norm)
