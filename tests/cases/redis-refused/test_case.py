import socket

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cache_ping():
    # No retries: the case stays fast; the failure is the same as after the last retry.
    client = redis.Redis(
        host="127.0.0.1", port=closed_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    assert client.ping()
