"""Read a request body without buffering past a limit; undo gzip Content-Encoding with a cap."""

from __future__ import annotations

import logging

from fastapi import Request
from starlette.requests import ClientDisconnect

from bot.core.gunzip import GzipError, gunzip
from bot.web.errors import ApiError

log = logging.getLogger(__name__)


def _too_large(max_bytes: int, what: str) -> ApiError:
    return ApiError(413, "too_large", f"{what} is larger than the limit of {max_bytes} bytes")


async def read_capped(request: Request, max_bytes: int, what: str = "request body") -> bytes:
    """Return the raw body; 413 as soon as Content-Length or the streamed bytes pass max_bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, "bad_request", "Content-Length is not a number") from None
        if size > max_bytes:
            raise _too_large(max_bytes, what)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(max_bytes, what)
    except ClientDisconnect:
        # Nobody is left to answer: one line in the log, no traceback, nothing stored.
        log.warning("client disconnected after sending %d bytes of the %s", len(body), what)
        raise ApiError(
            400, "client_disconnected", f"the client disconnected during the {what}"
        ) from None
    return bytes(body)


def gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """Decompress a gzip body; 413 past max_bytes decompressed, 400 when it is not valid gzip."""
    try:
        return b"".join(gunzip((data,), max_bytes, one_member=True))
    except GzipError as exc:
        if exc.problem == "too_large":
            raise _too_large(max_bytes, "decompressed report") from None
        raise ApiError(400, "bad_encoding", _BAD_GZIP[exc.problem].format(exc.detail)) from None


_BAD_GZIP = {
    "truncated": "gzip body is truncated",
    "trailing": "gzip body has trailing data or several members",
    "corrupt": "gzip body is not valid: {}",
}


def decode_body(data: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """Undo the Content-Encoding of an upload (identity or gzip)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return data
    if encoding in ("gzip", "x-gzip"):
        return gunzip_capped(data, max_bytes)
    raise ApiError(415, "unsupported_encoding", f"Content-Encoding {encoding!r} is not supported")
