"""The conversation state a button carries, so any process can handle the next press.

A button's ``value`` (at most 2000 characters) holds the case id, the symptom, the reply language and
the answers given so far, as ``1|<case>|<symptom>|<lang>|<node>=y,<node>=n``. Each button carries the
state it leads to: pressing "はい" on ``changed_recently`` sends the answers with
``changed_recently=y`` already added. The value comes back from Slack signed, but it is still input:
every field is checked on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from bot.model import LANGS, SYMPTOM_IDS, Lang

VERSION = "1"
MAX_VALUE = 2000
_ANSWER_CODE = {"yes": "y", "no": "n"}
_CODE_ANSWER = {"y": "yes", "n": "no"}


class BadState(ValueError):
    """A button value that this version did not write (old message, edited payload)."""


@dataclass(frozen=True)
class CaseState:
    case: int
    symptom: str
    lang: Lang
    answers: tuple[tuple[str, str], ...] = ()  # (node id, "yes" | "no"), in the order given

    @property
    def answer_map(self) -> dict[str, str]:
        return dict(self.answers)

    def with_answer(self, node: str, answer: str) -> CaseState:
        kept = tuple((n, a) for n, a in self.answers if n != node)
        return CaseState(self.case, self.symptom, self.lang, (*kept, (node, answer)))

    def encode(self) -> str:
        answers = ",".join(f"{quote(n, safe='')}={_ANSWER_CODE[a]}" for n, a in self.answers)
        value = "|".join((VERSION, str(self.case), self.symptom, self.lang, answers))
        if len(value) > MAX_VALUE:  # a tree deeper than any real one; drop the oldest answers
            return CaseState(self.case, self.symptom, self.lang, self.answers[1:]).encode()
        return value

    @classmethod
    def decode(cls, value: str) -> CaseState:
        parts = value.split("|")
        if len(parts) != 5 or parts[0] != VERSION:
            raise BadState("unknown button value")
        _, case, symptom, lang, answers = parts
        if not case.isdigit() or symptom not in SYMPTOM_IDS or lang not in LANGS:
            raise BadState("malformed button value")
        return cls(int(case), symptom, lang, _decode_answers(answers))


def _decode_answers(raw: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in filter(None, raw.split(",")):
        node, sep, code = item.partition("=")
        if not sep or code not in _CODE_ANSWER or not node:
            raise BadState("malformed answer in button value")
        pairs.append((unquote(node), _CODE_ANSWER[code]))
    return tuple(pairs)
