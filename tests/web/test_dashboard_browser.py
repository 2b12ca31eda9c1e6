"""The dashboard in real headless Chromium: the screenshot shows the known-issue chart drawn."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.charts import PALETTE
from bot.web.app import create_app
from tests.web.conftest import LiveServer, make_settings
from tests.web.test_dashboard_api import seeded

# .ci/run sets this so a missing browser fails the build instead of skipping the test.
REQUIRED = os.environ.get("TRIAGE_REQUIRE_CHROMIUM") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1100",
]  # fmt: skip


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, list[bytearray], int]:
    """Decode an 8-bit RGB or RGBA PNG into rows of bytes; return width, height, rows, bpp."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert (depth, colour) in ((8, 2), (8, 6)), f"unsupported PNG depth {depth} colour {colour}"
    bpp = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            line[x] = (line[x] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def count_colour(png: bytes, hex_colour: str, tolerance: int = 6) -> int:
    """Count the pixels within `tolerance` of a colour."""
    want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    width, _height, rows, bpp = decode_png(png)
    hits = 0
    for row in rows:
        for x in range(0, width * bpp, bpp):
            if all(abs(row[x + i] - want[i]) <= tolerance for i in range(3)):
                hits += 1
    return hits


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="chromium is not installed here")
def test_screenshot_shows_the_chart(sqlite_url: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "TRIAGE_REQUIRE_CHROMIUM=1 but no chromium on PATH"
    seeded(sqlite_url)
    app = create_app(make_settings(sqlite_url))
    app.state.context.clock = lambda: datetime.fromisoformat("2026-11-05T08:00:00+00:00")
    shot = tmp_path / "dashboard.png"
    with LiveServer(app) as server:
        subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
             f"--screenshot={shot}", f"{server.url}/?suite=staging"],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    assert shot.exists(), "chromium wrote no screenshot"
    png = shot.read_bytes()
    keep = os.environ.get("TRIAGE_SCREENSHOT_DIR")
    if keep:
        Path(keep, "dashboard.png").write_bytes(png)
    # Bars of the first two known issues (#1086, #1029 or #623) in their palette colours.
    assert count_colour(png, PALETTE[0]) > 300
    assert count_colour(png, PALETTE[1]) > 300
    # The page itself is drawn: mostly white background.
    width, height, _, _ = decode_png(png)
    assert count_colour(png, "#ffffff", 0) > width * height // 3
