"""The one capped gunzip: every decoded byte counted, whatever the input (a gzip bomb stops early).

Uploads (Content-Encoding), the report reader and the run digest all decode gzip here, so they
agree on what a gzip report is: concatenated members are one stream (RFC 1952) and zero padding
after the last member is ignored. Each caller turns GzipError into its own error.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Literal

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 256 * 1024

GzipProblem = Literal["too_large", "corrupt", "truncated", "trailing"]


class GzipError(ValueError):
    """Why a gzip stream was refused; `detail` is zlib's reason for a corrupt stream."""

    def __init__(self, problem: GzipProblem, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}" if detail else problem)
        self.problem: GzipProblem = problem
        self.detail = detail


def _inflate(decomp: zlib._Decompress, data: bytes) -> tuple[bytes, bytes]:
    """Decompress at most one chunk of output; return it and the input still to feed."""
    try:
        out = decomp.decompress(data, CHUNK)
    except zlib.error as exc:
        raise GzipError("corrupt", str(exc)) from exc
    return out, decomp.unconsumed_tail


def gunzip(chunks: Iterable[bytes], max_bytes: int, *, one_member: bool = False) -> Iterator[bytes]:
    """Yield the decoded bytes of gzip chunks; GzipError past max_bytes decoded or on bad gzip.

    The input must hold at least one whole member. With one_member, anything but zero padding
    after the first member is "trailing". Work is linear in input plus output: zlib never hands
    back more than CHUNK bytes a call, so the cap is checked before a bomb can inflate.
    """
    decomp: zlib._Decompress | None = zlib.decompressobj(wbits=31)
    total = 0
    for chunk in chunks:
        pending = chunk
        while True:
            if decomp is None:
                # Between members: zero padding is skipped; anything else starts the next one.
                pending = pending.lstrip(b"\x00")
                if not pending:
                    break
                if one_member:
                    raise GzipError("trailing")
                decomp = zlib.decompressobj(wbits=31)
            out, pending = _inflate(decomp, pending)
            total += len(out)
            if total > max_bytes:
                raise GzipError("too_large")
            if out:
                yield out
            if decomp.eof:
                pending = decomp.unused_data + pending
                decomp = None
            elif not out and not pending:
                break  # zlib wants the next chunk
    if decomp is not None:
        raise GzipError("truncated")
