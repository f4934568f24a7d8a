"""The pytest plugin (registered through the `pytest11` entry point, so installing the package is
enough).

Fixtures:

* `cloud_agents_mock`: the session's server, reset before the test. A `MockServer`: `.base`,
  `.api_url`, `.control` (typed control client), `.wait_for_request(...)`, `.run_until_idle()`,
  `.managed()` (a `qca.Managed` client when qca-sdk is installed), raw `.get`/`.post`/`.request`.
* `cloud_agents_mock_managed`: a `qca.Managed` client aimed at the reset server (skips the test when
  qca-sdk is not installed).
* `cloud_agents_mock_server`: the session-wide server itself, not reset (one per test session, so
  one per xdist worker).
* `cloud_agents_mock_factory`: starts more servers with their own arguments; each is stopped after
  the test.

Where the server comes from, first match wins: `--cloud-agents-mock-url` / `$CLOUD_AGENTS_MOCK_URL`
(one already running, e.g. a container); else the binary from `--cloud-agents-mock-bin` /
`$CLOUD_AGENTS_MOCK_BIN` / the `cloud_agents_mock_bin` ini key / `cloud-agents-mock` on PATH, started
on a free port with the arguments of `--cloud-agents-mock-arg` (repeatable) and the
`cloud_agents_mock_args` ini key.

When a test that used `cloud_agents_mock` fails, its report gets the mock's journal, its state and
(for a server started here) the end of its log, as extra sections.
"""

from __future__ import annotations

import json
import os
import shlex
from typing import Any, Callable, Generator, Iterator, List, Tuple

import pytest

from .server import BIN_ENV, DEFAULT_TOKEN, MockServer

URL_ENV = "CLOUD_AGENTS_MOCK_URL"
REPORT_LIMIT = 64 * 1024  # characters of state shown in a failure report; the rest is cut with a note


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cloud-agents-mock", "cloud-agents-mock server for tests")
    group.addoption("--cloud-agents-mock-bin", metavar="PATH", help="the cloud-agents-mock binary to start")
    group.addoption(
        "--cloud-agents-mock-url",
        metavar="URL",
        help="use the server already running at URL (e.g. http://localhost:8787) instead of starting one",
    )
    group.addoption(
        "--cloud-agents-mock-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an argument for the started server (repeatable), e.g. --cloud-agents-mock-arg=--seed=7",
    )
    group.addoption("--cloud-agents-mock-token", metavar="TOKEN", help=f"bearer token of the clients (default {DEFAULT_TOKEN})")
    group.addoption(
        "--cloud-agents-mock-no-report",
        action="store_true",
        help="do not add the mock's journal, state and log to the reports of failing tests",
    )
    parser.addini("cloud_agents_mock_bin", "the cloud-agents-mock binary to start", default="")
    parser.addini("cloud_agents_mock_args", "arguments for the started server (shell words)", default="")
    parser.addini("cloud_agents_mock_token", "bearer token of the clients", default="")


def _setting(config: pytest.Config, option: str, ini: str, env: str | None = None) -> str | None:
    value = config.getoption(option)
    if not value and env:
        value = os.environ.get(env)
    if not value and ini:
        value = config.getini(ini)
    return value or None


def _binary(config: pytest.Config) -> str | None:
    """The option, else $CLOUD_AGENTS_MOCK_BIN, else the ini key (relative to the rootdir); None: PATH."""
    given = config.getoption("cloud_agents_mock_bin") or os.environ.get(BIN_ENV)
    if given:
        return given
    ini = config.getini("cloud_agents_mock_bin")
    return str(config.rootpath / ini) if ini else None


def _server_args(config: pytest.Config) -> List[str]:
    return shlex.split(config.getini("cloud_agents_mock_args") or "") + list(config.getoption("cloud_agents_mock_arg"))


def _token(config: pytest.Config) -> str:
    return _setting(config, "cloud_agents_mock_token", "cloud_agents_mock_token") or DEFAULT_TOKEN


@pytest.fixture(scope="session")
def cloud_agents_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """One server for the test session (per xdist worker): started here, or the one at the URL given."""
    url = _setting(pytestconfig, "cloud_agents_mock_url", "", URL_ENV)
    if url:
        yield MockServer.connect(url, token=_token(pytestconfig))
        return
    with MockServer(*_server_args(pytestconfig), binary=_binary(pytestconfig), token=_token(pytestconfig)) as server:
        yield server


@pytest.fixture
def cloud_agents_mock(cloud_agents_mock_server: MockServer) -> MockServer:
    """The session's server, reset to its fixtures (world, tokens, journal, faults, clock) for this test."""
    server = cloud_agents_mock_server
    if server.proc is not None and server.proc.poll() is not None:
        raise RuntimeError(
            f"cloud-agents-mock exited with {server.proc.returncode} during the session; its log ends:\n"
            + _tail(server.stderr_text())
        )
    server.control.reset()
    return server


@pytest.fixture
def cloud_agents_mock_managed(cloud_agents_mock: MockServer) -> Any:
    """A `qca.Managed` client of the official SDK aimed at the reset mock (retries off)."""
    pytest.importorskip("qca", reason="qca-sdk is not installed (pip install 'cloud-agents-mock[sdk]')")
    client = cloud_agents_mock.managed()
    yield client
    client.close()


@pytest.fixture
def cloud_agents_mock_factory(pytestconfig: pytest.Config) -> Iterator[Callable[..., MockServer]]:
    """`start(*args, **kw)` starts one more server with these arguments; all are stopped after the test."""
    started: List[MockServer] = []
    binary = _binary(pytestconfig)

    def start(*args: str, **kw: Any) -> MockServer:
        kw.setdefault("binary", binary)
        kw.setdefault("token", _token(pytestconfig))
        server = MockServer(*args, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


# -- failure reports ------------------------------------------------------------------------


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _cut(text: str) -> str:
    if len(text) <= REPORT_LIMIT:
        return text
    return text[:REPORT_LIMIT] + f"\n... ({len(text) - REPORT_LIMIT} more characters; GET /_mock/state for all of it)"


def _report_sections(server: MockServer) -> List[Tuple[str, str]]:
    sections: List[Tuple[str, str]] = []
    try:
        entries = server.control.journal()["data"]
        lines = [
            f"#{e['seq']} {e['received_at']} {e['method']} {e['path']}"
            + (f"?{e['query_string']}" if e["query_string"] else "")
            + f" -> {e['status']} ({e['request_id']})"
            for e in entries
        ]
        sections.append(("cloud-agents-mock journal", "\n".join(lines) or "(no API requests)"))
        sections.append(("cloud-agents-mock state", _cut(json.dumps(server.control.get_state(), indent=1))))
    except Exception as e:  # the server may be what failed
        sections.append(("cloud-agents-mock", f"could not read the mock's journal and state: {type(e).__name__}: {e}"))
    if server.proc is not None:
        sections.append(("cloud-agents-mock log", _tail(server.stderr_text())))
    return sections


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: "pytest.CallInfo[None]") -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "call" or not report.failed or item.config.getoption("cloud_agents_mock_no_report"):
        return
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("cloud_agents_mock")
    if server is None:
        return
    for title, text in _report_sections(server):
        report.sections.append((title, text))
