"""A Python project outside this repository uses the mock the way the README says: a fresh virtual
environment, `pip install <path to clients/python>` (not editable), one fixture in its tests, the
binary named by $CLOUD_AGENTS_MOCK_BIN, and nothing copied from this repository. Its pytest runs
with two xdist workers, each of which gets its own server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cloud_agents_mock import MockServer

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parents[1]


def pinned(name: str) -> str:
    """The version this repository's test requirements pin, so the outside project gets the same."""
    for line in (REPO / "Tests" / "requirements.txt").read_text().splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.strip()
    raise AssertionError(f"{name} is not pinned in Tests/requirements.txt")


def run(args: list[str], cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def test_a_project_outside_the_repository(tmp_path: Path, cloud_agents_mock_server: MockServer):
    if not cloud_agents_mock_server.binary:
        pytest.skip("the outer run connected to a server by URL; this test needs the binary")
    project = tmp_path / "their-project"
    (project / "tests").mkdir(parents=True)
    record = tmp_path / "record"
    record.mkdir()
    (project / "tests" / "test_with_the_mock.py").write_text(
        textwrap.dedent(
            f"""
            import os
            import qca

            RECORD = {str(record)!r}
            SESSION = "sess_019f00000000000000000000000000aa"


            def note(mock, name):
                worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
                with open(os.path.join(RECORD, name), "w") as f:
                    f.write(f"{{worker}} {{mock.pid}} {{mock.base}}")


            def test_threads_through_the_sdk(cloud_agents_mock, cloud_agents_mock_managed):
                note(cloud_agents_mock, "a")
                threads = list(cloud_agents_mock_managed.sessions.threads.list(SESSION))
                assert [t.role for t in threads] == ["coordinator", "child"]


            def test_a_fault_the_sdk_sees(cloud_agents_mock, cloud_agents_mock_managed):
                note(cloud_agents_mock, "b")
                cloud_agents_mock.control.add_fault("/v1/sessions/*/threads", status=503)
                try:
                    list(cloud_agents_mock_managed.sessions.threads.list(SESSION))
                except qca.APIStatusError as e:
                    assert e.status_code == 503
                else:
                    raise AssertionError("the fault was not seen")


            def test_waiting_for_what_the_app_sent(cloud_agents_mock):
                note(cloud_agents_mock, "c")
                assert cloud_agents_mock.control.faults() == []  # reset since the test before
                session = cloud_agents_mock.control.create_session(title="idle, ready for a message")
                sent = cloud_agents_mock.post(f"/v1/sessions/{{session['id']}}/events", {{"events": [{{"type": "user.message", "content": "hi"}}]}})
                entry = cloud_agents_mock.wait_for_request("POST", "/v1/sessions/*/events")
                assert entry["status"] == sent.status == 200 and entry["request_id"] == sent.headers["x-request-id"]


            def test_turns_on_a_frozen_clock(cloud_agents_mock):
                note(cloud_agents_mock, "d")
                mock = cloud_agents_mock
                mock.control.freeze_clock()
                session = mock.control.create_session(initial_events=[{{"type": "user.message", "content": "hi"}}])
                assert mock.run_until_idle()["steps_pending"] == 0
                kinds = [e["type"] for e in mock.get(f"/v1/sessions/{{session['id']}}/events").json()["data"]]
                assert kinds[-1] == "session.status_idle"
            """
        )
    )
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUD_AGENTS_MOCK", "PYTHON", "VIRTUAL_ENV"))}
    env["CLOUD_AGENTS_MOCK_BIN"] = cloud_agents_mock_server.binary
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, env, 120)
    python = str(venv / "bin" / "python")
    requirements = [f"{PACKAGE}[sdk]", pinned("pytest"), pinned("pytest-xdist"), pinned("qca-sdk")]
    run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements], tmp_path, env, 600)
    installed = run([python, "-c", "import cloud_agents_mock; print(cloud_agents_mock.__file__)"], tmp_path, env, 60)
    assert str(venv) in installed.stdout and str(REPO) not in installed.stdout  # a copy in their venv, not ours

    result = run([python, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "tests"], project, env, 300)
    assert "4 passed" in result.stdout, result.stdout

    seen = [(record / name).read_text().split() for name in "abcd"]
    by_worker = {}
    for worker, pid, base in seen:
        by_worker.setdefault(worker, set()).add((pid, base))
    assert set(by_worker) == {"gw0", "gw1"}, seen  # both workers ran tests...
    assert all(len(servers) == 1 for servers in by_worker.values()), seen  # ...each on one server of its own
    assert by_worker["gw0"] != by_worker["gw1"], seen
    for _, pid, _ in seen:  # and every server was stopped when its worker finished
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
