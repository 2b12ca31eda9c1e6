"""Matcher throughput: 200 rules, N varied failures, ours against a plain re.search loop."""

from __future__ import annotations

import argparse
import fnmatch
import random
import re
import time
from pathlib import Path

from bot.core.knowledge import KnowledgeBase, Rule, parse_knowledge
from bot.core.matching import failure_types, normalise_type
from bot.core.model import Failure, Outcome, Phase
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


def _message(rng: random.Random, i: int) -> tuple[str, str]:
    """Pick one of ten failure shapes, with random numbers, hosts and ids in it."""
    svc, n, big = rng.choice(SERVICES), rng.randrange(200), rng.randrange(10**6)
    shapes = [
        ("redis.exceptions.ConnectionError", f"Error 111 connecting to redis-{n}:6379. Refused."),
        ("AssertionError", f"assert {big} == {rng.randrange(10**6)}"),
        (rng.choice(EXCEPTIONS), f"{svc}-{n} returned 50{n % 10} for {rng.getrandbits(64):x}"),
        ("psycopg.OperationalError", f'server at "10.0.{n}.{i % 250}", port 5432 failed: refused'),
        ("AttributeError", f"'Test{svc.title()}{n}' object has no attribute 'client_{n}'"),
        (rng.choice(EXCEPTIONS), f"Error {n} from {svc}-{n} at host{n}.internal:{9000 + n}"),
        ("KeyError", f"'{rng.choice(WORDS)}_{big}'"),
        ("TimeoutError", f"timed out after {rng.random() * 30:.2f}s waiting for job {i}"),
        (rng.choice(EXCEPTIONS), f"{svc}{n}_token expired at {big}"),
        ("ValueError", " ".join(rng.choice(WORDS) for _ in range(8)) + f" {i}"),
    ]
    return shapes[i % len(shapes)]


def make_failures(count: int, rng: random.Random) -> list[Failure]:
    """Build realistically varied failures: many distinct node ids, messages and texts."""
    failures = []
    for i in range(count):
        exc, message = _message(rng, i)
        svc, n = rng.choice(SERVICES), rng.randrange(200)
        text = "\n".join(
            [f"    def test_{svc}_{n}(self, client):", f">       result = client.call({i})", ""]
            + [f"src/{svc}/module_{k}.py:{rng.randrange(900)}: in handler_{k}" for k in range(6)]
            + [f"E       {exc}: {message}", f"E       {svc}{n}.step_{i % 7} failed: code {n}"]
        )
        failures.append(
            Failure(
                nodeid=f"tests/{svc}{n}/test_{rng.choice(WORDS)}.py::test_case_{i % 997}",
                phase=Phase.CALL if i % 6 else Phase.SETUP,
                outcome=Outcome.FAILED,
                exception=exc,
                chain=(("ConnectionRefusedError", exc) if i % 3 == 0 else (exc,)),
                message=message,
                text=text,
                keywords=frozenset({"e2e"} if i % 2 else {"unit"}),
            )
        )
    return failures


def _naive_ok(rule: Rule, pats: dict[str, re.Pattern[str] | None], f: Failure) -> bool:
    """Evaluate one rule the plain way: every condition in turn, re.search per regex."""
    types = failure_types(f)
    checks = [
        not rule.phase or f.phase in rule.phase,
        f.phase not in rule.not_phase,
        not rule.exception or any(normalise_type(e) in types for e in rule.exception),
        not any(normalise_type(e) in types for e in rule.not_exception),
        not rule.keyword or any(k in f.keywords for k in rule.keyword),
        not any(k in f.keywords for k in rule.not_keyword),
        not rule.nodeid or any(fnmatch.fnmatchcase(f.nodeid, g) for g in rule.nodeid),
        not any(fnmatch.fnmatchcase(f.nodeid, g) for g in rule.not_nodeid),
    ]
    for key, target, want in (
        ("message", strip_type(f.message, f.exception), True),
        ("not_message", strip_type(f.message, f.exception), False),
        ("text", f.text, True),
        ("not_text", f.text, False),
    ):
        pat = pats[key]
        if pat is not None:
            checks.append((pat.search(target) is not None) is want)
    return all(checks)


def naive_matching(rules: tuple[Rule, ...], failures: list[Failure]) -> list[list[str]]:
    """Return, per failure, the ids of every matching rule, by a plain loop over all rules."""
    compiled = [
        (
            r,
            {
                k: re.compile(getattr(r, k)) if getattr(r, k) else None
                for k in ("message", "not_message", "text", "not_text")
            },
        )
        for r in rules
    ]
    return [[r.id for r, pats in compiled if _naive_ok(r, pats, f)] for f in failures]


# CPU time of this single-threaded process: failures per second on one core, which other
# load on the machine does not inflate the way wall-clock time would.
def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} failures/s"


def run(rules: int, count: int, naive_count: int, seed: int) -> None:
    """Time our matcher and the plain loop; check both find the same rules."""
    rng = random.Random(seed)
    files = build_files(rules, rng)
    started = time.process_time()
    kb: KnowledgeBase = parse_knowledge(files)
    load_s = time.process_time() - started
    failures = make_failures(count, rng)
    distinct = len({(f.exception, f.message) for f in failures})
    print(f"rules: {len(kb.rules)} in {len(kb.issues)} issues, loaded in {load_s * 1000:.0f} ms")
    print(f"failures: {count:,} ({distinct:,} distinct exception+message pairs)")

    started = time.process_time()
    matches = kb.match_many(failures)
    ours_s = time.process_time() - started
    hits, misses = kb.matcher.memo_hits, kb.matcher.memo_misses
    matched = sum(1 for m in matches if m is not None)
    print(
        f"ours:  {_rate(count, ours_s)} ({ours_s:.2f} s; {matched:,} matched; "
        f"memo hit rate {hits / max(hits + misses, 1):.1%})"
    )

    # A rerun of the same failures (the next run of a suite failing the same way).
    recent = failures[:10_000]
    kb.match_many(recent)
    hits, misses = kb.matcher.memo_hits, kb.matcher.memo_misses
    started = time.process_time()
    kb.match_many(recent)
    again_s = time.process_time() - started
    hits, misses = kb.matcher.memo_hits - hits, kb.matcher.memo_misses - misses
    print(
        f"again: {_rate(len(recent), again_s)} (10,000 of them seen before; "
        f"memo hit rate {hits / max(hits + misses, 1):.1%})"
    )

    sample = failures[:naive_count]
    started = time.process_time()
    expected = naive_matching(kb.rules, sample)
    naive_s = time.process_time() - started
    print(f"plain: {_rate(len(sample), naive_s)} ({naive_s:.2f} s over {len(sample):,} failures)")
    print(f"ratio: {(count / ours_s) / (len(sample) / naive_s):.1f}x")
    fresh = parse_knowledge(files).matcher
    wrong = sum(
        1
        for f, want in zip(sample, expected, strict=True)
        if [r.id for r in fresh.matching(f)] != want
    )
    print(f"agreement with the plain loop: {len(sample) - wrong:,}/{len(sample):,}")


def main(argv: list[str]) -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench matcher")
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--failures", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=10_000, help="failures for the plain loop")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    run(args.rules, args.failures, args.naive, args.seed)
