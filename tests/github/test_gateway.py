"""The PyGithub gateway against the fake GitHub: REST paths, bodies, headers and error mapping."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.core.errors import TriageError
from bot.github.gateway import PyGithubGateway
from bot.ports.github import GitHubError
from tests.github_server import TOKEN, Fault, GitHubState


def _zip(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("report.json", "x" * size)
    return buffer.getvalue()


def test_create_comment_follows_the_rest_contract(
    github: GitHubState, gateway: PyGithubGateway
) -> None:
    ref = gateway.create_comment(2, "hello")
    (post,) = github.writes()
    assert (post.method, post.path) == ("POST", "/repos/acme/widgets/issues/2/comments")
    assert post.json == {"body": "hello"}
    assert post.headers["Authorization"] == f"token {TOKEN}"
    assert "application/vnd.github" in post.headers["Accept"]
    assert post.headers["Content-Type"].startswith("application/json")
    assert ref.body == "hello"
    assert ref.user_login == "triage-bot"
    assert github.comments[ref.id]["body"] == "hello"


def test_edit_comment_patches_the_comment(github: GitHubState, gateway: PyGithubGateway) -> None:
    cid = github.add_comment(1, "old")["id"]
    gateway.edit_comment(cid, "new")
    (patch,) = github.writes()
    assert (patch.method, patch.path, patch.json) == (
        "PATCH",
        f"/repos/acme/widgets/issues/comments/{cid}",
        {"body": "new"},
    )
    assert github.comments[cid]["body"] == "new"


def test_list_comments_follows_link_pagination(
    github: GitHubState, gateway: PyGithubGateway
) -> None:
    for n in range(130):
        github.add_comment(3, f"c{n}")
    found = gateway.list_comments(3)
    assert [c.body for c in found] == [f"c{n}" for n in range(130)]
    pages = [r for r in github.requests if r.path.endswith("/issues/3/comments")]
    assert len(pages) == 2
    assert pages[0].query["per_page"] == "100"


def test_issue_state_issue_creation_and_lookup(
    github: GitHubState, gateway: PyGithubGateway
) -> None:
    gateway.set_issue_state(1, "closed", "completed")
    assert github.issues[1]["state"] == "closed"
    number = gateway.create_issue("Flaky db", "body <!-- triage-bot:fp -->", ["triage"])
    writes = github.writes()
    assert writes[0].json == {"state": "closed", "state_reason": "completed"}
    assert (writes[1].method, writes[1].path) == ("POST", "/repos/acme/widgets/issues")
    assert writes[1].json == {
        "title": "Flaky db",
        "body": "body <!-- triage-bot:fp -->",
        "labels": ["triage"],
    }
    assert gateway.find_issue("<!-- triage-bot:fp -->") == number
    assert gateway.find_issue("<!-- triage-bot:other -->") is None
    listing = [r for r in github.requests if r.path == "/repos/acme/widgets/issues"][-1]
    assert listing.query["creator"] == "triage-bot"
    assert listing.query["state"] == "all"


def test_permission_returns_the_role_name(github: GitHubState, gateway: PyGithubGateway) -> None:
    github.roles["alice"] = "maintain"
    assert gateway.permission("alice") == "maintain"
    assert gateway.permission("mallory") == "none"


def test_artifacts_download_follows_the_redirect_without_auth(
    github: GitHubState, gateway: PyGithubGateway
) -> None:
    data = _zip(1000)
    aid = github.add_artifact(77, "pytest-report", data)
    (info,) = gateway.list_run_artifacts(77)
    assert (info.id, info.name, info.size_in_bytes, info.expired) == (
        aid,
        "pytest-report",
        len(data),
        False,
    )
    assert gateway.download_artifact(aid, max_bytes=10_000) == data
    blob = [r for r in github.requests if r.path.startswith("/_blobs/")]
    assert len(blob) == 1
    assert "Authorization" not in blob[0].headers


def test_artifact_over_the_cap_is_refused(github: GitHubState, gateway: PyGithubGateway) -> None:
    aid = github.add_artifact(78, "pytest-report", _zip(50_000))
    with pytest.raises(TriageError) as caught:
        gateway.download_artifact(aid, max_bytes=1000)
    assert caught.value.reason == "too_large"


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("5xx", 502, "github_unavailable"),
        ("secondary", 403, "github_rate_limited"),
        ("429", 429, "github_rate_limited"),
        ("primary", 403, "github_rate_limited"),
    ],
)
def test_faults_map_to_github_errors_and_posts_are_never_retried(
    github: GitHubState, gateway: PyGithubGateway, kind: str, status: int, reason: str
) -> None:
    github.faults.append(Fault("POST", r"/comments$", kind, times=5, retry_after=7))
    with pytest.raises(GitHubError) as caught:
        gateway.create_comment(1, "once")
    error = caught.value
    assert (error.status, error.reason, error.transient) == (status, reason, True)
    if kind in ("secondary", "429"):
        assert error.retry_after == 7
    if kind == "primary":
        assert error.rate_limit_reset is not None
    assert TOKEN not in str(error)
    assert len(github.writes()) == 1  # PyGithub sent the POST once
    assert github.comments_on(1) == []


def test_timeout_maps_to_a_transient_error(github: GitHubState, gateway: PyGithubGateway) -> None:
    github.faults.append(Fault("POST", r"/comments$", "timeout", delay=2.5, apply=True))
    with pytest.raises(GitHubError) as caught:
        gateway.create_comment(1, "slow")
    assert (caught.value.reason, caught.value.transient) == ("github_timeout", True)
    assert len(github.writes()) == 1


def test_bad_token_is_not_transient(github: GitHubState, gateway: PyGithubGateway) -> None:
    github.token = "another"
    with pytest.raises(GitHubError) as caught:
        gateway.create_comment(1, "x")
    assert (caught.value.reason, caught.value.transient) == ("github_auth", False)


def test_bot_login_is_asked_once(github: GitHubState, gateway: PyGithubGateway) -> None:
    assert gateway.bot_login() == "triage-bot"
    assert gateway.bot_login() == "triage-bot"
    assert [r.path for r in github.requests] == ["/user"]


def test_missing_artifact_is_not_found(github: GitHubState, gateway: PyGithubGateway) -> None:
    with pytest.raises(GitHubError) as caught:
        gateway.download_artifact(424242, max_bytes=1000)
    assert (caught.value.reason, caught.value.status) == ("github_not_found", 404)


def test_reads_are_retried_on_gateway_errors_but_writes_never(
    github: GitHubState, gateway: PyGithubGateway
) -> None:
    github.faults.append(Fault("GET", r"/permission$", "5xx", times=1))
    github.roles["bob"] = "write"
    assert gateway.permission("bob") == "write"
    assert len([r for r in github.requests if r.path.endswith("/permission")]) == 2
