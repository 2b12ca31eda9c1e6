"""GitHub App auth over HTTP: the delivery's installation, and the repository's found lazily."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.store.tables import OutboxRow
from bot.web.app import create_app
from tests.github.fake_state import app_private_key
from tests.github_server import GitHubState, assert_rest_contract
from tests.web.conftest import Db, make_settings, serving, wait_for
from tests.web.webhook_support import RUN_ID, done, payload, send, zip_of

DELIVERY_INSTALLATION = 9001  # the installation a delivery names
REPO_INSTALLATION = 4242  # the App's installation on acme/widgets, as GitHub answers it


@pytest.fixture
def settings(database_url: str, github: GitHubState) -> Settings:
    """A GitHub App with no installation id configured, talking to the fake GitHub."""
    github.add_issue(1029, title="Redis connection failures in staging")
    return make_settings(
        database_url,
        github_dry_run=False,
        github_app_id=42,
        github_app_private_key=SecretStr(app_private_key()),
        github_api_url=github.base_url,
        github_repository=github.repo,
        outbox_min_interval_s=0.0,
    )


def status_command(installation: int | None, comment_id: int = 2491933307) -> dict[str, Any]:
    data = payload(
        "issue_comment_created",
        comment__body="/triage status",
        comment__id=comment_id,
        comment__user={"login": "mona", "id": 1, "type": "User"},
    )
    if installation is None:
        del data["installation"]  # a webhook set on the repository, not the App's
    else:
        data["installation"] = {"id": installation}
    return data


def installations(github: GitHubState, fragment: str) -> list[int | None]:
    """Return the installation whose token each request to a matching path carried."""
    return [github.installation_of(r) for r in github.requests if fragment in r.path]


def test_a_delivery_is_handled_with_its_installations_token(
    settings: Settings, db: Db, github: GitHubState, reports: dict[str, bytes]
) -> None:
    github.add_artifact(RUN_ID, "pytest-report", zip_of({"report.json": reports["json"]}))
    run = payload("workflow_run_completed")
    run["installation"] = {"id": DELIVERY_INSTALLATION}
    with serving(create_app(settings.model_copy(update={"outbox_sender_enabled": False}))) as web:
        assert send(web, "workflow_run", run, "d-run").status_code == 202
        wait_for(lambda: done(db, "d-run"))
        assert send(web, "issue_comment", status_command(DELIVERY_INSTALLATION), "d-cmd").is_success
        wait_for(lambda: done(db, "d-cmd"))
    assert db.delivery("d-run").status == "done", db.delivery("d-run").outcome
    assert db.delivery("d-cmd").status == "done", db.delivery("d-cmd").outcome
    reads = ["/actions/runs/", "/actions/artifacts/", "/collaborators/mona/permission"]
    for fragment in reads:
        assert installations(github, fragment) == [DELIVERY_INSTALLATION], fragment
    # One token for both deliveries (the gateway is kept), and no lookup was needed.
    assert [r.path for r in github.requests if r.path.startswith("/app")] == [
        f"/app/installations/{DELIVERY_INSTALLATION}/access_tokens"
    ]
    assert all(not r.path.endswith("/installation") for r in github.requests)
    (reply,) = db.rows(OutboxRow, OutboxRow.key == "triage-reply-2491933307")  # type: ignore[arg-type]
    assert reply.payload["body"].startswith("@mona")
    assert_rest_contract(github.requests)


def test_an_app_without_installation_id_starts_and_posts_after_the_lookup(
    settings: Settings, db: Db, github: GitHubState
) -> None:
    app = create_app(settings)  # no network at start: nothing was asked of GitHub yet
    assert github.requests == []
    with serving(app) as web:
        assert web.get("/healthz").status_code == 200
        send(web, "issue_comment", status_command(None), "d-repo-hook")
        wait_for(lambda: [row.state for row in db.rows(OutboxRow)] == ["sent"])
    (posted,) = github.comments_on(1029)
    assert posted["body"].startswith("@mona")
    paths = [(r.method, r.path) for r in github.requests]
    assert paths[:2] == [
        ("GET", "/repos/acme/widgets/installation"),
        ("POST", f"/app/installations/{REPO_INSTALLATION}/access_tokens"),
    ]
    assert paths.count(("GET", "/repos/acme/widgets/installation")) == 1
    assert installations(github, "/collaborators/mona/permission") == [REPO_INSTALLATION]
    assert installations(github, "/issues/1029/comments")[-1] == REPO_INSTALLATION
    (row,) = db.rows(OutboxRow)
    assert (row.state, row.last_error) == ("sent", None)
    assert_rest_contract(github.requests)


def test_a_failed_installation_lookup_is_a_clear_outbox_error(
    settings: Settings, db: Db, github: GitHubState
) -> None:
    github.installation_id = None  # the App is not installed on acme/widgets
    with serving(create_app(settings)) as web:
        send(web, "issue_comment", status_command(DELIVERY_INSTALLATION), "d-cmd")
        wait_for(lambda: any(row.state == "dead" for row in db.rows(OutboxRow)))
        assert web.get("/healthz").status_code == 200
    assert db.delivery("d-cmd").status == "done"  # read with the delivery's installation
    (row,) = db.rows(OutboxRow)
    assert row.last_error == (
        "github_not_found: GitHub answered 404 to find the GitHub App's installation on "
        "acme/widgets: Not Found (install the App on acme/widgets or set "
        "TRIAGE_GITHUB_APP_INSTALLATION_ID)"
    )
    assert github.writes() == [
        r for r in github.requests if r.path.endswith("/access_tokens")
    ]  # nothing was written to the repository
    assert "PRIVATE KEY" not in (row.last_error or "")
    assert_rest_contract(github.requests)
