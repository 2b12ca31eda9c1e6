"""Signatures: every volatile part is masked, fingerprints are stable and versioned."""

from __future__ import annotations

import hashlib

import pytest

from bot.core.model import Failure, Outcome, Phase
from bot.core.signature import SIGNATURE_VERSION, fingerprint, mask, signature


def make(
    message: str = "",
    exception: str | None = "AssertionError",
    text: str = "",
    nodeid: str = "tests/test_a.py::test_x",
) -> Failure:
    return Failure(
        nodeid=nodeid,
        phase=Phase.CALL,
        outcome=Outcome.FAILED,
        exception=exception,
        chain=(exception,) if exception else (),
        message=message,
        text=text,
    )


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("expected 42 got 1337", "expected <n> got <n>"),
        ("commit deadbeef12345678 failed", "commit <hex> failed"),
        ("id 123e4567-e89b-12d3-a456-426614174000 gone", "id <uuid> gone"),
        ("Error 111 connecting to localhost:6379.", "Error <n> connecting to <host>:<port>."),
        ("to db.internal.example:9000 refused", "to <host>:<port> refused"),
        ("redis:6379 down", "redis:<n> down"),
        ("host='127.0.0.1', port=8123", "host='<ip>', port=<n>"),
        ("at 10.0.0.12:5432", "at <ip>"),
        ("via [::1]:8000 and ::1", "via <ip> and <ip>"),
        ("file /tmp/pytest-of-ci/pytest-12/test_a0/test_a.py, line 3", "file <tmp>, line <n>"),
        ("wrote /tmp/tmpk2j4x9/out.json", "wrote <tmp>"),
        ("C:\\Users\\ci\\AppData\\Local\\Temp\\tmp1\\x.py", "<tmp>"),
        ("file /home/ci/work/tests/test_a.py, line 10", "file <path>/test_a.py, line <n>"),
        ("in C:\\work\\tests\\test_a.py", "in <path>\\test_a.py"),
        ("at 2026-11-24T00:46:16.123Z", "at <ts>"),
        ("at 2026-11-24 12:00:01+02:00 ok", "at <ts> ok"),
        ("on 2026-11-24 at 12:30:45", "on <date> at <time>"),
        ("<Foo object at 0x7f3a2b1c4d50>", "<Foo object at <addr>>"),
        ("token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 bad", "token <blob> bad"),
        ("test_something_really_long_name_here", "test_something_really_long_name_here"),
        ("tests/test_x.py:12: in test", "tests/test_x.py:<n>: in test"),
    ],
)
def test_mask_replaces_each_volatile_part(raw: str, masked: str) -> None:
    assert mask(raw) == masked


def test_mask_is_idempotent_on_its_own_output() -> None:
    raw = "Error 111 connecting to 10.1.2.3:6379 at 2026-01-02T03:04:05Z in /tmp/x/y 0xdead"
    assert mask(mask(raw)) == mask(raw)


def test_signature_strips_a_repeated_type_and_masks() -> None:
    failure = make(
        "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379.",
        exception="redis.exceptions.ConnectionError",
    )
    assert signature(failure) == (
        "redis.exceptions.ConnectionError: Error <n> connecting to <host>:<port>."
    )


def test_signature_strips_a_short_type_prefix() -> None:
    failure = make("ConnectionError: boom 3", exception="redis.exceptions.ConnectionError")
    assert signature(failure) == "redis.exceptions.ConnectionError: boom <n>"


def test_signature_without_message_is_the_type() -> None:
    assert signature(make("AssertionError")) == "AssertionError"


def test_signature_keeps_a_few_lines_of_a_multiline_message() -> None:
    message = "\n".join(f"line {i}" for i in range(10))
    assert signature(make(message)) == "AssertionError: " + "\n".join(["line <n>"] * 5)


def test_signature_of_a_fixture_error_uses_the_error_lines() -> None:
    text = (
        "file /home/ci/tests/test_a.py, line 10\n  def test_x(real_services):\n"
        "E       fixture 'real_services' not found\n>       available fixtures: cache\n"
    )
    failure = make("", exception=None, text=text)
    assert signature(failure) == "fixture 'real_services' not found"


def test_signature_without_error_lines_uses_the_last_lines() -> None:
    failure = make("", exception=None, text="one\n\ntwo 2\nthree\nfour 4\n")
    assert signature(failure) == "two <n>\nthree\nfour <n>"


def test_fingerprint_is_versioned_sha256_of_the_signature() -> None:
    failure = make("expected 3")
    data = f"v{SIGNATURE_VERSION}\0AssertionError: expected <n>".encode()
    assert fingerprint(failure) == hashlib.sha256(data).hexdigest()[:16]


def test_fingerprint_ignores_volatile_parts_and_the_test() -> None:
    one = make("timeout after 3s at 10.0.0.1:80", nodeid="tests/a.py::t1")
    two = make("timeout after 30s at 10.0.0.2:8080", nodeid="tests/b.py::t2")
    assert fingerprint(one) == fingerprint(two)
    assert len(fingerprint(one)) == 16
    assert int(fingerprint(one), 16) >= 0


def test_fingerprint_separates_different_failures() -> None:
    assert fingerprint(make("x mismatch")) != fingerprint(make("y mismatch"))
    assert fingerprint(make("boom", "KeyError")) != fingerprint(make("boom", "ValueError"))
