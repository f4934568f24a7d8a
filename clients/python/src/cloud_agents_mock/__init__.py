"""Python tools for cloud-agents-mock, the local mock of the Qoder Cloud Agents Managed Agents API.

* `MockServer`: start the binary on a free port (or connect to one running) and talk to it;
* `ControlClient` (`server.control`): a typed client of every `/_mock/` route;
* a pytest plugin (loaded automatically once installed) with the `cloud_agents_mock` fixture.
"""

from .control import ControlClient, MockAPIError, RequestNotSeen
from .server import API_PREFIX, DEFAULT_TOKEN, READY_PREFIX, BinaryNotFound, MockServer, Response, find_binary, read_ready_line

__version__ = "0.1.0"

__all__ = [
    "API_PREFIX",
    "BinaryNotFound",
    "ControlClient",
    "DEFAULT_TOKEN",
    "MockAPIError",
    "MockServer",
    "READY_PREFIX",
    "RequestNotSeen",
    "Response",
    "find_binary",
    "read_ready_line",
]
