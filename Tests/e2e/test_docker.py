"""The Dockerfile cannot be built here (no engine), so the test runs what can run:
its own build command, its runtime layout and library list, and a smoke test."""

import shutil
import subprocess

import pytest

from support.mockserver import REPO


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg to map libraries to Debian packages")
def test_dockerfile_build_and_runtime_layout():
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "check-docker.sh")], capture_output=True, text=True, timeout=1800
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "check-docker: ok" in out.stdout
