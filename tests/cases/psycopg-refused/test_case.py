import socket

import psycopg


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_orders_table():
    with psycopg.connect(host="127.0.0.1", port=closed_port(), connect_timeout=1) as conn:
        assert conn.execute("SELECT 1").fetchone()
