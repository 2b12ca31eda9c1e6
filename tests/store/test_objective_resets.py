"""The objective with only its newest resets: every other figure as with the whole history."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine

from bot.config import Settings
from bot.configs import report_config
from bot.services.objective import objective, objective_of
from bot.store.reports import uow_factory
from tests.store.helpers import T0
from tests.store.test_summaries import add_runs


def test_newest_resets_leave_every_other_figure_unchanged(engine: Engine) -> None:
    add_runs(engine, random.Random(11), 0, 40)
    # Runs of another environment at the same instants: one reset per instant, not per run.
    add_runs(engine, random.Random(12), 10, 8, environment="prod")
    config = report_config(Settings(_env_file=None, objective_days=7))
    reports = uow_factory(engine)
    compared = 0
    for suite in ("suite-0", "suite-1"):
        for hours in (30, 200, 330):
            at = T0 + timedelta(hours=hours)
            full = objective(reports, suite=suite, at=at, config=config)
            for keep in (0, 1, 3, 10, len(full.resets), len(full.resets) + 5):
                with reports() as tx:
                    part = objective_of(tx.reports, suite=suite, at=at, config=config, resets=keep)
                newest = full.resets[max(len(full.resets) - keep, 0) :]
                assert part == replace(full, resets=newest), (suite, hours, keep)
                compared += 1
            assert len(full.resets) > 3 or hours == 30, "the history has resets to leave off"
    assert compared == 36
