"""Record the task criteria's checks from the tracking issue's body (edits and reads)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.core.tasklist import BEFORE_TRACKING, ISSUE_READ, WEBHOOK, TaskCheck, changes
from bot.ports.reports import TaskCheckRepository


def record_edit(
    tasks: TaskCheckRepository,
    phrases: Mapping[str, str],
    *,
    old: str | None,
    new: str,
    by: str | None,
    at: datetime,
) -> list[TaskCheck]:
    """Store what an edit of the tracking issue changed; the editor is credited when the old
    body shows the change, otherwise who made it is unknown (an edit was missed)."""
    if not phrases:
        return []
    found = changes(old, new, phrases, tasks.latest())
    checks = [
        TaskCheck(c.criterion, c.checked, by if c.seen_in_edit else None, at, c.item, WEBHOOK)
        for c in found
    ]
    tasks.add(checks=checks)
    return checks


def record_read(
    tasks: TaskCheckRepository, phrases: Mapping[str, str], *, body: str, at: datetime
) -> list[TaskCheck]:
    """Store the states the issue's current body shows where they differ from the stored ones.

    An item seen for the first time was checked (or not) before tracking began; a later
    difference is an edit whose delivery was missed. Who and when are unknown for both.
    """
    if not phrases:
        return []
    stored = tasks.latest()
    checks = [
        TaskCheck(
            c.criterion, c.checked, None, at, c.item,
            ISSUE_READ if c.criterion in stored else BEFORE_TRACKING,
        )
        for c in changes(None, body, phrases, stored)
    ]  # fmt: skip
    tasks.add(checks=checks)
    return checks
