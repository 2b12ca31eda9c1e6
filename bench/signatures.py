"""Signature cost: realistic failures, and one failure whose message is one long token.

Run `python -m bench signatures [--repeat 5]`. Figures are CPU and wall time (min/median of the
repeats) with the machine's load. The first masks (Python re with lookaheads, kept as the test
reference) are timed on a few thousand characters for scale: they grow with the square.
"""

from __future__ import annotations

import argparse
import sys

from bench.matcher import real_failures
from bench.measure import load, timed
from bot.core.model import Failure, Outcome, Phase
from bot.core.signature import fingerprint, mask
from tests.core.signature_reference import reference_mask

# One token each: letters, mixed case and digits, a dotted chain, a hyphenated label, a path.
SHAPES = {"letters": "x", "mixed": "aB3", "dotted": "a.", "hyphens": "a-", "path": "/a"}


def _one_token(unit: str, size: int) -> Failure:
    message = "[" + unit * (size // len(unit))
    return Failure(
        nodeid="tests/test_x.py::test_x", phase=Phase.CALL, outcome=Outcome.FAILED,
        exception="ValueError", chain=("ValueError",), message=message, text=f"E   {message}",
    )  # fmt: skip


def rows(repeat: int, count: int = 20_000) -> list[tuple[str, str]]:
    """Return (case, figure) rows."""
    out = []
    failures = real_failures(count, seed=11)
    t = timed(lambda: [fingerprint(f) for f in failures], repeat)
    best, median = t.rate(len(failures))
    per = t.describe(len(failures), "µs", 1e6)
    out.append((f"{len(failures):,} realistic failures (from a real pytest run, varied)",
                f"{best:,.0f} failures/s CPU (median {median:,.0f}); {per}"))  # fmt: skip
    for name, unit in SHAPES.items():
        failure = _one_token(unit, 1_000_000)
        t = timed(lambda f=failure: fingerprint(f), repeat)  # type: ignore[misc]
        out.append((f"one 1 MB token ({name})", t.describe(1)))
    for size in (2_000, 4_000):
        text = "x" * size
        t = timed(lambda s=text: reference_mask(s), max(1, repeat // 2))  # type: ignore[misc]
        ours = timed(lambda s=text: mask(s), repeat)  # type: ignore[misc]
        out.append((f"{size:,}-character token, first masks (Python re lookaheads)", t.describe(1)))
        out.append((f"{size:,}-character token, ours", ours.describe(1)))
    return out


def main(argv: list[str]) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench signatures")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--failures", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(f"signatures ({load()})")
    for case, figure in rows(args.repeat, args.failures):
        print(f"  {case:62s} {figure}")


if __name__ == "__main__":
    main(sys.argv[1:])
