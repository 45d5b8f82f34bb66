"""The regex prefilter never skips a pattern that would have matched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.classify import build_index
from bot.knowledge import load
from bot.prefilter import required_literals
from bot.text import normalise
from tests.test_corpus import load_corpus, load_heldout

CASES = [
    (r"ユザ名 .{0,80}でのサバ .{0,80}へのログインに失敗", {"へのログインに失敗"}),
    (r"(添付|attachment).{0,15}(大きい|large)", {"大きい", "large"}),
    (r"x(?:abc)+y", {"abc"}),
    (r"(a|b)?cde", {"cde"}),
    (r"(abc|)de", {"de"}),  # the empty branch proves nothing, but "de" is always there
    (r"x(abc|)y", None),  # nothing longer than one character is certain
    (r"(?i:socket) error", {" error"}),
    (r"\d+", None),
    (r"[a-z]{2,}", None),
]


@pytest.mark.parametrize(("pattern", "expected"), CASES, ids=[c[0] for c in CASES])
def test_required_literals(pattern: str, expected: set[str] | None) -> None:
    """The literal set is what every match must contain, or None when nothing can be proven."""
    found = required_literals(re.compile(pattern))
    assert (set(found) if found is not None else None) == expected


def test_case_insensitive_patterns_are_never_prefiltered() -> None:
    """A pattern compiled to ignore case could match text the literals would reject."""
    assert required_literals(re.compile("error", re.IGNORECASE)) is None


INDEX = build_index(load(Path(__file__).resolve().parent.parent / "knowledge"))
PATTERNS = [rule for rule in INDEX.rules if rule.pattern is not None and rule.needles is not None]


def _consistent(norm: str) -> list[str]:
    return [
        rule.label
        for rule in PATTERNS
        if rule.pattern is not None
        and rule.needles is not None
        and re.search(rule.pattern, norm)
        and not any(n in norm for n in rule.needles)
    ]


def test_no_false_skip_on_real_messages() -> None:
    """On every corpus and held-out message, a pattern that matches always has one of its literals present."""
    assert len(PATTERNS) > 100
    wrong = [
        (r["where"], label)
        for r in load_corpus() + load_heldout()
        for label in _consistent(normalise(r["text"]))
    ]
    assert not wrong


@given(
    st.lists(
        st.sampled_from([n for rule in PATTERNS for n in sorted(rule.needles or ())] + list("ab 0.:%")),
        max_size=12,
    )
)
def test_no_false_skip_on_generated_text(pieces: list[str]) -> None:
    """Text stitched from the literals themselves never fools the prefilter."""
    assert not _consistent(normalise("".join(pieces)))
