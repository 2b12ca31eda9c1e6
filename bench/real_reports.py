"""Realistic pytest-json-report documents, grown from the failures of a real pytest run.

A small test module with real failure kinds (assertion diffs, chained exceptions, deep call
stacks, setup errors, timeouts) runs once under pytest with --json-report; its test entries are
the templates. A report of any size is built by cloning them with fresh node ids and numbers,
so the tracebacks are pytest's own and the bytes compress like a real report (about 6-7:1),
not like a synthetic one repeating the same frame (58:1).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

MODULE = """
import json
import pytest


class ServiceError(Exception):
    pass


from app_layers import layer_0


def _fetch(url, attempt, depth):
    return layer_0({"url": url, "attempt": attempt}, None, depth)


def _client(url, depth):
    try:
        return _fetch(url, 1, depth)
    except ConnectionRefusedError as exc:
        raise ServiceError(f"orders service unreachable at {url}") from exc


@pytest.fixture
def redis_conn():
    raise OSError(111, "Error 111 connecting to redis-7.staging:6379. Connection refused.")


@pytest.fixture
def payload():
    return {"order": 4711, "items": [{"sku": f"SKU-{i}", "qty": i} for i in range(12)]}


def test_status_code(payload):
    status = 503
    assert status == 200, f"expected 200 for order {payload['order']}, got {status}"


def test_payload_diff(payload):
    expected = dict(payload, items=payload["items"][:-1] + [{"sku": "SKU-11", "qty": 12}])
    assert payload == expected


def test_chained_service_error():
    _client("http://orders.staging:8080/api/v1/orders/4711", 12)


def test_deep_stack_key_error():
    def walk(data, keys):
        if not keys:
            return data
        return walk(data[keys[0]], keys[1:])
    walk({"a": {"b": {"c": {}}}}, ["a", "b", "c", "d"])


def test_deep_stack_direct():
    layer_0({"url": "http://inventory.staging:8080/api/v2/stock", "attempt": 3}, None, 0)


def test_needs_real_services(real_services):
    assert real_services


def test_redis_setup(redis_conn):
    assert redis_conn


def test_timeout():
    layer_0({"url": "/api/v1/items/982", "timeout": 30}, "slow", 0)


def test_json_decode():
    json.loads('{"id": 17, "name": "widget", "tags": [1, 2,')


@pytest.mark.parametrize("n", [3, 5])
def test_parametrized(n):
    assert n % 2 == 0, f"odd batch size {n}"


def test_passes(payload):
    assert payload["order"] == 4711
"""
LAYERS = 40


def layers_module() -> str:
    """A call stack through many small functions, as a web client library has."""
    parts = ["import logging\n\nlog = logging.getLogger('app.client')\n"]
    for k in range(LAYERS):
        last = k + 1 == LAYERS
        call = "_raise(request, session)" if last else f"layer_{k + 1}(request, session, retries)"
        parts.append(
            f"def layer_{k}(request, session, retries):\n"
            f'    """Step {k} of handling a request: headers, retries, pooling."""\n'
            f"    timeout = request.get('timeout', {k + 5})\n"
            f"    log.warning('layer {k}: %s retries=%s timeout=%s',\n"
            f"                request.get('url'), retries, timeout)\n"
            f"    headers = {{'x-layer': '{k}', 'x-retries': str(retries)}}\n"
            f"    request = dict(request, headers=headers, timeout=timeout)\n"
            f"    return {call}\n"
        )
    parts.append(
        "def _raise(request, session):\n"
        "    if session == 'slow':\n"
        "        raise TimeoutError(f\"request to {request['url']} timed out after "
        "{request['timeout']}s\")\n"
        "    raise ConnectionRefusedError(111, f\"Connection refused to {request['url']}\")\n"
    )
    return "\n\n".join(parts)


_NUMBER = re.compile(r"\b\d{2,5}\b")
_KEEP = frozenset({"111", "6379", "5432", "8080"})  # errno and ports, which rules look for


@functools.cache
def templates() -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """Run the module under pytest once; return its failing test entries and a passing one."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "test_service.py").write_text(textwrap.dedent(MODULE))
        (root / "app_layers.py").write_text(layers_module())
        out = root / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--json-report",
             f"--json-report-file={out}", str(root)],
            cwd=root, capture_output=True, check=False, env={**os.environ, "PYTHONPATH": tmp},
        )  # fmt: skip
        doc = json.loads(out.read_text())
    tests = doc["tests"]
    failing = tuple(t for t in tests if t["outcome"] != "passed")
    passing = next(t for t in tests if t["outcome"] == "passed")
    return failing, passing


def _renumber(value: Any, rng: random.Random) -> Any:
    """Change the numbers in every string so clones differ as real failures do."""
    if isinstance(value, str):
        return _NUMBER.sub(lambda m: m[0] if m[0] in _KEEP else str(rng.randint(10, 99999)), value)
    if isinstance(value, float):  # times, durations, thread ids of captured log records
        return value * rng.uniform(0.5, 2.0)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10:
        return rng.randint(10, max(99, value * 2))
    if isinstance(value, list):
        return [_renumber(v, rng) for v in value]
    if isinstance(value, dict):
        return {k: _renumber(v, rng) for k, v in value.items()}
    return value


def _clone(template: dict[str, Any], i: int, rng: random.Random, *, vary: bool) -> dict[str, Any]:
    test = _renumber(template, rng) if vary else copy.deepcopy(template)
    for phase in ("setup", "call", "teardown"):
        if isinstance(test.get(phase), dict):  # real durations are what passing entries vary by
            test[phase]["duration"] = rng.expovariate(1 / 0.05 if phase == "call" else 1 / 0.002)
    module = f"tests/e2e/test_area_{i // 200}/test_module_{i // 40}.py"
    test["nodeid"] = f"{module}::test_case_{i}"
    test["lineno"] = i % 400
    test["keywords"] = [f"test_case_{i}", f"test_module_{i // 40}.py", f"test_area_{i // 200}"]
    return test


def make_report(tests: int, failures: int, seed: int, *, kinds: tuple[str, ...] = ()) -> bytes:
    """Build a json-report document: `failures` of `tests` fail, cloned from real failures.

    kinds, when given, keeps only the failing tests whose name contains one of them.
    """
    rng = random.Random(seed)
    failing, passing = templates()
    if kinds:
        failing = tuple(t for t in failing if any(k in t["nodeid"] for k in kinds))
    picked = set(rng.sample(range(tests), failures))
    items = [
        _clone(rng.choice(failing), i, rng, vary=True)
        if i in picked
        else _clone(passing, i, rng, vary=False)
        for i in range(tests)
    ]
    summary = {"passed": tests - failures, "failed": failures, "total": tests}
    doc = {
        "created": 1795000000.0 + seed,
        "duration": 600.0,
        "exitcode": 1,
        "root": "/srv",
        "environment": {"Python": "3.11.9", "Platform": "Linux-6.1-x86_64"},
        "summary": summary,
        "collectors": [],
        "tests": items,
    }
    return json.dumps(doc, indent=None).encode()
