"""Five weeks of daily runs of one suite, asserting each failure's classification every day."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.core.model import Failure, Phase
from bot.services.corrections import set_issue_state
from bot.services.ingest import IngestResult, ingest_run
from bot.services.queries import known_issues
from bot.services.run_meta import RunMeta
from bot.store.uow import SqlUnitOfWork
from tests.store.helpers import REDIS_DOWN, day, failure, knowledge, make_run

KB = knowledge()
SUITE = RunMeta(suite="staging", environment="staging")
TESTS = ["t/test_chat.py::test_send", "t/test_ws.py::test_events", "t/test_auth.py::test_login"]
CHAT, WS, AUTH = TESTS
REDIS = "t/test_agent.py::test_tools"
CART = "tests/test_cart.py::test_total"  # known product issue #700
BROKEN = "t/test_broken.py"  # a module that stops importing on day 14
DNS = "t/test_dns.py::test_lookup"


def redis() -> Failure:
    return failure(REDIS, phase=Phase.SETUP, **REDIS_DOWN)


def dns() -> Failure:
    return failure(
        DNS, phase=Phase.SETUP, exception="socket.gaierror", message="[Errno -2] Name unknown"
    )


# day -> (failures, flaky passes, expected classification per failing node id)
SCENARIO: dict[int, tuple[list[Failure], list[str], dict[str, str]]] = {
    0: ([redis()], [], {REDIS: "known"}),
    1: ([redis()], [], {REDIS: "known"}),
    2: ([], [], {}),
    3: ([failure(CHAT, message="expected 200, got 500")], [], {CHAT: "new"}),
    4: ([failure(CHAT, message="expected 200, got 502")], [], {CHAT: "persistent"}),
    5: (
        [failure(CHAT, message="expected 200, got 500")],
        [AUTH],
        {CHAT: "persistent", AUTH: "flaky"},
    ),
    6: ([], [], {}),
    # Issue #1029 is closed on day 7; the Redis failure comes back on day 10.
    7: ([], [], {}),
    10: ([redis(), failure(CART, message="total 3 != 4")], [], {REDIS: "recurred", CART: "known"}),
    11: ([redis()], [], {REDIS: "recurred"}),
    # The websocket test starts flipping: P F P F -> flaky on the third flip.
    12: ([failure(WS)], [], {WS: "new"}),
    13: ([], [], {}),
    14: (
        [
            failure(WS),
            failure(BROKEN, exception="ImportError", message="no module x", phase=Phase.COLLECT),
        ],
        [],
        {WS: "flaky", BROKEN: "new"},
    ),
    15: ([], [], {}),
    21: ([dns()], [], {DNS: "new"}),
    22: ([dns()], [], {DNS: "persistent"}),
    28: ([], [], {}),
    35: ([failure(CHAT, message="expected 200, got 500")], [], {CHAT: "new"}),
}
REGRESSIONS = {10: [REDIS], 11: [REDIS], 14: [BROKEN], 21: [DNS]}


def _ingest(engine: Engine, n: int) -> IngestResult:
    failures, flaky, _ = SCENARIO[n]
    failing = {f.nodeid for f in failures}
    passed = [t for t in [*TESTS, REDIS, CART, DNS] if t not in failing and t not in flaky]
    run = make_run(passed, failures, flaky=flaky)
    with SqlUnitOfWork(engine) as uow:
        if n == 7:
            set_issue_state(uow, number=1029, state="closed", updated_at=day(7))
        result = ingest_run(uow, KB, run, SUITE, f"day-{n}", now=day(n))
        uow.commit()
    return result


def test_each_day_is_classified_as_expected(engine: Engine) -> None:
    regressions: dict[int, list[str]] = {}
    for n, (_, _, expected) in SCENARIO.items():
        result = _ingest(engine, n)
        got = {v.nodeid: v.classification.value for v in result.verdicts}
        assert got == expected, f"day {n}"
        if result.summary.regressions:
            regressions[n] = [r.nodeid for r in result.summary.regressions]
    assert regressions == REGRESSIONS
    with SqlUnitOfWork(engine, write=False) as uow:
        newest, total = uow.runs.page(suite=None, offset=0, limit=5)
        assert total == len(SCENARIO)
        assert newest[0].run.started_at.date() == day(35).date()
        failures = uow.failures.for_run(run_id=newest[0].id)
        assert [(f.nodeid, f.classification) for f in failures] == [(CHAT, "new")]
        issues = {i.number: i for i in known_issues(uow, KB)}
    assert issues[1029].occurrences == 4
    assert issues[1029].state == "closed"
    assert issues[1029].last_seen is not None
    assert issues[1029].last_seen.date() == day(11).date()
    assert issues[700].occurrences == 1
    assert {r.rule: r.matches for r in issues[1029].rules} == {"1029-redis#redis-client-error": 4}
