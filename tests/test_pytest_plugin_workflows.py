"""The example GitHub Actions workflows in docs/: both ways a staging run reaches triage-bot."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO_ROOT / "docs" / "github-actions"
REPORT_OPTIONS = ("--json-report-file=", "--report-log=", "--junitxml=")


def load(name: str) -> dict[str, Any]:
    """Load a workflow; YAML 1.1 reads the `on` key as True, so it is put back."""
    workflow: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the steps of every job."""
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def pytest_step(workflow: dict[str, Any]) -> dict[str, Any]:
    """Return the one step that runs pytest."""
    found = [s for s in steps(workflow) if "python -m pytest" in s.get("run", "")]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_workflow_is_well_formed(name: str) -> None:
    workflow = load(name)
    assert workflow["name"]
    assert workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert job["runs-on"]
        assert job["timeout-minutes"] > 0
    for step in steps(workflow):
        assert ("uses" in step) != ("run" in step)
        if "uses" in step:
            assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"]), step["uses"]


def test_plugin_workflow_passes_the_token_as_a_secret_variable() -> None:
    step = pytest_step(load("staging-e2e-plugin-upload.yml"))
    assert step["env"]["TRIAGE_TOKEN"] == "${{ secrets.TRIAGE_TOKEN }}"
    assert step["env"]["TRIAGE_URL"].startswith("${{ ")
    assert step["env"]["TRIAGE_SUITE"] == load("staging-e2e-plugin-upload.yml")["name"]
    assert "--triage-token" not in step["run"]
    installs = " ".join(s.get("run", "") for s in steps(load("staging-e2e-plugin-upload.yml")))
    assert "triage-bot @ git+" in installs


def test_artifact_workflow_uploads_the_report_the_webhook_ingests() -> None:
    workflow = load("staging-e2e-artifact.yml")
    assert workflow["name"] in Settings.model_fields["workflow_names"].get_default(
        call_default_factory=True
    )
    words = shlex.split(pytest_step(workflow)["run"])
    written = [w.split("=", 1)[1] for w in words if w.startswith(REPORT_OPTIONS)]
    assert len(written) == 1
    upload = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert len(upload) == 1
    assert upload[0]["with"]["path"] == written[0]
    assert "cancelled()" in upload[0]["if"] or "always()" in upload[0]["if"]
    assert not any("TRIAGE_TOKEN" in str(s.get("env", {})) for s in steps(workflow))


def test_gated_deploy_workflow_gates_on_the_verdict_both_ways() -> None:
    workflow = load("staging-e2e-gated-deploy.yml")
    step = pytest_step(workflow)
    assert "--triage-gate" in shlex.split(step["run"])
    assert step["env"]["TRIAGE_TOKEN"] == "${{ secrets.TRIAGE_TOKEN }}"
    runs = " ".join(s.get("run", "") for s in steps(workflow))
    assert "triage-bot gate --report report.xml --suite staging-e2e" in runs
