"""The package is typed: mypy --strict accepts its source, accepts a use of the client that keeps
to the answers' shapes, and rejects one that does not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

GOOD = """
from cloud_agents_mock import MockServer
from cloud_agents_mock.types import Fault, Stats

def use(server: MockServer) -> int:
    stats: Stats = server.control.stats()
    fault: Fault = server.control.add_fault("/v1/agents", status=503, times=None)
    entry = server.wait_for_request("GET", "/v1/agents")
    steps = server.run_until_idle()
    return stats["open_streams"] + (fault["remaining"] or 0) + entry["seq"] + steps["steps_played"]
"""

BAD = """
from cloud_agents_mock import MockServer

def use(server: MockServer) -> str:
    server.control.add_fault("/v1/agents", status="503")
    return server.control.stats()["no_such_counter"]
"""


def mypy(tmp_path: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("mypy is not installed in this environment; run scripts/setup.sh --python")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), *targets],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )


def test_the_package_and_a_correct_use_pass_strict_checking(tmp_path: Path):
    (tmp_path / "good.py").write_text(GOOD)
    out = mypy(tmp_path, str(SRC / "cloud_agents_mock"), "good.py")
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_wrong_use_is_caught(tmp_path: Path):
    (tmp_path / "bad.py").write_text(BAD)
    out = mypy(tmp_path, "bad.py")
    assert out.returncode == 1, out.stdout
    assert 'Argument "status" to "add_fault" of "ControlClient" has incompatible type "str"' in out.stdout, out.stdout
    assert '"Stats" has no key "no_such_counter"' in out.stdout, out.stdout
