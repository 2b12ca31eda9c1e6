"""Bearer-token check of the upload API (constant time; no token configured means no uploads)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header

from bot.config import Settings
from bot.web.deps import context_settings
from bot.web.errors import ApiError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="triage-bot"'}


def check_bearer(authorization: str | None, settings: Settings) -> None:
    """Raise a 401 ApiError unless `authorization` carries the configured API token."""
    if settings.api_token is None or not settings.api_token.get_secret_value():
        raise ApiError(
            401, "unauthorized", "uploads are disabled: set TRIAGE_API_TOKEN", headers=CHALLENGE
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "missing bearer token", headers=CHALLENGE)
    expected = settings.api_token.get_secret_value().encode()
    if not hmac.compare_digest(token.strip().encode("utf-8", "replace"), expected):
        raise ApiError(
            401,
            "unauthorized",
            "wrong bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="triage-bot", error="invalid_token"'},
        )


def require_token(
    settings: Annotated[Settings, Depends(context_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Dependency: the request must carry `Authorization: Bearer <TRIAGE_API_TOKEN>`."""
    check_bearer(authorization, settings)
