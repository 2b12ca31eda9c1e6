"""Run one benchmark by name (`python -m bench matcher`), or every one without a name."""

from __future__ import annotations

import importlib
import sys

# name -> module with a main(argv: list[str]) -> None; each area adds its own entry.
BENCHES: dict[str, str] = {
    "matcher": "bench.matcher",
    "signatures": "bench.signatures",
    "readers": "bench.reader_memory",
    "objective": "bench.objective",
    "ingest": "bench.ingest",
    "history": "bench.history",
    "http": "bench.http",
    "webhook": "bench.webhook",
    "memory": "bench.memory",
    "all": "bench.all",
}


def main(argv: list[str]) -> int:
    """Dispatch to the named benchmark, passing on the remaining arguments."""
    if argv and argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench [{'|'.join(BENCHES)}] [ARGS...]")
        return 0
    name, *rest = argv or ["all"]  # `all` runs every benchmark once and prints one table
    if name not in BENCHES:
        print(f"unknown benchmark {name!r}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    importlib.import_module(BENCHES[name]).main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
