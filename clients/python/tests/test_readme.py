"""The package README's examples run as written: the fixture example as a test file of a project
that has only the installed package, the client example as a script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_agents_mock import MockServer

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_its_two_examples():
    blocks = python_blocks()
    assert len(blocks) == 2 and "def test_" in blocks[0] and "with MockServer(" in blocks[1]


def test_the_fixture_example_passes(pytester: pytest.Pytester, cloud_agents_mock_server: MockServer, monkeypatch):
    pytest.importorskip("qca")
    if not cloud_agents_mock_server.binary:
        pytest.skip("needs the binary")
    monkeypatch.setenv("CLOUD_AGENTS_MOCK_BIN", cloud_agents_mock_server.binary)
    pytester.makepyfile(test_example=python_blocks()[0])
    result = pytester.runpytest_subprocess()
    assert result.parseoutcomes() == {"passed": 1}, result.stdout.str()


def test_the_client_example_runs(tmp_path: Path, cloud_agents_mock_server: MockServer):
    if not cloud_agents_mock_server.binary:
        pytest.skip("needs the binary")
    script = tmp_path / "example.py"
    script.write_text(python_blocks()[1])
    env = dict(os.environ, CLOUD_AGENTS_MOCK_BIN=cloud_agents_mock_server.binary)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"404 not_found_error req_\S+\n", out.stdout), out.stdout
