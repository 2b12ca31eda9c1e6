"""GET and HEAD /metrics: the app's registry, with the series read from the database per scrape."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlmodel import Session

from bot.compose import Components
from bot.core.gate import GateStatus
from bot.core.objective import Objective
from bot.services.objective import objective_of
from bot.services.verdict import judge_stored_run
from bot.store.outbox_repository import OutboxRepository
from bot.store.reports import MetricsSnapshot, SqlReportRepository, metrics_snapshot
from bot.web.telemetry import Telemetry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
VERDICTS = tuple(status.value for status in GateStatus)
router = APIRouter()


def _counter(name: str, help_text: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name, help_text, labels=labels)


def _gauge(name: str, help_text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=labels)


@dataclass(frozen=True, slots=True)
class _Scrape:
    """What one scrape reads from the database."""

    snap: MetricsSnapshot
    in_doubt: int
    objectives: list[tuple[str, Objective]]
    verdicts: dict[tuple[str, str], str]  # (suite, environment) -> newest run's verdict


class DatabaseCollector(Collector):
    """The runs, failures, known issues, outbox, objective and verdict series.

    Read from the database at every scrape, so every worker serves the same values and a
    restart loses nothing (the counters count stored rows).
    """

    def __init__(self, context: Components) -> None:
        self.context = context

    def collect(self) -> Iterator[Metric]:
        scrape = self._read()
        yield from _counters(scrape.snap)
        yield from _outbox(scrape.snap.outbox_by_state, scrape.in_doubt)
        yield from _objectives(scrape.objectives)
        yield _verdicts(scrape.verdicts)

    def _read(self) -> _Scrape:
        context, now = self.context, self.context.clock()
        with Session(context.engine) as session:
            snap = metrics_snapshot(session)
            in_doubt = OutboxRepository(session).in_doubt()
            reports = SqlReportRepository(session)
            objectives = [
                # No gauge shows a streak reset: read none (cost bounded, figures the same).
                (s, objective_of(reports, suite=s, at=now, config=context.report_config, resets=0))
                for s in sorted(snap.runs_by_suite)
            ]
        with context.uow(write=False) as uow:  # a deploy dashboard's gate: one run per suite
            verdicts = {
                (suite, env): judge_stored_run(
                    uow, run_id=run_id, with_suspects=False
                ).verdict.status.value
                for suite, env, run_id in uow.verdicts.latest_runs()
            }
        return _Scrape(snap, in_doubt, objectives, verdicts)


def _counters(snap: MetricsSnapshot) -> Iterator[Metric]:
    runs = _counter("triage_runs_ingested_total", "Runs ingested, per suite.", ["suite"])
    for suite, n in sorted(snap.runs_by_suite.items()):
        runs.add_metric([suite], n)
    failures = _counter(
        "triage_failures_total",
        "Stored failures per suite and classification.",
        ["suite", "classification"],
    )
    for (suite, classification), n in sorted(snap.failures_by_class.items()):
        failures.add_metric([suite, classification], n)
    issues = _counter(
        "triage_known_issue_occurrences_total", "Failures matched to each known issue.", ["issue"]
    )
    for issue, n in sorted(snap.known_issue_occurrences.items()):
        issues.add_metric([str(issue)], n)
    return iter((runs, failures, issues))


def _objectives(objectives: list[tuple[str, Objective]]) -> Iterator[Metric]:
    streak = _gauge(
        "triage_objective_streak_days",
        "Days since the suite's last infrastructure regression.",
        ["suite"],
    )
    met = _gauge("triage_objective_met", "1 when the 30-day objective is met.", ["suite"])
    coverage = _gauge(
        "triage_objective_coverage_ratio",
        "Share of the objective window's days with at least one run.",
        ["suite"],
    )
    for suite, objective in objectives:
        streak.add_metric([suite], objective.streak_days)
        met.add_metric([suite], int(objective.met))
        coverage.add_metric([suite], round(objective.coverage, 4))
    return iter((streak, met, coverage))


def _verdicts(verdicts: dict[tuple[str, str], str]) -> Metric:
    verdict = _gauge(
        "triage_suite_verdict",
        "1 for the verdict of each suite's newest run (pass, known or blocked), else 0.",
        ["suite", "environment", "status"],
    )
    for (suite, env), status in sorted(verdicts.items()):
        for each in VERDICTS:
            verdict.add_metric([suite, env, each], int(each == status))
    return verdict


def _outbox(by_state: dict[str, int], in_doubt: int) -> Iterator[Metric]:
    rows = _gauge("triage_outbox_rows", "Outbox rows per state.", ["state"])
    for state, n in sorted(by_state.items()):
        rows.add_metric([state], n)
    yield rows
    yield GaugeMetricFamily(
        "triage_outbox_depth", "GitHub writes waiting to be sent.", by_state.get("pending", 0)
    )
    yield GaugeMetricFamily(
        "triage_outbox_dead",
        "GitHub writes given up after every attempt (retried by themselves 1 h, 6 h and "
        "24 h later, then kept until `triage-bot outbox retry`).",
        by_state.get("dead", 0),
    )
    yield GaugeMetricFamily(
        "triage_outbox_in_doubt",
        "Pending GitHub writes whose outcome is unknown until their marker is found.",
        in_doubt,
    )


def make_telemetry(context: Components) -> Telemetry:
    """Build an app's registry: process, request and latency metrics, and the database's."""
    telemetry = Telemetry()
    telemetry.registry.register(DatabaseCollector(context))
    context.latencies = telemetry.latencies
    return telemetry


@router.api_route(
    "/metrics", methods=["GET", "HEAD"], response_class=Response, include_in_schema=False
)
def get_metrics(request: Request) -> Response:
    """Answer Prometheus' scrape (OpenMetrics when asked for, else the text format 0.0.4)."""
    if request.method == "HEAD":  # a probe: no database reads
        return Response(status_code=200, media_type=CONTENT_TYPE)
    telemetry: Telemetry = request.app.state.telemetry
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(telemetry.registry), headers={"Content-Type": content_type})
