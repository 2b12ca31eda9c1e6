"""What an uploader may say about a run, and the checks that keep it storable."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.errors import TriageError
from bot.core.redact import redact_optional
from bot.core.render_comments import is_http_url
from bot.core.timeutil import as_utc

MAX_NAME = 200
# Limits of the optional fields, as the upload endpoint documents them.
MAX_FIELD = {"branch": 500, "commit": 100, "ci_url": 2000}
MIN_YEAR = 2000
# A run dated later than this would stay the suite's "latest" run until that time.
FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RunMeta:
    """What the uploader says about a run; started_at backfills history when given."""

    suite: str
    environment: str = ""
    branch: str | None = None
    commit: str | None = None
    ci_url: str | None = None
    started_at: datetime | None = None
    source: str = "api"


def check_meta(meta: RunMeta) -> None:
    """Reject a missing suite, overlong or unprintable fields, a ci_url that is not http(s)."""
    if not meta.suite.strip():
        raise TriageError("bad_meta", "suite is required")
    fields = {
        "suite": (meta.suite, MAX_NAME),
        "environment": (meta.environment, MAX_NAME),
        **{name: (getattr(meta, name) or "", cap) for name, cap in MAX_FIELD.items()},
    }
    for name, (value, cap) in fields.items():
        if len(value) > cap or not printable(value):
            raise TriageError(
                "bad_meta",
                f"{name} must be at most {cap} characters, with no control, invisible or "
                "bidi control character",
            )
    if meta.ci_url and not is_http_url(meta.ci_url):
        raise TriageError("bad_meta", "ci_url must be an http or https URL")
    if meta.started_at is not None and as_utc(meta.started_at).year < MIN_YEAR:
        raise TriageError("bad_meta", f"started_at must be in {MIN_YEAR} or later")


def check_started(started: datetime, *, now: datetime) -> None:
    """Refuse a run dated before MIN_YEAR or more than FUTURE_SLACK after `now`."""
    if started.year < MIN_YEAR:
        raise TriageError(
            "bad_meta", f"the run's start time {started:%Y-%m-%d} is before {MIN_YEAR}"
        )
    if started > now + FUTURE_SLACK:
        raise TriageError(
            "bad_meta",
            f"the run's start time {started.isoformat()} is more than a day in the future",
        )


# Controls (Cc: NUL, newline, DEL, C1), formats (Cf: bidi overrides such as U+202E, zero-width
# U+200B, U+FEFF), lone surrogates and line or paragraph separators: invisible, or they
# reorder what a reader sees, so a name holding one could pass for another.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str) -> bool:
    """Tell whether `text` holds no control, invisible or bidi control character."""
    return not any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text)


def redact_meta(meta: RunMeta) -> RunMeta:
    """The metadata as it may be stored: credentials in the branch, commit or CI link masked.

    Suite and environment name the history a run joins: they are kept as given.
    """
    return replace(
        meta,
        branch=redact_optional(meta.branch),
        commit=redact_optional(meta.commit),
        ci_url=redact_optional(meta.ci_url),
    )
