"""The README's Python examples run as written: scripts against a fresh mock, and the pytest
example (the blocks that define tests) as a test file of its own run, on the plugin."""

import os
import re
import subprocess
import sys

import pytest

from support.mockserver import REPO, MockServer, binary_path

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
SCRIPTS = [b for b in BLOCKS if "\ndef test_" not in b]
TEST_FILES = [b for b in BLOCKS if "\ndef test_" in b]


def test_readme_has_python_examples():
    assert len(SCRIPTS) >= 2 and len(TEST_FILES) == 1


@pytest.mark.parametrize("index", range(len(SCRIPTS)))
def test_readme_python_example_runs(index):
    with MockServer() as server:
        code = SCRIPTS[index].replace("http://127.0.0.1:8787", server.base)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        if "sessions.events" in SCRIPTS[index]:
            # The conversation: previews, the answer, then the turn's events as listed.
            assert 'You said: "Hello, mock!"' in out.stdout and "preview:" in out.stdout, out.stdout
            assert "'session.status_idle'" in out.stdout
        else:
            assert "sthr_019f00000000000000000000000001aa" in out.stdout


def test_readme_pytest_example_passes(tmp_path):
    """As a user's project would run it: its own folder, the binary named by the environment."""
    (tmp_path / "test_readme_example.py").write_text(TEST_FILES[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUD_AGENTS_MOCK")}
    env["CLOUD_AGENTS_MOCK_BIN"] = binary_path()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert re.search(r"\b2 passed\b", out.stdout), out.stdout
