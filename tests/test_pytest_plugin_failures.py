"""The pytest upload plugin at its edges: no URL, odd values, and uploads that cannot succeed."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.test_pytest_plugin import (
    PASSING,
    SUITE,
    TOKEN,
    RecordingServer,
    report_lines,
    run,
    scrub_env,
    servers,
)


@pytest.fixture
def serve() -> Iterator[Callable[[str], RecordingServer]]:
    """Start recording servers; stop them after the test."""
    with servers() as start:
        yield start


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrub the environment of inner sessions."""
    scrub_env(monkeypatch)


def closed_port_url() -> str:
    """Return a URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("down", "cannot reach the service"),
        ("error", "HTTP 500: internal"),
        ("hang", "no answer within 1 s"),
    ],
)
@pytest.mark.parametrize("status", [0, 1], ids=["passing", "failing"])
def test_a_failed_upload_warns_once_and_keeps_the_exit_status(
    pytester: pytest.Pytester,
    serve: Callable[[str], RecordingServer],
    mode: str,
    said: str,
    status: int,
) -> None:
    url = closed_port_url() if mode == "down" else serve(mode).url
    pytester.makepyfile(test_suite=SUITE if status else PASSING)

    # No retry here: tests/test_pytest_plugin_retry.py covers retrying a down service.
    result = run(
        pytester, f"--triage-url={url}", f"--triage-token={TOKEN}", "--triage-timeout=1",
        "--triage-retry-for=0",
    )  # fmt: skip

    assert result.ret == status
    output = result.stdout.str() + result.stderr.str()
    warned = [line for line in output.splitlines() if line.startswith("triage:")]
    assert len(warned) == 1
    assert warned[0].startswith("triage: report not uploaded to http://127.0.0.1:")
    assert said in warned[0]
    assert "test results are unaffected" in warned[0]
    assert TOKEN not in output
    assert "Traceback" not in output


def test_without_a_terminal_the_line_goes_to_stderr(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=PASSING)

    result = run(
        pytester, "-p", "no:terminal", f"--triage-url={closed_port_url()}", "--triage-retry-for=0"
    )

    assert result.ret == pytest.ExitCode.OK
    assert "triage: report not uploaded" in result.stderr.str()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://127.0.0.1/", "must start with http:// or https://"),
        ("http://127.0.0.1:notaport", "InvalidURL"),
    ],
)
def test_a_bad_url_warns_and_keeps_the_exit_status(
    pytester: pytest.Pytester, url: str, said: str
) -> None:
    pytester.makepyfile(test_suite=PASSING)

    result = run(pytester, f"--triage-url={url}", f"--triage-token={TOKEN}")

    assert result.ret == pytest.ExitCode.OK
    warned = [ln for ln in result.stdout.lines if ln.startswith("triage:")]
    assert len(warned) == 1
    assert said in warned[0]
    assert TOKEN not in result.stdout.str()


def test_no_upload_and_no_output_without_a_url(
    pytester: pytest.Pytester, serve: Callable[[str], RecordingServer]
) -> None:
    server = serve("ok")
    pytester.makepyfile(test_suite=PASSING)

    result = run(pytester, f"--triage-token={TOKEN}", "--triage-suite=e2e")

    assert result.ret == pytest.ExitCode.OK
    assert server.requests == []
    assert "triage:" not in result.stdout.str() + result.stderr.str()


def test_values_json_cannot_write_are_sent_as_text(
    pytester: pytest.Pytester, serve: Callable[[str], RecordingServer]
) -> None:
    server = serve("ok")
    pytester.makepyfile(
        test_suite="def test_prop(record_property):\n    record_property('when', object())\n"
    )

    result = run(pytester, f"--triage-url={server.url}")

    assert result.ret == pytest.ExitCode.OK
    call = next(ln for ln in report_lines(server.requests[0]) if ln.get("when") == "call")
    assert call["outcome"] == "passed"
    assert "object object at" in call["user_properties"]


def test_a_hook_that_cannot_serialise_a_report_keeps_the_run_intact(
    pytester: pytest.Pytester, serve: Callable[[str], RecordingServer]
) -> None:
    server = serve("ok")
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_report_to_serializable(config, report):
            raise RuntimeError("cannot serialise")
        """
    )
    pytester.makepyfile(test_suite="def test_ok():\n    pass\n")

    result = run(pytester, f"--triage-url={server.url}")

    assert result.ret == pytest.ExitCode.OK
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    lines = [ln for ln in result.stdout.lines if ln.startswith("triage:")]
    assert len(lines) == 1
    assert "could not record it (cannot serialise)" in lines[0]
    assert server.requests == []
