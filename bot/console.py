"""The local console chat: type (or paste) a message as you would in Slack and read the bot's reply.

It runs the same pipeline as the Slack app; the tree's buttons become numbered choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO, TypeVar

from bot.model import Lang
from bot.render import handoff, to_text
from bot.triage import Outcome, Triage

if TYPE_CHECKING:
    from bot.store import Store

_T = TypeVar("_T")

_TEXT = {
    "hello": {
        "ja": "mailcheck — メールのエラー文を貼り付けて Enter を押してください（終了は Ctrl-D か /quit）。"
        "パスワードは書かないでください。",
        "en": "mailcheck — paste the mail error and press Enter (Ctrl-D or /quit to leave). "
        "Never type a password.",
    },
    "choices": {
        "ja": "  1) はい   2) いいえ   3) 解決した   4) まだ困っている",
        "en": "  1) Yes   2) No   3) Solved   4) Still stuck",
    },
    "closing": {"ja": "  3) 解決した   4) まだ困っている", "en": "  3) Solved   4) Still stuck"},
    "solved": {"ja": "よかったです。記録しました。", "en": "Glad it works again. Noted."},
    "bye": {"ja": "終了します。", "en": "Bye."},
    "help": {
        "ja": "エラー文を貼り付けると診断します。質問には番号で答えてください。/quit で終了。",
        "en": "Paste an error to diagnose it; answer questions with the numbers. /quit to leave.",
    },
}


@dataclass
class _Case:
    """The open conversation: the first message and the answers given so far."""

    text: str
    lang: Lang
    outcome: Outcome
    answers: dict[str, str] = field(default_factory=dict)
    case_id: int | None = None  # the row in the history database, when there is one


class Chat:
    def __init__(
        self, triage: Triage, out: TextIO, lang: Lang | None = None, store: Store | None = None
    ) -> None:
        self.triage, self.out, self.lang, self.store = triage, out, lang, store
        self.case: _Case | None = None
        self.last_lang: Lang | None = None  # the conversation's language after a case is closed

    def keep(self, write: Callable[[Store], _T]) -> _T | None:
        """Write to the history; a database problem is said once and never stops the chat."""
        from bot.store import StoreError

        if self.store is None:
            return None
        try:
            return write(self.store)
        except StoreError as exc:
            self.store = None
            self.say(f"（履歴を保存できません / history not saved: {exc}）")
            return None

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ui_lang(self) -> Lang:
        return self.case.lang if self.case else (self.lang or self.last_lang or "ja")

    def show(self, outcome: Outcome) -> None:
        self.say(to_text(outcome))
        key = "choices" if outcome.diagnosis.question is not None else "closing"
        self.say(_TEXT[key][self.ui_lang()])

    def message(self, text: str) -> None:
        outcome = self.triage.handle(text, lang=self.lang)
        case_id = self.keep(lambda store: store.record_diagnosis(outcome, source="console"))
        self.case = _Case(outcome.text, outcome.reply.lang, outcome, case_id=case_id)
        self.last_lang = outcome.reply.lang
        self.show(outcome)

    def close(self, case: _Case, outcome: str) -> None:
        if case.case_id is not None:
            case_id = case.case_id
            self.keep(lambda store: store.record_outcome(case_id, outcome))

    def choose(self, number: str) -> None:
        case = self.case
        assert case is not None
        pending = case.outcome.diagnosis.question
        if number in ("1", "2") and pending is not None:
            case.answers[pending.id] = "yes" if number == "1" else "no"
            case.outcome = self.triage.handle(
                case.text, lang=case.lang, answers=case.answers, symptom_id=case.outcome.diagnosis.symptom.id
            )
            if case.case_id is not None:
                case_id, outcome = case.case_id, case.outcome
                self.keep(lambda store: store.record_step(case_id, outcome))
            self.show(case.outcome)
        elif number == "3":
            self.close(case, "solved")
            self.say(_TEXT["solved"][case.lang])
            self.case = None
        elif number == "4":
            self.close(case, "stuck")
            d = case.outcome.diagnosis
            self.say(handoff(d, self.triage.knowledge, case.text, case.lang))
            self.case = None
        else:
            self.say(_TEXT["closing" if pending is None else "choices"][case.lang])

    def feed(self, line: str) -> bool:
        """Handle one input line; False when the person wants to leave."""
        text = line.strip()
        if not text:
            return True
        if text in ("/quit", "/exit", "quit", "exit"):
            return False
        if text in ("/help", "help", "?"):
            self.say(_TEXT["help"][self.ui_lang()])
        elif self.case is not None and text in ("1", "2", "3", "4"):
            self.choose(text)
        else:
            self.message(line.replace("\\n", "\n"))
        return True


def run_chat(
    triage: Triage, stdin: TextIO, stdout: TextIO, lang: Lang | None = None, store: Store | None = None
) -> int:
    chat = Chat(triage, stdout, lang, store)
    interactive = stdin.isatty()
    chat.say(_TEXT["hello"][lang or "ja"])
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not chat.feed(line):
            break
    chat.say(_TEXT["bye"][chat.ui_lang()])
    return 0
