"""The pytest plugin's packaging and its pure parts: entry point, endpoint URL, CI metadata."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.pytest_plugin_upload import Target, ci_metadata, display_url, runs_endpoint

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_runs_endpoint_and_ci_metadata() -> None:
    assert runs_endpoint("https://triage.example/") == "https://triage.example/api/v1/runs"
    assert runs_endpoint("https://h/api/v1/runs") == "https://h/api/v1/runs"
    env = {
        "GITHUB_REF_NAME": "12/merge",
        "GITHUB_HEAD_REF": "fix-login",
        "GITHUB_SHA": "abc",
        "TRIAGE_COMMIT": "def",
        "GITHUB_SERVER_URL": "https://gh",
        "GITHUB_REPOSITORY": "o/r",
    }
    assert ci_metadata(env) == {"branch": "fix-login", "commit": "def"}
    assert ci_metadata({}) == {}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:pw@triage.example:8443/api/v1/runs?x=1",
            "https://triage.example:8443/api/v1/runs",
        ),
        ("http://127.0.0.1:8000/api/v1/runs", "http://127.0.0.1:8000/api/v1/runs"),
    ],
)
def test_display_url_drops_credentials_and_query(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_pyproject_declares_the_pytest11_entry_point() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    entry_points = project.get("entry-points", {}).get("pytest11", {})
    assert "bot.pytest_plugin" in entry_points.values()


def test_target_repr_hides_the_token() -> None:
    target = Target(endpoint="https://h/api/v1/runs", token="hidden-token-1", suite="e2e")
    assert "hidden-token-1" not in repr(target)
