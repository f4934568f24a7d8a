"""The suites run on the `cloud_agents_mock` pytest plugin (clients/python), as a user's would.

`mock` and `start_server` are this repository's short names for the plugin's fixtures.
"""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Against an AddressSanitizer build (Tests/e2e/test_sanitized.py), resident memory says
    nothing about the server: freed memory waits in the sanitizer's quarantine."""
    if not os.environ.get("CLOUD_AGENTS_MOCK_SANITIZED"):
        return
    skip = pytest.mark.skip(reason="resident memory of a sanitized binary is the sanitizer's")
    for item in items:
        if item.get_closest_marker("measures_memory"):
            item.add_marker(skip)


@pytest.fixture
def mock(cloud_agents_mock):
    """The session's server (the binary of pytest.ini's cloud_agents_mock_bin or $CLOUD_AGENTS_MOCK_BIN), reset."""
    return cloud_agents_mock


@pytest.fixture
def start_server(cloud_agents_mock_factory):
    """Starts servers with custom flags; each is stopped (by pid) after the test."""
    return cloud_agents_mock_factory
