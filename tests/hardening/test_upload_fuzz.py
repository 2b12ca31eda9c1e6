"""Uploads of damaged real reports (cut, overwritten, gzipped): a 2xx or JSON 4xx, never 5xx."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.http import running_service
from tests.hardening.conftest import auth, report

BASE_REPORT = report(12, 4, 7)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('upload-fuzz') / 'triage.db'}"
    with running_service(url) as (address, _proc):
        yield address


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real pytest-json-report with one cut or one overwritten stretch."""
    data = BASE_REPORT
    start = draw(st.integers(0, len(data)))
    if draw(st.booleans()):
        return data[:start]
    junk = draw(st.binary(min_size=1, max_size=40))
    return data[:start] + junk + data[start + len(junk) :]


@given(body=damaged(), packed=st.booleans(), suite=st.text(min_size=1, max_size=30))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_reports_get_2xx_or_4xx(base: str, body: bytes, packed: bool, suite: str) -> None:
    headers = auth() | ({"Content-Encoding": "gzip"} if packed else {})
    content = gzip.compress(body, compresslevel=1) if packed else body
    answer = httpx.post(
        f"{base}/api/v1/runs", params={"suite": suite}, content=content, headers=headers, timeout=60
    )
    assert answer.status_code in (200, 201, 400, 413, 415, 422), answer.text
    if answer.status_code >= 400:
        assert answer.json()["error"]
