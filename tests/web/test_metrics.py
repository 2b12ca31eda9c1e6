"""GET /metrics: Prometheus text format with runs, failures, known issues, outbox and streaks."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.web.app import create_app
from bot.web.metrics import family, number
from tests.web.conftest import make_settings, serving
from tests.web.test_dashboard_api import NOW, seeded

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\\n]|\\.)*",?)*\})? -?[0-9.e+]+$')


@pytest.fixture
def metrics(database_url: str) -> httpx.Response:
    seeded(database_url)
    app = create_app(make_settings(database_url))
    app.state.context.clock = lambda: NOW
    with serving(app) as http:
        return http.get("/metrics")


def test_metrics_text_format(metrics: httpx.Response) -> None:
    assert metrics.status_code == 200
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    for line in metrics.text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line


def test_metrics_values(metrics: httpx.Response) -> None:
    lines = set(metrics.text.splitlines())
    assert 'triage_runs_ingested_total{suite="staging"} 41' in lines
    assert 'triage_failures_total{suite="staging",classification="known"} 28' in lines
    assert 'triage_failures_total{suite="staging",classification="new"} 3' in lines
    assert 'triage_known_issue_occurrences_total{issue="1086"} 14' in lines
    assert "triage_outbox_depth 0" in lines
    assert "triage_outbox_dead 0" in lines
    assert 'triage_objective_streak_days{suite="staging"} 13' in lines
    assert 'triage_objective_met{suite="staging"} 0' in lines
    assert "# TYPE triage_failures_total counter" in lines


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (1_234_567, "1234567"), (730_000.0, "730000"), (0.9667, "0.9667"), (2.5, "2.5")],
)
def test_sample_values_keep_every_digit(value: float, text: str) -> None:
    assert number(value) == text
    (line,) = [x for x in family("m", "gauge", "h", [({}, value)]) if x.startswith("m ")]
    assert line == f"m {text}"
