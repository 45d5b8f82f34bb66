"""Writes a small, valid knowledge folder into a temporary directory, so validator tests can break one
line at a time and know exactly which line they broke."""

from __future__ import annotations

from pathlib import Path

from bot.model import SYMPTOM_IDS

SYMPTOM_TEMPLATE = """\
id: {id}
title:
  ja: {id} の見出し
  en: {id} heading
summary:
  ja: {id} の説明です。
  en: About {id}.
recognise:
  phrases:
    - {id}-phrase
  patterns:
    - '{id}-pat+ern'
  codes:
    - "[{code}]"
probe_checks: [dns, tcp]
start: q1
nodes:
  q1:
    question:
      ja: 質問ですか？
      en: Is it a question?
    default: no
    auto_yes: {{protocol: pop3}}
    yes: leaf_yes
    no: leaf_no
  leaf_yes:
    checklist:
      - ja: 手順一
        en: Step one
    donts:
      - ja: しないこと
        en: Do not
    escalation:
      to: isp
      when:
        ja: 直らないとき
        en: If it persists
  leaf_no:
    title:
      ja: いいえの場合
      en: When no
    checklist:
      - ja: 手順二
        en: Step two
    donts:
      - ja: しないこと
        en: Do not
    escalation:
      to: none
      when:
        ja: 不要
        en: Not needed
"""

CLIENTS = """\
- id: iphone
  name: {ja: iPhone, en: iPhone}
  patterns: ['iphone|ipad']
- id: outlook
  name: {ja: Outlook, en: Outlook}
  patterns: ['outlook']
"""

QUESTIONS = """\
clarifying:
  ja: どのアプリで、どんな文面が出ていますか？
  en: Which app shows it, and what exactly does it say?
password_warning:
  ja: パスワードは伏せました。変更してください。
  en: We hid the password. Please change it.
sending_hint:
  ja: 送信の問題です。
  en: This is about sending.
"""


def write_minimal_knowledge(root: Path) -> Path:
    """A folder that validates cleanly; returns its path."""
    (root / "symptoms").mkdir(parents=True)
    (root / "shared").mkdir()
    for symptom_id in SYMPTOM_IDS:
        text = SYMPTOM_TEMPLATE.format(id=symptom_id, code=symptom_id.upper().replace("_", ""))
        if symptom_id == "unknown":
            text = text.replace("recognise:\n  phrases:\n    - unknown-phrase\n  patterns:\n    - 'unknown-pat+ern'\n"
                                "  codes:\n    - \"[UNKNOWN]\"\n", "")  # fmt: skip
        (root / "symptoms" / f"{symptom_id}.yml").write_text(text, encoding="utf-8")
    (root / "shared" / "clients.yml").write_text(CLIENTS, encoding="utf-8")
    (root / "shared" / "questions.yml").write_text(QUESTIONS, encoding="utf-8")
    escalation = Path(__file__).resolve().parent.parent / "knowledge" / "shared" / "escalation.yml"
    (root / "shared" / "escalation.yml").write_text(escalation.read_text(encoding="utf-8"), encoding="utf-8")
    return root


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
