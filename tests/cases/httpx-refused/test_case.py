import socket

import httpx


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_endpoint():
    response = httpx.get(f"http://127.0.0.1:{closed_port()}/healthz", timeout=1)
    assert response.status_code == 200
