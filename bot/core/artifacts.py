"""Safe extraction of report files from an artifact zip held in memory."""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.core.errors import ReportError, TriageError
from bot.core.gunzip import GZIP_MAGIC
from bot.core.reports import read_report_bytes

REPORT_SUFFIXES = (".json", ".jsonl", ".xml", ".gz")

_CHUNK = 64 * 1024


class ArtifactError(TriageError):
    """An artifact that is not a safe zip of reports."""


@dataclass(frozen=True, slots=True)
class ReportFile:
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Limits:
    max_total: int = 200 * 1024 * 1024  # decompressed bytes over all report members
    max_member: int = 100 * 1024 * 1024  # decompressed bytes of one member
    max_members: int = 1000  # entries in the archive, reports or not


def _check_name(info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArtifactError("unsafe_artifact", f"absolute path in artifact: {name!r}")
    if ".." in path.parts or "\x00" in name:
        raise ArtifactError("unsafe_artifact", f"path traversal in artifact: {name!r}")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArtifactError("unsafe_artifact", f"symbolic link in artifact: {name!r}")
    if info.flag_bits & 0x1:
        raise ArtifactError("unsafe_artifact", f"encrypted member in artifact: {name!r}")


def _looks_like_report(data: bytes) -> bool:
    head = data[:64].lstrip()
    return head.startswith((b"{", b"<", b"\xef\xbb\xbf")) or data.startswith(GZIP_MAGIC)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    # The sizes in the central directory can lie: count what actually comes out.
    out = bytearray()
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            out += chunk
            if len(out) > budget:
                raise ArtifactError(
                    "too_large", f"artifact member {info.filename!r} decompresses past the limit"
                )
    return bytes(out)


def _open(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArtifactError("bad_artifact", f"artifact is not a zip archive: {exc}") from None


def extract_reports(data: bytes, *, limits: Limits | None = None) -> list[ReportFile]:
    """Return the report files of an artifact zip, sorted by name, refusing unsafe archives."""
    limits = limits or Limits()
    archive = _open(data)
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise ArtifactError("too_large", f"artifact has more than {limits.max_members} files")
        for info in infos:
            _check_name(info)
        total = 0
        reports: list[ReportFile] = []
        for info in sorted(infos, key=lambda i: i.filename):
            if info.is_dir() or not info.filename.lower().endswith(REPORT_SUFFIXES):
                continue
            if info.file_size > limits.max_member or total + info.file_size > limits.max_total:
                raise ArtifactError("too_large", f"artifact member {info.filename!r} is too large")
            budget = min(limits.max_member, limits.max_total - total)
            try:
                content = _read_member(archive, info, budget)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
                raise ArtifactError(
                    "bad_artifact", f"cannot read {info.filename!r}: {exc}"
                ) from None
            total += len(content)
            if _looks_like_report(content):
                reports.append(ReportFile(name=info.filename, data=content))
    return reports


_PREFERENCE = (".json", ".jsonl", ".xml", ".gz")


def pick_report(reports: list[ReportFile]) -> ReportFile | None:
    """Choose the one report of an artifact to ingest: JSON report first, then report-log, XML.

    Names only set the order: the first member that reads as a pytest report wins, so a
    coverage.json or a stray .xml beside the real report is passed over, not fatal.
    """

    def rank(report: ReportFile) -> tuple[int, str]:
        name = report.name.lower()
        for index, suffix in enumerate(_PREFERENCE):
            if name.endswith(suffix):
                return index, name
        return len(_PREFERENCE), name

    for report in sorted(reports, key=rank):
        try:
            read_report_bytes(report.data)
        except ReportError:
            continue
        return report
    return None
