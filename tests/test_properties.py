"""Property-based: any text at all goes through the whole pipeline without an exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.knowledge import load
from bot.model import SYMPTOM_IDS
from bot.redact import _NOT_SECRETS as NOT_SECRETS
from bot.redact import MASK, redact
from bot.render import to_text
from bot.triage import Triage

TRIAGE = Triage(load(Path(__file__).resolve().parent.parent / "knowledge"))

PIECES = ["サーバー", "0x800CCC0E", "パスワード", "[", "]", "imap.", "@", ":", "993", "\n", "「", "ー"]
pasted = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(categories=["Lo", "Nd", "Po", "Zs", "Cc", "So"]), max_size=300),
    st.lists(
        st.sampled_from(
            ["サーバー", "0x800CCC0E", "パスワード", "[", "]", "imap.", "@", ":", "993", "\n", "「", "ー"]
        ),
        max_size=40,
    ).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pasted)
def test_any_text_gives_a_reply(text: str) -> None:
    """Every input yields a known symptom, a confidence in [0, 1] and printable text and JSON."""
    outcome = TRIAGE.handle(text)
    assert outcome.diagnosis.symptom.id in SYMPTOM_IDS
    assert 0.0 <= outcome.diagnosis.confidence <= 1.0
    assert to_text(outcome)
    assert outcome.as_json()["symptom"] == outcome.diagnosis.symptom.id


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=30).filter(
        lambda s: s.lower().strip("\"'") not in NOT_SECRETS
    )
)
def test_separated_password_never_survives(secret: str) -> None:
    """Whatever the password is, after 'password:' it is masked."""
    result = redact(f"password: {secret}")
    assert MASK in result.text
    assert f"password: {secret}" not in result.text
