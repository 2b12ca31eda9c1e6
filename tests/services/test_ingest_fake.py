"""The in-memory FakeUnitOfWork classifies the history scenario exactly as the database does."""

from __future__ import annotations

from bot.services.corrections import record_wrong_match, set_issue_state
from bot.services.ingest import ingest_run
from bot.services.queries import known_issues
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.services.test_history_scenario import (
    CART,
    DNS,
    KB,
    REDIS,
    REGRESSIONS,
    SCENARIO,
    SUITE,
    TESTS,
)
from tests.store.helpers import day, make_run


def test_fake_unit_of_work_runs_the_scenario() -> None:
    store = FakeStore()
    regressions: dict[int, list[str]] = {}
    run_ids = []
    for n, (failures, flaky, expected) in SCENARIO.items():
        failing = {f.nodeid for f in failures}
        passed = [t for t in [*TESTS, REDIS, CART, DNS] if t not in failing and t not in flaky]
        with FakeUnitOfWork(store) as uow:
            if n == 7:
                set_issue_state(uow, number=1029, state="closed", updated_at=day(7))
            run = make_run(passed, failures, flaky=flaky)
            result = ingest_run(uow, KB, run, SUITE, f"day-{n}", now=day(n))
            again = ingest_run(uow, KB, run, SUITE, f"day-{n}", now=day(n))
            uow.commit()
        run_ids.append(result.run_id)
        assert (again.run_id, again.created) == (result.run_id, False)
        assert {v.nodeid: v.classification.value for v in result.verdicts} == expected
        if result.summary.regressions:
            regressions[n] = [r.nodeid for r in result.summary.regressions]
    assert regressions == REGRESSIONS
    with FakeUnitOfWork(store) as uow:
        record_wrong_match(uow, run_id=run_ids[0], nodeid=REDIS, reported_by="x", now=day(40))
        issues = {i.number: i for i in known_issues(uow, KB)}
        assert uow.runs.page(suite=None, offset=0, limit=50)[1] == len(SCENARIO)
        assert uow.clusters.top(offset=0, limit=50)[1] >= 3
    assert issues[1029].occurrences == 4
    assert issues[1029].rules[0].precision == 0.75
    assert store.commits == len(SCENARIO)
    assert (SUITE.suite, SUITE.environment, TESTS[0]) in store.suite_tests
