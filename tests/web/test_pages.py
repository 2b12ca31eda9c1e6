"""The triage pages over real HTTP, on runs uploaded through the API from real pytest reports."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from bot.core.knowledge import parse_knowledge
from bot.web.app import create_app
from tests.web.conftest import PAYLOADS, auth, make_settings, serving, signed, wait_for

NOW = datetime.fromisoformat("2026-11-20T09:00:00+00:00")
COMMIT = "acb5820ced9479c074f688cc328bf03f341a511d"
REPO = "https://github.com/acme/widgets"
SUITE = "staging-e2e"

# One suite run three times (KIND a, b, c): known issues, a product bug that passes in run b,
# an unknown timeout (a cluster), a hostile node id, and a test that passes on a rerun in run c.
TESTS = """
import os, pathlib, pytest

KIND = os.environ["RUN_KIND"]

def test_passes():
    pass

def test_redis_down():
    exc = type("ConnectionError", (Exception,), {"__module__": "redis.exceptions"})
    raise exc("Error 111 connecting to redis.staging:6379. Connection refused.")

def test_product_bug():
    assert KIND == "b", "arithmetic is broken"

def test_needs_fixture(real_services):
    pass

def test_search_timeout():
    raise TimeoutError("search did not answer in 30s; password=hunter2")

@pytest.mark.parametrize("name", ["<script>alert(1)</script>"])
def test_hostile(name):
    assert KIND != "c", f"bad {name}"

def test_sometimes():
    mark = pathlib.Path(os.environ["MARK_DIR"], "tried")
    if KIND == "c" and not mark.exists():
        mark.write_text("once")
        raise AssertionError("first attempt fails")
"""


@pytest.fixture(scope="session")
def three_reports(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Run the suite with real pytest three times; return the JSON reports, oldest first."""
    work = tmp_path_factory.mktemp("pages-suite")
    (work / "test_shop.py").write_text(TESTS)
    out = []
    for kind in "abc":
        report = work / f"{kind}.json"
        reruns = ["--reruns", "1"] if kind == "c" else []
        subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *reruns,
             "--json-report", f"--json-report-file={report}", "test_shop.py"],
            cwd=work, capture_output=True, check=False, timeout=120,
            env={"RUN_KIND": kind, "MARK_DIR": str(work), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        out.append(report.read_bytes())
    return out


def build_app(database_url: str) -> FastAPI:
    app = create_app(make_settings(database_url, github_repository="acme/widgets"))
    app.state.context.clock = lambda: NOW
    return app


def upload(http: httpx.Client, reports: list[bytes]) -> list[int]:
    """Upload the three reports a day apart, with commit and CI link; close issue 1029."""
    ids = []
    for n, report in enumerate(reports):
        params = {
            "suite": SUITE, "branch": "main", "commit": COMMIT,
            "ci_url": f"https://ci.example/runs/{n + 1}",
            "started_at": (NOW - timedelta(days=3 - n)).isoformat(),
        }  # fmt: skip
        answer = http.post("/api/v1/runs", params=params, content=report, headers=auth())
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["run_id"])
    body = (PAYLOADS / "issues_closed.json").read_bytes()
    answer = http.post(
        "/api/v1/github/webhook", content=body, headers=signed(body, "issues", "pages-1")
    )
    assert answer.status_code in (200, 202), answer.text
    # The dry-run outbox sender writes the sticky comment on the issue in the background.
    wait_for(lambda: all(w in http.get("/issues/1029").text for w in (">closed", "issuecomment-")))
    return ids


@dataclass
class Site:
    http: httpx.Client
    runs: list[int]
    pages: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> str:
        answer = self.http.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")
        return answer.text


@pytest.fixture
def site(database_url: str, three_reports: list[bytes]) -> Iterator[Site]:
    with serving(build_app(database_url)) as http:
        yield Site(http, upload(http, three_reports))


class Links(HTMLParser):
    """Collect every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("href", "src") and v]


def hrefs(page: str) -> list[str]:
    parser = Links()
    parser.feed(page)
    return parser.found


def page_paths(page: str) -> dict[str, str]:
    """Return one path of each page kind the overview and the pages link to."""
    found: dict[str, str] = {}
    for href in hrefs(page):
        path = urlsplit(href).path
        kind = path.split("/")[1] if path.count("/") >= 1 else ""
        if kind in ("runs", "issues", "clusters", "tests", "criteria") and kind not in found:
            found[kind] = href
    return found


def check_links(http: httpx.Client, page: str) -> set[str]:
    """Fetch every same-site href of a page (200 each); return the other sites' hrefs."""
    outside = set()
    for href in set(hrefs(page)):
        if href.startswith(("http://", "https://")):
            outside.add(href)
            continue
        assert href.startswith(("/", "?")), href
        answer = http.get(href if href.startswith("/") else "/" + href)
        assert answer.status_code == 200, (href, answer.status_code)
    return outside


def test_overview_links_to_every_kind_of_page(site: Site) -> None:
    overview = site.get("/")
    for section in ("objective", "issue-table", "known-issues", "runs", "clusters", "flaky"):
        assert f'id="{section}"' in overview
    assert f'href="/runs/{site.runs[-1]}"' in overview
    assert 'href="/issues/1029"' in overview
    assert set(page_paths(overview)) == {"runs", "issues", "clusters", "tests", "criteria"}
    assert check_links(site.http, overview) == set()
    assert "Redis connection failures in staging" in overview
    assert "<script>alert" not in overview


def test_run_page_lists_every_failure(site: Site) -> None:
    page = site.get(f"/runs/{site.runs[0]}")
    assert "Failures (4)" in page  # redis, product, fixture, timeout
    for text in ("test_redis_down", "#1029", "Redis connection failures in staging",
                 "redis-port-connect", "known", "infrastructure", "new", "product", "setup",
                 "TimeoutError: search did not answer in 30s; password=***"):  # fmt: skip
        assert text in page, text
    assert "hunter2" not in page
    last = site.get(f"/runs/{site.runs[2]}")
    assert "test_hostile[&lt;script&gt;alert(1)&lt;/script&gt;]" in last
    assert "<script>" not in last
    outside = check_links(site.http, page)
    assert outside == {"https://ci.example/runs/1", f"{REPO}/commit/{COMMIT}"}
    assert site.http.get("/runs/99999").status_code == 404
    assert site.http.get("/runs/0").status_code == 422


def test_issue_page_shows_state_rules_and_tests(site: Site) -> None:
    page = site.get("/issues/1029")
    assert ">closed" in page
    assert f'href="{REPO}/issues/1029"' in page
    assert "<svg" in page
    assert "<rect" in page
    assert "redis-client-error" in page
    assert "redis-port-connect" in page
    assert "100%" in page  # precision of the rule that matched three times
    assert "test_redis_down" in page
    comment = re.search(r'href="([^"]+#issuecomment-\d+)"', page)
    assert comment is not None
    assert check_links(site.http, page) == {f"{REPO}/issues/1029", comment.group(1)}
    assert site.http.get("/issues/424242").status_code == 404


def test_cluster_page_suggests_a_knowledge_file_that_loads(site: Site) -> None:
    overview = site.get("/")
    cluster = next(h for h in hrefs(overview) if h.startswith("/clusters/"))
    page = site.get(cluster)
    text = html.unescape(re.search(r"<pre>(.*?)</pre>", page, re.S).group(1))  # type: ignore[union-attr]
    name = html.unescape(re.search(r"<code>knowledge/(issues/[^<]+)</code>", page).group(1))  # type: ignore[union-attr]
    kb = parse_knowledge({name: text})
    assert len(kb.rules) == 1
    assert 'category = "' in text
    assert "[[rules]]" in text
    matched = re.search(r"the rule matches <strong>(\d+)</strong>", page)
    assert matched is not None
    assert int(matched.group(1)) >= 3
    assert check_links(site.http, page) == set()
    assert site.http.get("/clusters/nope").status_code == 404


def test_test_page_has_a_strip_flakiness_and_linked_issues(site: Site) -> None:
    run_page = site.get(f"/runs/{site.runs[0]}")
    link = next(h for h in hrefs(run_page) if "test_redis_down" in h)
    page = site.get(html.unescape(link))
    assert page.count("<rect") >= 3  # one cell per run
    assert "#1029" in page
    flaky = site.get("/tests?" + "suite=staging-e2e&nodeid=test_shop.py::test_sometimes")
    assert "passed on a rerun in 1 of 3 runs" in flaky
    assert check_links(site.http, page) == set()
    missing = site.http.get("/tests", params={"suite": SUITE, "nodeid": "nope"})
    assert missing.status_code == 404
    assert site.http.get("/tests", params={"suite": SUITE}).status_code == 422


def test_criteria_page_shows_verdicts_and_evidence(site: Site) -> None:
    page = site.get("/criteria")
    assert SUITE in page
    assert "2026-W46" in page
    assert "Evidence" in page
    this_week = site.get("/criteria?suite=staging-e2e&week=2026-W47")
    assert "this week so far (2026-W47)" in page
    assert "Staging test suite integrated into CI" in this_week
    assert "3 matching failures in 1 group," in this_week  # the fixture criterion's evidence
    assert "#1029: 3 (last week 0, up)" in this_week
    assert check_links(site.http, page) == set()
    assert site.http.get("/criteria", params={"week": "W9"}).status_code == 422
    assert site.http.get("/criteria", params={"suite": "nope"}).status_code == 404


def test_pages_without_runs(sqlite_url: str) -> None:
    with serving(build_app(sqlite_url)) as http:
        assert "No run ingested yet." in http.get("/criteria").text
        assert http.get("/issues/1029").status_code == 200  # known, never seen
        assert http.get("/runs/1").status_code == 404


def test_docs_need_no_other_site(sqlite_url: str) -> None:
    with serving(build_app(sqlite_url)) as http:
        for path in ("/docs", "/redoc"):
            page = http.get(path)
            assert page.status_code == 200
            assert not re.search(r"(src|href)=['\"]?https?:", page.text), path
            for ref in hrefs(page.text):
                assert http.get(ref).status_code == 200, ref
        assert (
            http.get("/docs/assets/swagger-ui-bundle.js")
            .headers["content-type"]
            .startswith(("application/javascript", "text/javascript"))
        )
        assert http.get("/docs/assets/..%2Fcore.py").status_code == 404
        assert http.get("/docs/assets/nope.js").status_code == 404
