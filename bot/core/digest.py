"""Report digests: SHA-256 of the gzip-decoded bytes, so gzip or not gives the same digest."""

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
    decoder = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    total = 0
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            chunk = decoder.decompress(view[start : start + _CHUNK], max_bytes + 1 - total)
            while chunk:
                total += len(chunk)
                if total > max_bytes:
                    raise ReportError("too_large", f"report is larger than {max_bytes} bytes")
                sha.update(chunk)
                chunk = decoder.decompress(decoder.unconsumed_tail, max_bytes + 1 - total)
    except zlib.error as exc:
        raise ReportError("bad_gzip", f"report is not valid gzip: {exc}") from exc
    if not decoder.eof:
        raise ReportError("bad_gzip", "report is not valid gzip: truncated")
    return sha.hexdigest()
