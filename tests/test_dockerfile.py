"""The container image: hadolint-clean, and the facts an admin relies on when running it.

Docker itself is not needed: the Dockerfile is linted and read, and its
HEALTHCHECK command is run against a live daemon.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from builders import REPO

from connector.config.settings import load_settings
from connector.ops.daemon import Daemon
from connector.ops.metrics import Metrics

DOCKERFILE = REPO / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            pairs.append((keyword.upper(), arguments.strip()))
    return pairs


def only(keyword: str) -> str:
    [arguments] = [args for kw, args in instructions() if kw == keyword]
    return arguments


def env() -> dict[str, str]:
    values: dict[str, str] = {}
    for keyword, arguments in instructions():
        if keyword == "ENV":
            values.update(pair.split("=", 1) for pair in arguments.split())
    return values


def test_hadolint_finds_nothing():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint not found next to the interpreter: install the dev extras (pip install -e '.[dev]')"
    result = subprocess.run(
        [hadolint, "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_it_builds_on_python_311_slim_and_runs_handoff_run():
    assert only("FROM") == "python:3.11-slim"
    assert json.loads(only("ENTRYPOINT")) == ["handoff"]
    assert json.loads(only("CMD")) == ["run"]


def test_it_runs_as_the_unprivileged_handoff_user():
    user = only("USER")
    uid = user.split(":")[0]
    assert uid not in ("0", "root")
    setup = " ".join(args for kw, args in instructions() if kw == "RUN")
    assert re.search(rf"useradd [^&]*--uid {uid} [^&]* handoff\b", setup)


def test_it_installs_the_package_without_dev_extras_or_pip_cache():
    installs = [args for kw, args in instructions() if kw == "RUN" and "pip install" in args]
    assert installs == ["pip install --no-cache-dir ."]


def test_state_lives_in_the_volume_and_rules_at_the_mounted_path():
    values = env()
    assert values["HANDOFF_STATE_URL"] == "sqlite:////var/lib/handoff/state.sqlite"
    assert values["HANDOFF_RULES"] == "/etc/handoff/scoring.yaml"
    assert json.loads(only("VOLUME")) == ["/var/lib/handoff"]
    assert "config/scoring.yaml /etc/handoff/scoring.yaml" in [args for kw, args in instructions() if kw == "COPY"]
    assert only("EXPOSE") == values["HANDOFF_HTTP_PORT"] == "8080"


def test_the_build_context_holds_exactly_what_the_dockerfile_copies():
    rules = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"  # a whitelist: nothing new (tests, .venv, state files) slips into the image
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {source.rstrip("/") for kw, args in instructions() if kw == "COPY" for source in args.split()[:-1]}
    assert allowed == copied
    for source in copied:
        assert (REPO / source).exists(), source


def healthcheck_command() -> list[str]:
    arguments = only("HEALTHCHECK")
    assert "/healthz" in arguments
    return json.loads(arguments[arguments.index("CMD") + len("CMD") :])


def run_healthcheck(port: int) -> subprocess.CompletedProcess:
    command = healthcheck_command()
    assert command[0] == "python"
    return subprocess.run(
        [sys.executable, *command[1:]],
        env={**os.environ, "HANDOFF_HTTP_PORT": str(port)},
        capture_output=True,
        timeout=30,
    )


def test_the_healthcheck_passes_against_a_running_daemon():
    daemon = Daemon(
        load_settings(handoff_http_port=0, handoff_sync_interval=3600, handoff_sweep_interval=3600),
        sync_once=lambda stop: None,
        sweep=lambda stop: None,
        startup=lambda: None,
        metrics=Metrics(),
    )
    daemon.start()
    try:
        result = run_healthcheck(daemon.port)
    finally:
        daemon.request_stop()
        daemon.wait()
    assert result.returncode == 0, result.stderr


def test_the_healthcheck_fails_when_nothing_answers():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]  # bound but not listening: connections are refused
        assert run_healthcheck(free_port).returncode != 0
