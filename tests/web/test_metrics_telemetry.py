"""/metrics from prometheus_client: process, request and latency series, one registry per app."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr

from bot.web.app import create_app
from tests.github_server import TOKEN, GitHubState
from tests.web.conftest import auth, make_settings, serving, wait_for
from tests.web.webhook_support import RUN_ID, payload, send, zip_of

REQUESTS = "triage_http_request_duration_seconds"


def samples(http: httpx.Client) -> list[Sample]:
    """Scrape /metrics and parse the exposition as Prometheus would."""
    answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    families = text_string_to_metric_families(answer.text)
    return [sample for family in families for sample in family.samples]


def value(http: httpx.Client, name: str, **labels: str) -> float:
    """The value of one series (0 when it is not served yet)."""
    found = [s.value for s in samples(http) if s.name == name and s.labels == labels]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


@pytest.fixture
def live(sqlite_url: str, github: GitHubState) -> Iterator[httpx.Client]:
    """The app over HTTP, writing to the fake GitHub with a token, its sender running."""
    settings = make_settings(
        sqlite_url,
        github_dry_run=False,
        github_token=SecretStr(TOKEN),
        github_api_url=github.base_url,
        github_repository=github.repo,
        outbox_min_interval_s=0.0,
    )
    with serving(create_app(settings)) as http:
        yield http


def test_process_and_platform_series_are_served(client: httpx.Client) -> None:
    names = {s.name for s in samples(client)}
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
        "python_info",
    ):
        assert name in names


def test_requests_are_counted_by_route_template_never_the_raw_path(client: httpx.Client) -> None:
    run = {"method": "GET", "route": "/api/v1/runs/{run_id}", "status": "4xx"}
    before = value(client, f"{REQUESTS}_count", **run)
    assert client.get("/api/v1/runs/987654").status_code == 404
    assert client.get("/no/such/page/31337").status_code == 404
    assert client.request("PROPFIND", "/metrics").status_code == 405
    served = samples(client)
    counts = {
        tuple(sorted(s.labels.items())): s.value for s in served if s.name == f"{REQUESTS}_count"
    }
    assert counts[tuple(sorted(run.items()))] == before + 1
    assert counts[(("method", "GET"), ("route", "none"), ("status", "4xx"))] == 1
    assert counts[(("method", "other"), ("route", "/metrics"), ("status", "4xx"))] == 1
    # The scrape that read `before` was answered 200 under the route's template.
    assert counts[(("method", "GET"), ("route", "/metrics"), ("status", "2xx"))] == 1
    labels = [s.labels for s in served if s.name.startswith(REQUESTS)]
    assert not [x for x in labels if "987654" in x.get("route", "") or "31337" in str(x)]


def test_head_metrics_answers_without_a_body(client: httpx.Client) -> None:
    answer = client.head("/metrics")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-type"].startswith("text/plain")
    head = {"method": "HEAD", "route": "/metrics", "status": "2xx"}
    assert value(client, f"{REQUESTS}_count", **head) == 1


def test_a_request_that_raises_counts_as_5xx(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    with serving(app) as http:
        assert http.get("/boom").status_code == 500
        assert value(http, f"{REQUESTS}_count", method="GET", route="/boom", status="5xx") == 1


def test_ingest_histogram_counts_uploads_by_outcome(
    live: httpx.Client, reports: dict[str, bytes]
) -> None:
    name = "triage_ingest_duration_seconds_count"
    assert value(live, name, outcome="created") == 0  # served at 0 before the first upload
    upload = live.post("/api/v1/runs?suite=shop", content=reports["json"], headers=auth())
    assert upload.status_code == 201, upload.text
    assert value(live, name, outcome="created") == 1
    assert value(live, "triage_ingest_duration_seconds_sum", outcome="created") > 0
    again = live.post("/api/v1/runs?suite=shop", content=reports["json"], headers=auth())
    assert again.status_code == 200
    bad = live.post("/api/v1/runs?suite=shop", content=b"not a report", headers=auth())
    assert 400 <= bad.status_code < 500
    assert value(live, name, outcome="created") == 1
    assert value(live, name, outcome="duplicate") == 1
    assert value(live, name, outcome="rejected") == 1
    assert value(live, "triage_ingest_duration_seconds_bucket", outcome="created", le="+Inf") == 1


def test_webhook_histogram_counts_signed_deliveries_by_outcome(
    live: httpx.Client, github: GitHubState, reports: dict[str, bytes]
) -> None:
    name = "triage_webhook_delivery_duration_seconds_count"
    assert send(live, "issues", payload("issues_closed"), "d-closed").status_code == 202
    assert value(live, name, outcome="done") == 1
    assert send(live, "issues", payload("issues_closed"), "d-closed").status_code == 200
    assert send(live, "push", {"ref": "refs/heads/main"}, "d-push").status_code == 202
    assert send(live, "issues", b'{"action": "closed", "issue": "x"}', "d-odd").status_code == 202
    assert send(live, "issue_comment", b"\xff{{", "d-not-json").status_code == 400
    assert value(live, name, outcome="duplicate") == 1
    assert value(live, name, outcome="ignored") == 2  # an unhandled event, an unread shape
    assert value(live, name, outcome="failed") == 1
    assert value(live, name, outcome="done") == 1
    # Processed after the answer: recorded when the background work ends.
    github.add_artifact(RUN_ID, "pytest-report", zip_of({"report.json": reports["json"]}))
    assert send(live, "workflow_run", payload("workflow_run_completed"), "d-run").status_code == 202
    wait_for(lambda: value(live, name, outcome="done") == 2)
    assert value(live, name, outcome="failed") == 1


def test_outbox_send_histogram_counts_writes_to_github(
    live: httpx.Client, github: GitHubState, reports: dict[str, bytes]
) -> None:
    for number in (623, 1029):
        github.add_issue(number)
    name = "triage_outbox_send_duration_seconds_count"
    assert value(live, name, outcome="sent") == 0
    upload = live.post("/api/v1/runs?suite=shop", content=reports["json"], headers=auth())
    assert upload.status_code == 201, upload.text
    wait_for(lambda: live.get("/api/v1/outbox").json()["sent"] == 2)
    assert github.comments_on(623)
    assert github.comments_on(1029)
    assert value(live, name, outcome="sent") == 2
    assert value(live, name, outcome="dead") == 0


def test_each_app_has_a_registry_of_its_own(sqlite_url: str) -> None:
    first = create_app(make_settings(sqlite_url))
    second = create_app(make_settings(sqlite_url))  # the same names: no clash
    assert first.state.telemetry.registry is not second.state.telemetry.registry
    first.state.telemetry.requests.labels("GET", "/x", "2xx").observe(1.0)
    counted = [
        [s for m in app.state.telemetry.requests.collect() for s in m.samples]
        for app in (first, second)
    ]
    assert counted[0]
    assert counted[1] == []
    global_names = {family.name for family in REGISTRY.collect()}
    assert not [n for n in global_names if n.startswith("triage_")]
