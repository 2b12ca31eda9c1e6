"""Every benchmark in one run: `python -m bench all` prints one Markdown table of the figures.

Ratios compare figures measured in this same run, against fair floors; the machine's load is
printed at the start and the end. `--quick` shrinks every size (a smoke run).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import http, memory, webhook
from bench.measure import load
from bot.core.knowledge import parse_knowledge
from bot.core.model import Failure, Outcome, Phase

Row = tuple[str, str, str, str]  # benchmark, case, figure, ratio / note
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
EVIL = "(a+)+$"


def _bench(module: str, *args: str) -> str:
    """Run `python -m MODULE ARGS` in a child process and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {args} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _num(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in the output:\n{text}")
    return float(found.group(1).replace(",", ""))


def matcher_rows(quick: bool) -> list[Row]:
    """Our matcher against a fair re.search loop over the same 200 rules (CPU time)."""
    sizes = ["--failures", "2000", "--fair", "300", "--repeat", "1"] if quick else []
    out = _bench("bench", "matcher", *sizes)
    ours, fair = _num(r"ours:\s+([\d,]+)", out), _num(r"fair:\s+([\d,]+)", out)
    agree = re.search(r"agreement with the fair loop: (\S+)", out)
    case = "200 rules, failures of a real pytest run, varied"
    return [
        ("matcher", f"{case}: ours", f"{ours:,.0f} failures/s CPU",
         f"{ours / fair:.1f}x fair loop"),
        ("matcher", f"{case}: fair re.search loop", f"{fair:,.0f} failures/s CPU",
         f"same matches: {agree.group(1) if agree else '?'}"),
    ]  # fmt: skip


def signature_rows(quick: bool) -> list[Row]:
    """Fingerprints of realistic failures, and of 1 MB one-token messages."""
    args = ["--repeat", "1", "--failures", "2000"] if quick else []
    rows: list[Row] = []
    for line in _bench("bench", "signatures", *args).splitlines()[1:]:
        case, _, figure = line.strip().partition("  ")
        rows.append(("signatures", case.strip(), figure.strip(), ""))
    return rows


def redos_rows(quick: bool) -> list[Row]:
    """A rule `(a+)+$` against `aaa…!`: RE2 in our matcher, and Python's re for scale."""
    files = {"categories.toml": (KNOWLEDGE / "categories.toml").read_text()}
    files["issues/9999-redos.toml"] = (
        'issue = 9999\ntitle = "catastrophic"\ncategory = "product"\n\n'
        f"[[rules]]\nid = \"evil\"\nmessage = '''{EVIL}'''\n"
    )
    kb = parse_knowledge(files)
    n = 100_000
    failure = Failure(
        nodeid="tests/test_x.py::test_x", phase=Phase.CALL, outcome=Outcome.FAILED,
        exception="ValueError", chain=("ValueError",), message="a" * n + "!", text="a" * n + "!",
        keywords=frozenset(),
    )  # fmt: skip
    started = time.perf_counter()
    kb.match_many([failure])
    ours = time.perf_counter() - started
    k = 18 if quick else 24
    started = time.perf_counter()
    re.search(EVIL, "a" * k + "!")
    plain = time.perf_counter() - started
    return [
        ("catastrophic regex", f"{EVIL} on {n:,} a's + '!' (RE2 matcher)", f"{ours * 1000:.1f} ms",
         "linear time"),
        ("catastrophic regex", f"{EVIL} on {k} a's + '!' (Python re)", f"{plain * 1000:.0f} ms",
         "doubles with each extra 'a'"),
    ]  # fmt: skip


def http_rows(quick: bool, kinds: list[str]) -> list[Row]:
    """Gzip uploads over HTTP to a real service, per database, 20% failing tests."""
    sizes = [200, 1000] if quick else [1000, 10_000, 50_000]
    figures = http.measure(kinds, sizes)
    sqlite = {f.tests: f.seconds for f in figures if f.kind == "sqlite"}
    rows = []
    for f in figures:
        ratio = f"{f.seconds / sqlite[f.tests]:.2f}x sqlite" if f.kind != "sqlite" else ""
        case = f"{f.kind}, {f.tests:,} tests ({f.mb:.0f} MB JSON, {f.gzip_mb:.1f} MB gzip)"
        rows.append(("ingest over HTTP", case, f"{f.seconds:.2f} s ({f.tests_per_s:,.0f} tests/s)",
                     ratio))  # fmt: skip
    return rows


def objective_rows(quick: bool, kinds: list[str]) -> list[Row]:
    """Objective, weekly report and dashboard over a year of daily runs (bench.objective)."""
    args = ["--days", "30", "--tests", "500", "--repeat", "1"] if quick else ["--repeat", "3"]
    out = _bench("bench.objective", *args, *([] if "postgres" in kinds else ["--skip-postgres"]))
    head = out.splitlines()[0].replace(" daily runs of ", " days x ").replace(" a run", "/run")
    found: dict[tuple[str, str], float] = {}
    for block in re.split(r"\n(?=\w+: loaded)", out)[1:]:
        kind = block.split(":", 1)[0]
        for what in ("objective", "weekly report", "dashboard"):
            found[kind, what] = _num(rf"{what}\s+median\s+([\d.]+)", block)
    rows = []
    for (kind, what), ms in found.items():
        base = found.get(("sqlite", what))
        ratio = f"{ms / base:.2f}x sqlite" if kind != "sqlite" and base else ""
        rows.append(("objective/report", f"{kind}, {what} ({head})", f"{ms:.1f} ms median", ratio))
    return rows


def webhook_rows(quick: bool, kinds: list[str]) -> list[Row]:
    """Signed `issues` deliveries: the service per database against a bare HMAC endpoint."""
    figures, floors = webhook.measure(kinds, 40 if quick else 400, 4, 1 if quick else 3)
    bare = {f.clients: f for f in figures if f.kind == "bare HMAC endpoint"}
    rows = []
    for f in figures:
        floor = bare[f.clients]
        if f is floor:
            note = "floor"
        elif floor.cpu_ms() > 0:
            note = f"{f.cpu_ms() / floor.cpu_ms():.1f}x bare CPU (median)"
        else:  # a short run's bare CPU can stay below /proc's clock tick
            note = "bare CPU below /proc's resolution in this run"
        rows.append(("signed webhooks", f"{f.kind}, {f.clients} client(s), {f.deliveries} issues "
                     f"events", f"{f.describe()}, {f.per_s:,.0f}/s", note))  # fmt: skip
    for w in floors:
        rows.append(("signed webhooks", f"floor: {w.label}, writes + commit alone", w.describe(),
                     "per delivery"))  # fmt: skip
    return rows


def memory_rows(quick: bool) -> list[Row]:
    """Peak RSS of reading a pytest-json-report of each size, in a fresh process."""
    rows = []
    for f in memory.measure([2.0] if quick else [10.0, 50.0, 100.0], ["json"]):
        rows.append((
            "peak memory", f"read {f.size / 1e6:.0f} MB JSON ({f.tests:,} tests)",
            f"{f.grown / 1e6:.0f} MB above a {f.base / 1e6:.0f} MB baseline",
            f"{f.grown / f.size:.2f}x report size",
        ))  # fmt: skip
    return rows


def collect(quick: bool, kinds: list[str], only: set[str] | None = None) -> list[Row]:
    """Run the chosen benchmarks in turn; return every row."""
    sections: dict[str, Callable[[], list[Row]]] = {
        "matcher": lambda: matcher_rows(quick),
        "signatures": lambda: signature_rows(quick),
        "redos": lambda: redos_rows(quick),
        "http": lambda: http_rows(quick, kinds),
        "objective": lambda: objective_rows(quick, kinds),
        "webhook": lambda: webhook_rows(quick, kinds),
        "memory": lambda: memory_rows(quick),
    }
    rows: list[Row] = []
    for name, section in sections.items():
        if only is None or name in only:
            started = time.perf_counter()
            rows += section()
            print(f"[{name}: {time.perf_counter() - started:.0f} s]", file=sys.stderr)
    return rows


def markdown(rows: list[Row]) -> str:
    """Format the rows as a Markdown table."""
    lines = ["| benchmark | case | figure | ratio (same run) |", "|---|---|---|---|"]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Run every benchmark and print the Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench all")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--only", help="comma-separated: matcher,signatures,redos,http,objective,webhook,memory"
    )
    args = parser.parse_args(argv)
    kinds = ["sqlite"] if args.no_postgres else ["sqlite", "postgres"]
    started = time.perf_counter()
    print(f"python -m bench all{' --quick' if args.quick else ''} ({load()} at the start)")
    rows = collect(args.quick, kinds, set(args.only.split(",")) if args.only else None)
    print(markdown(rows))
    print(f"({load()} at the end)")
    print(f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
