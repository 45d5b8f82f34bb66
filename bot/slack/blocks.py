"""Block Kit from a ``Reply``: plain dicts, built here and nowhere else.

A reply is one message: the heading, what to do, what not to do, whom to call, then the tree's
question as buttons and the buttons that close the case. Every button carries the state it leads to
(see ``state.py``); the text fallback is the console's plain text, so notifications and screen readers
read the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.model import Lang, Reply, Text
from bot.reply import label
from bot.slack.mrkdwn import clip, escape
from bot.slack.state import CaseState

Block = dict[str, Any]

# Block Kit limits (https://api.slack.com/reference/block-kit): the API rejects longer values.
HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
QUOTE_MAX = 1500

# action ids: a public contract between messages already posted and the running code.
YES, NO, SOLVED, STUCK, PROBE = "mc_yes", "mc_no", "mc_solved", "mc_stuck", "mc_probe"
ACTION_IDS = (YES, NO, SOLVED, STUCK, PROBE)
TREE_BLOCK, CLOSE_BLOCK, QUESTION_BLOCK, QUOTE_BLOCK = "mc_tree", "mc_close", "mc_question", "mc_quote"

UI: dict[str, Text] = {
    "yes": Text("はい", "Yes"),
    "no": Text("いいえ", "No"),
    "solved": Text("解決した", "Solved"),
    "stuck": Text("まだ困っている", "Still stuck"),
    "probe": Text("サーバーを確認", "Check the server"),
    "quote": Text("受け取った文面（パスワードは伏せています）", "Text received (passwords hidden)"),
    "quote_ocr": Text("画像から読み取った文字", "Text read from the image"),
    "closed_solved": Text("✅ 解決しました。記録しました。", "✅ Solved. Noted, thank you."),
    "closed_stuck": Text(
        "📨 まだ困っている → 問い合わせ用メモを送りました。", "📨 Still stuck → the hand-off note was sent."
    ),
    "handoff_intro": Text(
        "下の枠の中をそのままコピーして、提供元または社内の管理者に送ってください。",
        "Copy the box below as it is and send it to your provider or your admin.",
    ),
    "delete_message": Text(
        "元のメッセージはご自身で削除してください：メッセージにカーソルを合わせ「⋮（その他）」→「メッセージを削除する」"
        "（スマホは長押し →「削除」）。Slack の仕組み上、ボットは他の人のメッセージを削除できません。",
        "Please delete your original message yourself: hover over it, then ⋮ (More actions) → Delete message "
        "(on a phone: long-press → Delete). Slack does not let a bot delete other people's messages.",
    ),
    "delete_command": Text(
        "/mailcheck に入力した文字はほかの人には表示されていません。それでもパスワードは変更してください。",
        "What you typed after /mailcheck was not shown to anyone else, but please still change the password.",
    ),
}


def ui(key: str, lang: Lang) -> str:
    return UI[key].get(lang)


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": _mrkdwn(clip(text, SECTION_MAX))}
    if block_id:
        block["block_id"] = block_id
    return block


def context(lines: Iterable[str], block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [_mrkdwn(clip(line, CONTEXT_MAX)) for line in lines]}
    if block_id:
        block["block_id"] = block_id
    return block


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT_MAX), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def _heading(key: str, lang: Lang) -> str:
    return f"*{label(key, lang)}*"


def _body_blocks(reply: Reply, confidence: float | None, probe_lines: Sequence[str]) -> list[Block]:
    lang = reply.lang
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(reply.title, HEADER_MAX)}}
    ]
    summary = escape(reply.summary)
    if confidence is not None and reply.symptom != "unknown":
        summary += f"\n_{label('confidence', lang)} {confidence:.0%}_"
    blocks.append(section(summary))
    if reply.checklist:
        steps = "\n".join(f"{i}. {escape(step)}" for i, step in enumerate(reply.checklist, 1))
        blocks.append(section(f"{_heading('checklist', lang)}\n{steps}"))
    if reply.donts:
        blocks.append(
            section(_heading("donts", lang) + "\n" + "\n".join(f"✗ {escape(d)}" for d in reply.donts))
        )
    if reply.escalation:
        text = f"{_heading('escalation', lang)}\n{escape(reply.escalation)}"
        if reply.extra:
            text += f"\n_{label('prepare', lang)}_: " + " / ".join(escape(p) for p in reply.extra)
        blocks.append(section(text))
    if probe_lines:
        lines = "\n".join(escape(line) for line in probe_lines)
        blocks.append(section(f"{_heading('probe', lang)}\n```{lines}```"))
    return blocks


def _buttons(reply: Reply, state: CaseState, question_node: str | None, can_probe: bool) -> list[Block]:
    lang = reply.lang
    blocks: list[Block] = []
    if reply.question and question_node is not None:
        blocks.append(section(f"❓ *{escape(reply.question)}*", QUESTION_BLOCK))
        blocks.append(
            {
                "type": "actions",
                "block_id": TREE_BLOCK,
                "elements": [
                    button(ui("yes", lang), YES, state.with_answer(question_node, "yes").encode()),
                    button(ui("no", lang), NO, state.with_answer(question_node, "no").encode()),
                ],
            }
        )
    elif reply.question:  # `unknown`: the clarifying question is answered by writing, not by a button
        blocks.append(section(f"❓ {escape(reply.question)}", QUESTION_BLOCK))
    closing = [
        button(ui("solved", lang), SOLVED, state.encode(), "primary"),
        button(ui("stuck", lang), STUCK, state.encode()),
    ]
    if can_probe:
        closing.append(button(ui("probe", lang), PROBE, state.encode()))
    blocks.append({"type": "actions", "block_id": CLOSE_BLOCK, "elements": closing})
    return blocks


def reply_blocks(
    reply: Reply,
    *,
    state: CaseState,
    question_node: str | None,
    confidence: float | None = None,
    can_probe: bool = False,
    probe_lines: Sequence[str] = (),
    notes: Sequence[str] = (),
    quote: str | None = None,
    quote_key: str = "quote",
) -> list[Block]:
    """The whole reply. ``notes`` are shown above the heading (password advice, unreadable files);
    ``probe_lines`` is the server check's transcript when one ran."""
    blocks: list[Block] = []
    if reply.warnings:
        blocks.append(section("\n".join(escape(w) for w in reply.warnings)))
    if notes:
        blocks.append(context([escape(n) for n in notes]))
    blocks += _body_blocks(reply, confidence, probe_lines)
    blocks += _buttons(reply, state, question_node, can_probe)
    if quote and quote.strip():
        blocks.append(
            context([f"{ui(quote_key, reply.lang)}: {escape(clip(quote.strip(), QUOTE_MAX))}"], QUOTE_BLOCK)
        )
    return blocks


_INTERACTIVE = {TREE_BLOCK, CLOSE_BLOCK, QUESTION_BLOCK}


def closed_blocks(original: Sequence[Block] | None, note: str) -> list[Block]:
    """The same message with its buttons removed and one closing line, so nobody presses them again."""
    kept = [dict(b) for b in original or () if b.get("block_id") not in _INTERACTIVE]
    return [*kept, context([escape(note)])]


def handoff_blocks(handoff: str, lang: Lang) -> list[Block]:
    return [
        section(escape(ui("handoff_intro", lang))),
        section("```" + escape(clip(handoff, SECTION_MAX - 10)) + "```"),
    ]


def notice_blocks(*lines: str) -> list[Block]:
    """A short message: one section per paragraph, shown as written."""
    return [section(escape(line)) for line in lines if line]


def quoted_text(blocks: Sequence[Block] | None) -> str | None:
    """The text quoted in a reply we posted earlier: how a button press recovers its case after a restart."""
    for block in blocks or ():
        if block.get("block_id") == QUOTE_BLOCK and block.get("elements"):
            text = str(block["elements"][0].get("text", ""))
            _, sep, rest = text.partition(": ")
            return rest if sep else None
    return None
