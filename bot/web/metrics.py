"""GET /metrics in the Prometheus text format (0.0.4), written by hand: it is a few lines."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlmodel import Session

from bot.core.gate import GateStatus
from bot.services.objective import objective_of
from bot.services.verdict import judge_stored_run
from bot.store.outbox_repository import OutboxRepository
from bot.store.reports import MetricsSnapshot, SqlReportRepository, metrics_snapshot
from bot.web.deps import Context

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
VERDICTS = tuple(status.value for status in GateStatus)
router = APIRouter()


def label(value: object) -> str:
    """Escape a label value as the text format asks (backslash, quote, newline)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def number(value: float) -> str:
    """Write a sample value exactly: integers whole, floats with every digit (no 1.23e+06)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, object], float]]
) -> list[str]:
    """Render one metric family: HELP, TYPE and its samples."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        inner = ",".join(f"{k}={label(v)}" for k, v in labels.items())
        lines.append(f"{name}{{{inner}}} {number(value)}" if inner else f"{name} {number(value)}")
    return lines


def render(
    snap: MetricsSnapshot,
    streaks: dict[str, tuple[int, bool, float]],
    *,
    in_doubt: int = 0,
    verdicts: dict[tuple[str, str], str] | None = None,
) -> str:
    """Render every metric family."""
    outbox = snap.outbox_by_state
    parts = [
        family(
            "triage_runs_ingested_total",
            "counter",
            "Runs ingested, per suite.",
            [({"suite": s}, n) for s, n in sorted(snap.runs_by_suite.items())],
        ),
        family(
            "triage_failures_total",
            "counter",
            "Stored failures per suite and classification.",
            [
                ({"suite": s, "classification": c}, n)
                for (s, c), n in sorted(snap.failures_by_class.items())
            ],
        ),
        family(
            "triage_known_issue_occurrences_total",
            "counter",
            "Failures matched to each known issue.",
            [({"issue": i}, n) for i, n in sorted(snap.known_issue_occurrences.items())],
        ),
        family(
            "triage_outbox_rows",
            "gauge",
            "Outbox rows per state.",
            [({"state": s}, n) for s, n in sorted(outbox.items())],
        ),
        family(
            "triage_outbox_depth",
            "gauge",
            "GitHub writes waiting to be sent.",
            [({}, outbox.get("pending", 0))],
        ),
        family(
            "triage_outbox_dead",
            "gauge",
            "GitHub writes given up after every attempt (retried by themselves 1 h, 6 h and "
            "24 h later, then kept until `triage-bot outbox retry`).",
            [({}, outbox.get("dead", 0))],
        ),
        family(
            "triage_outbox_in_doubt",
            "gauge",
            "Pending GitHub writes whose outcome is unknown until their marker is found.",
            [({}, in_doubt)],
        ),
        family(
            "triage_objective_streak_days",
            "gauge",
            "Days since the suite's last infrastructure regression.",
            [({"suite": s}, v[0]) for s, v in sorted(streaks.items())],
        ),
        family(
            "triage_objective_met",
            "gauge",
            "1 when the 30-day objective is met.",
            [({"suite": s}, int(v[1])) for s, v in sorted(streaks.items())],
        ),
        family(
            "triage_objective_coverage_ratio",
            "gauge",
            "Share of the objective window's days with at least one run.",
            [({"suite": s}, round(v[2], 4)) for s, v in sorted(streaks.items())],
        ),
    ]
    parts.append(
        family(
            "triage_suite_verdict",
            "gauge",
            "1 for the verdict of each suite's newest run (pass, known or blocked), else 0.",
            [
                ({"suite": suite, "environment": env, "status": status}, int(status == now))
                for (suite, env), now in sorted((verdicts or {}).items())
                for status in VERDICTS
            ],
        )
    )
    return "\n".join(line for p in parts for line in p) + "\n"


@router.get("/metrics", response_class=PlainTextResponse, include_in_schema=False)
def get_metrics(context: Context) -> PlainTextResponse:
    """Answer Prometheus' scrape."""
    now = context.clock()
    with Session(context.engine) as session:
        snap = metrics_snapshot(session)
        in_doubt = OutboxRepository(session).in_doubt()
        reports = SqlReportRepository(session)
        streaks = {}
        for suite in snap.runs_by_suite:
            o = objective_of(reports, suite=suite, at=now, config=context.report_config)
            streaks[suite] = (o.streak_days, o.met, o.coverage)
    with context.uow(write=False) as uow:  # a deploy dashboard's gate: one run per suite
        verdicts = {
            (suite, env): judge_stored_run(
                uow, run_id=run_id, with_suspects=False
            ).verdict.status.value
            for suite, env, run_id in uow.verdicts.latest_runs()
        }
    text = render(snap, streaks, in_doubt=in_doubt, verdicts=verdicts)
    return PlainTextResponse(text, media_type=CONTENT_TYPE)
