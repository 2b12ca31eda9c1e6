"""The shipped known issues: each recognises its failures and nothing that merely looks close."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.model import Category, Failure, Outcome, Phase

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


def make(
    exception: str | None,
    message: str,
    *,
    chain: tuple[str, ...] = (),
    phase: Phase = Phase.CALL,
    text: str = "",
    nodeid: str = "tests/e2e/test_flow.py::test_flow",
) -> Failure:
    return Failure(
        nodeid=nodeid,
        phase=phase,
        outcome=Outcome.FAILED if phase is Phase.CALL else Outcome.ERROR,
        exception=exception,
        chain=(*chain, exception) if exception else chain,
        message=message,
        text=text or f"E   {exception}: {message}",
    )


def e2e(
    message: str, status: int, nodeid: str = "tests/e2e/auth/test_login.py::test_login"
) -> Failure:
    """An end-to-end assertion on an HTTP status, as pytest explains it."""
    explained = f"assert {status} == 200"
    return make(
        "AssertionError",
        f"{message}\n{explained}",
        nodeid=nodeid,
        text=">       assert resp.status_code == 200, resp.text\n"
        f"E       AssertionError: {message}\n"
        f"E       {explained}\nE        +  where {status} = <Response [{status}]>.status_code",
    )


FIXTURE_TEXT = (
    "file /work/tests/test_a.py, line 10\n  def test_x(real_services):\n"
    "E       fixture '{name}' not found\n>       available fixtures: cache, capfd\n"
)
CH = "clickhouse_connect.driver.exceptions.OperationalError"
CH_MESSAGE = (
    "Error HTTPConnectionPool(host='127.0.0.1', port=8123): Max retries exceeded with url: / "
    '(Caused by NewConnectionError("Failed to establish a new connection: [Errno 111] '
    'Connection refused")) executing HTTP request attempt 1 (http://127.0.0.1:8123)'
)

POSITIVE = [
    ("623", make(None, "", phase=Phase.SETUP, text=FIXTURE_TEXT.format(name="real_services")), 623),
    ("1086-client", make(CH, CH_MESSAGE.replace("8123", "41234")), 1086),
    ("1086-http-port", make("urllib3.exceptions.MaxRetryError", CH_MESSAGE[6:]), 1086),
    (
        "1086-native-port",
        make(
            "ConnectionRefusedError",
            "[Errno 111] Connection refused to 10.0.0.5:9000",
            text="clickhouse_driver ... Connection refused to 10.0.0.5:9000",
        ),
        1086,
    ),
    ("1086-named", make("RuntimeError", "timed out connecting to ClickHouse after 30s"), 1086),
    (
        "1029-client",
        make(
            "redis.exceptions.ConnectionError",
            "Error 111 connecting to 127.0.0.1:41000. Connection refused.",
            chain=("builtins.ConnectionRefusedError",),
        ),
        1029,
    ),
    ("1029-timeout", make("redis.exceptions.TimeoutError", "Timeout reading from socket"), 1029),
    (
        "1029-wrapped",
        make("app.errors.CacheUnavailable", "Error 111 connecting to redis.staging:6379. Refused."),
        1029,
    ),
    (
        "1087-jwt",
        make("jwt.exceptions.InvalidSignatureError", "Signature verification failed"),
        1087,
    ),
    ("1087-jwt-message", make("app.auth.AuthError", "Invalid JWT: bad padding"), 1087),
    (
        "1087-auth-service",
        make("app.auth.AuthServiceError", "auth service returned 401 Unauthorized for /token"),
        1087,
    ),
    (
        "1087-httpx",
        make(
            "httpx.HTTPStatusError",
            "Client error '401 Unauthorized' for url 'http://auth-service:8080/oauth/token'",
        ),
        1087,
    ),
    ("1087-setting", make("RuntimeError", "JWT_SECRET_KEY is not configured"), 1087),
    ("1087-setting-2", make("app.Err", "missing required setting SERVICE_SECRET"), 1087),
    ("1087-keyerror", make("KeyError", "'JWT_SECRET_KEY'"), 1087),
    (
        "1087-pydantic",
        make(
            "pydantic_core._pydantic_core.ValidationError",
            "1 validation error for Settings",
            text="E   ValidationError: 1 validation error for Settings\n"
            "E   jwt_secret_key\nE     Field required [type=missing]",
        ),
        1087,
    ),
    (
        "1111",
        make(
            "AttributeError",
            "'TestCheckout' object has no attribute 'cart'",
            text=">       self.cart.add(1)\nE       AttributeError: 'TestCheckout' object has no "
            "attribute 'cart'",
        ),
        1111,
    ),
    ("1087-e2e-jwt", e2e('{"detail": "JWT verification failed"}', 401), 1087),
    ("1087-e2e-secret", e2e("JWT secret not configured", 401), 1087),
    ("1087-e2e-403", e2e("AUTH_SECRET missing", 403, "tests/e2e/test_auth.py::test_me"), 1087),
    ("1029-e2e", e2e("Error 111 connecting to redis:6379. Connection refused.", 503), 1029),
    ("1086-e2e", e2e("ClickHouse unreachable: connection refused", 503), 1086),
]

NEGATIVE = [
    ("product-assert", make("AssertionError", "assert 401 == 200")),
    ("product-assert-msg", make("AssertionError", "expected total 12, got 13\nassert 12 == 13")),
    (
        "postgres",
        make(
            "psycopg.OperationalError",
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            "Connection refused\n\tIs the server running on that host?",
        ),
    ),
    ("timeout", make("TimeoutError", "timed out")),
    ("timeout-9000-other", make("TimeoutError", "timed out connecting to minio:9000")),
    ("generic-connection", make("ConnectionError", "Error 111 connecting to cache:11211")),
    (
        "other-401",
        make(
            "httpx.HTTPStatusError",
            "Client error '401 Unauthorized' for url 'http://orders:8000/api/orders'",
        ),
    ),
    ("other-401-text", make("app.ApiError", "orders service returned 401 Unauthorized")),
    ("attr-none", make("AttributeError", "'NoneType' object has no attribute 'id'")),
    ("attr-testclient", make("AttributeError", "'TestClient' object has no attribute 'foo'")),
    ("other-fixture", make(None, "", phase=Phase.SETUP, text=FIXTURE_TEXT.format(name="db"))),
    ("clickhouse-query", make(CH[:-16] + "DatabaseError", "Code: 60. DB::Exception: Table x")),
    ("keyerror", make("KeyError", "'user_id'")),
    ("syntax-invalid-token", make("SyntaxError", "invalid token", phase=Phase.COLLECT)),
    ("json-invalid-token", make("json.decoder.JSONDecodeError", "Invalid token at line 1")),
    ("assert-clickhouse-setting", make("AssertionError", "assert clickhouse_timeout == 30")),
    ("assert-8123", make("AssertionError", "port 8123 timeout default\nassert 10 == 30")),
    (
        "import",
        make("ModuleNotFoundError", "No module named 'clickhouse_driver'", phase=Phase.COLLECT),
    ),
    ("api-invalid-token", make("ValueError", "invalid token in expression")),
    ("http-403-invalid-token", make("fastapi.exceptions.HTTPException", "403: Invalid token")),
    (
        "assert-redis-message",
        make("AssertionError", "expected Error 111 connecting to redis:6379 to be retried"),
    ),
    ("clickhouse-slow-insert", make("Failed", "ClickHouse insert timed out after 10 s")),
    (
        "backend-auth-path-401",
        make(
            "httpx.HTTPStatusError",
            "Client error '401 Unauthorized' for url 'http://backend:8000/api/auth/me'",
        ),
    ),
    (
        "attr-test-helper-object",
        make(
            "AttributeError",
            "'TestDataFactory' object has no attribute 'orders'",
            text=">       factory.orders.create()\nE       AttributeError: 'TestDataFactory' "
            "object has no attribute 'orders'",
        ),
    ),
    ("e2e-401-orders", e2e("JWT verification failed", 401, "tests/e2e/test_orders.py::test_list")),
    ("e2e-401-product", e2e("refund not allowed for this account", 401)),
    ("e2e-auth-no-status", make("AssertionError", "JWT verification failed to grant admin")),
    ("e2e-auth-404", e2e("JWT verification failed", 404)),
    ("e2e-503-maintenance", e2e("maintenance window, retry later", 503)),
    ("e2e-redis-401", e2e("Error 111 connecting to redis:6379", 401)),
]


@pytest.mark.parametrize(
    ("failure", "issue"), [p[1:] for p in POSITIVE], ids=[p[0] for p in POSITIVE]
)
def test_shipped_issue_recognises_its_failures(
    kb: KnowledgeBase, failure: Failure, issue: int
) -> None:
    match = kb.match(failure)
    assert match is not None
    assert match.issue == issue
    assert match.ambiguous_with == ()
    assert kb.category(failure, match) is Category.INFRASTRUCTURE


@pytest.mark.parametrize("failure", [n[1] for n in NEGATIVE], ids=[n[0] for n in NEGATIVE])
def test_shipped_issues_leave_look_alikes_alone(kb: KnowledgeBase, failure: Failure) -> None:
    assert kb.match(failure) is None


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("product-assert", Category.PRODUCT),
        ("product-assert-msg", Category.PRODUCT),
        ("postgres", Category.INFRASTRUCTURE),
        ("timeout", Category.INFRASTRUCTURE),
        ("generic-connection", Category.INFRASTRUCTURE),
        ("other-401", Category.PRODUCT),
        ("attr-none", Category.PRODUCT),
        ("attr-testclient", Category.INFRASTRUCTURE),
        ("other-fixture", Category.INFRASTRUCTURE),
        ("keyerror", Category.PRODUCT),
        ("import", Category.INFRASTRUCTURE),
    ],
)
def test_category_of_unknown_failures(kb: KnowledgeBase, name: str, category: Category) -> None:
    failure = dict(NEGATIVE)[name]
    assert kb.category(failure, kb.match(failure)) is category
