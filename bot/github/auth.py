"""Build a PyGithub client from settings: a token or a GitHub App installation, no write retries."""

from __future__ import annotations

from dataclasses import dataclass

from github import Auth, Github, GithubIntegration
from urllib3.util.retry import Retry

from bot.config import Settings
from bot.core.errors import TriageError

TIMEOUT_S = 15
API_VERSION = "2022-11-28"
# Only GETs are retried inside PyGithub, and only on gateway errors. Every write is retried by
# the outbox sender alone, which first looks for the comment a lost response may have created:
# PyGithub's default GithubRetry re-POSTs on 5xx and so can double a comment.
READ_RETRY = Retry(
    total=2,
    connect=2,
    read=0,
    status=2,
    allowed_methods=frozenset({"GET", "HEAD"}),
    status_forcelist=(502, 503, 504),
    backoff_factor=0.5,
    raise_on_status=False,
    respect_retry_after_header=False,
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """How the gateway authenticates, as decided from settings and the delivery."""

    kind: str  # "token" or "app"
    installation_id: int | None = None


def credentials(settings: Settings, installation_id: int | None = None) -> Credentials | None:
    """Pick token or App auth from settings; None means no credentials (dry run)."""
    if settings.github_token is not None and settings.github_token.get_secret_value():
        return Credentials("token")
    if settings.github_app_id is not None and settings.github_app_private_key is not None:
        installation = installation_id or settings.github_app_installation_id
        if installation is None:
            raise TriageError(
                "github_app_installation",
                "a GitHub App needs an installation id: set TRIAGE_GITHUB_APP_INSTALLATION_ID",
            )
        return Credentials("app", installation)
    return None


def build_client(settings: Settings, creds: Credentials, *, timeout: int = TIMEOUT_S) -> Github:
    """Return a lazy PyGithub client without write retries or PyGithub's own throttling."""
    if creds.kind == "token":
        assert settings.github_token is not None
        auth: Auth.Auth = Auth.Token(settings.github_token.get_secret_value())
    else:
        assert creds.installation_id is not None
        auth = _app_auth(settings).get_installation_auth(creds.installation_id)
    return Github(
        auth=auth,
        base_url=settings.github_api_url.rstrip("/"),
        timeout=timeout,
        per_page=100,
        retry=READ_RETRY,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
        api_version=API_VERSION,
    )


def app_bot_login(settings: Settings) -> str:
    """Return the login a GitHub App writes as: its slug with the [bot] suffix."""
    integration = GithubIntegration(
        auth=_app_auth(settings), base_url=settings.github_api_url.rstrip("/"), retry=READ_RETRY
    )
    try:
        return f"{integration.get_app().slug}[bot]"
    finally:
        integration.close()


def _app_auth(settings: Settings) -> Auth.AppAuth:
    assert settings.github_app_id is not None
    assert settings.github_app_private_key is not None
    return Auth.AppAuth(settings.github_app_id, settings.github_app_private_key.get_secret_value())
