"""Block Kit, button state and Slack markup, checked against every leaf of every tree in knowledge/."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from bot.knowledge import load
from bot.model import SYMPTOM_IDS, Symptom
from bot.slack import blocks as bk
from bot.slack.app import parse_command
from bot.slack.mrkdwn import escape, plain
from bot.slack.runtime import Cases, Dedupe, Workers
from bot.slack.state import MAX_VALUE, BadState, CaseState
from bot.triage import Triage

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = Triage(load(ROOT / "knowledge"))


def _paths(symptom: Symptom) -> list[dict[str, str]]:
    """One set of answers per leaf: every yes/no combination through the tree."""
    found: list[dict[str, str]] = []

    def walk(node_id: str, answers: dict[str, str]) -> None:
        node = symptom.nodes[node_id]
        if node.is_leaf:
            found.append(answers)
            return
        for answer, target in (("yes", node.yes), ("no", node.no)):
            walk(str(target), {**answers, node_id: answer})

    walk(symptom.start, {})
    return found


CASES = [
    (sid, lang, answers)
    for sid in SYMPTOM_IDS
    for lang in ("ja", "en")
    for answers in _paths(TRIAGE.knowledge.symptoms[sid])
]


@pytest.mark.parametrize(("symptom", "lang", "answers"), CASES,
                         ids=[f"{s}-{lang}-{'/'.join(f'{k}={v}' for k, v in a.items()) or 'leaf'}" for s, lang, a in CASES])  # fmt: skip
def test_every_leaf_renders_within_block_kit_limits(symptom: str, lang: str, answers: dict[str, str]) -> None:
    """Each leaf, in both languages, fits Slack's limits and carries state buttons that decode to the same case."""
    outcome = TRIAGE.handle("メールが受信できません", lang=lang, answers=answers, symptom_id=symptom)  # type: ignore[arg-type]
    state = CaseState(123, symptom, outcome.reply.lang, tuple(answers.items()))
    question = outcome.diagnosis.question
    built = bk.reply_blocks(outcome.reply, state=state, question_node=question.id if question else None,
                            confidence=outcome.diagnosis.confidence, can_probe=True, quote="x" * 5000)  # fmt: skip
    assert len(built) <= 50
    assert len(json.dumps(built)) < 40_000
    header = next(b for b in built if b["type"] == "header")
    assert 0 < len(header["text"]["text"]) <= bk.HEADER_MAX
    for block in built:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= bk.SECTION_MAX
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert (
                    len(element["value"]) <= MAX_VALUE and len(element["text"]["text"]) <= bk.BUTTON_TEXT_MAX
                )
                assert CaseState.decode(element["value"]).case == 123
            else:
                assert len(element["text"]) <= bk.CONTEXT_MAX
    assert (bk.YES in json.dumps(built)) == (question is not None and symptom != "unknown")


def test_state_round_trips_with_odd_node_ids() -> None:
    """Node ids with separators survive the trip through a button value."""
    state = CaseState(7, "auth_failed", "en", (("a|b", "yes"), ("c,d=e", "no"), ("日本語", "yes")))
    assert CaseState.decode(state.encode()) == state
    assert state.with_answer("a|b", "no").answer_map == {"a|b": "no", "c,d=e": "no", "日本語": "yes"}


BAD_VALUES = {
    "empty": "",
    "other version": "2|1|auth_failed|ja|",
    "unknown symptom": "1|1|nope|ja|",
    "unknown language": "1|1|auth_failed|fr|",
    "case not a number": "1|x|auth_failed|ja|",
    "bad answer": "1|1|auth_failed|ja|node=maybe",
    "too few fields": "1|1|auth_failed",
}


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_malformed_button_values_are_refused(value: str) -> None:
    """A value this version did not write is BadState, never a crash further in."""
    with pytest.raises(BadState):
        CaseState.decode(value)


def test_a_deep_state_still_fits_a_button() -> None:
    """Even absurdly many answers stay under Slack's 2000-character value limit."""
    state = CaseState(1, "timeout", "ja", tuple((f"node_{i:04d}_" + "x" * 30, "yes") for i in range(100)))
    assert len(state.encode()) <= MAX_VALUE


MARKUP = {
    "mention": ("<@U123ABC> IMAP error", "IMAP error"),
    "link with label": (
        "server <http://imap.example.com|imap.example.com> failed",
        "server imap.example.com failed",
    ),
    "mailto": ("<mailto:taro@example.jp|taro@example.jp> cannot log in", "taro@example.jp cannot log in"),
    "bare link": ("see <https://example.jp/help>", "see https://example.jp/help"),
    "entities": ("port &lt;993&gt; &amp; SSL", "port <993> & SSL"),
    "channel": ("<#C123|mail> help", "help"),
}


@pytest.mark.parametrize(("raw", "expected"), MARKUP.values(), ids=MARKUP.keys())
def test_slack_markup_becomes_what_the_person_typed(raw: str, expected: str) -> None:
    """The core sees the text the person saw, not Slack's link markup."""
    assert plain(raw) == expected


def test_escape_keeps_user_text_literal() -> None:
    """A pasted '<b>&' is shown as written, not read as a link or entity."""
    assert escape("<b> & <@U1>") == "&lt;b&gt; &amp; &lt;@U1&gt;"
    assert plain(escape("<b> & x")) == "<b> & x"


def test_quote_block_recovers_the_text_after_a_restart() -> None:
    """The quoted (redacted) text is what a new process diagnoses from when its memory is empty."""
    outcome = TRIAGE.handle("The user name or password for <imap.example.com> & co is incorrect.")
    built = bk.reply_blocks(outcome.reply, state=CaseState(1, "auth_failed", "en"), question_node=None,
                            quote=outcome.text)  # fmt: skip
    assert plain(bk.quoted_text(built) or "") == outcome.text


def test_closed_message_keeps_the_diagnosis_and_drops_the_buttons() -> None:
    """After Solved / Still stuck nothing on the message can be pressed again."""
    outcome = TRIAGE.handle('IMAPアカウント"会社"のパスワードが正しくありません')
    question = outcome.diagnosis.question
    built = bk.reply_blocks(outcome.reply, state=CaseState(1, "auth_failed", "ja"),
                            question_node=question.id if question else None)  # fmt: skip
    closed = bk.closed_blocks(built, "✅ done")
    assert not [b for b in closed if b["type"] == "actions"]
    assert closed[0] == built[0] and "done" in json.dumps(closed, ensure_ascii=False)


COMMANDS = {
    "bare": ("", "help", "", False, None),
    "help": ("help", "help", "", False, None),
    "ヘルプ": ("ヘルプ", "help", "", False, None),
    "probe": ("probe mail.example.jp", "probe", "mail.example.jp", False, None),
    "probe shared english": ("--share --en probe mail.example.jp", "probe", "mail.example.jp", True, "en"),
    "settings": ("設定 taro@example.co.jp", "settings", "taro@example.co.jp", False, None),
    "diagnose": ("Cannot Get Mail --share", "diagnose", "Cannot Get Mail", True, None),
    "diagnose keeps lines": ("エラー\n0x800CCC0E", "diagnose", "エラー\n0x800CCC0E", False, None),
}


@pytest.mark.parametrize(("text", "verb", "arg", "share", "lang"), COMMANDS.values(), ids=COMMANDS.keys())
def test_slash_command_text_is_parsed(text: str, verb: str, arg: str, share: bool, lang: str | None) -> None:
    """/mailcheck [--share] [--en|--ja] [help | probe HOST | settings ADDRESS | error text]."""
    parsed = parse_command(text)
    assert (parsed.verb, parsed.arg, parsed.share, parsed.lang) == (verb, arg, share, lang)


def test_dedupe_remembers_then_forgets() -> None:
    """A key is new once; it is forgotten after its time and when the memory is full."""
    dedupe = Dedupe(ttl=3600, size=2)
    assert dedupe.first_time("a") and not dedupe.first_time("a")
    dedupe.first_time("b")
    dedupe.first_time("c")  # pushes "a" out
    assert dedupe.first_time("a")
    expired = Dedupe(ttl=0.0)
    expired.first_time("x")
    assert expired.first_time("x")


def test_full_pool_turns_work_away_instead_of_queueing_forever() -> None:
    """With every worker busy and the queue full, submit says False and runs nothing."""
    workers = Workers(fast=1, slow=1, queue=0)
    release, started = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    try:
        assert workers.submit("fast", block)
        assert started.wait(10)
        assert not workers.submit("fast", block)
        assert workers.submit("slow", lambda: None)  # the other pool is unaffected
    finally:
        release.set()
        workers.shutdown(wait=True)


def test_cases_keep_the_newest() -> None:
    """Open cases are bounded; the oldest goes first."""
    from bot.slack.runtime import Case

    cases = Cases(size=2, first_id=1)
    ids = [cases.new_id() for _ in range(3)]
    for case_id in ids:
        cases.put(case_id, Case(f"text {case_id}", "ja", "dm"))
    assert cases.get(ids[0]) is None and cases.get(ids[2]) is not None
