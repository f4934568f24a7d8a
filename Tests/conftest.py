import pytest

from support.mockserver import MockServer


@pytest.fixture(scope="session")
def shared_server():
    """One server for the whole run; tests that use `mock` get it reset first."""
    with MockServer() as server:
        yield server


@pytest.fixture
def mock(shared_server):
    shared_server.reset()
    yield shared_server


@pytest.fixture
def start_server():
    """Starts servers with custom flags; each is stopped (by pid) after the test."""
    started = []

    def _start(*args, **kw):
        s = MockServer(*args, **kw)
        started.append(s)
        return s

    yield _start
    for s in started:
        s.__exit__(None, None, None)
