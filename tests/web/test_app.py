"""The app as a whole: start-up, health, read API, OpenAPI, error handling, secrets, restarts."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine

from bot.config import Settings
from bot.core.errors import KnowledgeError
from bot.store.deliveries import EngineDeliveryStore
from bot.store.migrate import upgrade
from bot.store.tables import WebhookDelivery
from bot.web.app import create_app
from bot.web.deps import get_webhook_ports
from tests.web.conftest import (
    API_TOKEN,
    PAYLOADS,
    WEBHOOK_SECRET,
    auth,
    make_settings,
    serving,
    signed,
)

RUNS = "/api/v1/runs"


def test_healthz_and_readyz(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["database"] is True
    assert body["knowledge"] is True
    assert body["known_issues"] >= 1
    assert body["dry_run"] is True


def test_readyz_is_503_when_the_database_goes_away(tmp_path: Path) -> None:
    db = tmp_path / "triage.db"
    app = create_app(make_settings(f"sqlite:///{db}"))
    with serving(app) as client:
        assert client.get("/readyz").status_code == 200
        app.state.context.engine.dispose()
        app.state.context.engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["database"] is False


def test_bad_knowledge_dir_fails_at_start(sqlite_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "kb"
    (broken / "issues").mkdir(parents=True)
    (broken / "categories.toml").write_text("infrastructure_phases = [\n")
    with pytest.raises(KnowledgeError) as err:
        create_app(make_settings(sqlite_url, knowledge_dir=broken))
    assert "categories.toml" in str(err.value)


def _upload(client: httpx.Client, report: bytes, day: int, suite: str = "staging-e2e") -> int:
    params = {"suite": suite, "started_at": f"2026-11-{day:02d}T08:00:00Z"}
    answer = client.post(RUNS, params=params, content=report, headers=auth())
    assert answer.status_code == 201, answer.text
    run_id: int = answer.json()["run_id"]
    return run_id


def test_read_api_pages_runs_and_lists_issues_and_clusters(
    client: httpx.Client, reports: dict[str, bytes]
) -> None:
    ids = [
        _upload(client, reports[fmt], day) for day, fmt in ((1, "json"), (2, "jsonl"), (3, "xml"))
    ]
    first = client.get(RUNS, params={"per_page": 2}).json()
    assert first["total"] == 3
    assert [r["id"] for r in first["items"]] == [ids[2], ids[1]]
    second = client.get(RUNS, params={"per_page": 2, "page": 2}).json()
    assert [r["id"] for r in second["items"]] == [ids[0]]
    assert client.get(RUNS, params={"suite": "other"}).json()["total"] == 0
    issues = {i["number"]: i for i in client.get("/api/v1/known-issues").json()}
    assert issues[1029]["occurrences"] == 3
    assert issues[1029]["runs"] == 3
    assert issues[1029]["rules"][0]["precision"] == 1.0
    clusters = client.get("/api/v1/clusters").json()
    assert clusters["total"] >= 1
    top = clusters["items"][0]
    assert top["count"] >= 1
    assert top["suggested_rule"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/runs/999999", 404),
        ("/api/v1/runs/abc", 422),
        ("/api/v1/runs?page=0", 422),
        ("/api/v1/runs?per_page=100000", 422),
        ("/api/v1/clusters?page=0", 422),
        ("/api/v1/clusters?per_page=0", 422),
        ("/api/v1/nowhere", 404),
    ],
)
def test_read_errors_are_json(client: httpx.Client, path: str, status: int) -> None:
    answer = client.get(path)
    assert answer.status_code == status
    assert set(answer.json()) == {"error", "detail"}


def test_per_page_is_capped_by_settings(sqlite_url: str, reports: dict[str, bytes]) -> None:
    with serving(create_app(make_settings(sqlite_url, page_size_max=2))) as client:
        for day, fmt in ((1, "json"), (2, "jsonl"), (3, "xml")):
            _upload(client, reports[fmt], day)
        page = client.get(RUNS, params={"per_page": 50}).json()
    assert page["per_page"] == 2
    assert len(page["items"]) == 2


def test_openapi_documents_every_route_with_schemas_and_examples(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/api/v1/runs": {"get", "post"},
        "/api/v1/runs/{run_id}": {"get"},
        "/api/v1/known-issues": {"get"},
        "/api/v1/clusters": {"get"},
        "/api/v1/github/webhook": {"post"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/api/v1/objective": {"get"},
        "/api/v1/criteria": {"get"},
        "/api/v1/outbox": {"get"},
        "/api/v1/outbox/retry": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    text = json.dumps(spec)
    schemas = spec["components"]["schemas"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            ok = [s for s in operation["responses"] if s.startswith("2")]
            assert ok, (method, path)
            if path not in expected:
                continue  # the dashboard and /metrics answer HTML and Prometheus text
            for status, answer in operation["responses"].items():
                content = answer.get("content", {})
                assert "application/json" in content, (method, path, status)
                assert content["application/json"].get("schema"), (method, path, status)
                for name in _refs(content["application/json"]["schema"], schemas):
                    _assert_examples(name, schemas[name])
    assert "upload-token" not in text


def _refs(schema: object, schemas: dict[str, Any], seen: set[str] | None = None) -> set[str]:
    """Names of every component schema reachable from `schema`."""
    seen = set() if seen is None else seen
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rpartition("/")[2]
            if name not in seen:
                seen.add(name)
                _refs(schemas[name], schemas, seen)
        for value in schema.values():
            _refs(value, schemas, seen)
    elif isinstance(schema, list):
        for value in schema:
            _refs(value, schemas, seen)
    return seen


def _assert_examples(name: str, schema: dict[str, Any]) -> None:
    for field, prop in schema.get("properties", {}).items():
        nested = "$ref" in json.dumps(prop) or prop.get("type") == "object"
        assert nested or "examples" in prop or "example" in prop, (name, field)


def test_unexpected_errors_answer_generic_json_500(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    def broken() -> None:
        raise RuntimeError("bug with internals /secret/path")

    app.add_api_route("/boom", broken)
    with serving(app) as client, caplog.at_level(logging.ERROR):
        answer = client.get("/boom")
        assert client.get("/healthz").status_code == 200
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "internal_error",
        "detail": "internal error; the server log has the details",
    }
    assert "Traceback" not in answer.text
    assert "RuntimeError: bug with internals" in caplog.text


def test_secrets_never_reach_logs_or_error_bodies(
    sqlite_url: str, reports: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    secrets = {
        "api_token": API_TOKEN,
        "webhook_secret": WEBHOOK_SECRET,
        "github_token": "ghp_should_never_be_printed_0123456789",
        "github_app_private_key": "-----BEGIN RSA PRIVATE KEY-----never-----",
    }
    settings = make_settings(
        sqlite_url,
        github_token=SecretStr(secrets["github_token"]),
        github_app_private_key=SecretStr(secrets["github_app_private_key"]),
    )
    seen: list[str] = [repr(settings), str(settings.model_dump())]
    with caplog.at_level(logging.DEBUG), serving(create_app(settings)) as client:
        bodies = [
            client.post(RUNS, params={"suite": "s"}, content=b"junk", headers=auth()),
            client.post(RUNS, params={"suite": "s"}, content=b"junk", headers=auth("wrong")),
            client.post(RUNS, params={"suite": "s"}, content=reports["json"], headers=auth()),
            client.post(
                "/api/v1/github/webhook", content=b"{}", headers=signed(b"{}", "x", "1", "no")
            ),
            client.get("/readyz"),
            client.get("/openapi.json"),
        ]
        seen += [b.text + json.dumps(dict(b.headers)) for b in bodies]
    seen.append(caplog.text)
    everything = "\n".join(seen)
    for name, value in secrets.items():
        assert value not in everything, name


def test_pending_deliveries_are_finished_after_a_restart(settings: Settings) -> None:
    # A process stored two deliveries and crashed: one before processing, one mid-way.
    upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    store = EngineDeliveryStore(engine)
    body = (PAYLOADS / "issues_closed.json").read_bytes()
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    for guid in ("d-waiting", "d-interrupted"):
        assert store.record(guid=guid, event="issues", action="closed", payload=body,
                            status="pending", now=earlier)  # fmt: skip
    assert store.claim(guid="d-interrupted", now=earlier) is not None
    assert store.claim(guid="d-interrupted", now=earlier) is None  # claimed: not twice
    with serving(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        from tests.web.conftest import wait_for

        def statuses() -> set[str]:
            with engine.connect() as conn:
                rows = conn.execute(WebhookDelivery.__table__.select()).all()  # type: ignore[attr-defined]
            return {r.status for r in rows}

        wait_for(lambda: statuses() == {"done"})
    engine.dispose()


def test_dependencies_can_be_overridden(settings: Settings) -> None:
    app = create_app(settings)
    calls: list[str] = []

    class Refusing:
        def __getattr__(self, name: str) -> object:
            calls.append(name)
            raise RuntimeError("not used")

    app.dependency_overrides[get_webhook_ports] = Refusing
    body = (PAYLOADS / "ping.json").read_bytes()
    with serving(app) as client:
        answer = client.post(
            "/api/v1/github/webhook", content=body, headers=signed(body, "ping", "p")
        )
    assert answer.status_code == 200
    assert calls == []
