"""Fixtures of the fake GitHub server and a real gateway pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.github.gateway import PyGithubGateway, make_gateway
from tests.github_server import TOKEN, GitHubState, assert_rest_contract, running_github


@pytest.fixture
def github() -> Iterator[GitHubState]:
    """A fake GitHub on 127.0.0.1 with issues 1 to 3 open."""
    with running_github() as state:
        for number in (1, 2, 3):
            state.add_issue(number)
        yield state
        assert_rest_contract(state.requests)  # every request the test made


def gateway_for(state: GitHubState, *, timeout: int = 2) -> PyGithubGateway:
    """Build the real PyGithub gateway against the fake server."""
    settings = Settings(
        github_token=SecretStr(TOKEN),
        github_api_url=state.base_url,
        github_repository=state.repo,
        _env_file=None,  # type: ignore[call-arg]
    )
    gateway, dry = make_gateway(settings, timeout=timeout)
    assert not dry
    assert isinstance(gateway, PyGithubGateway)
    return gateway


@pytest.fixture
def gateway(github: GitHubState) -> Iterator[PyGithubGateway]:
    """The real gateway against the fake GitHub, with a short timeout."""
    gw = gateway_for(github, timeout=1)
    yield gw
    gw.close()
