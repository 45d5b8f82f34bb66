"""Every symptom file is a test case: its tree reaches every leaf, its own words are recognised, and every
reply it can give fits on a phone screen in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge import load
from bot.model import LANGS, Symptom
from bot.render import handoff, to_text
from bot.triage import Triage

TRIAGE = Triage(load(Path(__file__).resolve().parent.parent / "knowledge"))
SYMPTOMS = sorted(TRIAGE.knowledge.symptoms.values(), key=lambda s: s.id)
# One phone screen in Slack: about 22 Japanese or 45 Latin characters a line, ~35 lines.
MAX_CHARS = {"ja": 800, "en": 1400}
MAX_LINES = 18
KANA = re.compile(r"[\u3040-\u30ff]")
LATIN = re.compile(r"[A-Za-z]")


def paths(symptom: Symptom) -> Iterator[dict[str, str]]:
    """Every answer sequence from the start to a leaf."""

    def walk(node_id: str, answers: dict[str, str]) -> Iterator[dict[str, str]]:
        node = symptom.nodes[node_id]
        if node.is_leaf:
            yield answers
            return
        for answer, target in (("yes", node.yes), ("no", node.no)):
            yield from walk(target or "", {**answers, node.id: answer})

    yield from walk(symptom.start, {})


@pytest.mark.parametrize("symptom", SYMPTOMS, ids=[s.id for s in SYMPTOMS])
def test_every_leaf_is_reached_by_some_answers(symptom: Symptom) -> None:
    """Pressing the buttons can lead to each leaf of the tree."""
    leaves = {n.id for n in symptom.nodes.values() if n.is_leaf}
    reached = {TRIAGE.handle("x", symptom_id=symptom.id, answers=a).diagnosis.leaf.id for a in paths(symptom)}
    assert reached == leaves


@pytest.mark.parametrize("symptom", SYMPTOMS, ids=[s.id for s in SYMPTOMS])
def test_every_reply_fits_on_a_phone_screen(symptom: Symptom) -> None:
    """Each leaf's reply, in Japanese and English, stays within one screen."""
    too_long = []
    for answers in paths(symptom):
        for lang in LANGS:
            outcome = TRIAGE.handle("x", lang=lang, symptom_id=symptom.id, answers=answers)
            text = to_text(outcome)
            if len(text) > MAX_CHARS[lang] or text.count("\n") + 1 > MAX_LINES:
                too_long.append(
                    f"{outcome.diagnosis.leaf.id} ({lang}): {len(text)} chars, {text.count(chr(10)) + 1} lines"
                )
    assert not too_long


@pytest.mark.parametrize("symptom", SYMPTOMS, ids=[s.id for s in SYMPTOMS])
def test_texts_are_in_their_language(symptom: Symptom) -> None:
    """Japanese fields read as Japanese; English fields are mostly Latin (they may quote a Japanese
    screen text), so a swapped ja/en pair is caught."""
    texts = [symptom.title, symptom.summary]
    for node in symptom.nodes.values():
        texts += [t for t in (node.question, node.title) if t is not None]
        texts += [*node.checklist, *node.donts]
        if node.escalation is not None:
            texts += [node.escalation.when, *node.escalation.prepare]
    assert all(KANA.search(t.ja) for t in texts), [t.ja for t in texts if not KANA.search(t.ja)]
    assert not [t.en for t in texts if len(KANA.findall(t.en)) > len(LATIN.findall(t.en)) / 3]


@pytest.mark.parametrize("symptom", [s for s in SYMPTOMS if s.id != "unknown"], ids=lambda s: s.id)
def test_own_codes_and_strong_phrases_are_recognised(symptom: Symptom) -> None:
    """Each error code, and each phrase weighted 2 or more, names its symptom among the candidates when
    pasted on its own."""
    missed = []
    for ev in symptom.evidence:
        if ev.kind == "pattern" or (ev.kind == "phrase" and ev.weight < 2):
            continue
        candidates = [c.symptom for c in TRIAGE.handle(ev.value).diagnosis.match.candidates]
        if symptom.id not in candidates:
            missed.append(ev.value)
    assert not missed


@pytest.mark.parametrize("symptom", SYMPTOMS, ids=[s.id for s in SYMPTOMS])
def test_handoff_is_complete_and_secret_free(symptom: Symptom) -> None:
    """The 'still stuck' memo names the problem and the exact error, and never the pasted password."""
    outcome = TRIAGE.handle("エラー 0x800CCC0E パスワードは Zx9secret です", symptom_id=symptom.id)
    memo = handoff(outcome.diagnosis, TRIAGE.knowledge, outcome.text, "ja")
    assert symptom.title.ja in memo and "0x800CCC0E" in memo
    assert "Zx9secret" not in memo
