"""`cloud-agents-mock health`: the container health check, through the real binary."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
import time

import pytest

from support.mockserver import binary_path


def health(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CLOUD_AGENTS_MOCK_HEALTH")}
    full.update(env or {})
    return subprocess.run([binary_path(), "health", *args], capture_output=True, text=True, timeout=timeout, env=full)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ready_server_exits_0(mock):
    out = health("--url", mock.base)
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"ready: {mock.base}/_mock/ready answered 200\n" and out.stderr == ""
    # The URL can come from the environment, as a container's health check gives it.
    out = health(env={"CLOUD_AGENTS_MOCK_HEALTH_URL": mock.base + "/"})
    assert out.returncode == 0, out.stderr


def test_ready_also_behind_an_admin_token(start_server):
    guarded = start_server("--admin-token", "adm-secret")
    assert health("--url", guarded.base).returncode == 0  # readiness is open
    assert health("--url", guarded.base, env={"CLOUD_AGENTS_MOCK_ADMIN_TOKEN": "adm-secret"}).returncode == 0


def test_nothing_listening_exits_1():
    port = free_port()
    out = health("--url", f"http://127.0.0.1:{port}", "--timeout-ms", "2000")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith(f"not ready: http://127.0.0.1:{port}/_mock/ready: ")


def test_a_silent_server_exits_1_at_the_timeout():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections (the kernel does) and never answers
        port = listener.getsockname()[1]
        started = time.monotonic()
        out = health("--url", f"http://127.0.0.1:{port}", "--timeout-ms", "300")
        elapsed = time.monotonic() - started
    assert out.returncode == 1
    assert "not ready" in out.stderr and ("timed out" in out.stderr or "no answer within" in out.stderr), out.stderr
    assert 0.25 < elapsed < 10, elapsed


def test_a_server_that_is_not_ready_exits_1():
    class NotReady(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotReady)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        out = health("--url", url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert out.returncode == 1
    assert out.stderr == f"not ready: {url}/_mock/ready answered 503\n"


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://127.0.0.1:8787", "must start with http://"),
        ("http://127.0.0.1:8787/v1", "root URL"),
        ("http://127.0.0.1:99999", "port must be from 1 to 65535"),
        ("http://:8787", "no host"),
    ],
)
def test_a_bad_url_is_a_usage_error(url, message):
    out = health("--url", url)
    assert out.returncode == 64 and message in out.stderr, out.stderr


def test_ipv6_loopback(start_server):
    try:
        server = start_server("--host", "::1")
    except RuntimeError as e:  # a machine without IPv6 on loopback
        pytest.skip(f"no IPv6 loopback here: {e}")
    out = health("--url", f"http://[::1]:{server.port}")
    assert out.returncode == 0, out.stderr


def test_the_server_still_starts_without_a_subcommand(start_server):
    server = start_server("--seed", "3")
    assert server.ready_line.startswith("cloud-agents-mock listening on http://127.0.0.1:")
