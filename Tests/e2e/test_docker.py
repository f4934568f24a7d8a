"""The Dockerfile cannot be built here (no engine), so the test runs what can run: hadolint, its
own build command, its runtime layout and library list, a smoke test with its HEALTHCHECK
command, and the check that the compose and Actions examples use that health check."""

import shutil

import pytest

from support.mockserver import REPO
from support.progress import run_with_progress, terminal_printer


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg to map libraries to Debian packages")
def test_dockerfile_build_and_runtime_layout(capsys):
    say = terminal_printer(capsys)
    say("")
    # A release build from scratch takes minutes on a fresh clone: its output is shown as it comes.
    code, log = run_with_progress(
        "check-docker", ["bash", str(REPO / "scripts" / "check-docker.sh")], deadline=1800, say=say
    )
    assert code == 0, log[-4000:]
    assert "check-docker: hadolint clean" in log
    assert "check-docker: the compose and Actions examples use the Dockerfile's health check" in log
    assert "ready: http://127.0.0.1:" in log  # the HEALTHCHECK command's own line
    assert log.rstrip().endswith(
        "check-docker: ok (hadolint, build command, runtime libraries, laid-out binary answered 200, "
        "healthy while running, unhealthy once stopped, exited 0)"
    )


def test_the_image_checks_its_own_health():
    text = (REPO / "Dockerfile").read_text()
    runtime = text.split("FROM ${RUNTIME_IMAGE}", 1)[1]
    installs = " ".join(line for line in runtime.splitlines() if "apt-get install" in line)
    assert "libevent" in installs and "curl" not in installs and "wget" not in installs  # the binary is the probe
    assert 'CMD ["/opt/cloud-agents-mock/cloud-agents-mock", "health"' in runtime
