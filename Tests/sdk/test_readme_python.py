"""The README's Python examples run as written against a fresh mock."""

import re
import subprocess
import sys

import pytest

from support.mockserver import REPO, MockServer

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_example_runs(index):
    with MockServer() as server:
        code = BLOCKS[index].replace("http://127.0.0.1:8787", server.base)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        if "sessions.events" in BLOCKS[index]:
            # The conversation: previews, the answer, then the turn's events as listed.
            assert 'You said: "Hello, mock!"' in out.stdout and "preview:" in out.stdout, out.stdout
            assert "'session.status_idle'" in out.stdout
        else:
            assert "sthr_019f00000000000000000000000001aa" in out.stdout
