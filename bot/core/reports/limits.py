"""Stream a report's bytes: size caps, gzip decoding and a UTF-8 check, without loading it whole."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from bot.core.errors import ReportError
from bot.core.gunzip import CHUNK, GZIP_MAGIC, GzipError, gunzip
from bot.core.reports.detect import STARTS, unknown_format

_BOM = codecs.BOM_UTF8


def describe_size(size: int) -> str:
    """Write a byte count for people: 512 bytes, 3.0 KiB, 128.0 MiB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def too_large(max_bytes: int, what: str = "report") -> ReportError:
    """Build the error for a report over the size limit."""
    return ReportError("too_large", f"{what} is larger than the {describe_size(max_bytes)} limit")


def _raw_chunks(stream: BinaryIO, max_bytes: int) -> Iterator[bytes]:
    """Yield the stream's bytes in chunks, refusing more than max_bytes."""
    total = 0
    while True:
        try:
            chunk = stream.read(CHUNK)
        except OSError as exc:
            raise ReportError("unreadable", f"cannot read report: {exc.strerror or exc}") from exc
        if not chunk:
            return
        total += len(chunk)
        if total > max_bytes:
            raise too_large(max_bytes)
        yield chunk


def _gunzip(chunks: Iterator[bytes], max_bytes: int) -> Iterator[bytes]:
    """Decompress gzip members, refusing more than max_bytes of output (a gzip bomb)."""
    try:
        yield from gunzip(chunks, max_bytes)
    except GzipError as exc:
        if exc.problem == "too_large":
            raise too_large(max_bytes, "decompressed report") from None
        if exc.problem == "truncated":
            raise ReportError(
                "malformed", "truncated gzip data: the compressed stream ends early"
            ) from None
        raise ReportError("malformed", f"corrupt gzip data: {exc.detail}") from exc


def _checked_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass chunks through, refusing bytes that are not UTF-8 and dropping a leading BOM."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    first = True
    for raw in chunks:
        chunk = raw[len(_BOM) :] if first and raw.startswith(_BOM) else raw
        head = chunk.lstrip(b" \t\r\n")
        if first and head and not head.startswith(STARTS):
            # Binary junk is an unknown format rather than bad UTF-8.
            raise unknown_format(head)
        first = first and not head
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ReportError("encoding", f"invalid UTF-8 at byte {offset + exc.start}") from exc
        offset += len(chunk)
        yield chunk
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ReportError("encoding", f"invalid UTF-8 at byte {offset}: cut character") from exc


def _decoded(stream: BinaryIO, max_bytes: int) -> Iterator[bytes]:
    """Yield the report's plain bytes, gunzipped when the content starts with gzip's magic."""
    raw = _raw_chunks(stream, max_bytes)
    first = next(raw, b"")
    while 0 < len(first) < len(GZIP_MAGIC):
        more = next(raw, b"")
        if not more:
            break
        first += more

    def replay() -> Iterator[bytes]:
        if first:
            yield first
        yield from raw

    if first.startswith(GZIP_MAGIC):
        return _checked_utf8(_gunzip(replay(), max_bytes))
    return _checked_utf8(replay())


class ReportStream:
    """A report's decoded bytes as a read-only file: peek at the head, then read it once."""

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._chunks = _decoded(stream, max_bytes)
        self._buffer = b""
        self.offset = 0  # bytes handed out by read() so far

    def peek(self, size: int) -> bytes:
        """Return up to size bytes from the current position without consuming them."""
        while len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        return self._buffer[:size]

    def read(self, size: int = -1) -> bytes:
        """Read up to size bytes (all that is left when size is negative)."""
        if size < 0:
            data = self._buffer + b"".join(self._chunks)
            self._buffer = b""
        else:
            if not self._buffer and size > 0:
                self._buffer = next(self._chunks, b"")
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        self.offset += len(data)
        return data

    def chunks(self) -> Iterator[bytes]:
        """Yield what is left, chunk by chunk."""
        while True:
            data = self.read(CHUNK)
            if not data:
                return
            yield data
