"""Commit verdicts in a dry run: the check run or status that would be written is recorded."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.core.commit_verdict import VerdictTarget, digest, verdict_intent
from bot.core.gate import JudgedFailure, SuspectRange, judge_run
from bot.core.intents import SetCommitVerdict
from bot.core.model import Category, Classification
from bot.github.dryrun import DryRunGateway
from bot.store.outbox_queue import list_entries
from tests.github.outbox_helpers import FakeClock, enqueue, sender

SHA = "d" * 40
NEW = JudgedFailure("t::login", Classification.NEW, Category.INFRASTRUCTURE, None)
KNOWN = JudgedFailure("t::login", Classification.KNOWN, Category.INFRASTRUCTURE, 1029)
WEB = "https://github.com/a/b"
RANGE = SuspectRange("t::login", 7, SHA, 6, "e" * 40)


def _intent(failure: JudgedFailure, revision: int) -> SetCommitVerdict:
    target = VerdictTarget("check_run", public_url="https://triage.test", web=WEB)
    return verdict_intent(
        judge_run([failure]), [RANGE], run_id=7, sha=SHA, name="triage-bot / e2e",
        target=target, revision=revision,
    )  # fmt: skip


def test_a_dry_run_records_the_check_run_then_its_update(engine: Engine) -> None:
    clock, dry = FakeClock(), DryRunGateway()
    enqueue(engine, [_intent(NEW, 1)], clock.now)
    sender(engine, dry, clock).drain()
    enqueue(engine, [_intent(KNOWN, 2)], clock.now)
    sender(engine, dry, clock).drain()
    (create, created), (update, updated) = dry.sent
    assert create == "create_check_run"
    assert (created["sha"], created["conclusion"]) == (SHA, "failure")
    assert created["title"] == "1 failure: 1 new infrastructure failure"
    assert created["details_url"] == "https://triage.test/runs/7"
    assert "https://github.com/a/b/compare/" in str(created["body"])
    assert update == "update_check_run"
    assert (updated["conclusion"], updated["title"]) == (
        "neutral",
        "1 failure: 1 known (#1029 \u00d71)",
    )


def test_a_dry_run_records_the_status_with_a_short_description(engine: Engine) -> None:
    clock, dry = FakeClock(), DryRunGateway()
    many = [
        JudgedFailure(f"t::case_{i}", Classification.KNOWN, Category.PRODUCT, 1000 + i)
        for i in range(40)
    ]
    intent = verdict_intent(
        judge_run(many), [], run_id=8, sha=SHA, name="triage-bot / e2e",
        target=VerdictTarget("status"), revision=1,
    )  # fmt: skip
    enqueue(engine, [intent], clock.now)
    sender(engine, dry, clock).drain()
    ((action, details),) = dry.sent
    assert action == "set_commit_status"
    assert details["state"] == "success"  # only known failures: nothing blocks
    assert len(str(details["description"])) == 140
    assert details["target_url"] is None
    assert len(intent.title) > 140


def test_an_unchanged_verdict_has_the_same_digest_and_a_changed_one_not() -> None:
    first, again, known = _intent(NEW, 1), _intent(NEW, 2), _intent(KNOWN, 2)
    assert digest(first) == digest(again)
    assert digest(first) != digest(known)
    assert first.key != again.key


def test_the_outbox_listing_shows_what_the_verdict_write_says(engine: Engine) -> None:
    clock = FakeClock()
    enqueue(engine, [_intent(NEW, 1)], clock.now)
    (entry,), more = list_entries(engine)
    assert not more
    assert entry.kind == "SetCommitVerdict"
    assert entry.summary == (
        "check_run triage-bot / e2e on dddddddddddd (failure): "
        "1 failure: 1 new infrastructure failure"
    )
    assert entry.title == "1 failure: 1 new infrastructure failure"
    assert entry.body is not None
    assert "/compare/" in entry.body
