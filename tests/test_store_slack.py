"""The history through the real Slack app (signed requests to a real port, Web API stand-in on loopback):
diagnoses and button presses are recorded, and `/mailcheck watch` is for workspace admins only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import load
from bot.store import Store
from bot.triage import Triage
from tests.servers.slack_api import SlackApiServer
from tests.servers.slack_app import RunningApp, running_app

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
ADMIN, MEMBER = "U0ADMIN", "U0MEMBER"


class WorkspaceApi(SlackApiServer):
    """The Web API stand-in plus users.info, answering as Slack does for an admin and a member."""

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user"))
        if user not in (ADMIN, MEMBER):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": {"id": user, "is_admin": user == ADMIN, "is_owner": False,
                                     "is_primary_owner": False, "is_bot": False}}  # fmt: skip


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(load(KNOWLEDGE))


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


@pytest.fixture
def slack(triage: Triage, store: Store) -> Iterator[RunningApp]:
    with WorkspaceApi() as api, running_app(triage, api, store=store) as app:
        yield app


def answer(slack: RunningApp, text: str, user: str, name: str) -> str:
    response = slack.client.command(text, slack.api.response_url(name), user=user)
    assert response.status == 200 and response.json()["text"] in ("確認しています…", "Checking…")
    (reply,) = slack.api.wait_for(f"response:{name}")
    assert reply.params["response_type"] == "ephemeral"
    return reply.text


def test_admin_adds_lists_and_removes_a_server(slack: RunningApp, store: Store) -> None:
    """An admin's /mailcheck watch changes the list in the database and gets a short answer."""
    assert "mail.example.jp を監視リストに追加しました" in answer(
        slack, "watch add Mail.Example.JP", ADMIN, "a"
    )
    assert "もう監視リストにあります" in answer(slack, "watch add mail.example.jp", ADMIN, "b")
    assert "• mail.example.jp" in answer(slack, "watch list", ADMIN, "c")
    assert [e.host for e in store.watch_list()] == ["mail.example.jp"]
    assert "外しました" in answer(slack, "watch remove mail.example.jp", ADMIN, "d")
    assert store.watch_list() == []


def test_member_cannot_change_the_watch_list(slack: RunningApp, store: Store) -> None:
    """A member who is not an admin is told so, and nothing changes."""
    assert "管理者だけ" in answer(slack, "watch add mail.example.jp", MEMBER, "m")
    assert store.watch_list() == []
    assert slack.api.calls("users.info")[0].params["user"] == MEMBER


@pytest.mark.parametrize(
    ("text", "expected"),
    [("watch", "使い方"), ("watch add", "使い方"), ("watch add not a host", "サーバー名ではありません"),
     ("watch --en remove nothere.example.jp", "is not on the watch list")],
    ids=["no-action", "no-host", "bad-host", "english-missing"],
)  # fmt: skip
def test_watch_mistakes_get_a_sentence(slack: RunningApp, text: str, expected: str) -> None:
    """Usage, bad names and unknown servers are answered in words, never with an error trace."""
    assert expected in answer(slack, text, ADMIN, "x")


def test_slash_diagnosis_and_button_are_recorded(slack: RunningApp, store: Store) -> None:
    """/mailcheck <error> is kept as a case (user hashed), and the Solved button sets its outcome."""
    slack.client.command("Mailbox is full [OVERQUOTA]", slack.api.response_url("diag"), user=MEMBER)
    slack.api.wait_for("response:diag")
    (row,) = list(store.export("cases", datetime(2000, 1, 1, tzinfo=UTC)))
    assert (row["source"], row["symptom"]) == ("command", "mailbox_full")
    assert row["user_hash"] == store.hash_user(MEMBER, "T0MAIL") and MEMBER not in str(row)
