"""The documentation runs: every curl example of the README, top to bottom, against a
fresh mock, and the example world of fixtures/README.md."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

from support.mockserver import REPO, MockServer

DOC_HOST = "http://127.0.0.1:8787"

# Examples documented to fail, in README order: (a piece of the command, expected status).
EXPECTED_FAILURES = [
    ("/threads/sthr_019f00000000000000000000000002bb/archive", 409),  # the child is still running
    ("Last-Event-ID: evt_019f0000000000000000000000000101", 400),  # an id of another thread
    ('"content": "Hello?"', 409),  # a second message during a turn
]
# `export NAME=$(command)`: the shell keeps an id for the examples that follow.
CAPTURE = re.compile(r"export (\w+)=\$\((.*)\)$")


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and not line.startswith("scripts/"):
                commands.append(line)
    return commands


def test_readme_has_the_two_commands_and_curl_examples():
    text = (REPO / "README.md").read_text()
    assert "scripts/serve.sh" in text and "scripts/test.sh" in text
    assert sum(c.startswith("curl") for c in readme_commands()) >= 30


def test_every_readme_curl_example_runs_against_the_mock(tmp_path):
    pending = list(EXPECTED_FAILURES)
    env = dict(os.environ)
    with MockServer() as server:
        for command in readme_commands():
            captured = CAPTURE.match(command)
            if captured:
                name, inner = captured.groups()
                out = subprocess.run(["bash", "-c", inner.replace(DOC_HOST, server.base)], capture_output=True,
                                     text=True, cwd=tmp_path, timeout=30, env=env)
                assert out.returncode == 0 and out.stdout.strip(), (command, out.stderr)
                env[name] = out.stdout.strip()
                continue
            if command.startswith("export "):
                name, _, value = command[len("export "):].partition("=")
                env[name] = value
                continue
            assert command.startswith("curl "), command
            # Variables as the shell would expand them (single quotes included: the examples
            # only put ids there, never a literal dollar).
            expanded = re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), m.group(0)), command)
            args = shlex.split(expanded.replace(DOC_HOST, server.base))
            args = [a.replace(DOC_HOST, server.base) for a in args]
            streaming = "-N" in args
            out = subprocess.run(
                args + ["-w", "\n__status=%{http_code}"], capture_output=True, text=True, cwd=tmp_path, timeout=30, env=env
            )
            # curl exits 28 when --max-time ends a stream that was still open.
            assert out.returncode in ((0, 28) if streaming else (0,)), (command, out.stderr)
            body, _, status = out.stdout.rpartition("\n__status=")
            status = int(status)
            expected = None
            if pending and pending[0][0] in command:
                expected = pending.pop(0)[1]
            if expected:
                assert status == expected, (command, body)
                assert json.loads(body)["type"] == "error"
            else:
                assert 200 <= status < 300, (command, status, body)
            if streaming and status == 200:
                assert "\nevent: " in "\n" + body, (command, body)
        assert not pending, f"documented failures not met: {pending}"
        assert server.stop() == 0


def test_fixture_readme_example_loads_and_archives_as_described(tmp_path):
    text = (REPO / "fixtures" / "README.md").read_text()
    example = re.search(r"```json\n(.*?)```", text, flags=re.S).group(1)
    path = tmp_path / "example.json"
    path.write_text(example)
    with MockServer("--fixtures", str(path)) as s:
        r = s.post("/v1/sessions/sess_demo/threads/sthr_worker/archive", token="secret-token")
        assert r.status == 200, r.text
        mailbox = s.control("GET", "/sessions/sess_demo/threads/sthr_worker/mailbox").json()["data"]
        assert [m["status"] for m in mailbox] == ["cancelled"]
        coord = s.get("/v1/sessions/sess_demo/threads/sthr_coord", token="secret-token").json()
        assert coord["status"] == "running"
        events = s.get("/v1/sessions/sess_demo/threads/sthr_coord/events", token="secret-token").json()["data"]
        assert events[0]["content"] == "Agent cancelled." and events[0]["tool_use_id"] == "toolu_1"
        assert s.get("/v1/sessions/sess_demo/threads", token="wrong").status == 401


def test_default_fixture_file_is_what_the_binary_serves(tmp_path):
    with MockServer() as builtin, MockServer("--fixtures", str(REPO / "fixtures" / "default.json")) as from_file:
        a = builtin.control("GET", "/state").json()
        b = from_file.control("GET", "/state").json()
        assert a == b
