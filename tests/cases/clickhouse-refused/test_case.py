import socket

import clickhouse_connect


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_events_table():
    client = clickhouse_connect.get_client(
        host="127.0.0.1", port=closed_port(), connect_timeout=1, send_receive_timeout=1
    )
    assert client.query("SELECT count() FROM events").result_rows
