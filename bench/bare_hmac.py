"""The floor for webhook benchmarks: a bare FastAPI endpoint that only checks the HMAC.

`python -m uvicorn bench.bare_hmac:app` with BENCH_WEBHOOK_SECRET set; answers 202 or 401.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from fastapi import FastAPI, Request, Response

app = FastAPI()
_SECRET = os.environ.get("BENCH_WEBHOOK_SECRET", "").encode()


@app.post("/api/v1/github/webhook")
async def webhook(request: Request) -> Response:
    """Check X-Hub-Signature-256 against the body, nothing else."""
    body = await request.body()
    digest = "sha256=" + hmac.new(_SECRET, body, hashlib.sha256).hexdigest()
    given = request.headers.get("x-hub-signature-256", "")
    return Response(status_code=202 if hmac.compare_digest(digest, given) else 401)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Ready as soon as it answers."""
    return {"status": "ok"}
