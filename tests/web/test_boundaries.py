"""Boundaries that answer clearly: a client gone mid-upload, the serve banner about open reads."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.cli.serve import is_loopback, open_reads_warning
from tests.web.conftest import API_TOKEN, LiveServer, make_settings


def test_a_client_gone_mid_upload_is_one_log_line(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with LiveServer(app) as server:
        head = (
            "POST /api/v1/runs?suite=s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {API_TOKEN}\r\nContent-Length: 100000\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head.encode() + b"{" * 1000)
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            "disconnected" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    assert lines[0].getMessage() == "client disconnected after sending 1000 bytes of the report"
    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("bot.example", False),
    ],
)
def test_the_banner_warns_when_reads_are_open_beyond_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    open_reads = make_settings("sqlite://")
    warning = open_reads_warning(open_reads, host)
    assert (warning is None) is loopback
    if warning:
        assert "TRIAGE_READ_TOKEN" in warning
        assert host in warning
    guarded = make_settings("sqlite://", read_token=SecretStr("r-token"))
    assert open_reads_warning(guarded, host) is None
