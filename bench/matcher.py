"""Matcher throughput: 200 rules, failures of a real pytest run varied, ours against a fair loop.

The fair loop compiles every pattern once, prepares each failure's exception chain once and
stops each rule at its first failing condition. Figures are CPU time (min/median of repeats)."""

from __future__ import annotations

import argparse
import fnmatch
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path

from bench.measure import load, timed
from bot.core.knowledge import KnowledgeBase, Rule, parse_knowledge
from bot.core.matching import Matcher, failure_types, normalise_type
from bot.core.model import Failure
from bot.core.reports import read_report_bytes
from bot.core.signature import strip_type

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SERVICES = [
    "payments",
    "orders",
    "inventory",
    "search",
    "billing",
    "kafka",
    "s3",
    "elastic",
    "mailer",
    "gateway",
    "catalog",
    "ledger",
    "profile",
    "notifier",
    "scheduler",
    "export",
]
EXCEPTIONS = [
    "AssertionError",
    "KeyError",
    "ValueError",
    "RuntimeError",
    "TypeError",
    "requests.exceptions.HTTPError",
    "httpx.HTTPStatusError",
    "botocore.exceptions.ClientError",
    "kafka.errors.KafkaTimeoutError",
    "elasticsearch.exceptions.ConnectionError",
    "sqlalchemy.exc.IntegrityError",
    "psycopg.OperationalError",
    "TimeoutError",
]
WORDS = [
    "state",
    "mismatch",
    "expected",
    "got",
    "missing",
    "field",
    "invalid",
    "value",
    "record",
    "order",
    "user",
]


def _synthetic_rule(i: int, rng: random.Random) -> str:
    svc = rng.choice(SERVICES)
    exc = rng.choice(EXCEPTIONS)
    kind = i % 5
    lines = [f'[[rules]]\nid = "r{i}"']
    if kind == 0:
        lines += [
            f'exception = "{exc}"',
            f"message = '''(?i){svc}-{i} (?:returned|answered) 5\\d\\d'''",
        ]
    elif kind == 1:
        lines += [f"message = '''Error \\d+ from {svc}-{i} at \\S+:{9000 + i}'''", 'phase = "call"']
    elif kind == 2:
        lines += [f'nodeid = "tests/{svc}{i}/test_*.py::*"', f'exception = "{exc}"']
    elif kind == 3:
        lines += [
            f"text = '''(?m)^E\\s+{svc}{i}\\.[a-z_]+ failed: code \\d+'''",
            f'exception = "{exc}"',
        ]
    else:
        lines += [
            f"message = '''(?i)\\b{svc}{i}_token (?:expired|revoked)'''",
            "not_message = '''retrying'''",
            'keyword = "e2e"',
        ]
    return "\n".join(lines)


def build_files(total_rules: int, rng: random.Random) -> dict[str, str]:
    """Return the shipped knowledge files plus synthetic issues up to total_rules rules."""
    files = {"categories.toml": (KNOWLEDGE / "categories.toml").read_text()}
    for path in sorted((KNOWLEDGE / "issues").glob("*.toml")):
        files[f"issues/{path.name}"] = path.read_text()
    shipped = parse_knowledge(files)
    count = sum(len(i.rules) for i in shipped.issues.values())
    number = 5000
    while count < total_rules:
        per = min(5, total_rules - count)
        body = "\n\n".join(_synthetic_rule(count + k, rng) for k in range(per))
        files[f"issues/{number}-synthetic.toml"] = (
            f'issue = {number}\ntitle = "synthetic {number}"\ncategory = "product"\n\n{body}\n'
        )
        count += per
        number += 1
    return files


# A small suite of realistic failures, run once with real pytest: its tracebacks are real.
SUITE = """
import pytest

def _exc(module, name):
    return type(name, (Exception,), {"__module__": module})

@pytest.mark.parametrize("svc", ["payments", "orders", "kafka", "ledger"])
def test_service_answers(svc):
    raise _exc("requests.exceptions", "HTTPError")(f"{svc}-12 returned 503 for 9f3a2b1c4d5e6f70")

def test_redis_down():
    raise _exc("redis.exceptions", "ConnectionError")(
        "Error 111 connecting to redis-7.staging:6379. Connection refused.")

def test_postgres_refused():
    raise _exc("psycopg", "OperationalError")(
        'connection failed: server at "10.0.3.17", port 5432 failed: Connection refused')

def test_clickhouse():
    raise _exc("clickhouse_connect.driver.exceptions", "OperationalError")(
        "HTTPConnectionPool(host='ch', port=8123): Max retries exceeded executing HTTP request")

def test_totals():
    expected = {"total": 1042, "items": 17}
    assert expected == {"total": 1043, "items": 17}

def test_lookup():
    record = {"user_1042": 1}
    record["order_88123"]

def test_job_times_out():
    raise TimeoutError("timed out after 30.00s waiting for job 4711")

def test_attribute(request):
    request.node.client_17

def test_token():
    raise _exc("jwt.exceptions", "ExpiredSignatureError")("Signature has expired")

def test_needs_services(real_services):
    pass

class TestInventory:
    def test_stock(self):
        stock = [3, 1, 2]
        assert sorted(stock) == [1, 2, 3, 4], "stock mismatch for sku 7731"
"""
_DIGITS = re.compile(r"\d+")


@cache
def _suite_failures() -> tuple[Failure, ...]:
    """Run SUITE once with real pytest and the json-report plugin; return its failures."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_services.py").write_text(SUITE)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--json-report",
             f"--json-report-file={work / 'report.json'}", "test_services.py"],
            cwd=work, capture_output=True, check=False, timeout=300,
        )  # fmt: skip
        data = (work / "report.json").read_bytes()
    return tuple(read_report_bytes(data, max_bytes=len(data)).failures)


def real_failures(count: int, seed: int) -> list[Failure]:
    """Failures of a real pytest run, varied: numbers, services, modules and keywords change."""
    rng = random.Random(seed)
    base = _suite_failures()
    out = []
    for i in range(count):
        f = base[i % len(base)]
        svc, n = rng.choice(SERVICES), rng.randrange(200)

        def vary(text: str, svc: str = svc, n: int = n, renamed: bool = i % 3 == 0) -> str:
            text = _DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group()))), text)
            return text.replace("payments-", f"{svc}-{n}-", 1) if renamed else text

        out.append(
            replace(
                f,
                nodeid=f"tests/{svc}{n}/test_{rng.choice(WORDS)}.py::{f.nodeid.rpartition('::')[2]}",
                message=vary(f.message),
                text=vary(f.text),
                keywords=frozenset({"e2e"} if i % 2 else {"unit"}),
            )
        )
    return out


class _Fair:
    """One rule for the fair loop: every pattern compiled once (Python re)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.types = {normalise_type(e) for e in rule.exception}
        self.not_types = {normalise_type(e) for e in rule.not_exception}
        self.nodeid = [re.compile(fnmatch.translate(g)) for g in rule.nodeid]
        self.not_nodeid = [re.compile(fnmatch.translate(g)) for g in rule.not_nodeid]
        self.pats = {
            k: re.compile(getattr(rule, k)) if getattr(rule, k) else None
            for k in ("message", "not_message", "text", "not_text")
        }

    def ok(self, f: Failure, types: frozenset[str], message: str) -> bool:  # noqa: PLR0911
        """Every condition in turn, stopping at the first that fails."""
        r, pats = self.rule, self.pats
        if (r.phase and f.phase not in r.phase) or f.phase in r.not_phase:
            return False
        if (self.types and self.types.isdisjoint(types)) or not self.not_types.isdisjoint(types):
            return False
        if (r.keyword and f.keywords.isdisjoint(r.keyword)) or not f.keywords.isdisjoint(
            r.not_keyword
        ):
            return False
        if self.nodeid and not any(g.match(f.nodeid) for g in self.nodeid):
            return False
        if any(g.match(f.nodeid) for g in self.not_nodeid):
            return False
        for key, target, want in (
            ("message", message, True),
            ("not_message", message, False),
            ("text", f.text, True),
            ("not_text", f.text, False),
        ):
            pat = pats[key]
            if pat is not None and (pat.search(target) is not None) is not want:
                return False
        return True


def fair_matching(rules: tuple[Rule, ...], failures: list[Failure]) -> list[list[str]]:
    """Per failure, the ids of every matching rule: a fair loop over all rules.

    Patterns are compiled once, the exception chain and message are prepared once per failure,
    and each rule stops at its first failing condition.
    """
    fair = [_Fair(r) for r in rules]
    out = []
    for f in failures:
        types = failure_types(f)
        message = strip_type(f.message, f.exception)
        out.append([x.rule.id for x in fair if x.ok(f, types, message)])
    return out


def run(rules: int, count: int, fair_count: int, seed: int, repeat: int = 3) -> None:
    """Time our matcher and the fair loop on the same failures; check both find the same rules."""
    rng = random.Random(seed)
    files = build_files(rules, rng)
    kb: KnowledgeBase = parse_knowledge(files)
    failures = real_failures(count, seed)
    distinct = len({(f.exception, f.message) for f in failures})
    print(f"matcher ({load()})")
    print(f"rules: {len(kb.rules)} in {len(kb.issues)} issues")
    print(f"failures: {count:,} from a real pytest run, varied ({distinct:,} distinct messages)")

    def ours() -> None:
        fresh = Matcher(kb.rules)  # no cache carried over between repeats
        for f in failures:
            fresh.match(f)

    t = timed(ours, repeat)
    best, median = t.rate(count)
    matched = sum(1 for m in kb.match_many(failures) if m is not None)
    print(f"ours:  {best:,.0f} failures/s CPU (median {median:,.0f}); {matched:,} matched; "
          f"{t.describe(count, 'µs', 1e6)} per failure")  # fmt: skip
    sample = failures[:fair_count]
    expected: list[list[str]] = []
    tf = timed(lambda: expected.__setitem__(slice(None), fair_matching(kb.rules, sample)), repeat)
    fbest, fmedian = tf.rate(len(sample))
    print(f"fair:  {fbest:,.0f} failures/s CPU (median {fmedian:,.0f}) over {len(sample):,}; "
          f"{tf.describe(len(sample), 'µs', 1e6)} per failure")  # fmt: skip
    print(f"ratio: {best / fbest:.1f}x the fair re.search loop (best repeats)")
    fresh = Matcher(kb.rules)
    wrong = sum(
        1
        for f, want in zip(sample, expected, strict=True)
        if [r.id for r in fresh.matching(f)] != want
    )
    print(f"agreement with the fair loop: {len(sample) - wrong:,}/{len(sample):,}")
    print(f"end ({load()})")


def main(argv: list[str]) -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench matcher")
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--failures", type=int, default=50_000)
    parser.add_argument("--fair", type=int, default=5_000, help="failures for the fair loop")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    run(args.rules, args.failures, args.fair, args.seed, args.repeat)
