"""Peak memory by report size: each report read in a fresh child process.

Run `python -m bench memory [--mb 10,50,100] [--formats json]`. The reports are written by
bench.reader_memory's generators.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import reader_memory

MB = 1_000_000
# VmHWM is the peak RSS of this process's own memory map; unlike ru_maxrss it does not carry
# over the parent's peak through fork and exec, so a big parent cannot inflate the figure.
CHILD = """
import json, sys, time
from pathlib import Path
def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
from bot.core.reports import read_report_path
if len(sys.argv) < 2:
    print(json.dumps({"rss": peak()}))
    raise SystemExit
started = time.perf_counter()
run = read_report_path(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"tests": len(run.tests), "seconds": seconds, "rss": peak()}))
"""


def _child(*args: str) -> dict[str, float]:
    """Run the measuring child (no argument: the baseline) and return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


@dataclass(frozen=True)
class MemoryFigure:
    """Peak RSS of one reading, with the interpreter's own baseline taken off."""

    kind: str
    size: int
    tests: int
    seconds: float
    rss: int
    base: int

    @property
    def grown(self) -> int:
        """Bytes of peak RSS above the baseline."""
        return self.rss - self.base


def measure(sizes_mb: list[float], formats: list[str]) -> list[MemoryFigure]:
    """Generate each report, read it in a child process, return its peak RSS."""
    base = int(_child()["rss"])
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in formats:
            for mb in sizes_mb:
                path, size = reader_memory.generate(kind, mb, Path(tmp), compress=False)
                got = _child(str(path))
                path.unlink()
                figures.append(
                    MemoryFigure(
                        kind, size, int(got["tests"]), got["seconds"], int(got["rss"]), base
                    )
                )
    return figures


def main(argv: list[str]) -> None:
    """Parse the arguments and print peak RSS per report size."""
    parser = argparse.ArgumentParser(prog="python -m bench memory")
    parser.add_argument("--mb", default="10,50,100", help="report sizes in MB (10^6 bytes)")
    parser.add_argument("--formats", default="json")
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.mb.split(",")]
    figures = measure(sizes, args.formats.split(","))
    if figures:
        print(f"baseline RSS (interpreter + readers): {figures[0].base / MB:.1f} MB")
    print(f"{'format':<8}{'size MB':>9}{'tests':>9}{'seconds':>9}{'peak RSS MB':>13}"
          f"{'above base MB':>15}{'x size':>8}")  # fmt: skip
    for f in figures:
        print(f"{f.kind:<8}{f.size / MB:>9.1f}{f.tests:>9}{f.seconds:>9.2f}{f.rss / MB:>13.1f}"
              f"{f.grown / MB:>15.1f}{f.grown / f.size:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
