"""Error bodies and handlers: every error is JSON {error, detail}, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.errors import ReportError, TriageError

log = logging.getLogger(__name__)

_STATUS_BY_REASON = {
    "too_large": 413,
    "unauthorized": 401,
    "missing_signature": 401,
    "bad_signature": 401,
    "not_found": 404,
    "unsupported_media_type": 415,
}


class ApiError(Exception):
    """An error the edge answers with a status and a reason code."""

    def __init__(
        self, status: int, reason: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers


class ErrorBody(BaseModel):
    """What every 4xx and 5xx answer carries."""

    error: str = Field(description="stable reason code", examples=["bad_report"])
    detail: str = Field(description="what is wrong, for people", examples=["line 3: not JSON"])


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """Declare error answers of a route for the OpenAPI document."""
    descriptions = {
        400: "Malformed request",
        401: "Missing or wrong credentials",
        404: "Not found",
        413: "Body too large",
        422: "Unprocessable input",
    }
    return {
        status: {
            "model": ErrorBody,
            "description": descriptions.get(status, "Error"),
            "content": {
                "application/json": {"example": {"error": "reason_code", "detail": "what is wrong"}}
            },
        }
        for status in statuses
    }


def status_for(exc: TriageError) -> int:
    """Map a core error to its HTTP status."""
    if exc.reason in _STATUS_BY_REASON:
        return _STATUS_BY_REASON[exc.reason]
    return 422 if isinstance(exc, ReportError) else 400


def _json(
    status: int, reason: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": reason, "detail": detail}, status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _json(exc.status, exc.reason, exc.detail, exc.headers)


async def _triage_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TriageError)
    return _json(status_for(exc), exc.reason, exc.message)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return _json(422, "invalid_request", "; ".join(parts) or "invalid request")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    return _json(exc.status_code, reason, str(exc.detail), headers)


class CatchAll:
    """Answer real bugs with a generic JSON 500 and log the traceback server side only.

    Unlike an Exception handler (which Starlette re-raises to the server after answering,
    so the connection is dropped), this ends the request cleanly.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                answer = _json(
                    500, "internal_error", "internal error; the server log has the details"
                )
                await answer(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as JSON {error, detail}."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(TriageError, _triage_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(CatchAll)
