"""Walk a symptom's decision tree into a Diagnosis.

Each question is answered, in this order, by the person (buttons / numbered choices), by what the
message already shows (``auto_yes`` / ``auto_no``), or by the tree's ``default``. The first question
answered by default is the one worth asking next: the reply offers it so the person can refine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.knowledge import Knowledge
from bot.model import Diagnosis, Entities, Match, Node, ProbeReport, Step, Symptom

Answers = Mapping[str, str]  # node id -> "yes" | "no", as given by the person


def _holds(condition: tuple[str, str], entities: Entities, norm: str) -> bool:
    key, expected = condition
    if key == "protocol":
        return entities.protocol == expected
    if key == "client":
        return entities.client == expected
    if key == "ssl":
        return entities.ssl is not None and entities.ssl == (expected in ("on", "true", "yes"))
    if key == "port":
        return expected.isdigit() and int(expected) in entities.ports
    if key == "has_host":
        return bool(entities.hosts) == (expected == "true")
    if key == "has_address":
        return bool(entities.addresses) == (expected == "true")
    if key == "text":
        return re.search(expected, norm) is not None
    return False


def _auto_answer(node: Node, entities: Entities, norm: str) -> str | None:
    if node.auto_yes and all(_holds(c, entities, norm) for c in node.auto_yes):
        return "yes"
    if node.auto_no and all(_holds(c, entities, norm) for c in node.auto_no):
        return "no"
    return None


def walk(
    symptom: Symptom, match: Match, answers: Answers | None = None
) -> tuple[tuple[Step, ...], Node, Node | None]:
    """The path from the tree's start to a leaf, the leaf, and the first question left to the default."""
    answers = answers or {}
    node = symptom.nodes[symptom.start]
    path: list[Step] = []
    pending: Node | None = None
    seen: set[str] = set()
    while not node.is_leaf and node.id not in seen:  # the validator forbids cycles; never loop regardless
        seen.add(node.id)
        given = answers.get(node.id)
        if given in ("yes", "no"):
            answer, how = given, "user"
        elif (auto := _auto_answer(node, match.entities, match.normalised)) is not None:
            answer, how = auto, "auto"
        else:
            answer, how = node.default, "default"
            pending = pending or node
        path.append(Step(node.id, answer, how))  # type: ignore[arg-type]
        next_id = node.yes if answer == "yes" else node.no
        node = symptom.nodes[next_id or ""]
    return tuple(path), node, pending


def diagnose(
    knowledge: Knowledge,
    match: Match,
    *,
    symptom_id: str | None = None,
    answers: Answers | None = None,
    probe: ProbeReport | None = None,
    password_pasted: bool = False,
) -> Diagnosis:
    """Diagnose a ranked message. ``symptom_id`` overrides the ranking (a button press names it)."""
    chosen = symptom_id or _with_probe(match, probe)
    symptom = knowledge.symptoms.get(chosen) or knowledge.symptoms["unknown"]
    path, leaf, pending = walk(symptom, match, answers)
    confidence = next((c.score for c in match.candidates if c.symptom == symptom.id), 0.0)
    clarifying = knowledge.questions.get("clarifying") if symptom.id == "unknown" else None
    return Diagnosis(
        symptom=symptom,
        match=match,
        confidence=confidence,
        path=path,
        leaf=leaf,
        question=pending,
        clarifying=clarifying,
        probe=probe,
        password_pasted=password_pasted,
    )


def _with_probe(match: Match, probe: ProbeReport | None) -> str:
    """A server-side error found by the probe outranks a vague message: it is evidence, not a guess."""
    best = match.best.symptom
    if probe is None or probe.refused is not None:  # a probe that never connected found nothing
        return best
    errors = [f.symptom for f in probe.findings if f.severity == "error" and f.symptom != "unknown"]
    if not errors:
        return best
    if best == "unknown" or best in ("cannot_connect", "timeout", "server_outage"):
        return errors[0]
    return best
