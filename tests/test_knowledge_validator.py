"""The validator reports every kind of mistake with the file and line where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, inspect, load
from tests.knowledge_factory import line_of, write_minimal_knowledge


@pytest.fixture
def kdir(tmp_path: Path) -> Path:
    return write_minimal_knowledge(tmp_path / "knowledge")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(kdir: Path) -> list[str]:
    _, problems = inspect(kdir)
    return [str(p) for p in problems]


def test_minimal_folder_is_valid(kdir: Path) -> None:
    """The factory's folder loads with no problem (the base every other test breaks)."""
    knowledge = load(kdir)
    assert set(knowledge.symptoms) >= {"auth_failed", "unknown"}
    assert knowledge.symptoms["auth_failed"].nodes["q1"].auto_yes == (("protocol", "pop3"),)


CASES = [
    ("unknown node", "    yes: leaf_yes", "    yes: leaf_nowhere", "yes: leaf_nowhere",
     "goes to unknown node 'leaf_nowhere'"),
    ("unreachable node", "    no: leaf_no", "    no: leaf_yes", "  leaf_no:", "'leaf_no': unreachable"),
    ("missing english", "      en: Is it a question?\n", "", "question:", "missing English text (en)"),
    ("missing japanese", "- ja: 手順一\n        en: Step one", "- en: Step one", "- en: Step one",
     "missing Japanese text (ja)"),
    ("invalid regex", "'auth_failed-pat+ern'", "'auth_(failed'", "auth_(failed", "invalid regular expression"),
    ("duplicate key", "  leaf_no:\n", "  leaf_yes: # again\n    title: {ja: x, en: y}\n  leaf_no:\n", "# again",
     "duplicate key 'leaf_yes'"),
    ("unknown field", "probe_checks: [dns, tcp]", "probe_checks: [dns, tcp]\ncolour: red", "colour: red",
     "unknown field 'colour'"),
    ("bad escalation target", "      to: isp", "      to: police", "to: police", "'police' is not one of"),
    ("bad probe check", "probe_checks: [dns, tcp]", "probe_checks: [dns, ping]", "probe_checks", "unknown check 'ping'"),
    ("bad auto entity", "auto_yes: {protocol: pop3}", "auto_yes: {colour: red}", "auto_yes", "unknown entity 'colour'"),
    ("bad weight", "    - auth_failed-phrase", "    - {text: x, weight: -1}", "weight: -1", "weight must be a number"),
    ("yaml syntax", "  q1:\n", "  q1:\n   - [unclosed\n", "[unclosed", "that starts on line"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mistake_reported_with_file_and_line(
    kdir: Path, old: str, new: str, needle: str, message: str
) -> None:
    """Each kind of mistake names auth_failed.yml and the line the mistake is on."""
    path = kdir / "symptoms" / "auth_failed.yml"
    _edit(path, old, new)
    problems = _problems(kdir)
    expected_line = line_of(path, needle)
    hits = [p for p in problems if message in p]
    assert hits, problems
    # A syntax error is noticed on the line after it starts; the message then names the start line.
    places = (f"auth_failed.yml:{expected_line}:", f"auth_failed.yml:{expected_line + 1}: YAML syntax")
    assert any(p.startswith(f"knowledge/symptoms/{place}") for p in hits for place in places), (
        hits,
        expected_line,
    )
    assert all(f"line {expected_line}" in p for p in hits if "YAML syntax" in p)


def test_cycle_is_reported(kdir: Path) -> None:
    """A question that leads back to itself is a cycle, reported on the node that closes it."""
    path = kdir / "symptoms" / "timeout.yml"
    _edit(path, "  leaf_no:\n    title:", "  q2:\n    question: {ja: 二つ目？, en: Second?}\n    yes: q1\n    no: leaf_no\n"
          "  leaf_no:\n    title:")  # fmt: skip
    _edit(path, "    no: leaf_no\n  leaf_yes", "    no: q2\n  leaf_yes")
    problems = _problems(kdir)
    line = line_of(path, "  q2:")
    assert f"knowledge/symptoms/timeout.yml:{line}: node 'q2': cycle q1 -> q2 -> q1" in problems, problems


def test_more_than_five_steps_is_reported(kdir: Path) -> None:
    """A checklist longer than a phone screen (5 steps) is a mistake."""
    path = kdir / "symptoms" / "mailbox_full.yml"
    steps = "".join(f"      - ja: 手順{i}\n        en: Step {i}\n" for i in range(6))
    _edit(path, "      - ja: 手順一\n        en: Step one\n", steps)
    problems = _problems(kdir)
    assert any("mailbox_full.yml" in p and "6 steps; at most 5" in p for p in problems), problems


def test_duplicate_symptom_id_and_name_mismatch(kdir: Path) -> None:
    """A file whose id is another symptom's is reported as a duplicate and as a wrong name."""
    path = kdir / "symptoms" / "timeout.yml"
    _edit(path, "id: timeout", "id: auth_failed")
    problems = _problems(kdir)
    assert any("timeout.yml" in p and "duplicate symptom id 'auth_failed'" in p for p in problems), problems
    assert (
        "knowledge/symptoms/timeout.yml:1: id: 'auth_failed' does not match the file name 'timeout.yml'"
        in problems
    )


def test_missing_symptom_file(kdir: Path) -> None:
    """Every fixed symptom id must have its file."""
    (kdir / "symptoms" / "server_outage.yml").unlink()
    assert any("symptom 'server_outage' missing" in p for p in _problems(kdir))


def test_not_utf8_is_reported(kdir: Path) -> None:
    """A file saved in Shift_JIS gets a plain explanation, not a crash."""
    (kdir / "symptoms" / "timeout.yml").write_bytes("id: timeout\ntitle: タイムアウト\n".encode("shift_jis"))
    assert any("timeout.yml:1: not UTF-8" in p for p in _problems(kdir))


def test_client_regex_mistake(kdir: Path) -> None:
    """Client patterns are validated too, with their line."""
    path = kdir / "shared" / "clients.yml"
    _edit(path, "['outlook']", "['out(look']")
    line = line_of(path, "out(look")
    assert any(
        p.startswith(f"knowledge/shared/clients.yml:{line}:") and "invalid regular" in p
        for p in _problems(kdir)
    )


def test_load_raises_with_every_problem(kdir: Path) -> None:
    """load() refuses a broken folder and the exception lists all problems, sorted."""
    _edit(kdir / "symptoms" / "auth_failed.yml", "    yes: leaf_yes", "    yes: nowhere")
    _edit(kdir / "symptoms" / "timeout.yml", "      to: isp", "      to: police")
    with pytest.raises(KnowledgeError) as info:
        load(kdir)
    text = str(info.value)
    assert "auth_failed.yml" in text and "timeout.yml" in text


def test_yes_and_no_keys_are_not_booleans(kdir: Path) -> None:
    """`yes:`/`no:` and SSL `on`/`off` stay words (YAML 1.1 would read them as true/false)."""
    _edit(kdir / "symptoms" / "auth_failed.yml", "auto_yes: {protocol: pop3}", "auto_yes: {ssl: off}")
    knowledge = load(kdir)
    node = knowledge.symptoms["auth_failed"].nodes["q1"]
    assert (node.yes, node.no, node.auto_yes) == ("leaf_yes", "leaf_no", (("ssl", "off"),))


def test_cache_sees_every_edit(kdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached folder is re-read after an edit, and a broken edit is refused, not served from cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = load(kdir)
    assert list((tmp_path / "cache" / "mailcheck").glob("knowledge-*.pickle"))
    assert load(kdir).symptoms["timeout"].title == first.symptoms["timeout"].title
    _edit(kdir / "symptoms" / "timeout.yml", "ja: timeout の見出し", "ja: 新しい見出し")
    assert load(kdir).symptoms["timeout"].title.ja == "新しい見出し"
    _edit(kdir / "symptoms" / "timeout.yml", "    yes: leaf_yes", "    yes: gone")
    with pytest.raises(KnowledgeError):
        load(kdir)


def test_corrupt_cache_is_ignored(kdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged cache file costs only speed: the folder is parsed again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    load(kdir)
    for cached in (tmp_path / "cache" / "mailcheck").glob("*.pickle"):
        cached.write_bytes(b"not a pickle")
    assert "auth_failed" in load(kdir).symptoms
