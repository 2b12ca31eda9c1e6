"""Every triage page in real headless Chromium at 400 and 1400 px: charts drawn, links resolve."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.core.charts import PALETTE, PLOT_BACKGROUND, STRIP_COLOURS
from bot.web.app import create_app
from tests.web.conftest import LiveServer, make_settings
from tests.web.test_dashboard_browser import CHROMIUM, FLAGS, REQUIRED, decode_png
from tests.web.test_pages import build_app, check_links, hrefs, three_reports, upload

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None and not REQUIRED, reason="chromium is not installed here"),
]
BASE_FLAGS = [f for f in FLAGS if not f.startswith("--window-size")]
# Any host but the test server fails to resolve: a page that needs a CDN would show that.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
WIDTHS = (400, 1400)
__all__ = ["three_reports"]  # the session fixture that runs the suite, shared with test_pages


@dataclass(frozen=True)
class Box:
    """Where pixels of some colours are in a screenshot."""

    count: int
    left: int
    right: int

    @property
    def width(self) -> int:
        return self.right - self.left + 1 if self.count else 0


@dataclass(frozen=True)
class Shot:
    """A decoded screenshot (decoding in pure Python is the slow part: once per screenshot)."""

    width: int
    rows: list[bytes]
    bpp: int

    @classmethod
    def of(cls, png: bytes) -> Shot:
        width, _height, rows, bpp = decode_png(png)
        return cls(width, [bytes(r) for r in rows], bpp)


def colour_box(shot: Shot, colours: list[str]) -> Box:
    """Return the box of the screenshot's pixels of exactly these colours."""
    rows, bpp = shot.rows, shot.bpp
    wanted = [bytes(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in colours]
    count, left, right = 0, shot.width, -1
    for raw in rows:
        for colour in wanted:
            at = raw.find(colour)
            while at != -1:
                if at % bpp == 0:  # aligned on a pixel, not across two
                    x = at // bpp
                    count, left, right = count + 1, min(left, x), max(right, x)
                at = raw.find(colour, at + 1)
    return Box(count, left, right)


def screenshot(url: str, width: int, where: Path, height: int = 1400) -> Shot:
    """Load a page in headless Chromium at this window width; return the PNG."""
    assert CHROMIUM is not None, "TRIAGE_REQUIRE_CHROMIUM=1 but no chromium on PATH"
    shot = where / f"shot-{width}.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [CHROMIUM, *BASE_FLAGS, OFFLINE, f"--window-size={width},{height}",
         f"--user-data-dir={where / 'profile'}", f"--screenshot={shot}", url],
        capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    assert shot.exists(), f"chromium wrote no screenshot of {url}"
    png = shot.read_bytes()
    keep = os.environ.get("TRIAGE_SCREENSHOT_DIR")
    if keep:
        name = url.split("/", 3)[-1].replace("/", "_").replace("?", "_")[:60] or "overview"
        Path(keep, f"{name}-{width}.png").write_bytes(png)
    return Shot.of(png)


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, three_reports: list[bytes]
) -> Iterator[tuple[str, dict[str, str]]]:
    """One seeded server for every page; yield its URL and the path of each page."""
    db = tmp_path_factory.mktemp("pages-db") / "triage.db"
    with LiveServer(build_app(f"sqlite:///{db}")) as server:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            runs = upload(http, three_reports)
            overview = http.get("/").text
        cluster = next(h for h in hrefs(overview) if h.startswith("/clusters/"))
        paths = {
            "overview": "/",
            "run": f"/runs/{runs[-1]}",
            "issue": "/issues/1029",
            "cluster": cluster,
            "test": "/tests?suite=staging-e2e&nodeid=test_shop.py%3A%3Atest_sometimes",
            "criteria": "/criteria?suite=staging-e2e&week=2026-W47",
        }
        yield server.url, paths


# Per page: the colours its charts are drawn in (none: no chart on that page).
CHARTS: dict[str, list[str]] = {
    "overview": [PALETTE[0], PALETTE[1]],
    "issue": [PALETTE[0]],
    "test": [STRIP_COLOURS["P"], STRIP_COLOURS["F"], STRIP_COLOURS["K"]],
    "run": [],
    "cluster": [],
    "criteria": [],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(CHARTS))
def test_page_renders_with_charts_and_links(
    live: tuple[str, dict[str, str]], tmp_path: Path, name: str, width: int
) -> None:
    url, paths = live
    # The overview's chart comes below the objective table, further down on a phone.
    shot = screenshot(url + paths[name], width, tmp_path, 1800 if width < 600 else 1400)
    drawn = colour_box(shot, CHARTS[name] or ["#1b1f24"])  # the charts, or the body text
    assert shot.width == width
    assert drawn.count > (300 if CHARTS[name] else 50), drawn
    assert drawn.right < width - 4, "cut off at the right edge"
    if name in ("overview", "issue"):
        # A fluid chart fills its column: most of a phone's width, up to 48rem on a wide screen.
        plot = colour_box(shot, [PLOT_BACKGROUND])
        assert plot.width > (width * 0.7 if width < 600 else 550), plot
        assert plot.right < width - 4, "chart cut off at the right edge"
    white = colour_box(shot, ["#ffffff"])
    assert white.count > width * 1000  # the page is drawn, on a white background
    with httpx.Client(base_url=url, timeout=60) as http:
        page = http.get(paths[name]).text
        check_links(http, page)


def test_charts_scale_with_the_window(live: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, paths = live
    narrow = colour_box(screenshot(url + paths["issue"], 400, tmp_path, 900), [PALETTE[0]])
    wide = colour_box(screenshot(url + paths["issue"], 1400, tmp_path, 900), [PALETTE[0]])
    # The same bars, drawn wider on the wider window.
    assert wide.width > narrow.width * 1.5


def test_api_docs_render_their_operations_offline(sqlite_url: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "TRIAGE_REQUIRE_CHROMIUM=1 but no chromium on PATH"
    with LiveServer(create_app(make_settings(sqlite_url))) as server:
        done = subprocess.run(
            [CHROMIUM, *BASE_FLAGS, OFFLINE, "--window-size=1280,2000",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000",
             "--dump-dom", f"{server.url}/docs"],
            capture_output=True, timeout=180, check=False, text=True,
        )  # fmt: skip
    dom = done.stdout
    assert 'class="swagger-ui' in dom, dom[:500]
    for summary in ("Upload a test report", "List runs, newest first", "One run with its failures"):
        assert summary in dom, summary
    assert "opblock-summary-path" in dom  # operations drawn as Swagger UI blocks
    assert "Failed to load API definition" not in dom
