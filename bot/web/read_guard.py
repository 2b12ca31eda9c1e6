"""TRIAGE_READ_TOKEN: when set, every read (GET/HEAD) needs it, except the health probes.

An ASGI middleware rather than a dependency per router, so a read route added later is
guarded too. The API takes `Authorization: Bearer <token>`; a browser asks for HTTP Basic,
any user name, the token as password. Writes keep their own checks (upload token, webhook
signature). Unset: reads stay open, as they always were.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import Settings

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
READ_METHODS = frozenset({"GET", "HEAD"})
REALM = 'realm="triage-bot"'


def _presented(authorization: str) -> bytes | None:
    """The secret an Authorization header carries: a bearer token or a Basic password."""
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value.encode("utf-8", "replace")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        _user, sep, password = decoded.partition(b":")
        return password if sep else None
    return None


def read_allowed(settings: Settings, authorization: str | None) -> bool:
    """Tell whether a read with this Authorization header may go on (constant-time compare)."""
    token = settings.read_token.get_secret_value() if settings.read_token else ""
    if not token:
        return True
    presented = _presented(authorization or "")
    return presented is not None and hmac.compare_digest(presented, token.encode())


class ReadGuard:
    """Answer 401 to a read without the read token, when one is configured."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in READ_METHODS
            or scope["path"] in OPEN_PATHS
        ):
            await self.app(scope, receive, send)
            return
        settings: Settings = scope["app"].state.context.settings
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if read_allowed(settings, authorization):
            await self.app(scope, receive, send)
            return
        await _refuse(send, with_basic=b"text/html" in headers.get(b"accept", b""))


async def _refuse(send: Send, *, with_basic: bool) -> None:
    # A browser (it accepts HTML) is offered Basic, so it prompts; API clients Bearer.
    challenge = f"Basic {REALM}" if with_basic else f"Bearer {REALM}"
    body = json.dumps(
        {"error": "unauthorized", "detail": "reading needs TRIAGE_READ_TOKEN (Bearer or Basic)"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
