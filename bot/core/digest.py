"""Report digests (SHA-256 of the gzip-decoded bytes) and run identity (a run's content).

The digest reads gzip through the reader's own gunzip (bot/core/gunzip.py): every
concatenated member, trailing zero padding ignored. Reading only the first member made two
different reports that share a first member look like one run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.errors import ReportError
from bot.core.gunzip import GZIP_MAGIC, GzipError, gunzip
from bot.core.model import Outcome, Phase, ReportFormat, TestRun

_CHUNK = 1 << 20


def report_digest(data: bytes, *, max_bytes: int) -> str:
    """Hash the report's decoded bytes; raise ReportError past max_bytes or on bad gzip."""
    sha = hashlib.sha256()
    if not data.startswith(GZIP_MAGIC):
        if len(data) > max_bytes:
            raise ReportError("too_large", f"report is larger than {max_bytes} bytes")
        sha.update(data)
        return sha.hexdigest()
    view = memoryview(data)
    pieces = (view[start : start + _CHUNK] for start in range(0, len(view), _CHUNK))
    try:
        for decoded in gunzip((bytes(p) for p in pieces), max_bytes):
            sha.update(decoded)
    except GzipError as exc:
        if exc.problem == "too_large":
            raise ReportError("too_large", f"report is larger than {max_bytes} bytes") from None
        reason = exc.detail or exc.problem
        raise ReportError("bad_gzip", f"report is not valid gzip: {reason}") from exc
    return sha.hexdigest()


# --- run identity: the same run in any format or serialisation is one run -------------------

# What the three formats share of one pytest session: every test's node id and final outcome
# (a non-strict xpass is "passed" in JUnit, so xpassed counts as passed), the node ids of
# failed collectors, each test's duration (phases summed; JUnit rounds to the millisecond) and
# the session's start (JUnit's timestamp; json-report's end time minus its duration; the
# report-log's first test start, after collection).
# JUnit rounds each test's time to the millisecond (an error of 0.5 ms at most); json-report
# and the report log carry the same floats. Two sessions' timings of a real test differ by
# more; only suites whose every test takes under a millisecond can look alike.
DURATION_TOLERANCE_S = 0.0006
# The report log's start comes after collection; the other two are the session's start.
START_TOLERANCE_S = 30.0
_SAME_OUTCOME = {Outcome.XPASSED: Outcome.PASSED}


@dataclass(frozen=True, slots=True)
class RunContent:
    """A run's identity: a key over its tests and outcomes, its durations, its start."""

    key: str
    durations: tuple[float, ...]  # per test, in node id order
    started: datetime | None
    span: float  # the session's duration in seconds, 0.0 when the report does not say


def run_content(run: TestRun) -> RunContent:
    """Compute what identifies a run whatever format it was read from."""
    tests = sorted(run.tests, key=lambda t: t.nodeid)
    sha = hashlib.sha256(b"run-content-v2\n")
    for t in tests:
        outcome = _SAME_OUTCOME.get(t.outcome, t.outcome)
        sha.update(f"{t.nodeid}\t{outcome.value}\n".encode())
    for nodeid in sorted({f.nodeid for f in run.failures if f.phase is Phase.COLLECT}):
        sha.update(f"{nodeid}\tcollect\n".encode())
    # What failed and how: every format names each failure's phase and exception type alike,
    # so two quick runs of a small suite that failed differently are never taken for one.
    for failure in sorted({(f.nodeid, f.phase.value, f.exception or "") for f in run.failures}):
        sha.update(("\t".join(failure) + "\n").encode())
    span = run.duration or 0.0
    started = run.created
    if run.format is ReportFormat.JSON_REPORT and started is not None:
        started -= timedelta(seconds=span)  # json-report's "created" is the session's end
    durations = tuple(round(t.duration, 4) for t in tests)
    return RunContent(key=sha.hexdigest(), durations=durations, started=started, span=span)


def same_durations(a: Sequence[float], b: Sequence[float]) -> bool:
    """Say whether two runs' per-test durations are the same measurements."""
    return len(a) == len(b) and all(
        abs(x - y) <= DURATION_TOLERANCE_S for x, y in zip(a, b, strict=True)
    )


def start_tolerance(content: RunContent) -> timedelta:
    """How far two formats of one session may place its start (collection time, at most)."""
    return timedelta(seconds=START_TOLERANCE_S + max(content.span, 0.0))
