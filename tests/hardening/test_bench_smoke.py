"""`python -m bench all --quick` runs every benchmark at tiny sizes and prints one table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_all_quick_prints_every_benchmark() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "all", "--quick"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| benchmark | case | figure |")
    assert "load " in done.stdout
    assert any("fair loop" in line for line in table)
    assert any("bare HMAC endpoint" in line for line in table)
    names = {line.split(" | ")[0].removeprefix("| ") for line in table[1:]}
    assert names == {
        "matcher", "signatures", "catastrophic regex", "ingest over HTTP", "objective/report",
        "signed webhooks", "peak memory",
    }  # fmt: skip
    assert any("postgres" in line for line in table if "ingest over HTTP" in line)
