"""Schemathesis (pinned in Tests/requirements.txt) against the live server, from the server's own
OpenAPI document, over every operation: the emulated API under both prefixes and the control API.

The run's settings are in Tests/contract/schemathesis.toml (seed, deterministic generation, a
fixed example budget, the checks, the phases); Tests/contract/schemathesis_hooks.py resets the
server before each generated request, so every case starts from the same world. The server runs
with `--token test-token`, so the `ignored_auth` check sees other tokens refused.
Streams and the journal long-poll are fuzzed too (the hooks bound them; see that module).
Any failure is a bug in the server or in the document: fix it and pin it in test_regressions.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.mockserver import REPO, MockServer
from support.progress import run_with_progress, terminal_printer

pytest.importorskip("schemathesis")

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
DOC = REPO / "Sources" / "MockApp" / "Resources" / "openapi.json"
RUN_DEADLINE = 900  # seconds; a normal run takes a few minutes on 2 cores


def schemathesis_cli() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def test_schemathesis_finds_nothing(tmp_path, capsys):
    paths = json.loads(DOC.read_text())["paths"]
    documented = {f"{method.upper()} {path}" for path, item in paths.items() for method in item}

    say = terminal_printer(capsys)

    with MockServer("--token", "test-token") as server:
        env = dict(os.environ)
        env.update(
            CLOUD_AGENTS_MOCK_FUZZ_BASE=server.base,
            SCHEMATHESIS_HOOKS="schemathesis_hooks",
            PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")])),
            NO_COLOR="1",
        )
        started = time.monotonic()
        say("")
        code, log = run_with_progress(
            "schemathesis",
            [
                *schemathesis_cli(),
                "--config-file",
                str(CONFIG),
                "--no-color",
                "run",
                f"{server.base}/_mock/openapi.json",
                "--url",
                server.base,
                "--report",
                "junit",
                "--report-junit-path",
                str(tmp_path / "schemathesis-junit.xml"),
            ],
            env=env,
            cwd=tmp_path,
            deadline=RUN_DEADLINE,
            say=say,
        )
        elapsed = time.monotonic() - started
        alive = server.proc.poll() is None
        say(f"  schemathesis | the run took {elapsed:.1f} s")
        assert elapsed <= RUN_DEADLINE, f"schemathesis was stopped at the {RUN_DEADLINE} s deadline"
        assert alive, f"the server died during the run; stderr: {server.stderr_text()[-3000:]}"
    assert code == 0, log[-30000:]
    selected = re.search(r"Selected:\s*(\d+)/(\d+)", log)
    assert selected and int(selected.group(1)) == int(selected.group(2)), log[-3000:]
    # Every documented operation ran, except the one schemathesis loads the document from
    # (GET /_mock/openapi.json, which it leaves out; test_openapi.py checks what it serves).
    report = (tmp_path / "schemathesis-junit.xml").read_text()
    tested = set(re.findall(r'testcase name="([^"]+)"', report))
    assert documented - tested == {"GET /_mock/openapi.json"}, sorted(documented - tested)
