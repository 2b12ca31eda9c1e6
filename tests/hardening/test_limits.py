"""Oversized bodies, gzip bombs, bad encodings, and wrong or missing tokens and signatures."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.conftest import (
    Service,
    StartService,
    auth,
    gz,
    gz_headers,
    report,
    run_rows,
    signature,
)

LIMIT = 10 * 1024 * 1024
PING = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, int]]:
    """One service on SQLite with a 10 MB report limit: (base URL, database URL, pid)."""
    from bench.http import running_service

    url = f"sqlite:///{tmp_path_factory.mktemp('limits') / 'triage.db'}"
    with running_service(url, extra_env={"TRIAGE_MAX_REPORT_BYTES": str(LIMIT)}) as (base, proc):
        yield base, url, proc.pid


def _bomb(decompressed: int) -> bytes:
    """A gzip body of `decompressed` zero bytes (about 1,000 times smaller)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(decompressed >> 20)]
    return b"".join(parts) + packer.flush()


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _post(base: str, body: bytes | Iterator[bytes], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/runs", params={"suite": "limits"}, content=body, headers=headers, timeout=60
    )


def test_body_over_the_limit_is_413(service: tuple[str, str, int]) -> None:
    base, url, _ = service
    answer = _post(base, b"{" + b" " * LIMIT + b"}", auth())
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert run_rows(url) == []


def test_streamed_body_without_length_over_the_limit_is_413(service: tuple[str, str, int]) -> None:
    base, _, _ = service
    chunks = (b" " * (1 << 20) for _ in range(LIMIT // (1 << 20) + 2))
    assert _post(base, chunks, auth()).status_code == 413


def test_gzip_bomb_is_rejected_with_bounded_memory(service: tuple[str, str, int]) -> None:
    base, url, pid = service
    bomb = _bomb(1024 << 20)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < LIMIT
    answer = _post(base, bomb, gz_headers())
    assert answer.status_code == 413
    assert "decompressed" in answer.json()["detail"]
    # Inflating the whole bomb would take over 1 GiB; the cap stops it near the limit.
    assert _peak_rss(pid) < 400 * 1024 * 1024
    assert run_rows(url) == []


@pytest.mark.parametrize(
    ("body", "encoding", "status"),
    [
        (b"\x1f\x8b\x08\x00garbage", "gzip", 400),
        (gz(b"{}")[:-6], "gzip", 400),
        (b"{}", "br", 415),
        (b"not a report at all", None, 400),
        (b'{"tests": "nope"}', None, 400),
    ],
    ids=["bad-gzip", "cut-gzip", "brotli", "not-a-report", "wrong-shape"],
)
def test_malformed_bodies_get_a_json_4xx(
    service: tuple[str, str, int], body: bytes, encoding: str | None, status: int
) -> None:
    base, url, _ = service
    headers = auth() | ({"Content-Encoding": encoding} if encoding else {})
    answer = _post(base, body, headers)
    assert answer.status_code in (status, 422), answer.text
    assert answer.json()["detail"]
    assert run_rows(url) == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic Zm9vOmJhcg=="},
     {"Authorization": "Bearer"}, {"Authorization": "bench-token"}],
)  # fmt: skip
def test_missing_or_wrong_token_is_401(
    service: tuple[str, str, int], headers: dict[str, str]
) -> None:
    base, url, _ = service
    answer = _post(base, report(20, 4, 1), headers)
    assert answer.status_code == 401
    assert "bench-token" not in answer.text
    assert run_rows(url) == []


@pytest.mark.parametrize(
    "sig",
    [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abc", signature(PING, "other-secret"),
     signature(PING + b" ")],
)  # fmt: skip
def test_missing_or_wrong_signature_is_401(service: tuple[str, str, int], sig: str | None) -> None:
    base, _, _ = service
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1"}
    if sig is not None:
        headers["X-Hub-Signature-256"] = sig
    answer = httpx.post(f"{base}/api/v1/github/webhook", content=PING, headers=headers)
    assert answer.status_code == 401
    right = headers | {"X-Hub-Signature-256": signature(PING)}
    assert (
        httpx.post(f"{base}/api/v1/github/webhook", content=PING, headers=right).json()["status"]
        == "pong"
    )


def test_service_without_token_or_secret_refuses_everything(
    start_service: StartService, sqlite_url: str
) -> None:
    service: Service = start_service(sqlite_url, TRIAGE_API_TOKEN="", TRIAGE_WEBHOOK_SECRET="")
    base = service[0]
    assert _post(base, report(20, 4, 1), auth()).status_code == 401
    headers = {"X-GitHub-Event": "ping", "X-Hub-Signature-256": signature(PING)}
    assert (
        httpx.post(f"{base}/api/v1/github/webhook", content=PING, headers=headers).status_code
        == 401
    )
