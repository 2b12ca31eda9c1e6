"""The matcher benchmark runs and its matcher agrees with the plain re.search loop (no timing)."""

from __future__ import annotations

import random

import pytest

from bench.__main__ import main as bench_main
from bench.matcher import build_files, real_failures, run
from bot.core.knowledge import parse_knowledge


def test_build_files_reaches_the_rule_count() -> None:
    kb = parse_knowledge(build_files(120, random.Random(1)))
    assert len(kb.rules) == 120
    assert {623, 1029, 1086, 1087, 1111} <= set(kb.issues)


def test_benchmark_agrees_with_the_fair_loop(capsys: pytest.CaptureFixture[str]) -> None:
    run(rules=200, count=400, fair_count=400, seed=3, repeat=1)
    out = capsys.readouterr().out
    assert "agreement with the fair loop: 400/400" in out
    assert "failures/s CPU" in out
    assert "load " in out


def test_real_failures_come_from_a_real_pytest_run_and_vary() -> None:
    failures = real_failures(60, seed=1)
    assert len({f.message for f in failures}) > 30
    assert any(f.exception == "redis.exceptions.ConnectionError" for f in failures)
    assert all(f.text for f in failures)


def test_dispatcher_rejects_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["nope"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err
    assert bench_main(["--help"]) == 0
