"""Build a PyGithub client from settings: a token or a GitHub App installation, no write retries."""

from __future__ import annotations

from dataclasses import dataclass

from github import Auth, Github, GithubIntegration
from urllib3.util.retry import Retry

from bot.config import Settings
from bot.github.errors import mapped
from bot.ports.github import GitHubError

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
    installation_id: int | None = None  # None for an App: found for the repository on first use


def credentials(settings: Settings, installation_id: int | None = None) -> Credentials | None:
    """Pick token or App auth from settings; None means no credentials (dry run)."""
    if settings.github_token is not None and settings.github_token.get_secret_value():
        return Credentials("token")
    if settings.github_app_id is not None and settings.github_app_private_key is not None:
        return Credentials("app", installation_id or settings.github_app_installation_id)
    return None


def build_client(settings: Settings, creds: Credentials, *, timeout: int = TIMEOUT_S) -> Github:
    """Return a lazy PyGithub client without write retries or PyGithub's own throttling."""
    if creds.kind == "token":
        assert settings.github_token is not None
        auth: Auth.Auth = Auth.Token(settings.github_token.get_secret_value())
    else:
        installation = creds.installation_id or find_installation(settings, timeout=timeout)
        auth = _app_auth(settings).get_installation_auth(installation)
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


def find_installation(settings: Settings, *, timeout: int = TIMEOUT_S) -> int:
    """Ask GitHub which installation of the App covers TRIAGE_GITHUB_REPOSITORY."""
    repository = settings.github_repository or ""
    owner, _, name = repository.partition("/")
    integration = _integration(settings, timeout=timeout)
    try:
        with mapped(f"find the GitHub App's installation on {repository}"):
            return int(integration.get_repo_installation(owner, name).id)
    except GitHubError as exc:
        hint = (
            f"install the App on {repository} or set TRIAGE_GITHUB_APP_INSTALLATION_ID"
            if exc.status == 404
            else "check TRIAGE_GITHUB_APP_ID and TRIAGE_GITHUB_APP_PRIVATE_KEY"
            if exc.status in (401, 403)
            else "it is looked up again on the next GitHub call"
        )
        raise GitHubError(
            exc.reason,
            f"{exc.message} ({hint})",
            status=exc.status,
            retry_after=exc.retry_after,
            rate_limit_reset=exc.rate_limit_reset,
            transient=exc.transient,
        ) from None
    finally:
        integration.close()


def app_bot_login(settings: Settings) -> str:
    """Return the login a GitHub App writes as: its slug with the [bot] suffix."""
    integration = _integration(settings)
    try:
        return f"{integration.get_app().slug}[bot]"
    finally:
        integration.close()


def _integration(settings: Settings, *, timeout: int = TIMEOUT_S) -> GithubIntegration:
    """Return a client that authenticates as the App itself (a JWT), for its own endpoints."""
    return GithubIntegration(
        auth=_app_auth(settings),
        base_url=settings.github_api_url.rstrip("/"),
        timeout=timeout,
        retry=READ_RETRY,
    )


def _app_auth(settings: Settings) -> Auth.AppAuth:
    assert settings.github_app_id is not None
    assert settings.github_app_private_key is not None
    return Auth.AppAuth(settings.github_app_id, settings.github_app_private_key.get_secret_value())
