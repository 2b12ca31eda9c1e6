"""The webhook service on the fake unit of work and on the store's: receipt, retry, dedupe.

The same scenarios on both, so a service test on the fake says what the store would do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.ports.webhooks import DeliveryUnitOfWork
from bot.services.webhook_context import WebhookPorts
from bot.services.webhooks import Delivery, Received, process_pending, process_received, receive
from bot.store.uow import SqlUnitOfWork
from tests.fakes import FakeDeliveries, FakeDeliveryUnitOfWork, FakeStore, FakeTaskChecks
from tests.services.test_webhook_service import (
    CONFIG,
    KB,
    KNOWN,
    LATER,
    NOW,
    Gateway,
    workflow_run,
)
from tests.store.port_impls import IMPLS, database_url_of, store_engine


@pytest.fixture(params=IMPLS)
def impl(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(impl: str, request: pytest.FixtureRequest) -> str:
    return database_url_of(impl, request)


@dataclass
class World:
    """A unit of work factory, a way to read a delivery back, and a GitHub fake."""

    uow: Callable[[], DeliveryUnitOfWork]
    row: Callable[[str], tuple[str, int, str]]  # (status, attempts, outcome)
    gateway: Gateway

    def ports(self) -> WebhookPorts:
        return WebhookPorts(
            uow=self.uow, github=lambda _installation: self.gateway, kb=KB, config=CONFIG
        )

    def issue_states(self) -> list[tuple[int, str]]:
        with self.uow() as uow:
            return [(s.number, s.state) for s in uow.issues.all()]


@pytest.fixture
def world(impl: str, request: pytest.FixtureRequest) -> World:
    if impl == "fake":
        store, deliveries, tasks = FakeStore(), FakeDeliveries(), FakeTaskChecks()

        def fake_row(guid: str) -> tuple[str, int, str]:
            row = deliveries.rows[guid]
            return row.status, row.attempts, row.outcome

        def fake_uow() -> DeliveryUnitOfWork:
            return FakeDeliveryUnitOfWork(store, deliveries=deliveries, tasks=tasks)

        return World(fake_uow, fake_row, Gateway())
    engine = store_engine(request)

    def sql_row(guid: str) -> tuple[str, int, str]:
        with SqlUnitOfWork(engine, write=False) as uow:
            row = uow.deliveries.get(guid=guid)
            assert row is not None
            return row.status, row.attempts, row.outcome

    return World(lambda: SqlUnitOfWork(engine), sql_row, Gateway())


def _issue_event(action: str) -> bytes:
    state = "closed" if action == "closed" else "open"
    reason = "completed" if state == "closed" else None
    issue = {"number": KNOWN, "state": state, "state_reason": reason}
    return json.dumps({"action": action, "issue": issue}).encode()


def test_an_issue_event_is_handled_once_in_the_request(world: World) -> None:
    closed = Delivery("g1", "issues", "closed", _issue_event("closed"))
    assert receive(world.ports(), closed, now=NOW) == Received("accepted")
    assert world.row("g1") == ("done", 1, f"issue #{KNOWN} closed: stored")
    assert world.issue_states() == [(KNOWN, "closed")]
    # The same GUID again: the handler ran, but its writes are rolled back with the duplicate.
    again = Delivery("g1", "issues", "reopened", _issue_event("reopened"))
    assert receive(world.ports(), again, now=NOW) == Received("duplicate")
    assert world.issue_states() == [(KNOWN, "closed")]


def test_a_delivery_that_failed_for_a_while_is_retried_later(world: World) -> None:
    world.gateway.fail_listing = 1  # GitHub is down for the first attempt
    delivery = Delivery("g2", "workflow_run", "", workflow_run())
    assert receive(world.ports(), delivery, now=NOW) == Received("accepted", process=True)
    assert world.row("g2")[:2] == ("processing", 1)
    assert process_received(world.ports(), delivery, clock=lambda: NOW) is None
    assert world.row("g2") == ("pending", 1, "attempt 1 failed")
    assert process_pending(ports=world.ports(), clock=lambda: NOW) == 0  # released just now
    assert process_pending(ports=world.ports(), clock=lambda: LATER) == 1
    assert world.row("g2") == ("done", 2, "no report artifact in workflow run 555: none")
    assert process_pending(ports=world.ports(), clock=lambda: LATER) == 0


def test_a_delivery_a_crash_left_processing_is_taken_again(world: World) -> None:
    delivery = Delivery("g3", "workflow_run", "", workflow_run())
    assert receive(world.ports(), delivery, now=NOW).process
    # The process died before processing it: a restart takes what is stuck since before it.
    assert process_pending(ports=world.ports(), clock=lambda: NOW) == 0
    assert process_pending(ports=world.ports(), clock=lambda: LATER) == 1
    assert world.row("g3")[:2] == ("done", 2)
