"""Measure the report readers' memory: peak RSS and tracemalloc peak against the report's size.

Run `python -m bench.reader_memory [--mb 100] [--formats json,log,xml] [--gzip]`. Each reading
runs in a fresh child process so that one format's peak does not hide another's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from bot.core.reports import read_report_path

TRACEBACK = "".join(
    f"    def helper_{n}(value):\n>       return compute(value) + {n}\n\n"
    f"src/module_{n}.py:{n * 7}: in helper_{n}\n"
    for n in range(8)
) + (
    "E       redis.exceptions.ConnectionError: Error 111 connecting to 127.0.0.1:6390. "
    "Connection refused.\n\nsrc/store.py:88: ConnectionError"
)


def _tests(count: int) -> Iterator[tuple[str, bool]]:
    """Yield (nodeid, failed) for a suite where one test in ten fails."""
    for index in range(count):
        yield (
            f"tests/area_{index // 500}/test_mod_{index // 50}.py::test_case_{index}",
            index % 10 == 0,
        )


def _json_test(nodeid: str, failed: bool) -> dict[str, object]:
    name = nodeid.rsplit("::", 1)[1]
    stage = {"duration": 0.0012, "outcome": "passed"}
    call: dict[str, object] = dict(stage)
    if failed:
        call = {
            "duration": 0.3,
            "outcome": "failed",
            "crash": {"path": "/src/store.py", "lineno": 88, "message": "ConnectionError"},
            "traceback": [{"path": "src/store.py", "lineno": 88, "message": "ConnectionError"}],
            "longrepr": TRACEBACK,
        }
    return {
        "nodeid": nodeid,
        "lineno": 10,
        "outcome": "failed" if failed else "passed",
        "keywords": [name, nodeid.split("::", maxsplit=1)[0].rsplit("/", 1)[1], "tests", ""],
        "setup": stage,
        "call": call,
        "teardown": stage,
    }


def _write_json(out: Path, count: int) -> None:
    with out.open("w", encoding="utf-8") as f:
        f.write('{"created": 1.0, "duration": 60.0, "exitcode": 1, "root": "/src", ')
        f.write('"environment": {}, "summary": {}, "tests": [')
        for index, (nodeid, failed) in enumerate(_tests(count)):
            f.write((", " if index else "") + json.dumps(_json_test(nodeid, failed)))
        f.write("]}")


def _write_log(out: Path, count: int) -> None:
    with out.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"pytest_version": "9.2.0", "$report_type": "SessionStart"}) + "\n")
        for nodeid, failed in _tests(count):
            for when in ("setup", "call", "teardown"):
                bad = failed and when == "call"
                record = {
                    "nodeid": nodeid,
                    "location": [nodeid.split("::")[0], 9, nodeid.rsplit("::", 1)[1]],
                    "keywords": {nodeid.rsplit("::", 1)[1]: 1, "tests": 1, "": 1},
                    "outcome": "failed" if bad else "passed",
                    "longrepr": TRACEBACK if bad else None,
                    "when": when,
                    "user_properties": [],
                    "sections": [],
                    "duration": 0.001,
                    "start": 1.0,
                    "stop": 1.001,
                    "$report_type": "TestReport",
                }
                f.write(json.dumps(record) + "\n")
        f.write(json.dumps({"exitstatus": 1, "$report_type": "SessionFinish"}) + "\n")


def _write_xml(out: Path, count: int) -> None:
    with out.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">')
        f.write('<testsuite name="pytest" timestamp="2026-11-24T00:00:00+00:00" time="60">')
        for nodeid, failed in _tests(count):
            path, name = nodeid.split("::")
            classname = quoteattr(path.removesuffix(".py").replace("/", "."))
            f.write(f'<testcase classname={classname} name="{name}" time="0.003">')
            if failed:
                f.write(f'<failure message="ConnectionError">{escape(TRACEBACK)}</failure>')
            f.write("</testcase>")
        f.write("</testsuite></testsuites>")


WRITERS = {"json": (_write_json, 428), "log": (_write_log, 1140), "xml": (_write_xml, 190)}


def generate(kind: str, megabytes: float, folder: Path, compress: bool) -> tuple[Path, int]:
    """Write a report of about the given size; return its path and its uncompressed size."""
    writer, per_test = WRITERS[kind]
    count = int(megabytes * 1_000_000 / per_test)
    path = folder / f"report-{kind}-{megabytes:g}mb"
    writer(path, count)
    size = path.stat().st_size
    if compress:
        packed = path.with_suffix(".gz")
        with path.open("rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
            while block := source.read(1 << 20):
                target.write(block)
        path.unlink()
        return packed, size
    return path, size


def measure(path: Path, trace: bool) -> None:
    """Read one report in this process and print its figures as JSON (child process side)."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    run = read_report_path(path)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    figures = {"tests": len(run.tests), "failures": len(run.failures), "seconds": seconds}
    print(json.dumps(figures | {"rss": rss, "traced": traced}))


def _child(path: Path, trace: bool) -> dict[str, float]:
    args = [sys.executable, "-m", "bench.reader_memory", "--measure", str(path)]
    output = subprocess.run(
        [*args, *(["--trace"] if trace else [])], check=True, capture_output=True, text=True
    ).stdout
    figures: dict[str, float] = json.loads(output)
    return figures


def _baseline() -> int:
    """Peak RSS of a child that imports the readers and reads nothing."""
    code = "import resource, bot.core.reports; print(resource.getrusage(0).ru_maxrss * 1024)"
    return int(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
    )


def main(argv: list[str]) -> None:
    """Generate reports, read each in a child process, print size, peaks and ratios."""
    parser = argparse.ArgumentParser(prog="python -m bench.reader_memory")
    parser.add_argument("--mb", type=float, default=100.0, help="report size in MB (10^6 bytes)")
    parser.add_argument("--formats", default="json,log,xml")
    parser.add_argument("--gzip", action="store_true", help="also read gzip-compressed copies")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        measure(args.measure, args.trace)
        return
    base = _baseline()
    mb = 1_000_000
    print(f"interpreter + readers baseline RSS: {base / mb:.1f} MB")
    print(
        f"{'report':<22}{'size MB':>9}{'tests':>9}{'seconds':>9}{'peak RSS MB':>13}"
        f"{'RSS-base MB':>13}{'x size':>8}{'traced MB':>11}{'x size':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.formats.split(","):
            for compress in (False, True) if args.gzip else (False,):
                # Ratios are against the uncompressed size, the size the reader works through.
                path, size = generate(kind, args.mb, Path(tmp), compress)
                plain = _child(path, trace=False)
                traced = _child(path, trace=True)["traced"]
                grown = plain["rss"] - base
                label = f"{kind}{' (gzip)' if compress else ''}"
                print(
                    f"{label:<22}{size / mb:>9.1f}{plain['tests']:>9.0f}{plain['seconds']:>9.1f}"
                    f"{plain['rss'] / mb:>13.1f}{grown / mb:>13.1f}{grown / size:>8.2f}"
                    f"{traced / mb:>11.1f}{traced / size:>8.2f}"
                )
                path.unlink()


if __name__ == "__main__":
    main(sys.argv[1:])
