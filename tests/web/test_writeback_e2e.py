"""The running service comments on known issues: upload → outbox → sender → GitHub, once."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from bot.web.app import create_app
from tests.github_server import TOKEN, GitHubState
from tests.web.conftest import auth, make_settings, serving, wait_for

pytestmark = pytest.mark.usefixtures("github")


def _live_settings(database_url: str, github: GitHubState, **overrides: object) -> object:
    return make_settings(
        database_url,
        github_dry_run=False,
        github_token=SecretStr(TOKEN),
        github_api_url=github.base_url,
        github_repository=github.repo,
        outbox_min_interval_s=0.0,
        **overrides,
    )


def _upload(http: httpx.Client, body: bytes, suite: str = "shop") -> httpx.Response:
    return http.post(f"/api/v1/runs?suite={suite}", content=body, headers=auth())


def test_an_upload_comments_once_on_each_matched_known_issue(
    database_url: str, github: GitHubState, reports: dict[str, bytes]
) -> None:
    for number in (623, 1029):
        github.add_issue(number)
    app = create_app(_live_settings(database_url, github))  # type: ignore[arg-type]
    with serving(app) as http:
        first = _upload(http, reports["json"])
        assert first.status_code == 201, first.text
        assert first.json()["summary"]["known_issues"] == {"623": 1, "1029": 1}
        wait_for(lambda: github.comments_on(623) and github.comments_on(1029))
        wait_for(lambda: http.get("/api/v1/outbox").json()["pending"] == 0)
        # The same report again is the same run and plans nothing more.
        again = _upload(http, reports["json"])
        assert again.status_code == 200
        outbox = http.get("/api/v1/outbox").json()
    assert outbox["dry_run"] is False
    assert outbox["dead"] == 0
    assert outbox["pending"] == 0
    for number, test in ((623, "test_needs_fixture"), (1029, "test_redis_down")):
        comments = github.comments_on(number)
        assert len(comments) == 1, comments
        body = comments[0]["body"]
        assert test in body
        assert "<!-- triage-bot:" in body
        assert comments[0]["user"]["login"] == github.login
    # The product failure is not a known issue: nothing is written anywhere else.
    assert set(github.issues) == {623, 1029}
    assert TOKEN not in str([c["body"] for c in github.comments.values()])


def test_without_credentials_the_service_runs_dry_and_says_so(
    sqlite_url: str, reports: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    app = create_app(make_settings(sqlite_url, github_dry_run=False))
    with serving(app) as http:
        assert _upload(http, reports["jsonl"]).status_code == 201
        wait_for(lambda: http.get("/api/v1/outbox").json()["sent"] == 2)
        outbox = http.get("/api/v1/outbox").json()
    assert outbox["dry_run"] is True
    assert outbox["pending"] == 0
    assert "dry-run" in caplog.text


def test_with_the_sender_off_writes_wait_in_the_outbox(
    database_url: str, github: GitHubState, reports: dict[str, bytes]
) -> None:
    github.add_issue(623)
    github.add_issue(1029)
    settings = _live_settings(database_url, github, outbox_sender_enabled=False)
    with serving(create_app(settings)) as http:  # type: ignore[arg-type]
        assert _upload(http, reports["xml"]).status_code == 201
        outbox = http.get("/api/v1/outbox").json()
    assert outbox["pending"] >= 2
    assert github.comments_on(623) == []
