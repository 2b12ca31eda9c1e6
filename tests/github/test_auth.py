"""Choosing credentials: token, GitHub App installation, or a dry run without any."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from bot.config import Settings
from bot.core.errors import TriageError
from bot.github.dryrun import DryRunGateway
from bot.github.gateway import PyGithubGateway, make_gateway
from tests.github_server import GitHubState


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


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
        github_app_private_key=SecretStr(_private_key()),
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


def test_an_app_without_installation_id_is_a_clear_error() -> None:
    settings = _settings(
        github_app_id=42, github_app_private_key=SecretStr("k"), github_repository="acme/widgets"
    )
    with pytest.raises(TriageError) as caught:
        make_gateway(settings)
    assert caught.value.reason == "github_app_installation"
