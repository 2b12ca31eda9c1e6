"""pytest plugin: at session end, upload the run's report (gzip reportlog lines) to triage-bot."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.pytest_plugin_upload import (
    DEFAULT_RETRY_S,
    DEFAULT_TIMEOUT_S,
    Target,
    ci_metadata,
    post_report,
    runs_endpoint,
)

PLUGIN_NAME = "triage-upload"
MAX_RETRY_S = 600.0  # a typo must not hold a CI job for hours
GATE_PASSES = frozenset({"pass", "known"})


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the --triage-* options."""
    group = parser.getgroup("triage", "upload the report to triage-bot")
    group.addoption(
        "--triage-url",
        metavar="URL",
        help="triage-bot service URL (env TRIAGE_URL); setting it turns the upload on",
    )
    group.addoption(
        "--triage-token",
        metavar="TOKEN",
        help="API token (env TRIAGE_TOKEN, preferred: it keeps the token off the command line)",
    )
    group.addoption(
        "--triage-suite",
        metavar="NAME",
        help="suite name (env TRIAGE_SUITE; default: rootdir name)",
    )
    group.addoption(
        "--triage-environment",
        metavar="NAME",
        help="environment name (env TRIAGE_ENVIRONMENT; default: staging)",
    )
    group.addoption(
        "--triage-timeout",
        metavar="SECONDS",
        type=float,
        help=f"upload time limit (env TRIAGE_TIMEOUT; default {DEFAULT_TIMEOUT_S:g})",
    )
    group.addoption(
        "--triage-gate",
        action="store_true",
        default=None,
        help="exit as the run's verdict says: 0 when every failure is a known issue or flaky, "
        "1 when any is news; pytest's own status stands when the service cannot judge "
        "(env TRIAGE_GATE=1)",
    )
    group.addoption(
        "--triage-retry-for",
        metavar="SECONDS",
        type=float,
        help="retry a busy (503) or unreachable service this long in all; 0: no retry "
        f"(env TRIAGE_RETRY_FOR; default {DEFAULT_RETRY_S:g})",
    )


def target_from(config: pytest.Config, env: Mapping[str, str]) -> Target | None:
    """Build the upload target from options and environment, or None when no URL is set."""

    def pick(option: str, var: str) -> str | None:
        value = config.getoption(option)
        return str(value) if value else env.get(var) or None

    url = pick("triage_url", "TRIAGE_URL")
    if not url:
        return None
    timeout = _seconds(config, env, "timeout", DEFAULT_TIMEOUT_S)
    retry = _seconds(config, env, "retry_for", DEFAULT_RETRY_S)
    return Target(
        endpoint=runs_endpoint(url),
        token=pick("triage_token", "TRIAGE_TOKEN"),
        suite=pick("triage_suite", "TRIAGE_SUITE") or config.rootpath.name,
        environment=pick("triage_environment", "TRIAGE_ENVIRONMENT") or "staging",
        timeout_s=max(0.1, timeout),
        retry_s=min(max(0.0, retry), MAX_RETRY_S),
        metadata=ci_metadata(env),
    )


def _seconds(config: pytest.Config, env: Mapping[str, str], name: str, default: float) -> float:
    """Read --triage-NAME, else TRIAGE_NAME; a malformed variable falls back to the default."""
    value = config.getoption(f"triage_{name}")
    if value is not None:
        return float(value)
    try:
        return float(env.get(f"TRIAGE_{name.upper()}") or default)
    except ValueError:
        return default


def pytest_configure(config: pytest.Config) -> None:
    """Register the uploader on the controller when a URL is set (xdist workers never upload)."""
    if hasattr(config, "workerinput"):
        return
    target = target_from(config, os.environ)
    if target is not None:
        config.pluginmanager.register(ReportUploader(config, target), PLUGIN_NAME)


class ReportUploader:
    """Write every report as a pytest-reportlog line into a gzip buffer; upload it at the end."""

    def __init__(self, config: pytest.Config, target: Target) -> None:
        self._config = config
        self._target = target
        self._buffer = io.BytesIO()
        self._gzip: gzip.GzipFile | None = gzip.GzipFile(fileobj=self._buffer, mode="wb")
        self._started_at = datetime.now(UTC)
        self._message: str | None = None
        self._shown = False
        option = config.getoption("triage_gate")
        self._gate = bool(option) or os.environ.get("TRIAGE_GATE", "") in ("1", "true", "yes")

    def _write(self, make: Callable[[], dict[str, Any]]) -> None:
        """Build and append one JSON line; a failure in either must not disturb the test run."""
        if self._gzip is None:
            return
        try:
            data = make()
            try:
                line = json.dumps(data)
            except (TypeError, ValueError):
                line = json.dumps({k: _plain(v) for k, v in data.items()})
            self._gzip.write(line.encode("utf-8") + b"\n")
        except Exception as exc:  # never break the run for the report
            self._gzip = None
            self._message = f"triage: report not uploaded: could not record it ({exc})"

    def _serialize(self, report: pytest.TestReport | pytest.CollectReport) -> dict[str, Any]:
        data: dict[str, Any] = self._config.hook.pytest_report_to_serializable(
            config=self._config, report=report
        )
        # pytest's subtest reports say `_report_type` (pytest-reportlog #90).
        if "_report_type" in data:
            data["$report_type"] = data.pop("_report_type")
        return data

    def pytest_sessionstart(self) -> None:
        """Record the start line and time."""
        self._started_at = datetime.now(UTC)
        self._write(lambda: {"pytest_version": pytest.__version__, "$report_type": "SessionStart"})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one test report."""
        self._write(lambda: self._serialize(report))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Record one collect report."""
        self._write(lambda: self._serialize(report))

    def pytest_warning_recorded(
        self,
        warning_message: warnings.WarningMessage,
        when: str,
        nodeid: str,
        location: tuple[str, int, str] | None,
    ) -> None:
        """Record one warning the way pytest-reportlog does."""
        category = warning_message.category
        self._write(
            lambda: {
                "category": category.__name__ if category else None,
                "filename": warning_message.filename,
                "lineno": warning_message.lineno,
                "message": str(warning_message.message),
                "$report_type": "WarningMessage",
                "when": when,
                "location": location,
            }
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(
        self, session: pytest.Session, exitstatus: int | pytest.ExitCode
    ) -> None:
        """Close the report and upload it; the exit status changes only under --triage-gate."""
        self._write(lambda: {"exitstatus": int(exitstatus), "$report_type": "SessionFinish"})
        if self._gzip is None:
            return
        try:
            self._gzip.close()
            self._gzip = None
            started = self._started_at.isoformat(timespec="seconds").replace("+00:00", "Z")
            outcome = post_report(self._target, self._buffer.getvalue(), started_at=started)
            self._message = outcome.message
            if self._gate:
                self._apply_gate(session, int(exitstatus), outcome.verdict)
        except Exception as exc:  # never break the run for the upload
            self._message = f"triage: report not uploaded: {type(exc).__name__}"
        finally:
            self._buffer = io.BytesIO()

    def _apply_gate(self, session: pytest.Session, exitstatus: int, verdict: str | None) -> None:
        """Let the verdict decide a failed run's status; without one, pytest's status stands."""
        if exitstatus != pytest.ExitCode.TESTS_FAILED:
            return  # passed, interrupted or a usage error: nothing for the gate to judge
        if verdict in GATE_PASSES:
            session.exitstatus = pytest.ExitCode.OK
            self._message = f"{self._message}; gate: every failure is known or flaky (exit 0)"
        elif verdict == "blocked":
            self._message = f"{self._message}; gate: blocked by a new failure (exit 1)"
        else:
            self._message = f"{self._message}; gate: no verdict, pytest's exit status stands"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Show what the upload did, as one line."""
        if self._message:
            failed = not self._message.startswith("triage: report uploaded")
            terminalreporter.write_line(self._message, yellow=failed, bold=failed)
            self._shown = True

    def pytest_unconfigure(self) -> None:
        """Print the line to stderr when no terminal reporter showed it."""
        if self._message and not self._shown:
            sys.stderr.write(self._message + "\n")


def _plain(value: object) -> object:
    """Return the value if JSON can write it, else its text."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
