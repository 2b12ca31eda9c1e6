"""GET /metrics: Prometheus text format with runs, failures, known issues, outbox and streaks."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from bot.web.app import create_app
from tests.web.conftest import make_settings, serving
from tests.web.test_alert_rules import PROMTOOL, REQUIRED
from tests.web.test_dashboard_api import NOW, seeded

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
VALUE = r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]Inf|NaN"
SAMPLE = re.compile(rf'^{NAME}(\{{([a-z_]+="([^"\\\n]|\\.)*",?)*\}})? ({VALUE})$')
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
# Every series the database serves, as served before prometheus_client wrote the exposition:
# family -> (type, label names). Alert rules and dashboards rely on them; nothing may change.
DATABASE_SERIES = {
    "triage_runs_ingested_total": ("counter", {"suite"}),
    "triage_failures_total": ("counter", {"suite", "classification"}),
    "triage_known_issue_occurrences_total": ("counter", {"issue"}),
    "triage_outbox_rows": ("gauge", {"state"}),
    "triage_outbox_depth": ("gauge", set()),
    "triage_outbox_dead": ("gauge", set()),
    "triage_outbox_in_doubt": ("gauge", set()),
    "triage_objective_streak_days": ("gauge", {"suite"}),
    "triage_objective_met": ("gauge", {"suite"}),
    "triage_objective_coverage_ratio": ("gauge", {"suite"}),
    "triage_suite_verdict": ("gauge", {"suite", "environment", "status"}),
}
# The one lint promtool reports: the name predates the exposition and alert rules use it.
KNOWN_LINT = 'triage_objective_streak_days use base unit "seconds" instead of "days"'


def values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition by name and labels (label order does not matter)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def series(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


@pytest.fixture
def scrape(database_url: str) -> Iterator[httpx.Client]:
    seeded(database_url)
    app = create_app(make_settings(database_url))
    app.state.context.clock = lambda: NOW
    with serving(app) as http:
        yield http


@pytest.fixture
def metrics(scrape: httpx.Client) -> httpx.Response:
    return scrape.get("/metrics")


def test_metrics_text_format(metrics: httpx.Response) -> None:
    assert metrics.status_code == 200
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    for line in metrics.text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    assert values(metrics.text)  # Prometheus' own parser reads it


def test_metrics_values(metrics: httpx.Response) -> None:
    got = values(metrics.text)
    assert got[series("triage_runs_ingested_total", suite="staging")] == 41
    assert got[series("triage_failures_total", suite="staging", classification="known")] == 28
    assert got[series("triage_failures_total", suite="staging", classification="new")] == 3
    assert got[series("triage_known_issue_occurrences_total", issue="1086")] == 14
    assert got[series("triage_outbox_depth")] == 0
    assert got[series("triage_outbox_dead")] == 0
    assert got[series("triage_objective_streak_days", suite="staging")] == 13
    assert got[series("triage_objective_met", suite="staging")] == 0
    assert got[series("triage_objective_coverage_ratio", suite="staging")] == 0.9333
    verdict = {"suite": "staging", "environment": ""}
    assert got[series("triage_suite_verdict", **verdict, status="pass")] == 1
    assert got[series("triage_suite_verdict", **verdict, status="blocked")] == 0
    assert "# TYPE triage_failures_total counter" in metrics.text.splitlines()


def test_database_series_keep_their_names_types_and_labels(metrics: httpx.Response) -> None:
    served = {
        f.name: f for f in text_string_to_metric_families(metrics.text) if f.type != "histogram"
    }
    for name, (kind, labels) in DATABASE_SERIES.items():
        family = served[name.removesuffix("_total") if kind == "counter" else name]
        assert family.type == kind, name
        assert family.samples, name
        for sample in family.samples:
            assert sample.name == name
            assert set(sample.labels) == labels, name
    triage = {n for n in served if n.startswith("triage_")}
    assert triage == {n.removesuffix("_total") for n in DATABASE_SERIES}


def test_openmetrics_is_served_when_asked_for(
    scrape: httpx.Client, metrics: httpx.Response
) -> None:
    answer = scrape.get("/metrics", headers={"Accept": OPENMETRICS})
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n")
    text = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in openmetrics_families(answer.text)
        if family.name.startswith("triage_") and family.type != "histogram"
        for s in family.samples
    }
    plain = {k: v for k, v in values(metrics.text).items() if k in text}
    assert text == plain
    assert len(text) == len([k for k in values(metrics.text) if k[0] in DATABASE_SERIES])


@pytest.mark.parametrize("value", [0, 1_234_567, 730_000.0, 0.9667, 2.5, 12_345_678_901])
def test_sample_values_keep_every_digit(value: float) -> None:
    class One:
        def collect(self) -> list[Metric]:
            return [GaugeMetricFamily("m", "h", value=value)]

    registry = CollectorRegistry()
    registry.register(One())
    (line,) = [x for x in generate_latest(registry).decode().splitlines() if x.startswith("m ")]
    assert SAMPLE.match(line), line
    assert values(generate_latest(registry).decode())[series("m")] == value


def test_promtool_accepts_the_exposition(metrics: httpx.Response) -> None:
    if PROMTOOL is None:
        if REQUIRED:
            pytest.fail("TRIAGE_REQUIRE_PROMTOOL=1 but no promtool found")
        pytest.skip("promtool is not installed here")
    done = subprocess.run(
        [PROMTOOL, "check", "metrics"],
        input=metrics.text, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    problems = [x for x in (done.stdout + done.stderr).splitlines() if x.strip()]
    assert problems in ([], [KNOWN_LINT]), problems
