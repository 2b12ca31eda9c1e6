"""The weekly job's trigger, and the scheduler in the app: catch-up once, across replicas."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.scheduler import weekly_trigger
from bot.web.app import create_app
from tests.fakes import RecordingOutbox
from tests.web.conftest import make_settings, serving, wait_for
from tests.web.test_dashboard_api import seeded

BERLIN = ZoneInfo("Europe/Berlin")


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _b(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "hour", "after", "expected"),
    [
        ("mon", 9, _b(2026, 11, 18, 12), _b(2026, 11, 23, 9)),
        ("MON", 9, _b(2026, 11, 23, 8, 59), _b(2026, 11, 23, 9)),
        # Across the switch to summer time (29 March): still 17:00 local.
        ("fri", 17, _b(2026, 3, 27, 18), _b(2026, 4, 3, 17)),
    ],
)
def test_trigger_fires_on_named_day_in_zone(
    day: str, hour: int, after: datetime, expected: datetime
) -> None:
    trigger = weekly_trigger(
        _settings(report_day=day, report_hour=hour, report_timezone="Europe/Berlin")
    )
    assert trigger.get_next_fire_time(None, after) == expected


def test_start_up_catches_up_once_across_replicas(database_url: str) -> None:
    seeded(database_url)
    outbox = RecordingOutbox()
    now = datetime.fromisoformat("2026-11-18T10:00:00+00:00")  # Wednesday of W47
    for _replica in range(2):
        app = create_app(make_settings(database_url, scheduler_enabled=True))
        app.state.context.clock = lambda: now
        app.state.context.outbox_factory = lambda _session: outbox
        with serving(app) as http:
            wait_for(lambda: "weekly:staging:2026-W46" in outbox.intents)
            assert http.get("/healthz").status_code == 200
            scheduler = app.state.context.scheduler
            wait_for(lambda s=scheduler: s.get_job("weekly-report-catch-up") is None)
            job = scheduler.get_job("weekly-report")
            # The weekly job itself runs on the real clock: next Monday, 09:00 UTC.
            assert (job.next_run_time.weekday(), job.next_run_time.hour) == (0, 9)
    assert list(outbox.intents) == ["weekly:staging:2026-W46"]
