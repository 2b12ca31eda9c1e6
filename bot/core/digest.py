"""Report digests: SHA-256 of the gzip-decoded bytes, so gzip or not gives the same digest.

The digest reads gzip exactly as the report reader does (bot/core/reports/limits.py): every
concatenated member, trailing zero padding ignored. Reading only the first member made two
different reports that share a first member look like one run.
"""

from __future__ import annotations

import hashlib
import zlib

from bot.core.errors import ReportError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def report_digest(data: bytes, *, max_bytes: int) -> str:
    """Hash the report's decoded bytes; raise ReportError past max_bytes or on bad gzip."""
    sha = hashlib.sha256()
    if not data.startswith(GZIP_MAGIC):
        if len(data) > max_bytes:
            raise ReportError("too_large", f"report is larger than {max_bytes} bytes")
        sha.update(data)
        return sha.hexdigest()
    total, offset = 0, 0
    view = memoryview(data)
    try:
        while offset < len(data):
            decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            total, offset = _member(decoder, view, offset, sha, (total, max_bytes))
            if not decoder.eof:
                raise ReportError("bad_gzip", "report is not valid gzip: truncated")
            # The next member, as the reader takes it; zero padding after the last is ignored.
            while offset < len(data) and data[offset] == 0:
                offset += 1
    except zlib.error as exc:
        raise ReportError("bad_gzip", f"report is not valid gzip: {exc}") from exc
    return sha.hexdigest()


def _member(
    decoder: zlib._Decompress,
    view: memoryview,
    offset: int,
    sha: hashlib._Hash,
    budget: tuple[int, int],
) -> tuple[int, int]:
    """Feed the gzip member at offset into sha; budget is (decoded so far, cap).

    Return the new decoded total and the offset where the member ends.
    """
    total, cap = budget
    for start in range(offset, len(view), _CHUNK):
        piece = view[start : start + _CHUNK]
        chunk = decoder.decompress(piece, cap + 1 - total)
        while chunk:
            total += len(chunk)
            if total > cap:
                raise ReportError("too_large", f"report is larger than {cap} bytes")
            sha.update(chunk)
            chunk = decoder.decompress(decoder.unconsumed_tail, cap + 1 - total)
        if decoder.eof:
            return total, start + len(piece) - len(decoder.unused_data)
    return total, len(view)
