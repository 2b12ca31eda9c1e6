"""Map PyGithub and transport exceptions to GitHubError with retry hints and no secrets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from github import GithubException
from jwt import PyJWTError  # PyGithub signs a GitHub App's JWT with PyJWT
from urllib3.exceptions import ConnectTimeoutError

from bot.ports.github import GitHubError

_MESSAGE_MAX = 200


@contextmanager
def mapped(what: str) -> Iterator[None]:
    """Turn any failure of the GitHub call `what` into a GitHubError."""
    try:
        yield
    except GitHubError:
        raise
    except GithubException as exc:
        raise from_github_exception(what, exc) from None
    except PyJWTError:
        raise GitHubError(
            "github_auth",
            f"cannot sign the GitHub App's JWT to {what}: "
            "TRIAGE_GITHUB_APP_PRIVATE_KEY must be the App's PEM private key",
        ) from None
    except TimeoutError as exc:
        raise GitHubError("github_timeout", f"GitHub timed out on {what}", transient=True) from exc
    except OSError as exc:  # requests' and urllib3's errors are OSErrors
        name = type(exc).__name__
        if _never_connected(exc):
            reason = "github_unreachable"  # no request left this process
        elif "Timeout" in name:
            reason = "github_timeout"
        else:
            reason = "github_connection_lost"  # sent, then the connection broke: outcome unknown
        raise GitHubError(reason, f"GitHub call {what} failed: {name}", transient=True) from None


def from_github_exception(what: str, exc: GithubException) -> GitHubError:
    """Classify one HTTP error answer of GitHub."""
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    status = exc.status
    text = _message(exc.data)
    retry_after = _number(headers.get("retry-after"))
    reset = _number(headers.get("x-ratelimit-reset"))
    limited = status == 429 or (
        status == 403
        and (
            retry_after is not None
            or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in text.lower()
        )
    )
    message = f"GitHub answered {status} to {what}: {text}"[: _MESSAGE_MAX + 60]
    if limited:
        return GitHubError(
            "github_rate_limited",
            message,
            status=status,
            retry_after=retry_after,
            rate_limit_reset=reset if headers.get("x-ratelimit-remaining") == "0" else None,
            transient=True,
        )
    if status >= 500:
        return GitHubError("github_unavailable", message, status=status, transient=True)
    reasons = {401: "github_auth", 403: "github_forbidden", 404: "github_not_found"}
    return GitHubError(reasons.get(status, "github_rejected"), message, status=status)


def _never_connected(exc: BaseException) -> bool:
    """Tell whether the connection itself failed (refused, DNS, connect time-out)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectTimeoutError):  # NewConnectionError is one too
            return True
        todo.extend([*current.args, current.__cause__, current.__context__])
        todo.append(getattr(current, "reason", None))  # urllib3's MaxRetryError
    return False


def _message(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("message", ""))[:_MESSAGE_MAX]
    return str(data or "")[:_MESSAGE_MAX]


def _number(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None
