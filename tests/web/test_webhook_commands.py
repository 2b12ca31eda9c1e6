"""`/triage` commands over the webhook: permissions, replies through the outbox, the bot's own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.store.tables import ManualLink, OutboxRow, WrongMatch
from tests.github_server import GitHubState
from tests.web.conftest import Db, wait_for
from tests.web.webhook_support import (
    done,
    payload,
    send,
)


@pytest.fixture
def settings(github_settings: Settings) -> Settings:
    """The app talks to the fake GitHub; a glob over 2 stored failures needs --confirm."""
    return github_settings.model_copy(update={"link_confirm_threshold": 2})


# --- /triage commands -------------------------------------------------------------------------


def comment(
    body: str, login: str = "mona", comment_id: int = 2491933307, kind: str = "User"
) -> dict[str, Any]:
    return payload(
        "issue_comment_created",
        comment__body=body,
        comment__id=comment_id,
        comment__user={"login": login, "id": 1, "type": kind},
    )


def replies(db: Db) -> list[Any]:
    return db.rows(OutboxRow)


def test_status_command_replies_through_the_outbox_once(
    client: httpx.Client, db: Db, github: GitHubState
) -> None:
    send(client, "issue_comment", comment("/triage status"), "d-status")
    wait_for(lambda: done(db, "d-status"))
    (reply,) = replies(db)
    assert reply.key == "triage-reply-2491933307"
    assert reply.payload["issue"] == 1029
    assert "Redis connection failures in staging" in reply.payload["body"]
    assert reply.payload["body"].startswith("@mona")
    # Redelivered under a new GUID (a manual redelivery): still one reply.
    send(client, "issue_comment", comment("/triage status"), "d-status-again")
    wait_for(lambda: done(db, "d-status-again"))
    assert len(replies(db)) == 1
    assert [r.path for r in github.requests if "permission" in r.path] == [
        "/repos/acme/widgets/collaborators/mona/permission"
    ] * 2
    assert github.writes() == []  # the reply is sent by the outbox sender, not here


def test_link_and_unlink_commands(client: httpx.Client, db: Db) -> None:
    send(client, "issue_comment", comment("/triage link tests/test_cart.py::*", comment_id=1), "d1")
    wait_for(lambda: done(db, "d1"))
    (link,) = db.rows(ManualLink)
    assert (link.issue, link.kind, link.pattern, link.created_by) == (
        1029, "glob", "tests/test_cart.py::*", "mona",
    )  # fmt: skip
    send(client, "issue_comment", comment("/triage link 3f2a9c0d1e2b4a5f", comment_id=2), "d2")
    wait_for(lambda: done(db, "d2"))
    assert {r.kind for r in db.rows(ManualLink)} == {"glob", "fingerprint"}
    send(
        client, "issue_comment", comment("/triage unlink tests/test_cart.py::*", comment_id=3), "d3"
    )
    wait_for(lambda: done(db, "d3"))
    assert [r.kind for r in db.rows(ManualLink)] == ["fingerprint"]
    bodies = sorted(r.payload["body"] for r in replies(db))
    assert len(bodies) == 3
    assert any("unlinked glob" in b for b in bodies)


def test_wrong_command_records_a_wrong_match_and_lowers_precision(
    client: httpx.Client, db: Db, reports: dict[str, bytes]
) -> None:
    upload = client.post(
        "/api/v1/runs",
        params={"suite": "staging-e2e"},
        content=reports["json"],
        headers={"Authorization": "Bearer upload-token-7f3a91c2"},
    )
    run_id = upload.json()["run_id"]
    failures = client.get(f"/api/v1/runs/{run_id}").json()["failures"]
    nodeid = next(f["nodeid"] for f in failures if f["known_issue"] == 1029)
    send(client, "issue_comment", comment(f'/triage wrong {run_id} "{nodeid}"'), "d-wrong")
    wait_for(lambda: done(db, "d-wrong"))
    (wrong,) = db.rows(WrongMatch)
    assert (wrong.run_id, wrong.nodeid, wrong.issue, wrong.reported_by) == (
        run_id, nodeid, 1029, "mona",
    )  # fmt: skip
    issues = {i["number"]: i for i in client.get("/api/v1/known-issues").json()}
    (rule,) = [r for r in issues[1029]["rules"] if r["matches"]]
    assert rule["wrong"] == 1
    assert rule["precision"] == 0.0


@pytest.mark.parametrize("login", ["reader", "triager", "stranger"])
def test_commands_from_users_without_write_access_are_refused(
    client: httpx.Client, db: Db, login: str
) -> None:
    data = comment("/triage link tests/*", login=login)
    data["comment"]["author_association"] = "OWNER"  # only a hint: the API decides
    send(client, "issue_comment", data, "d-refused")
    wait_for(lambda: done(db, "d-refused"))
    assert db.count(ManualLink) == 0
    (reply,) = replies(db)
    assert "need write access" in reply.payload["body"]


@pytest.mark.parametrize(("login", "kind"), [("triage-bot", "User"), ("triage-bot[bot]", "Bot")])
def test_the_bots_own_comments_are_ignored(
    client: httpx.Client, db: Db, github: GitHubState, login: str, kind: str
) -> None:
    github.roles[login] = "admin"
    answer = send(
        client, "issue_comment", comment("/triage link x", login=login, kind=kind), "d-own"
    )
    assert answer.status_code == 202
    wait_for(lambda: done(db, "d-own"))
    assert db.count(ManualLink) == 0
    assert replies(db) == []


def test_comments_without_command_are_ignored(
    client: httpx.Client, db: Db, github: GitHubState
) -> None:
    answer = send(client, "issue_comment", comment("Looks like Redis again."), "d-chat")
    assert answer.json()["status"] == "ignored"
    assert github.requests == []


def test_unknown_command_gets_usage(client: httpx.Client, db: Db) -> None:
    send(client, "issue_comment", comment("/triage frobnicate"), "d-usage")
    wait_for(lambda: done(db, "d-usage"))
    (reply,) = replies(db)
    assert "Usage" in reply.payload["body"]


def test_wrong_command_for_an_unknown_run_is_answered_not_stored(
    client: httpx.Client, db: Db
) -> None:
    send(client, "issue_comment", comment("/triage wrong 999 tests/a.py::t"), "d-wrong-404")
    wait_for(lambda: done(db, "d-wrong-404"))
    assert db.delivery("d-wrong-404").status == "done"
    assert db.count(WrongMatch) == 0
    (reply,) = replies(db)
    assert "run 999 does not exist" in reply.payload["body"]


def test_upload_matching_known_issues_plans_comments_once(
    client: httpx.Client, db: Db, reports: dict[str, bytes]
) -> None:
    headers = {"Authorization": "Bearer upload-token-7f3a91c2"}
    first = client.post("/api/v1/runs", params={"suite": "staging-e2e"}, content=reports["json"],
                        headers=headers)  # fmt: skip
    assert first.status_code == 201
    planned = {row.key for row in replies(db)}
    targets = {row.target for row in replies(db)}
    assert any("1029" in t for t in targets), targets
    again = client.post("/api/v1/runs", params={"suite": "staging-e2e"}, content=reports["json"],
                        headers=headers)  # fmt: skip
    assert again.status_code == 200
    assert {row.key for row in replies(db)} == planned


@pytest.mark.parametrize(
    "run_id", ["99999999999999999999999", "9223372036854775808", "0", "-1", "1e3", "x"]
)
def test_wrong_command_with_a_run_id_out_of_bounds_is_answered(
    client: httpx.Client, db: Db, run_id: str
) -> None:
    send(client, "issue_comment", comment(f"/triage wrong {run_id} a"), "d-wrong-big")
    wait_for(lambda: done(db, "d-wrong-big"))
    # Answered at once, not retried as if the failure were passing trouble.
    delivery = db.delivery("d-wrong-big")
    assert delivery.status == "done"
    assert delivery.attempts == 1
    (reply,) = replies(db)
    assert "is not a run id" in reply.payload["body"]
    assert "9223372036854775807" in reply.payload["body"]
    assert db.count(WrongMatch) == 0


def test_a_glob_over_the_threshold_is_refused_with_its_count_unless_confirmed(
    client: httpx.Client, db: Db, reports: dict[str, bytes]
) -> None:
    upload = client.post(
        "/api/v1/runs",
        params={"suite": "staging-e2e"},
        content=reports["json"],
        headers={"Authorization": "Bearer upload-token-7f3a91c2"},
    )
    stored = len(client.get(f"/api/v1/runs/{upload.json()['run_id']}").json()["failures"])
    assert stored > 2
    planned = len(replies(db))
    send(client, "issue_comment", comment("/triage link **", comment_id=11), "d-all")
    wait_for(lambda: done(db, "d-all"))
    assert db.count(ManualLink) == 0
    (refusal,) = replies(db)[planned:]
    assert f"matches {stored} stored failures, more than 2" in refusal.payload["body"]
    assert "--confirm" in refusal.payload["body"]
    assert "Re-judged" not in refusal.payload["body"]  # nothing linked, nothing re-judged
    assert client.get("/api/v1/judgements").json()["total"] == 0
    send(client, "issue_comment", comment("/triage link ** --confirm", comment_id=12), "d-ok")
    wait_for(lambda: done(db, "d-ok"))
    (link,) = db.rows(ManualLink)
    assert (link.kind, link.pattern) == ("glob", "**")
