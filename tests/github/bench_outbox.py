"""Outbox figures: `python -m tests.github.bench_outbox [DATABASE_URL|-] [QUEUE_DEPTH]`."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime

from bot.core.intents import PostComment
from bot.services.outbox_sender import OutboxSender, SenderConfig
from bot.store.outbox_queue import SqlOutboxQueue
from tests.github.conftest import gateway_for
from tests.github.outbox_helpers import enqueue, outbox_engine
from tests.github_server import running_github

SENT = 300


def main() -> None:
    """Enqueue a deep queue, then time sending SENT comments with no pacing."""
    args = sys.argv[1:]
    url = args[0] if args and args[0] != "-" else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    depth = int(args[1]) if len(args) > 1 else 5000
    engine = outbox_engine(url)
    now = datetime.now(UTC)
    intents = [PostComment(1 + n % 50, f"b{n}", f"k{n}") for n in range(depth)]
    start = time.perf_counter()
    for i in range(0, depth, 100):
        enqueue(engine, intents[i : i + 100], now)
    planned = time.perf_counter() - start
    with running_github() as github:
        for number in range(1, 51):
            github.add_issue(number)
        queue = SqlOutboxQueue(engine)
        sender = OutboxSender(queue, gateway_for(github), config=SenderConfig(min_interval_s=0))
        start = time.perf_counter()
        sent = sender.drain(limit=SENT).sent
        took = time.perf_counter() - start
    engine.dispose()
    print(
        f"{url.partition(':')[0]}: enqueue {depth} intents in {depth // 100} transactions "
        f"{planned:.2f} s; send {sent} comments from that queue, no pacing, fake GitHub "
        f"over HTTP {took:.2f} s = {sent / took:.0f}/s ({1000 * took / sent:.1f} ms each)"
    )


if __name__ == "__main__":
    main()
