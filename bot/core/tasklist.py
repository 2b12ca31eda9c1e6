"""Markdown task lists of the tracking issue: which items are checked, and what an edit changed.

One pass over the lines, so any body (GitHub allows 65,536 characters) costs linear work.
What counts as a task item, as GitHub renders it:
- `- [ ] text`, `* [x] text`, `+ [X] text`, and `1. [x] text`, at any depth of a list
  (a nested item is a checkbox people tick too);
- not inside a fenced code block (``` or ~~~), an indented code block (four spaces outside a
  list), an HTML comment or a block quote: there it is text, not a checkbox.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

# Where a check was seen: a webhook's edit, the issue read at start and periodically, or that
# read's first sight of an item (its state predates tracking: who and when are unknown).
WEBHOOK, ISSUE_READ, BEFORE_TRACKING = "webhook", "issue read", "before tracking"
# A task item's text is cut here: criteria match a short phrase of it.
MAX_ITEM = 500
_ITEM = re.compile(r"^[ ]*(?:[-*+]|\d{1,9}[.)])[ ]+\[(?P<mark>[ xX])\](?:[ ]+(?P<text>.*))?$")
_BULLET = re.compile(r"^[ ]*(?:[-*+]|\d{1,9}[.)])(?:[ ]|$)")
_FENCE = re.compile(r"^[ ]{0,3}(?P<fence>`{3,}|~{3,})")


@dataclass(frozen=True, slots=True)
class TaskItem:
    text: str
    checked: bool


@dataclass(frozen=True, slots=True)
class TaskCheck:
    """A criterion's task item as last seen: checked or not, by whom and when (None: unknown)."""

    criterion: str
    checked: bool
    by: str | None
    at: datetime
    item: str = ""
    source: str = WEBHOOK


@dataclass(frozen=True, slots=True)
class TaskChange:
    """One criterion's item changed state in an edit."""

    criterion: str
    checked: bool
    item: str
    seen_in_edit: bool  # False: the edit's old body already had it (an edit was missed)


class _Scanner:
    """Line-by-line state: open fence, open HTML comment, whether a list is running."""

    def __init__(self) -> None:
        self.fence = ""
        self.comment = False
        self.in_list = False

    def item(self, line: str) -> TaskItem | None:
        """Return the line's task item, or None; updates the block state."""
        if self._in_block(line) or not line.strip():
            return None  # a blank line does not end a list: loose lists have them
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 4 and not self.in_list:
            return None  # an indented code block
        if not _BULLET.match(line):
            # A paragraph line ends the list unless it is indented (a continuation).
            self.in_list = self.in_list and indent > 0
            return None
        self.in_list = True
        found = _ITEM.match(line)
        if found is None:
            return None
        text = " ".join((found["text"] or "").split())[:MAX_ITEM]
        return TaskItem(text, found["mark"] != " ")

    def _in_block(self, line: str) -> bool:
        """Tell whether the line belongs to a code fence, an HTML comment or a block quote."""
        if self.fence:
            stripped = line.strip()
            if stripped.startswith(self.fence) and not stripped.strip(self.fence[0]):
                self.fence = ""
            return True
        if self.comment:
            self.comment = "-->" not in line
            return True
        if fence := _FENCE.match(line):
            self.fence = fence["fence"]
            return True
        if line.lstrip().startswith("<!--"):
            self.comment = "-->" not in line
            return True
        return line.lstrip().startswith(">")


def task_items(body: str) -> list[TaskItem]:
    """Every task item of a Markdown body, in order (see the module docstring for what counts)."""
    scanner = _Scanner()
    found = []
    for line in body.replace("\t", "    ").splitlines():
        item = scanner.item(line.rstrip("\r"))
        if item is not None:
            found.append(item)
    return found


def item_for(items: Sequence[TaskItem], task: str) -> TaskItem | None:
    """The first item whose text contains `task`, ignoring case."""
    wanted = task.casefold()
    return next((i for i in items if wanted in i.text.casefold()), None)


def states(body: str, tasks: Mapping[str, str]) -> dict[str, TaskItem]:
    """Each criterion's item (criterion id -> its task phrase) found in `body`."""
    items = task_items(body)
    found = {cid: item_for(items, task) for cid, task in tasks.items()}
    return {cid: item for cid, item in found.items() if item is not None}


def changes(
    old: str | None, new: str, tasks: Mapping[str, str], stored: Mapping[str, bool]
) -> list[TaskChange]:
    """What an edit changed for each criterion, against what is stored.

    A criterion whose item's state in `new` differs from the stored one changed. The editor
    made the change when the old body had the other state; otherwise an earlier edit was
    missed and who made it is unknown. A removed item counts as unchecked.
    """
    before = states(old, tasks) if old is not None else {}
    after = states(new, tasks)
    out = []
    for cid in tasks:
        item = after.get(cid)
        checked = item is not None and item.checked
        was = stored.get(cid)
        if was is None and item is None:
            continue  # never seen, still absent
        if was == checked:
            continue
        old_item = before.get(cid)
        edited = old is not None and (old_item is not None and old_item.checked) != checked
        text = item.text if item is not None else (old_item.text if old_item else "")
        out.append(TaskChange(cid, checked, text, edited))
    return out


def check_at(history: Sequence[TaskCheck], at: datetime) -> TaskCheck | None:
    """The newest check in `history` made before `at` (history in any order)."""
    # A stable sort: of two checks at the same instant, the one stored later wins.
    before = sorted((c for c in history if c.at < at), key=lambda c: c.at)
    return before[-1] if before else None
