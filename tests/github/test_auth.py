"""Choosing credentials: token, GitHub App installation, or a dry run without any."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.core.errors import TriageError
from bot.github.dryrun import DryRunGateway
from bot.github.factory import GatewayFactory
from bot.github.gateway import PyGithubGateway, make_gateway
from bot.ports.github import GitHubError
from tests.github.fake_state import app_private_key
from tests.github_server import TOKEN, GitHubState


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_without_credentials_the_gateway_is_a_dry_run_that_records() -> None:
    gateway, dry = make_gateway(_settings(github_repository="acme/widgets"))
    assert dry
    assert isinstance(gateway, DryRunGateway)
    ref = gateway.create_comment(3, "hi")
    gateway.edit_comment(ref.id, "hi again")
    assert [action for action, _ in gateway.sent] == ["create_comment", "edit_comment"]
    assert gateway.list_comments(3)[0].body == "hi again"
    assert gateway.permission("anyone") == "none"


def test_the_dry_run_setting_wins_over_credentials() -> None:
    settings = _settings(
        github_token=SecretStr("t"), github_repository="acme/widgets", github_dry_run=True
    )
    assert make_gateway(settings)[1]


def test_github_app_installation_auth(github: GitHubState) -> None:
    settings = _settings(
        github_app_id=42,
        github_app_private_key=SecretStr(app_private_key()),
        github_api_url=github.base_url,
        github_repository=github.repo,
    )
    gateway, dry = make_gateway(settings, installation_id=777)  # from the delivery
    assert not dry
    assert isinstance(gateway, PyGithubGateway)
    gateway.create_comment(1, "as an app")
    assert gateway.bot_login() == "triage-app[bot]"
    paths = [(r.method, r.path) for r in github.requests]
    assert ("POST", "/app/installations/777/access_tokens") in paths
    post = next(r for r in github.requests if r.path.endswith("/issues/1/comments"))
    token = post.headers["Authorization"].split(" ", 1)[1]
    assert token in github.installation_tokens


def _app_settings(github: GitHubState, **values: object) -> Settings:
    return _settings(
        github_app_id=42,
        github_app_private_key=SecretStr(app_private_key()),
        github_api_url=github.base_url,
        github_repository=github.repo,
        **values,
    )


def _token_of(github: GitHubState, path: str) -> int | None:
    request = next(r for r in github.requests if r.path == path)
    return github.installation_of(request)


def test_an_app_without_installation_id_finds_it_on_first_use(github: GitHubState) -> None:
    gateway, dry = make_gateway(_app_settings(github))
    assert not dry
    assert github.requests == []  # making the gateway needs no network
    gateway.create_comment(1, "as the repository's installation")
    gateway.create_comment(2, "again")
    paths = [(r.method, r.path) for r in github.requests]
    assert paths[:2] == [
        ("GET", "/repos/acme/widgets/installation"),
        ("POST", "/app/installations/4242/access_tokens"),
    ]
    assert paths.count(("GET", "/repos/acme/widgets/installation")) == 1  # looked up once
    assert _token_of(github, "/repos/acme/widgets/issues/1/comments") == 4242
    assert _token_of(github, "/repos/acme/widgets/issues/2/comments") == 4242


def test_an_app_not_installed_on_the_repository_is_a_clear_error(github: GitHubState) -> None:
    github.installation_id = None
    gateway, _ = make_gateway(_app_settings(github))
    with pytest.raises(GitHubError) as caught:
        gateway.create_comment(1, "nobody hears this")
    assert caught.value.reason == "github_not_found"
    assert "installation on acme/widgets" in caught.value.message
    assert "TRIAGE_GITHUB_APP_INSTALLATION_ID" in caught.value.message
    assert "PRIVATE KEY" not in caught.value.message
    assert github.writes() == []
    github.installation_id = 5151  # installed since: the next call looks again
    gateway.create_comment(1, "now it works")
    assert _token_of(github, "/repos/acme/widgets/issues/1/comments") == 5151


def test_the_factory_caches_one_gateway_per_installation(github: GitHubState) -> None:
    factory = GatewayFactory(_app_settings(github, github_app_installation_id=4242))
    assert factory.for_installation(None) is factory.gateway
    assert factory.for_installation(4242) is factory.gateway  # the configured one
    first = factory.for_installation(777)
    assert factory.for_installation(777) is first
    assert factory.for_installation(888) is not first
    assert factory.cached() == [777, 888]
    first.permission("mona")
    factory.for_installation(888).permission("mona")
    factory.gateway.permission("mona")
    tokens = [github.installation_of(r) for r in github.requests if "permission" in r.path]
    assert tokens == [777, 888, 4242]


def test_the_factory_bounds_its_cache(github: GitHubState) -> None:
    factory = GatewayFactory(_app_settings(github), max_cached=2)
    for installation in (1, 2, 1, 3):
        factory.for_installation(installation)
    assert factory.cached() == [1, 3]  # 2 was used least recently


def test_with_a_token_the_factory_ignores_the_delivery_installation(github: GitHubState) -> None:
    factory = GatewayFactory(
        _settings(
            github_token=SecretStr(TOKEN),
            github_api_url=github.base_url,
            github_repository=github.repo,
        )
    )
    assert factory.for_installation(777) is factory.gateway
    assert factory.cached() == []
    dry = GatewayFactory(_settings(github_repository="acme/widgets"))
    assert dry.dry_run
    assert dry.for_installation(777) is dry.gateway


@pytest.mark.parametrize("installation", [None, 4242])
def test_a_private_key_that_is_no_key_is_a_clear_error(
    github: GitHubState, installation: int | None
) -> None:
    settings = _app_settings(github, github_app_installation_id=installation).model_copy(
        update={"github_app_private_key": SecretStr("not-a-pem-key")}
    )
    gateway, _ = make_gateway(settings)
    with pytest.raises(GitHubError) as caught:
        gateway.create_comment(1, "never sent")
    assert caught.value.reason == "github_auth"
    assert "TRIAGE_GITHUB_APP_PRIVATE_KEY must be the App's PEM private key" in str(caught.value)
    assert "not-a-pem-key" not in str(caught.value)
    assert github.requests == []


def test_a_dry_run_with_credentials_reads_github_and_records_writes(github: GitHubState) -> None:
    github.roles["mona"] = "maintain"
    settings = _settings(
        github_token=SecretStr(TOKEN),
        github_api_url=github.base_url,
        github_repository=github.repo,
        github_dry_run=True,
    )
    gateway, dry = make_gateway(settings)
    assert dry
    assert gateway.permission("mona") == "maintain"  # asked of GitHub
    gateway.create_comment(1, "would post")  # recorded, not sent
    assert isinstance(gateway, DryRunGateway)
    assert [action for action, _ in gateway.sent] == ["create_comment"]
    assert [r.method for r in github.requests if r.method != "GET"] == []


def test_without_credentials_artifacts_cannot_be_listed() -> None:
    gateway, _ = make_gateway(_settings(github_repository="acme/widgets"))
    with pytest.raises(TriageError) as refused:
        gateway.list_run_artifacts(1)
    assert refused.value.reason == "github_dry_run"
