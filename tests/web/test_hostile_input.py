"""Hostile text and dates over HTTP, on SQLite and PostgreSQL: 422s, never 500s; NUL-free rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, select

from bot.config import Settings
from bot.store.tables import FailureRow, Run
from tests.web.conftest import auth, make_settings

URL = "/api/v1/runs"
PARAMS = {"suite": "s", "branch": "main"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Every test here runs on real SQLite and on real PostgreSQL (the conftest client uses it)."""
    return make_settings(database_url)


def _stored(settings: Settings) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            branches = [r[0] for r in conn.execute(select(Run.branch))]  # type: ignore[call-overload]
            columns = (FailureRow.nodeid, FailureRow.message, FailureRow.text)
            failures = [
                (r[0], r[1], r[2], r[3])
                for r in conn.execute(select(*columns, FailureRow.exception))  # type: ignore[call-overload]
            ]
    finally:
        engine.dispose()
    return branches, failures


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("branch", "\x00x"),
        ("branch", "main\x1b[31m"),
        ("ci_url", "https://ci.example/\x00"),
        ("commit", "ab\x00cd"),
        ("environment", "qa\x00"),
        ("suite", "s\x00"),
        ("branch", "feat\x85"),  # a C1 control character
        ("suite", "s\u202eevil"),  # RIGHT-TO-LEFT OVERRIDE: shows reversed text
        ("branch", "ma\u200bin"),  # ZERO WIDTH SPACE: looks like "main"
        ("suite", "s\u2066x\u2069"),  # bidi isolates
        ("environment", "\ufeffqa"),  # a byte order mark
        ("branch", "a\u2028b"),  # LINE SEPARATOR
    ],
)
def test_control_characters_in_metadata_are_422(
    client: httpx.Client, settings: Settings, reports: dict[str, bytes], field: str, value: str
) -> None:
    answer = client.post(
        URL, params={**PARAMS, field: value}, content=reports["json"], headers=auth()
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_meta"
    assert field in answer.json()["detail"]
    assert _stored(settings) == ([], [])


LONGREPR = (
    "def test_it():\n>       raise ValueError('bad\\x00byte')\nE       ValueError: bad\x00byte\n\n"
    "test_shop.py:5: ValueError"
)


def _with_nul(report: bytes) -> bytes:
    """Put NUL characters in a real report's node ids, messages, texts and keywords."""
    data = json.loads(report)
    for test in data["tests"]:
        test["nodeid"] += "\x00nul"
        test["keywords"] = [*test.get("keywords", []), "kw\x00"]
        for stage in ("setup", "call", "teardown"):
            part = test.get(stage)
            if isinstance(part, dict) and part.get("outcome") == "failed":
                part["longrepr"] = LONGREPR
                part["crash"] = {"message": "ValueError: bad\x00byte", "path": "x", "lineno": 1}
    return json.dumps(data).encode()


def test_nul_in_a_report_is_stored_as_replacement_characters(
    client: httpx.Client, settings: Settings, reports: dict[str, bytes]
) -> None:
    data = _with_nul(reports["json"])
    assert b"\\u0000" in data
    answer = client.post(URL, params=PARAMS, content=data, headers=auth())
    assert answer.status_code == 201, answer.text
    _, failures = _stored(settings)
    assert len(failures) == 3
    for nodeid, message, text, exception in failures:
        assert nodeid.endswith("\ufffdnul")
        assert "\x00" not in nodeid + message + text + (exception or "")
        assert "bad\ufffdbyte" in message
        assert "bad\ufffdbyte" in text
        assert exception == "ValueError"


@pytest.mark.parametrize(
    "ci_url",
    ["javascript:alert(1)", "file:///etc/passwd", "ftp://ci.example/1", "https://", "ci.example/1"],
)
def test_ci_url_must_be_http(client: httpx.Client, reports: dict[str, bytes], ci_url: str) -> None:
    answer = client.post(
        URL, params={**PARAMS, "ci_url": ci_url}, content=reports["json"], headers=auth()
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_meta"


def test_an_https_ci_url_is_accepted(client: httpx.Client, reports: dict[str, bytes]) -> None:
    params = {**PARAMS, "ci_url": "https://ci.example/runs/1?attempt=2"}
    assert (
        client.post(URL, params=params, content=reports["json"], headers=auth()).status_code == 201
    )


@pytest.mark.parametrize(
    "started_at",
    ["0001-01-01T00:00:00", "1999-12-31T23:00:00+00:00", "9999-12-31T00:00:00Z"],
)
def test_started_at_out_of_range_is_422(
    client: httpx.Client, reports: dict[str, bytes], started_at: str
) -> None:
    params = {**PARAMS, "started_at": started_at}
    answer = client.post(URL, params=params, content=reports["json"], headers=auth())
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_meta"


def test_a_report_created_in_the_future_is_422(
    client: httpx.Client, settings: Settings, reports: dict[str, bytes]
) -> None:
    data = json.loads(reports["json"])
    data["created"] = (datetime.now(UTC) + timedelta(days=3)).timestamp()
    answer = client.post(URL, params=PARAMS, content=json.dumps(data).encode(), headers=auth())
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_meta"
    assert _stored(settings) == ([], [])
    # Within a day ahead (clock skew between CI and the bot) is fine.
    data["created"] = (datetime.now(UTC) + timedelta(hours=2)).timestamp()
    answer = client.post(URL, params=PARAMS, content=json.dumps(data).encode(), headers=auth())
    assert answer.status_code == 201, answer.text


def test_metadata_is_checked_before_the_duplicate_look_up(
    client: httpx.Client, reports: dict[str, bytes]
) -> None:
    fresh = client.post(URL, params=PARAMS, content=reports["json"], headers=auth())
    assert fresh.status_code == 201, fresh.text
    # The same report again with a date far ahead: refused like a fresh upload, not "200 seen".
    params = {**PARAMS, "started_at": "2099-01-01T00:00:00Z"}
    again = client.post(URL, params=params, content=reports["json"], headers=auth())
    assert again.status_code == 422, again.text
    assert again.json()["error"] == "bad_meta"
    assert (
        client.post(URL, params=PARAMS, content=reports["json"], headers=auth()).status_code == 200
    )


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/api/v1/objective", {"suite": "S", "at": "0001-01-01T00:00:00"}, "bad_timestamp"),
        ("/api/v1/objective", {"suite": "S", "at": "9999-12-31T23:59:59"}, "bad_timestamp"),
        ("/api/v1/objective", {"suite": "S", "at": "1999-12-31T00:00:00+05:00"}, "bad_timestamp"),
        ("/api/v1/criteria", {"suite": "S", "week": "0001-W01"}, "bad_week"),
        ("/api/v1/criteria", {"suite": "S", "week": "9999-W52"}, "bad_week"),
    ],
)
def test_out_of_range_dates_are_422(
    client: httpx.Client, path: str, params: dict[str, str], reason: str
) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == reason
    assert "2000" in answer.json()["detail"]
