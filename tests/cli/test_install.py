"""constraints.txt pins the whole dev install; the Makefile installs and starts what it says."""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"([a-z0-9]+(?:-[a-z0-9]+)*)==(\S+)")


def pins() -> dict[str, str]:
    """Read constraints.txt: every line a comment or `name==version`, names canonical."""
    found: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.startswith("#"):
            continue
        match = PIN.fullmatch(line)
        assert match, f"not an exact pin: {line!r}"
        assert match[1] not in found, f"pinned twice: {match[1]}"
        found[match[1]] = match[2]
    return found


def closure(root: str) -> set[str]:
    """Name every distribution an install of `root` needs here (markers and extras applied)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(root)]
    names: set[str] = set()
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        names.add(key[0])
        for text in metadata.distribution(req.name).requires or []:
            dep = Requirement(text)
            wanted = {"", *req.extras}
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(dep)
    return names


def test_constraints_pin_every_dependency_of_the_dev_install_at_its_installed_version() -> None:
    pinned = pins()
    needed = closure("triage-bot[dev]") - {"triage-bot"}
    assert "fastapi" in needed  # the dev extra brings the server extra
    missing = sorted(needed - set(pinned))
    assert not missing, f"not in constraints.txt, run `make lock`: {missing}"
    drift = {
        name: (metadata.version(name), pinned[name])
        for name in needed
        if metadata.version(name) != pinned[name]
    }
    assert not drift, f"installed != pinned; pip install -c constraints.txt -e '.[dev]': {drift}"


def test_the_light_client_needs_a_small_part_of_it() -> None:
    light, server = closure("triage-bot"), closure("triage-bot[server]")
    assert light < server
    assert light.isdisjoint({"fastapi", "sqlalchemy", "pydantic-settings", "uvicorn", "pygithub"})
    assert len(light) * 2 < len(server)


def make(*args: str, venv: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "MAKEFLAGS"}}
    env = {k: v for k, v in env.items() if not k.startswith("TRIAGE_")}
    return subprocess.run(
        ["make", "--no-print-directory", *args, f"VENV={venv}"],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT, env=env,
    )  # fmt: skip


def installed_venv(tmp_path: Path) -> Path:
    """A venv the Makefile takes as installed: its stamp, and a triage-bot that shows its input."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    program = venv / "bin" / "triage-bot"
    program.write_text('#!/bin/sh\necho "$*" "host=$TRIAGE_HOST" "port=$TRIAGE_PORT"\n')
    program.chmod(0o755)
    (venv / ".server").touch()  # newer than pyproject.toml and constraints.txt
    return venv


def test_make_run_passes_host_and_port_to_serve(tmp_path: Path) -> None:
    venv = installed_venv(tmp_path)
    done = make("-s", "run", "HOST=0.0.0.0", "PORT=9000", venv=venv)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "serve host=0.0.0.0 port=9000\n"
    done = make("-s", "run", venv=venv)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "serve host= port=\n"  # unset: serve's own defaults


def test_make_run_installs_the_server_only_and_make_test_the_dev_tools(tmp_path: Path) -> None:
    venv = tmp_path / "fresh"
    run = make("-n", "run", venv=venv)
    assert run.returncode == 0, run.stderr
    assert f'{venv}/bin/pip install --quiet -c constraints.txt -e ".[server]"' in run.stdout
    assert "[dev]" not in run.stdout
    test = make("-n", "test", venv=venv)
    assert test.returncode == 0, test.stderr
    assert f'{venv}/bin/pip install --quiet -c constraints.txt -e ".[dev]"' in test.stdout
    assert f"{venv}/bin/pytest -n 2 --cov" in test.stdout
