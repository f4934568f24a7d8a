"""The suites run on the `cloud_agents_mock` pytest plugin (clients/python), as a user's would.

`mock` and `start_server` are this repository's short names for the plugin's fixtures.
"""

import pytest


@pytest.fixture
def mock(cloud_agents_mock):
    """The session's server (the binary of pytest.ini's cloud_agents_mock_bin or $CLOUD_AGENTS_MOCK_BIN), reset."""
    return cloud_agents_mock


@pytest.fixture
def start_server(cloud_agents_mock_factory):
    """Starts servers with custom flags; each is stopped (by pid) after the test."""
    return cloud_agents_mock_factory
