"""The Slack app end to end: the real bolt app on a loopback port, signed requests as Slack sends them,
and a recording stand-in for Slack's Web API. Assertions poll the record; nothing sleeps."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import load
from bot.model import SYMPTOM_IDS
from bot.slack import blocks as bk
from bot.slack.state import CaseState
from bot.triage import Triage
from tests.servers.slack_api import BOT_ID, BOT_USER, Call, SlackApiServer
from tests.servers.slack_app import (
    SECRET,
    RunningApp,
    button_press,
    direct_message,
    ephemeral_press,
    mention,
    message_shortcut,
    running_app,
    signature,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"

JA_AUTH = 'IMAPアカウント"会社"のパスワードが正しくありません。\n"会社"のパスワードを入力してください。'
EN_AUTH = 'Cannot Get Mail\nThe user name or password for "imap.example.com" is incorrect.'


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(load(ROOT / "knowledge"))


@pytest.fixture
def api() -> Iterator[SlackApiServer]:
    """A fresh recording Web API per test."""
    with SlackApiServer() as server:
        yield server


@pytest.fixture
def slack(triage: Triage, api: SlackApiServer) -> Iterator[RunningApp]:
    """The app on a free loopback port, talking to ``api``."""
    with running_app(triage, api) as app:
        yield app


def _ts(n: int) -> str:
    return f"1699999999.{n:06d}"


def _posted(api: SlackApiServer, call: Call) -> dict[str, Any]:
    """The message as the stand-in stores it (ts included), for building button payloads."""
    return {**call.params, "ts": _reply_ts(api, call)}


def _reply_ts(api: SlackApiServer, call: Call) -> str:
    for (channel, ts), message in api.state.posted.items():
        if channel == call.params["channel"] and message["text"] == call.params["text"]:
            return ts
    raise AssertionError("message not stored")


def _actions(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b.get("type") == "actions" for e in b["elements"]]


def _header(blocks: list[dict[str, Any]]) -> str:
    return next(b["text"]["text"] for b in blocks if b.get("type") == "header")


def _all_text(call: Call) -> str:
    return call.text + json.dumps(call.params.get("blocks") or [], ensure_ascii=False)


# --- request checks ---------------------------------------------------------------------------------


def test_url_verification_answers_the_challenge(slack: RunningApp) -> None:
    """Slack's URL check (signed like every request) gets its challenge back."""
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()  # fmt: skip
    response = slack.client.post(body, "application/json")
    assert response.status == 200
    assert b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.body


BAD_REQUESTS = {
    "wrong secret": {"secret": "not-the-secret"},
    "stale timestamp": {"timestamp": int(time.time()) - 10 * 60},
    "future timestamp": {"timestamp": int(time.time()) + 10 * 60},
}


@pytest.mark.parametrize("bad", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_or_stale_signature_is_401_and_does_nothing(
    slack: RunningApp, api: SlackApiServer, bad: dict[str, Any]
) -> None:
    """A request not signed with our secret, or signed too long ago, is refused and never answered."""
    event = {"type": "event_callback", "event_id": "EvBAD", "team_id": "T0MAIL",
             "event": mention(EN_AUTH, ts=_ts(1))}  # fmt: skip
    response = slack.client.post(json.dumps(event).encode(), "application/json", **bad)
    assert response.status == 401
    assert api.calls("chat.postMessage") == []


def test_unsigned_request_is_401(slack: RunningApp) -> None:
    """No signature headers at all: 401."""
    response = slack.client.request("POST", "/slack/events", b'{"type":"url_verification","challenge":"x"}',
                                    {"Content-Type": "application/json"})  # fmt: skip
    assert response.status == 401


def test_healthz_answers_get(slack: RunningApp) -> None:
    """GET /healthz says the app is up and how many symptoms it knows."""
    response = slack.client.request("GET", "/healthz")
    assert response.status == 200
    assert response.json()["ok"] is True and response.json()["symptoms"] == 14


def test_unknown_path_is_404_and_oversized_body_is_413(slack: RunningApp) -> None:
    """Only /slack/events and /healthz exist; a huge body is refused before it is read."""
    assert slack.client.request("GET", "/").status == 404
    # Only the headers matter: the app answers from Content-Length without reading the body.
    headers = {"Content-Type": "application/json", "Content-Length": "5000000"}
    assert slack.client.request("POST", "/slack/events", b"{}", headers).status == 413


# --- mentions and DMs -------------------------------------------------------------------------------

LANGS = {"ja": (JA_AUTH, "ja"), "en": (EN_AUTH, "en")}


@pytest.mark.parametrize(("text", "lang"), LANGS.values(), ids=LANGS.keys())
def test_mention_replies_in_the_thread_in_the_message_language(
    slack: RunningApp, api: SlackApiServer, triage: Triage, text: str, lang: str
) -> None:
    """A mention gets one threaded reply: symptom, checklist, do-nots, escalation, buttons, text fallback."""
    assert slack.client.event(mention(text, ts=_ts(10))).status == 200
    (call,) = api.wait_for("chat.postMessage")
    assert call.params["channel"] == "C0MAIL" and call.params["thread_ts"] == _ts(10)
    expected = triage.handle(text)
    assert expected.reply.lang == lang and expected.diagnosis.symptom.id == "auth_failed"
    assert _header(call.blocks).startswith(expected.diagnosis.symptom.title.get(lang))  # type: ignore[arg-type]
    body = _all_text(call)
    assert expected.reply.checklist[0] in body and expected.reply.donts[0] in body
    assert ("連絡先" if lang == "ja" else "Who to contact") in body
    assert {bk.YES, bk.NO, bk.SOLVED, bk.STUCK} <= set(_actions(call.blocks))
    assert call.text.startswith("■ ")  # the plain-text fallback for notifications
    assert call.headers["authorization"] == "Bearer xoxb-test-token"


def test_thread_mention_without_error_diagnoses_the_threads_first_message(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """'@mailcheck これ見て' in a thread reads the thread's first message and answers in that thread,
    in the language of the person who asked."""
    api.add_thread(
        "C0MAIL", _ts(20), [{"type": "message", "user": "U0OTHER", "text": EN_AUTH, "ts": _ts(20)}]
    )
    slack.client.event(mention("これ見てもらえますか？", ts=_ts(21), thread_ts=_ts(20)))
    (call,) = api.wait_for("chat.postMessage")
    (replies,) = api.calls("conversations.replies")
    assert replies.params["ts"] == _ts(20)
    assert call.params["thread_ts"] == _ts(20)
    state = CaseState.decode(call.blocks[-2]["elements"][0]["value"])
    assert (state.symptom, state.lang) == ("auth_failed", "ja")


def test_thread_mention_with_its_own_error_does_not_read_the_thread(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """When the mention itself carries the error, that is what gets diagnosed."""
    slack.client.event(mention(EN_AUTH, ts=_ts(31), thread_ts=_ts(30)))
    (call,) = api.wait_for("chat.postMessage")
    assert call.params["thread_ts"] == _ts(30)
    assert api.calls("conversations.replies") == []


def test_direct_message_gets_a_reply_in_the_dm(slack: RunningApp, api: SlackApiServer) -> None:
    """A DM works like a mention; the reply goes to the same DM."""
    slack.client.event(direct_message(JA_AUTH, ts=_ts(40)))
    (call,) = api.wait_for("chat.postMessage")
    assert call.params["channel"] == "D0ASKER"
    assert "パスワード" in _header(call.blocks)


def test_slack_link_markup_is_undone_before_diagnosis(slack: RunningApp, api: SlackApiServer) -> None:
    """Slack turns imap.example.com into <http://imap.example.com|imap.example.com>; the quote shows the plain text."""
    slack.client.event(direct_message('The user name or password for "<http://imap.example.com|imap.example.com>" is incorrect.',
                                      ts=_ts(41)))  # fmt: skip
    (call,) = api.wait_for("chat.postMessage")
    quote = next(b for b in call.blocks if b.get("block_id") == bk.QUOTE_BLOCK)
    assert '"imap.example.com" is incorrect' in quote["elements"][0]["text"]
    assert "http://" not in quote["elements"][0]["text"]


IGNORED = {
    "other bot": direct_message(EN_AUTH, ts=_ts(50), bot_id="B0OTHER", subtype="bot_message"),
    "bot id only": direct_message(EN_AUTH, ts=_ts(51), bot_id="B0OTHER"),
    "ourselves": direct_message(EN_AUTH, ts=_ts(52), user=BOT_USER, bot_id=BOT_ID),
    "our user id": direct_message(EN_AUTH, ts=_ts(53), user=BOT_USER),
    "edited message": direct_message(EN_AUTH, ts=_ts(54), subtype="message_changed"),
    "channel message": {
        **direct_message(EN_AUTH, ts=_ts(55)),
        "channel_type": "channel",
        "channel": "C0MAIL",
    },
}


@pytest.mark.parametrize("event", IGNORED.values(), ids=IGNORED.keys())
def test_bot_and_non_person_messages_get_no_reply(
    slack: RunningApp, api: SlackApiServer, event: dict[str, Any]
) -> None:
    """Bots (ourselves included), edits and non-DM messages never get a reply: no loops."""
    assert slack.client.event(event).status == 200
    slack.client.event(direct_message(JA_AUTH, ts=_ts(59), channel="D0SENTINEL"))
    api.quiet_for("chat.postMessage", 1, settle=lambda: api.wait_for("chat.postMessage",
                  where=lambda c: c.params["channel"] == "D0SENTINEL"))  # fmt: skip


def test_slack_retry_of_the_same_event_is_answered_once(slack: RunningApp, api: SlackApiServer) -> None:
    """X-Slack-Retry-Num redeliveries get 200 and no second reply (dedupe on event_id)."""
    event = mention(EN_AUTH, ts=_ts(60))
    assert slack.client.event(event, event_id="Ev0RETRY").status == 200
    api.wait_for("chat.postMessage")
    for retry in (1, 2):
        response = slack.client.event(event, event_id="Ev0RETRY", retry=retry)
        assert response.status == 200
    slack.client.event(mention(JA_AUTH, ts=_ts(61), channel="C0SENTINEL"))
    api.quiet_for("chat.postMessage", 2, settle=lambda: api.wait_for("chat.postMessage",
                  where=lambda c: c.params["channel"] == "C0SENTINEL"))  # fmt: skip


def test_retry_after_a_restart_is_still_answered_once(
    triage: Triage, api: SlackApiServer, db_path: Path
) -> None:
    """With the store, a redelivery that reaches a restarted app (same database) gets no second reply."""
    from bot.store import Store

    event = mention(EN_AUTH, ts=_ts(64), channel="C0RESTART")
    with Store(db_path) as store, running_app(triage, api, store=store) as first:
        assert first.client.event(event, event_id="Ev0RESTART").status == 200
        api.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C0RESTART")
    with Store(db_path) as store, running_app(triage, api, store=store) as restarted:
        assert restarted.client.event(event, event_id="Ev0RESTART", retry=1).status == 200
        restarted.client.event(mention(JA_AUTH, ts=_ts(65), channel="C0SENTINEL"))
        api.quiet_for("chat.postMessage", 2, settle=lambda: api.wait_for("chat.postMessage",
                      where=lambda c: c.params["channel"] == "C0SENTINEL"))  # fmt: skip


def test_same_message_as_two_events_is_answered_once(slack: RunningApp, api: SlackApiServer) -> None:
    """An app_mention and a message event for one message (two event ids) still give one reply."""
    slack.client.event(mention(EN_AUTH, ts=_ts(62), channel="D0BOTH"))
    slack.client.event(direct_message(EN_AUTH, ts=_ts(62), channel="D0BOTH"))
    slack.client.event(mention(JA_AUTH, ts=_ts(63), channel="C0SENTINEL"))
    api.quiet_for("chat.postMessage", 2, settle=lambda: api.wait_for("chat.postMessage",
                  where=lambda c: c.params["channel"] == "C0SENTINEL"))  # fmt: skip


def test_event_without_a_listener_still_gets_200(slack: RunningApp) -> None:
    """An event we do not handle is acknowledged (a 404 would make Slack redeliver it)."""
    event = {"type": "reaction_added", "user": "U0ASKER", "reaction": "eyes", "event_ts": _ts(70),
             "item": {"type": "message", "channel": "C0MAIL", "ts": _ts(1)}}  # fmt: skip
    assert slack.client.event(event).status == 200


def test_rate_limited_post_is_retried_after_retry_after(slack: RunningApp, api: SlackApiServer) -> None:
    """A 429 from chat.postMessage is waited out (Retry-After) and the reply still arrives, once."""
    api.fail_next("chat.postMessage", status=429, retry_after=1)
    slack.client.event(mention(EN_AUTH, ts=_ts(80)))
    first, second = api.wait_for("chat.postMessage", 2)
    assert (first.status, second.status) == (429, 200)
    assert first.params["thread_ts"] == second.params["thread_ts"] == _ts(80)


def test_api_error_is_logged_not_fatal(slack: RunningApp, api: SlackApiServer) -> None:
    """A failing Web API call (ok: false) does not break the app: the next message is answered."""
    api.fail_next("chat.postMessage", status=200, retry_after=None, error="internal_error")
    slack.client.event(mention(EN_AUTH, ts=_ts(81)))
    api.wait_for("chat.postMessage")
    slack.client.event(mention(JA_AUTH, ts=_ts(82)))
    second = api.wait_for("chat.postMessage", 2)[1]
    assert second.status == 200 and second.params["thread_ts"] == _ts(82)


# --- passwords ----------------------------------------------------------------------------------------


def test_pasted_password_is_never_repeated_and_user_is_told_to_delete(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """The reply hides the password, says to change it, and says how to delete the message (a bot cannot)."""
    secret = "Tr0ub4dor&3xyz"
    slack.client.event(mention(f"{JA_AUTH}\nユーザー: taro@example.com パスワード: {secret}", ts=_ts(90)))
    (call,) = api.wait_for("chat.postMessage")
    body = _all_text(call)
    assert secret not in body and secret.replace("&", "&amp;") not in body
    assert "すぐに変更" in body
    assert "メッセージを削除する" in body and "ボットは他の人のメッセージを削除できません" in body
    assert api.calls("chat.delete") == []


# --- slash command ------------------------------------------------------------------------------------


SHARE = {"ephemeral": ("", "ephemeral"), "--share": (" --share", "in_channel")}


@pytest.mark.parametrize(("flag", "kind"), SHARE.values(), ids=SHARE.keys())
def test_slash_command_acks_at_once_then_answers_on_response_url(
    slack: RunningApp, api: SlackApiServer, flag: str, kind: str
) -> None:
    """/mailcheck <error> gets an empty 200 ack, then the diagnosis through response_url."""
    response = slack.client.command(EN_AUTH + flag, api.response_url("cmd"))
    assert response.status == 200 and response.body == b""
    (answer,) = api.wait_for("response:cmd")
    assert answer.params["response_type"] == kind
    assert "Password or user name rejected" in _header(answer.blocks)
    assert "--share" not in _all_text(answer)


def test_slash_command_help_is_in_the_ack(slack: RunningApp, api: SlackApiServer) -> None:
    """/mailcheck help (and a bare /mailcheck) answers in the ack itself, in Japanese then English."""
    for text in ("help", ""):
        response = slack.client.command(text, api.response_url("help"))
        data = response.json()
        assert data["response_type"] == "ephemeral"
        assert data["text"].index("使い方") < data["text"].index("How to use")


def test_slash_command_probe_refused_target_is_explained(slack: RunningApp, api: SlackApiServer) -> None:
    """/mailcheck probe 127.0.0.1: acked with 'checking', then the probe's refusal (never connects to loopback)."""
    response = slack.client.command("probe 127.0.0.1", api.response_url("probe"))
    assert "確認しています" in response.json()["text"]
    (answer,) = api.wait_for("response:probe")
    assert "127.0.0.1" in answer.text


def test_slash_command_probe_without_host_shows_usage(slack: RunningApp, api: SlackApiServer) -> None:
    """/mailcheck probe with nothing after it: the usage line, at once."""
    assert "/mailcheck probe" in slack.client.command("probe", api.response_url("x")).json()["text"]


def test_slash_command_settings_answers_from_the_provider_files(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """/mailcheck settings taro@docomo.ne.jp: the provider's incoming server, from knowledge/providers."""
    slack.client.command("settings taro@docomo.ne.jp", api.response_url("settings"))
    (answer,) = api.wait_for("response:settings")
    assert "taro@docomo.ne.jp" in answer.text and "imap" in answer.text.lower()


def test_slash_command_settings_with_a_bad_address_says_why(slack: RunningApp, api: SlackApiServer) -> None:
    """An unusable address gets a sentence, not a traceback."""
    slack.client.command("settings not-an-address", api.response_url("bad"))
    (answer,) = api.wait_for("response:bad")
    assert answer.text and "Traceback" not in answer.text


# --- message shortcut ---------------------------------------------------------------------------------


def test_message_shortcut_replies_in_the_messages_thread(slack: RunningApp, api: SlackApiServer) -> None:
    """'Diagnose mail error' on someone's message answers in that message's thread."""
    message = {"type": "message", "user": "U0OTHER", "text": JA_AUTH, "ts": _ts(100)}
    response = slack.client.interactive(
        message_shortcut(message, channel="C0MAIL", response_url=api.response_url("sc"))
    )
    assert response.status == 200
    (call,) = api.wait_for("chat.postMessage")
    assert call.params["thread_ts"] == _ts(100) and call.params["channel"] == "C0MAIL"


def test_message_shortcut_in_a_channel_without_the_bot_answers_privately(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """not_in_channel: the diagnosis goes to the person through response_url, with how to invite the bot."""
    api.refuse_channel("C0PRIVATE")
    message = {"type": "message", "user": "U0OTHER", "text": EN_AUTH, "ts": _ts(101)}
    slack.client.interactive(
        message_shortcut(message, channel="C0PRIVATE", response_url=api.response_url("sc2"))
    )
    (answer,) = api.wait_for("response:sc2")
    assert answer.params["response_type"] == "ephemeral"
    assert "/invite @mailcheck" in _all_text(answer)


# --- walking the tree ---------------------------------------------------------------------------------


def _corpus_message(triage: Triage, symptom: str) -> str:
    with (CORPUS / f"{symptom}.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            text = row["text"].replace("\\n", "\n")
            if triage.handle(text).diagnosis.symptom.id == symptom:
                return text
    raise AssertionError(f"no corpus line classifies as {symptom}")


def _walk(
    slack: RunningApp, api: SlackApiServer, first: Call, action: str
) -> tuple[list[str], dict[str, Any]]:
    """Press ``action`` (yes or no) until the message shows a leaf; returns pressed nodes and the final message."""
    message = _posted(api, first)
    channel = first.params["channel"]
    pressed: list[str] = []
    while action in _actions(message["blocks"]):
        value = next(e["value"] for b in message["blocks"] if b.get("type") == "actions" for e in b["elements"]
                     if e["action_id"] == action)  # fmt: skip
        pressed.append(CaseState.decode(value).answers[-1][0])
        updates = len(api.calls("chat.update"))
        payload = button_press(message, action, channel=channel, response_url=api.response_url("press"))
        assert slack.client.interactive(payload).status == 200
        update = api.wait_for("chat.update", updates + 1)[-1]
        assert update.params["ts"] == message["ts"]  # the same message, updated in place
        message = {**message, **update.params}
        assert len(pressed) < 20, "the tree never reached a leaf"
    return pressed, message


@pytest.mark.parametrize("answer", [bk.YES, bk.NO], ids=["always yes", "always no"])
@pytest.mark.parametrize("symptom", [s for s in SYMPTOM_IDS if s != "unknown"])
def test_every_button_step_reaches_the_trees_leaf(
    slack: RunningApp, api: SlackApiServer, triage: Triage, symptom: str, answer: str
) -> None:
    """Pressing yes (or no) at each question updates the same message until the leaf of that path."""
    text = _corpus_message(triage, symptom)
    slack.client.event(mention(text, ts=_ts(200)))
    (first,) = api.wait_for("chat.postMessage")
    pressed, final = _walk(slack, api, first, answer)
    word = "yes" if answer == bk.YES else "no"
    expected = triage.handle(text, answers={n: word for n in pressed}, symptom_id=symptom)
    assert expected.diagnosis.question is None  # a leaf: nothing left to ask
    assert _header(final["blocks"]) == expected.reply.title
    assert bk.YES not in _actions(final["blocks"]) and bk.SOLVED in _actions(final["blocks"])
    for node in pressed:
        assert triage.knowledge.symptoms[symptom].nodes[node].question is not None


def test_solved_closes_the_case_and_records_it(triage: Triage, api: SlackApiServer, db_path: Path) -> None:
    """Solved: the buttons go away, the message says so, and the case's outcome is in the SQLite store."""
    from bot.store import Store

    with Store(db_path) as store, running_app(triage, api, store=store) as slack:
        slack.client.event(mention(EN_AUTH, ts=_ts(300)))
        (first,) = api.wait_for("chat.postMessage")
        message = _posted(api, first)
        slack.client.interactive(
            button_press(message, bk.SOLVED, channel="C0MAIL", response_url=api.response_url("p"))
        )
        (update,) = api.wait_for("chat.update")
        assert _actions(update.blocks) == []
        assert "Solved" in _all_text(update)
        case_id = CaseState.decode(first.blocks[-2]["elements"][0]["value"]).case
        rows = list(store._db().execute("SELECT outcome, symptom, source FROM cases WHERE id = ?", [case_id]))
        assert rows == [("solved", "auth_failed", "mention")]


def test_still_stuck_posts_the_hand_off_with_error_and_answers(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """Still stuck: one paste-ready message in the thread with the error, the answers given, no password."""
    slack.client.event(mention(JA_AUTH + "\npassword: hunter2pass", ts=_ts(310)))
    (first,) = api.wait_for("chat.postMessage")
    message = _posted(api, first)
    slack.client.interactive(
        button_press(message, bk.NO, channel="C0MAIL", response_url=api.response_url("p"))
    )
    (update,) = api.wait_for("chat.update")
    message = {**message, **update.params}
    slack.client.interactive(
        button_press(message, bk.STUCK, channel="C0MAIL", response_url=api.response_url("p"))
    )
    memo = api.wait_for("chat.postMessage", 2)[1]
    closed = api.wait_for("chat.update", 2)[1]
    assert memo.params["thread_ts"] == _ts(310)
    assert "問い合わせ用メモ" in memo.text and "会社" in memo.text
    assert "最近パスワードを変えましたか" in memo.text and "→ いいえ" in memo.text
    assert "hunter2pass" not in _all_text(memo)
    assert _actions(closed.blocks) == []


def test_button_on_a_slash_command_answer_replaces_it_through_response_url(
    slack: RunningApp, api: SlackApiServer
) -> None:
    """Ephemeral answers cannot be chat.update'd: the press replaces them through response_url."""
    slack.client.command(EN_AUTH, api.response_url("cmd"))
    (answer,) = api.wait_for("response:cmd")
    slack.client.interactive(
        ephemeral_press(answer.blocks, bk.YES, channel="C0MAIL", response_url=api.response_url("eph"))
    )
    (replaced,) = api.wait_for("response:eph")
    assert replaced.params["replace_original"] is True
    assert _header(replaced.blocks) != _header(answer.blocks)
    assert api.calls("chat.update") == []


def test_button_press_after_a_restart_recovers_the_case_from_the_message(
    triage: Triage, api: SlackApiServer
) -> None:
    """A new process has no memory of the case: it reads the quoted text from the message and carries on."""
    with running_app(triage, api) as first_run:
        first_run.client.event(mention(EN_AUTH, ts=_ts(320)))
        (first,) = api.wait_for("chat.postMessage")
    with running_app(triage, api) as second_run:
        message = _posted(api, first)
        second_run.client.interactive(
            button_press(message, bk.YES, channel="C0MAIL", response_url=api.response_url("p"))
        )
        (update,) = api.wait_for("chat.update")
        expected = triage.handle(EN_AUTH, answers={"changed_recently": "yes"}, symptom_id="auth_failed")
        assert _header(update.blocks) == expected.reply.title


def test_forged_button_value_gets_a_clear_answer(slack: RunningApp, api: SlackApiServer) -> None:
    """A button value this version did not write is answered with a sentence, not a crash."""
    slack.client.event(mention(EN_AUTH, ts=_ts(330)))
    (first,) = api.wait_for("chat.postMessage")
    message = _posted(api, first)
    payload = button_press(message, bk.YES, channel="C0MAIL", response_url=api.response_url("forged"))
    payload["actions"][0]["value"] = "1|x|no_such_symptom|fr|"
    assert slack.client.interactive(payload).status == 200
    (answer,) = api.wait_for("response:forged")
    assert "older version" in answer.text


# --- pictures -----------------------------------------------------------------------------------------


def test_non_image_file_gets_a_clear_answer(slack: RunningApp, api: SlackApiServer) -> None:
    """A PDF is not read; the reply says to send a screenshot or the text."""
    pdf = api.add_file("F0PDF", "error.pdf", b"%PDF-1.4 ...", "application/pdf")
    slack.client.event(mention("", ts=_ts(400), files=[pdf]))
    (call,) = api.wait_for("chat.postMessage")
    assert "error.pdf" in call.text and "PNG" in call.text
    assert api.calls("file:F0PDF") == []


def test_oversized_image_is_not_downloaded(slack: RunningApp, api: SlackApiServer) -> None:
    """A picture over the size cap is refused from its declared size, before any download."""
    big = api.add_file("F0BIG", "huge.png", b"\x89PNG" + b"0" * 100, "image/png")
    big["size"] = 50_000_000
    slack.client.event(mention(EN_AUTH, ts=_ts(401), files=[big]))
    (call,) = api.wait_for("chat.postMessage")
    assert "huge.png" in _all_text(call) and "too large" in _all_text(call)
    assert api.calls("file:F0BIG") == []


def test_screenshot_is_read_with_the_bot_token_and_diagnosed(triage: Triage, api: SlackApiServer) -> None:
    """A mention with a phone screenshot: downloaded with the bot token, read by OCR, diagnosed, quoted."""
    from tests.servers.binaries import require_binary

    require_binary("tesseract", "tesseract-ocr tesseract-ocr-jpn tesseract-ocr-eng")
    png = _screenshot_png("Cannot Get Mail", 'The user name or password for "imap.example.com" is incorrect.')
    info = api.add_file("F0SHOT", "IMG_0001.png", png, "image/png", with_url=False)
    with running_app(triage, api) as slack:
        slack.client.event(mention("", ts=_ts(402), files=[info]))
        (call,) = api.wait_for("chat.postMessage", timeout=60)
    (download,) = api.calls("file:F0SHOT")
    assert download.params["authorised"] is True
    assert api.calls("files.info")  # the event carried only the id
    quote = next(b for b in call.blocks if b.get("block_id") == bk.QUOTE_BLOCK)["elements"][0]["text"]
    assert quote.startswith("Text read from the image") or quote.startswith("画像から読み取った文字")
    assert "incorrect" in quote.lower()
    assert "auth_failed" in call.blocks[-2]["elements"][0]["value"]


def _screenshot_png(title: str, body: str) -> bytes:
    """A desktop-style error dialog drawn with Pillow (no stored pictures)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    try:
        title_font, body_font = ImageFont.truetype(font_path, 34), ImageFont.truetype(font_path, 26)
    except OSError:
        title_font = body_font = ImageFont.load_default(size=30)
    image = Image.new("RGB", (1400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 50), title, fill="black", font=title_font)
    draw.text((40, 140), body, fill="black", font=body_font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- slow work does not block -------------------------------------------------------------------------


def test_slow_probes_never_block_acks_or_other_diagnoses(triage: Triage, api: SlackApiServer) -> None:
    """Six probes stuck on a DNS server that never answers: every command is still acked, and a plain
    diagnosis sent after them is answered while they are all still waiting."""
    import socket

    from bot.slack.extras import ProbeOptions

    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind(("127.0.0.1", 0))
    dns_server = f"127.0.0.1:{blackhole.getsockname()[1]}"
    try:
        with running_app(triage, api, probe=ProbeOptions(timeout=4.0, dns_server=dns_server)) as slack:
            for n in range(6):
                response = slack.client.command(
                    f"probe mail{n}.slow.test", api.response_url(f"probe{n}"), user=f"U{n}"
                )
                assert response.status == 200 and "確認しています" in response.json()["text"]
            assert slack.client.command(EN_AUTH, api.response_url("quick")).status == 200
            api.wait_for("response:quick")
            assert not [c for c in api.calls() if c.method.startswith("response:probe")]
            for n in range(6):
                api.wait_for(f"response:probe{n}", timeout=30)
    finally:
        blackhole.close()


def test_signature_helper_matches_slacks_documented_example() -> None:
    """Our test signer reproduces Slack's published example, so the signed requests above are real ones."""
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")  # fmt: skip
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert signature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body) == expected
    assert SECRET  # the secret the app under test checks against


# --- the server check button --------------------------------------------------------------------------


def test_check_the_server_without_a_host_says_how(slack: RunningApp, api: SlackApiServer) -> None:
    """Pressing 'Check the server' when the message names no server explains how to name one."""
    slack.client.event(mention(JA_AUTH, ts=_ts(500)))
    (first,) = api.wait_for("chat.postMessage")
    assert bk.PROBE in _actions(first.blocks)
    message = _posted(api, first)
    slack.client.interactive(
        button_press(message, bk.PROBE, channel="C0MAIL", response_url=api.response_url("p"))
    )
    notice = api.wait_for("chat.postMessage", 2)[1]
    assert notice.params["thread_ts"] == _ts(500) and "/mailcheck probe" in notice.text


def test_check_the_server_adds_the_probe_transcript_to_the_reply(
    triage: Triage, api: SlackApiServer, dns_zone_server: Any
) -> None:
    """The button probes the server named in the message (here resolving to loopback, which the probe
    refuses without connecting) and updates the reply with the transcript; the hand-off then carries it."""
    from bot.slack.extras import ProbeOptions
    from tests.servers.dns import Zone

    dns = dns_zone_server(Zone(a={"imap.example.com": "127.0.0.1"}))
    with running_app(triage, api, probe=ProbeOptions(timeout=5, dns_server=dns.address)) as slack:
        slack.client.event(mention(EN_AUTH, ts=_ts(510)))
        (first,) = api.wait_for("chat.postMessage")
        message = _posted(api, first)
        slack.client.interactive(
            button_press(message, bk.PROBE, channel="C0MAIL", response_url=api.response_url("p"))
        )
        (update,) = api.wait_for("chat.update", timeout=30)
        transcript = _all_text(update)
        assert "imap.example.com" in transcript and (
            "Server check" in transcript or "サーバーの確認結果" in transcript
        )
        message = {**message, **update.params}
        slack.client.interactive(
            button_press(message, bk.STUCK, channel="C0MAIL", response_url=api.response_url("p"))
        )
        memo = api.wait_for("chat.postMessage", 2)[1]
        assert "Server check transcript" in memo.text
