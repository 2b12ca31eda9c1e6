"""Two senders on one database: every row is claimed by one of them, no comment is doubled."""

from __future__ import annotations

import threading
from collections import Counter

from bot.core.intents import PostComment
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import FakeClock, enqueue, outbox_engine, rows, sender
from tests.github_server import running_github


def test_two_senders_share_the_outbox_without_duplicates(database_url: str) -> None:
    engine = outbox_engine(database_url)
    start = FakeClock()
    intents = [PostComment(issue=1 + n % 3, body=f"n{n}", key=f"k{n}") for n in range(40)]
    enqueue(engine, intents, start.now)
    results: list[int] = []
    with running_github() as github:
        for number in (1, 2, 3):
            github.add_issue(number)

        def work() -> None:
            clock = FakeClock(now=start.now)
            results.append(sender(engine, gateway_for(github), clock).drain(wait=False).sent)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        posts = [r for r in github.writes() if r.method == "POST"]
        bodies = Counter(c["body"].split("\n")[0] for c in github.comments.values())
    assert sum(results) == 40
    assert len(posts) == 40
    assert sorted(bodies) == sorted(f"n{n}" for n in range(40))
    assert set(bodies.values()) == {1}
    assert {row.state for row in rows(engine)} == {"sent"}
    engine.dispose()
