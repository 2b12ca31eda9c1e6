"""The objective API lists the newest streak resets only, so its answer is bounded by history."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from bot.web.app import create_app
from tests.store.helpers import T0
from tests.store.test_summaries import add_runs
from tests.web.conftest import make_settings, serving


def test_the_api_lists_the_newest_resets_and_says_when_older_ones_exist(
    engine: Engine, database_url: str
) -> None:
    add_runs(engine, random.Random(11), 0, 60)
    at = (T0 + timedelta(hours=8 * 60)).isoformat()
    app = create_app(make_settings(database_url, objective_days=7))

    def ask(**params: object) -> dict[str, Any]:
        answer = http.get("/api/v1/objective", params={"suite": "suite-0", "at": at, **params})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    with serving(app) as http:
        every = ask(resets=1000)
        default = ask()
        three = ask(resets=3)
        none = ask(resets=0)
        refused = [http.get("/api/v1/objective", params={"suite": "suite-0", "resets": n})
                   for n in (-1, 1001)]  # fmt: skip
    resets = every["resets"]
    assert 3 < len(resets) <= 100, "the history has resets to leave off, fewer than the default"
    assert every["resets_truncated"] is False
    assert default == every
    assert three["resets"] == resets[-3:]
    assert three["resets_truncated"] is True
    assert (none["resets"], none["resets_truncated"]) == ([], True)
    # Every other figure is the same whatever the number of resets listed.
    drop = {"resets", "resets_truncated"}
    assert {k: v for k, v in three.items() if k not in drop} == {
        k: v for k, v in every.items() if k not in drop
    }
    assert [r.status_code for r in refused] == [422, 422]
