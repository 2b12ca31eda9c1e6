"""Webhook test support: payload files, a fake GitHub, direct database reads, signed sends."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx

from tests.web.conftest import PAYLOADS, signed

URL = "/api/v1/github/webhook"
RUN_ID = 30433642


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    for path, value in changes.items():
        target = data
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return data


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def send(
    client: httpx.Client, event: str, data: dict[str, Any] | bytes, delivery: str, **kw: str
) -> httpx.Response:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return client.post(URL, content=body, headers={**signed(body, event, delivery), **kw})


def done(db: Any, guid: str) -> bool:
    row = db.delivery(guid)
    return row is not None and row.status in {"done", "failed", "ignored"}
