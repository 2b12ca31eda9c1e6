"""The shipped Prometheus alerting rules: valid, unit-tested by promtool, on series we serve."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = os.environ.get("TRIAGE_PROMTOOL") or shutil.which("promtool")
# .ci/run provides promtool and sets this, so a missing promtool fails there instead of skipping.
REQUIRED = os.environ.get("TRIAGE_REQUIRE_PROMTOOL") == "1"
SERIES = re.compile(r"\btriage_[a-z_]+")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if PROMTOOL is None:
        if REQUIRED:
            pytest.fail("TRIAGE_REQUIRE_PROMTOOL=1 but no promtool found")
        pytest.skip("promtool is not installed here")
    return subprocess.run(
        [PROMTOOL, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_are_valid() -> None:
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 4 rules found" in done.stdout


def test_rules_fire_as_their_unit_tests_say() -> None:
    done = promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_series_the_rules_use_is_served(client: httpx.Client) -> None:
    names = set(SERIES.findall((RULES_DIR / "alerts.yml").read_text()))
    assert len(names) >= 4
    served = client.get("/metrics").text
    missing = sorted(n for n in names if f"# TYPE {n} " not in served)
    assert not missing, f"alert rules use series /metrics does not serve: {missing}"
