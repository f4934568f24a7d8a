"""The pytest plugin as a user's suite meets it: small test projects run by pytester in a separate
pytest process (the plugin loads through its entry point, as it does after `pip install`)."""

from __future__ import annotations

import json
import re

import pytest

from cloud_agents_mock import MockServer

pytest_plugins = []  # pytester comes from pytest.ini's `-p pytester`


@pytest.fixture
def binary(cloud_agents_mock_server: MockServer) -> str:
    if not cloud_agents_mock_server.binary:
        pytest.skip("the outer run connected to a server by URL; these tests need the binary")
    return cloud_agents_mock_server.binary


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The inner runs see no server settings but the ones each test gives."""
    for name in ("CLOUD_AGENTS_MOCK_BIN", "CLOUD_AGENTS_MOCK_URL", "CLOUD_AGENTS_MOCK_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def outcomes(result: pytest.RunResult) -> dict:
    return result.parseoutcomes()


def test_one_server_per_session_reset_before_each_test(pytester: pytest.Pytester, binary: str, clean_env):
    pytester.makepyfile(
        """
        SEEN = []

        def test_first(cloud_agents_mock):
            SEEN.append((cloud_agents_mock.pid, cloud_agents_mock.base))
            cloud_agents_mock.control.add_token("left-behind")
            cloud_agents_mock.control.freeze_clock("2030-01-01T00:00:00.000Z")
            assert cloud_agents_mock.get("/v1/agents", token="wrong").status == 401

        def test_second(cloud_agents_mock):
            SEEN.append((cloud_agents_mock.pid, cloud_agents_mock.base))
            assert cloud_agents_mock.control.tokens()["tokens"] == []
            assert cloud_agents_mock.control.clock()["mode"] == "real"
            assert cloud_agents_mock.get("/v1/agents", token="anything").status == 200
            assert SEEN[0] == SEEN[1]
        """
    )
    result = pytester.runpytest_subprocess(f"--cloud-agents-mock-bin={binary}")
    assert outcomes(result) == {"passed": 2}, result.stdout.str()


def test_a_failing_test_reports_the_journal_state_and_log(pytester: pytest.Pytester, binary: str, clean_env):
    pytester.makepyfile(
        """
        def test_fails(cloud_agents_mock):
            cloud_agents_mock.get("/v1/sessions/sess_019f00000000000000000000000000aa/threads?limit=1")
            cloud_agents_mock.control.create_session(title="made before the failure")
            assert False, "on purpose"

        def test_passes(cloud_agents_mock):
            cloud_agents_mock.get("/v1/agents")
        """
    )
    result = pytester.runpytest_subprocess(f"--cloud-agents-mock-bin={binary}")
    assert outcomes(result) == {"failed": 1, "passed": 1}
    out = result.stdout.str()
    journal = out.split("cloud-agents-mock journal", 1)[1].split("-----", 1)[1]
    assert re.search(r"#1 \S+ GET /v1/sessions/sess_019f00000000000000000000000000aa/threads\?limit=1 -> 200 \(req_", journal), out
    assert "/v1/agents" not in journal  # the passing test's request: its report gets nothing
    state = out.split("cloud-agents-mock state", 1)[1]
    assert '"title": "made before the failure"' in state
    assert "cloud-agents-mock log" in out and "serving (built-in default fixture)" in out
    assert out.count("cloud-agents-mock journal") == 1

    quiet = pytester.runpytest_subprocess(f"--cloud-agents-mock-bin={binary}", "--cloud-agents-mock-no-report")
    assert outcomes(quiet) == {"failed": 1, "passed": 1}
    assert "cloud-agents-mock journal" not in quiet.stdout.str()


def test_a_running_server_given_by_url(pytester: pytest.Pytester, cloud_agents_mock_factory, clean_env):
    running = cloud_agents_mock_factory("--token", "svc-token")
    clean_env.setenv("PATH", "/nonexistent")  # no binary to find: the URL must be enough
    pytester.makepyfile(
        f"""
        def test_uses_it(cloud_agents_mock):
            assert cloud_agents_mock.base == "{running.base}"
            assert cloud_agents_mock.proc is None
            assert cloud_agents_mock.get("/v1/agents").status == 200
            cloud_agents_mock.control.create_session(title="from the inner run")
        """
    )
    result = pytester.runpytest_subprocess(f"--cloud-agents-mock-url={running.base}", "--cloud-agents-mock-token=svc-token")
    assert outcomes(result) == {"passed": 1}, result.stdout.str()
    # The plugin neither stopped nor reset it afterwards.
    assert running.proc.poll() is None
    assert any(s.get("title") == "from the inner run" for s in running.control.get_state()["sessions"])

    clean_env.setenv("CLOUD_AGENTS_MOCK_URL", running.base)  # the same through the environment
    again = pytester.runpytest_subprocess("--cloud-agents-mock-token=svc-token")
    assert outcomes(again) == {"passed": 1}, again.stdout.str()


def test_server_arguments_and_token_from_ini(pytester: pytest.Pytester, binary: str, clean_env):
    pytester.makeini(
        f"""
        [pytest]
        cloud_agents_mock_bin = {binary}
        cloud_agents_mock_args = --token ini-token --seed 7
        cloud_agents_mock_token = ini-token
        """
    )
    pytester.makepyfile(
        """
        def test_configured(cloud_agents_mock):
            assert cloud_agents_mock.args == ["--token", "ini-token", "--seed", "7", "--frozen-clock", "2026-01-01T00:00:00.000Z"]
            assert cloud_agents_mock.get("/v1/agents").status == 200
            assert cloud_agents_mock.get("/v1/agents", token="other").status == 401
            assert cloud_agents_mock.control.clock()["now"] == "2026-01-01T00:00:00.000Z"
        """
    )
    result = pytester.runpytest_subprocess("--cloud-agents-mock-arg=--frozen-clock", "--cloud-agents-mock-arg=2026-01-01T00:00:00.000Z")
    assert outcomes(result) == {"passed": 1}, result.stdout.str()


def test_no_binary_says_how_to_give_one(pytester: pytest.Pytester, clean_env):
    clean_env.setenv("PATH", "/nonexistent")
    pytester.makepyfile("def test_needs_it(cloud_agents_mock):\n    pass\n")
    result = pytester.runpytest_subprocess()
    assert outcomes(result) == {"errors": 1}
    out = result.stdout.str()
    assert "BinaryNotFound" in out and "--cloud-agents-mock-bin" in out and "CLOUD_AGENTS_MOCK_URL" in out

    missing = pytester.runpytest_subprocess("--cloud-agents-mock-bin=/nonexistent/cloud-agents-mock")
    assert "/nonexistent/cloud-agents-mock) is not an executable file" in missing.stdout.str()


def test_managed_sdk_client_and_waits(pytester: pytest.Pytester, binary: str, clean_env):
    pytest.importorskip("qca")
    pytester.makepyfile(
        """
        import threading

        def test_sdk(cloud_agents_mock_managed, cloud_agents_mock):
            threads = list(cloud_agents_mock_managed.sessions.threads.list("sess_019f00000000000000000000000000aa"))
            assert len(threads) == 2
            entry = cloud_agents_mock.wait_for_request("GET", "/api/v1/cloud/sessions/*/threads")
            assert entry["headers"]  # what the SDK sent, credentials masked
            session = cloud_agents_mock.control.create_session(initial_events=[{"type": "user.message", "content": "hi"}])
            cloud_agents_mock.control.freeze_clock()
            steps = cloud_agents_mock.run_until_idle()
            assert steps["steps_pending"] == 0
        """
    )
    result = pytester.runpytest_subprocess(f"--cloud-agents-mock-bin={binary}")
    assert outcomes(result) == {"passed": 1}, result.stdout.str()


def test_factory_servers_are_stopped_after_the_test(pytester: pytest.Pytester, binary: str, clean_env, tmp_path):
    pids = tmp_path / "pids.json"
    pytester.makepyfile(
        f"""
        import json

        def test_two(cloud_agents_mock_factory):
            a = cloud_agents_mock_factory("--seed", "1")
            b = cloud_agents_mock_factory("--admin-token", "adm")
            assert a.port != b.port
            assert b.control("GET", "/stats").status == 401
            open({str(pids)!r}, "w").write(json.dumps([a.pid, b.pid]))
        """
    )
    result = pytester.runpytest_subprocess(f"--cloud-agents-mock-bin={binary}")
    assert outcomes(result) == {"passed": 1}, result.stdout.str()
    for pid in json.loads(pids.read_text()):
        with pytest.raises(ProcessLookupError):
            import os

            os.kill(pid, 0)
