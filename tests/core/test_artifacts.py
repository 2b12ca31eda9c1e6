"""Safe extraction of report files from artifact zips: zip-slip, zip bombs, links, junk."""

from __future__ import annotations

import gzip
import io
import stat
import zipfile

import pytest

from bot.core.artifacts import ArtifactError, Limits, extract_reports, pick_report

REPORT = (
    b'{"created": 1.0, "exitcode": 0, "tests": [{"nodeid": "t.py::test_a", "outcome": "passed"}]}'
)


def make_zip(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_takes_only_report_files_by_name_and_content() -> None:
    data = make_zip(
        {
            "report.json": REPORT,
            "log.jsonl": b'{"$report_type": "SessionStart"}\n',
            "junit.xml": b"<?xml version='1.0'?><testsuites/>",
            "report.json.gz": gzip.compress(REPORT),
            "screenshot.png": b"\x89PNG....",
            "notes.json": b"binary\x00junk",
            "dir/": b"",
        }
    )
    names = [r.name for r in extract_reports(data)]
    assert names == ["junit.xml", "log.jsonl", "report.json", "report.json.gz"]
    assert pick_report(extract_reports(data)).name == "report.json"  # type: ignore[union-attr]


def test_pick_report_of_nothing_is_none() -> None:
    assert pick_report([]) is None


@pytest.mark.parametrize(
    "name", ["../evil.json", "a/../../evil.json", "/etc/evil.json", "C:/evil.json", "..\\evil.json"]
)
def test_zip_slip_names_are_refused(name: str) -> None:
    with pytest.raises(ArtifactError) as err:
        extract_reports(make_zip({"ok.json": REPORT, name: REPORT}))
    assert err.value.reason == "unsafe_artifact"


def test_symlinks_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("report.json")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(ArtifactError) as err:
        extract_reports(buffer.getvalue())
    assert err.value.reason == "unsafe_artifact"


def test_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = make_zip({"report.json": b"{" + b" " * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(ArtifactError) as err:
        extract_reports(bomb, limits=Limits(max_total=1024 * 1024, max_member=1024 * 1024))
    assert err.value.reason == "too_large"


def test_lying_sizes_are_caught_while_reading() -> None:
    # Patch the declared sizes in the local and central headers down to 10 bytes.
    data = bytearray(make_zip({"report.json": b"{" + b" " * 200_000}))
    real = (200_001).to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    patched = bytes(data).replace(real, fake)
    assert patched != bytes(data)
    with pytest.raises(ArtifactError) as err:
        extract_reports(patched, limits=Limits(max_total=1000, max_member=1000))
    assert err.value.reason in {"too_large", "bad_artifact"}


def test_total_budget_over_many_members() -> None:
    members = {f"r{i}.json": b"{" + b" " * 600 for i in range(4)}
    with pytest.raises(ArtifactError) as err:
        extract_reports(make_zip(members), limits=Limits(max_total=2000, max_member=1000))
    assert err.value.reason == "too_large"


def test_too_many_members() -> None:
    members = {f"f{i}.txt": b"x" for i in range(20)}
    with pytest.raises(ArtifactError) as err:
        extract_reports(make_zip(members), limits=Limits(max_members=10))
    assert err.value.reason == "too_large"


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04garbage", b"not a zip at all"])
def test_garbage_is_bad_artifact(data: bytes) -> None:
    with pytest.raises(ArtifactError) as err:
        extract_reports(data)
    assert err.value.reason == "bad_artifact"


def test_truncated_zip_is_bad_artifact() -> None:
    data = make_zip({"report.json": REPORT * 100})
    with pytest.raises(ArtifactError) as err:
        extract_reports(data[: len(data) // 2])
    assert err.value.reason == "bad_artifact"


def test_corrupt_member_data_is_bad_artifact() -> None:
    data = bytearray(make_zip({"report.json": b"{" + b"abc" * 1000}))
    start = data.index(b"report.json") + len("report.json") + 5
    data[start : start + 20] = b"\x00" * 20
    with pytest.raises(ArtifactError) as err:
        extract_reports(bytes(data))
    assert err.value.reason == "bad_artifact"


def test_a_json_that_is_no_report_is_passed_over_for_the_real_one() -> None:
    junit = (
        b"<?xml version='1.0'?><testsuites><testsuite name='pytest' tests='1'>"
        b"<testcase classname='tests.test_a' name='test_x' time='0.1'/>"
        b"</testsuite></testsuites>"
    )
    coverage = b'{"meta": {"version": "7.6"}, "files": {}}'
    data = make_zip({"coverage.json": coverage, "results/junit.xml": junit})
    picked = pick_report(extract_reports(data))
    assert picked is not None
    assert picked.name == "results/junit.xml"
    only_coverage = make_zip({"coverage.json": coverage})
    assert pick_report(extract_reports(only_coverage)) is None
