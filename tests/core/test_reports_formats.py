"""The same pytest run, written as json-report, report-log and JUnit XML, reads the same."""

from __future__ import annotations

import socket

import pytest

from bot.core.model import Outcome, Phase, ReportFormat, TestRun
from bot.core.reports import read_report, read_report_bytes, read_report_path
from tests.core.report_helpers import by_key, failure_keys, gzip_copy, run_pytest_reports

SUITE = """
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

COUNT = {"n": 0}


@pytest.fixture
def bad_setup():
    raise RuntimeError("setup broke")


@pytest.fixture
def bad_teardown():
    yield
    raise ValueError("teardown broke")


def test_pass():
    pass


def test_fail():
    assert 1 == 2


def test_setup_error(bad_setup):
    pass


def test_teardown_error(bad_teardown):
    pass


def test_fail_and_teardown(bad_teardown):
    assert False, "both"


def test_skip():
    pytest.skip("not here")


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert 0


@pytest.mark.xfail(reason="known bug")
def test_xpass():
    pass


@pytest.mark.xfail(reason="fixed?", strict=True)
def test_xpass_strict():
    pass


def test_missing_fixture(real_services):
    pass


def test_chain():
    try:
        try:
            raise KeyError("k")
        except KeyError as exc:
            raise ValueError("v") from exc
    except ValueError:
        raise ConnectionRefusedError("refused")


def test_redis():
    client = redis.Redis(host="127.0.0.1", port=PORT, retry=Retry(NoBackoff(), 0))
    client.ping()


def test_long_message():
    assert 0, "x" * 700 + "\\nsecond line\\nthird line"


@pytest.mark.parametrize("value", [1, 2])
def test_param(value):
    assert value == 1


class TestGroup:
    def test_method(self):
        raise OSError("in a class")


@pytest.mark.flaky(reruns=2)
def test_flaky():
    COUNT["n"] += 1
    assert COUNT["n"] > 1


@pytest.mark.flaky(reruns=1)
def test_always_fails():
    raise TimeoutError("still down")
"""

F, E = "failed", "error"
EXPECTED = {
    ("test_suite.py::test_fail", "call", F, "AssertionError"),
    ("test_suite.py::test_setup_error", "setup", E, "RuntimeError"),
    ("test_suite.py::test_teardown_error", "teardown", E, "ValueError"),
    ("test_suite.py::test_fail_and_teardown", "call", F, "AssertionError"),
    ("test_suite.py::test_fail_and_teardown", "teardown", E, "ValueError"),
    ("test_suite.py::test_xpass_strict", "call", F, None),
    ("test_suite.py::test_missing_fixture", "setup", E, None),
    ("test_suite.py::test_chain", "call", F, "ConnectionRefusedError"),
    ("test_suite.py::test_redis", "call", F, "redis.exceptions.ConnectionError"),
    ("test_suite.py::test_long_message", "call", F, "AssertionError"),
    ("test_suite.py::test_param[2]", "call", F, "AssertionError"),
    ("test_suite.py::TestGroup::test_method", "call", F, "OSError"),
    ("test_suite.py::test_always_fails", "call", F, "TimeoutError"),
}
OUTCOMES = {
    "test_pass": Outcome.PASSED,
    "test_fail": Outcome.FAILED,
    "test_setup_error": Outcome.ERROR,
    "test_teardown_error": Outcome.ERROR,
    "test_fail_and_teardown": Outcome.ERROR,
    "test_skip": Outcome.SKIPPED,
    "test_xfail": Outcome.XFAILED,
    "test_xpass": Outcome.XPASSED,
    "test_xpass_strict": Outcome.FAILED,
    "test_missing_fixture": Outcome.ERROR,
    "test_chain": Outcome.FAILED,
    "test_redis": Outcome.FAILED,
    "test_long_message": Outcome.FAILED,
    "test_param[1]": Outcome.PASSED,
    "test_param[2]": Outcome.FAILED,
    "TestGroup::test_method": Outcome.FAILED,
    "test_flaky": Outcome.FLAKY,
    "test_always_fails": Outcome.FAILED,
}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _read_all(pytester: pytest.Pytester, *args: str) -> dict[str, TestRun]:
    """Run the suite once; read every report as written and gzipped under a neutral name."""
    source = SUITE.replace("PORT", str(_closed_port()))
    runs: dict[str, TestRun] = {}
    for fmt, path in run_pytest_reports(pytester, source, *args).items():
        runs[fmt.value] = read_report_path(path)
        runs[f"{fmt.value}.gz"] = read_report_path(gzip_copy(path))
    return runs


def _outcomes(run: TestRun) -> dict[str, Outcome]:
    return {t.nodeid.removeprefix("test_suite.py::"): t.outcome for t in run.tests}


def test_three_formats_read_the_same(pytester: pytest.Pytester) -> None:
    """One run, six readings (three formats, plain and gzipped): the same failures and tests."""
    runs = _read_all(pytester)
    _same_failures(runs)
    _same_messages_and_chains(runs)
    _same_outcomes(runs)
    _reruns_and_keywords(runs)
    _metadata(runs)


def _same_failures(runs: dict[str, TestRun]) -> None:
    assert {name: run.format for name, run in runs.items()} == {
        f"{fmt.value}{gz}": fmt for fmt in ReportFormat for gz in ("", ".gz")
    }
    for name, run in runs.items():
        assert failure_keys(run) == EXPECTED, name


def _same_messages_and_chains(runs: dict[str, TestRun]) -> None:
    reference = by_key(runs[ReportFormat.JSON_REPORT.value])
    for name, run in runs.items():
        for key, failure in by_key(run).items():
            assert failure.chain == reference[key].chain, (name, key)
            assert failure.message == reference[key].message, (name, key)
    chain = reference[("test_suite.py::test_chain", "call")]
    assert chain.chain == ("KeyError", "ValueError", "ConnectionRefusedError")
    assert chain.message == "ConnectionRefusedError: refused"
    redis_failure = reference[("test_suite.py::test_redis", "call")]
    assert redis_failure.chain[-1] == "redis.exceptions.ConnectionError"
    assert "ConnectionRefusedError" in redis_failure.chain
    fixture = reference[("test_suite.py::test_missing_fixture", "setup")]
    assert fixture.message == "fixture 'real_services' not found"
    assert "available fixtures" in fixture.text
    long = reference[("test_suite.py::test_long_message", "call")]
    assert long.message.endswith("x\n  second line\n  third line\nassert 0")
    assert len(long.message) > 700  # JUnit's attribute is cut at 500: the text is read instead


def _same_outcomes(runs: dict[str, TestRun]) -> None:
    for fmt in (ReportFormat.JSON_REPORT, ReportFormat.REPORT_LOG):
        assert _outcomes(runs[fmt.value]) == OUTCOMES, fmt
    # JUnit writes a non-strict xpass exactly like a pass: nothing tells them apart.
    assert _outcomes(runs[ReportFormat.JUNIT_XML.value]) == OUTCOMES | {
        "test_xpass": Outcome.PASSED
    }


def _reruns_and_keywords(runs: dict[str, TestRun]) -> None:
    reruns = {
        name: {t.nodeid: t.reruns for t in run.tests if t.reruns} for name, run in runs.items()
    }
    both = {"test_suite.py::test_flaky": 1, "test_suite.py::test_always_fails": 1}
    assert reruns[ReportFormat.REPORT_LOG.value] == both
    assert reruns[ReportFormat.JUNIT_XML.value] == both
    # json-report keeps only the last attempt: a flaky pass shows, a failed retry does not.
    assert reruns[ReportFormat.JSON_REPORT.value] == {"test_suite.py::test_flaky": 1}
    json_run, log_run = runs[ReportFormat.JSON_REPORT.value], runs[ReportFormat.REPORT_LOG.value]
    assert {t.nodeid: t.keywords for t in json_run.tests} == {
        t.nodeid: t.keywords for t in log_run.tests
    }
    flaky = next(t for t in json_run.tests if t.nodeid.endswith("test_flaky"))
    assert {"flaky", "test_flaky", "test_suite.py"} <= flaky.keywords
    xfail = next(f for f in log_run.failures if f.nodeid.endswith("test_redis"))
    assert "test_redis" in xfail.keywords
    assert all(not t.keywords for t in runs[ReportFormat.JUNIT_XML.value].tests)


def _metadata(runs: dict[str, TestRun]) -> None:
    assert runs[ReportFormat.JSON_REPORT.value].exitcode == 1
    assert runs[ReportFormat.REPORT_LOG.value].exitcode == 1
    assert runs[ReportFormat.JUNIT_XML.value].exitcode is None
    for name, run in runs.items():
        assert run.created is not None, name
        assert run.duration is not None, name
        assert run.duration >= 0, name


def test_xunit1_gives_the_same_failures(pytester: pytest.Pytester) -> None:
    runs = _read_all(pytester, "-o", "junit_family=xunit1")
    assert b'file="test_suite.py"' in (pytester.path / "reports" / "report.xml").read_bytes()
    assert failure_keys(runs[ReportFormat.JUNIT_XML.value]) == EXPECTED
    assert failure_keys(runs[f"{ReportFormat.JUNIT_XML.value}.gz"]) == EXPECTED


@pytest.mark.parametrize("style", ["native", "short"])
def test_other_traceback_styles_give_the_same_types(pytester: pytest.Pytester, style: str) -> None:
    runs = _read_all(pytester, f"--tb={style}")
    for name, run in runs.items():
        assert failure_keys(run) == EXPECTED, name
        chained = by_key(run)[("test_suite.py::test_chain", "call")]
        assert chained.chain == ("KeyError", "ValueError", "ConnectionRefusedError"), name


BROKEN = {
    "test_ok.py": "def test_ok():\n    pass\n",
    "pkg/__init__.py": "",
    "pkg/test_broken.py": "from os import no_such_name\n\ndef test_never():\n    pass\n",
}
COLLECT = ("pkg/test_broken.py", "collect", "error", "ImportError")


def test_collection_error_reads_the_same(pytester: pytest.Pytester) -> None:
    for fmt, path in run_pytest_reports(pytester, BROKEN).items():
        for candidate in (path, gzip_copy(path)):
            run = read_report_path(candidate)
            assert failure_keys(run) == {COLLECT}, fmt
            assert run.tests == (), fmt
            (failure,) = run.failures
            assert failure.message.startswith("ImportError: cannot import name 'no_such_name'")
            assert failure.text.startswith("ImportError while importing test module")
            assert run.counts() == {"error": 1}


@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_collection_error_next_to_tests(pytester: pytest.Pytester, family: str) -> None:
    paths = run_pytest_reports(
        pytester, BROKEN, "--continue-on-collection-errors", "-o", f"junit_family={family}"
    )
    for fmt, path in paths.items():
        run = read_report_path(path)
        assert failure_keys(run) == {COLLECT}, fmt
        assert [(t.nodeid, t.outcome) for t in run.tests] == [
            ("test_ok.py::test_ok", Outcome.PASSED)
        ], fmt


def test_stream_and_bytes_read_like_the_path(pytester: pytest.Pytester) -> None:
    paths = run_pytest_reports(pytester, BROKEN)
    for path in paths.values():
        with path.open("rb") as stream:
            from_stream = read_report(stream)
        assert from_stream == read_report_bytes(path.read_bytes()) == read_report_path(path)


def test_worker_crash_is_a_crash_phase(pytester: pytest.Pytester) -> None:
    suite = "import os\n\ndef test_dies():\n    os._exit(3)\n\ndef test_lives():\n    pass\n"
    for fmt, path in run_pytest_reports(pytester, suite, "-n", "1").items():
        run = read_report_path(path)
        crashes = [f for f in run.failures if f.phase is Phase.CRASH]
        assert [(f.nodeid, f.outcome, f.exception) for f in crashes] == [
            ("test_suite.py::test_dies", Outcome.ERROR, None)
        ], fmt
        assert "crashed while running" in crashes[0].message
        outcomes = {t.nodeid: t.outcome for t in run.tests}
        assert outcomes["test_suite.py::test_dies"] is Outcome.ERROR, fmt
