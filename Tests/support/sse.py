"""A raw HTTP/1.1 + SSE reader over a plain socket, so framing is checked byte by byte.

It sends the request itself, parses the status line and headers, decodes the
chunked transfer encoding as it arrives, and splits the body into SSE frames
(blocks ending with a blank line), keeping each frame's exact bytes.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Frame:
    raw: bytes
    fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_comment(self) -> bool:
        return all(name == "" for name, _ in self.fields)

    def get(self, name: str) -> str | None:
        for k, v in self.fields:
            if k == name:
                return v
        return None

    @property
    def id(self) -> str | None:
        return self.get("id")

    @property
    def event(self) -> str | None:
        return self.get("event")

    @property
    def data(self) -> dict:
        return json.loads(self.get("data"))


class StreamClosed(Exception):
    pass


class SSEClient:
    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        *,
        token: str | None = "test-token",
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        connect: bool = True,
        recv_buffer: int | None = None,
    ):
        self.host, self.port, self.path = host, port, path
        self.token = token
        self.extra_headers = dict(headers or {})
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.recv_buffer = recv_buffer
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.header_bytes = b""
        self._raw = b""  # undecoded bytes from the socket
        self._body = b""  # de-chunked body not yet split into frames
        self.chunked = False
        self.ended = False  # saw the terminating chunk
        self.eof = False  # the socket closed
        self.error_body = b""
        if connect:
            self.connect()

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.recv_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.recv_buffer)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))
        lines = [f"GET {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        hdrs = {"Accept": "text/event-stream"}
        hdrs.update(self.extra_headers)
        if self.token is not None:
            hdrs["Authorization"] = f"Bearer {self.token}"
        lines += [f"{k}: {v}" for k, v in hdrs.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _recv(self, deadline: float) -> bool:
        """Reads more bytes; False at EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("SSE read deadline passed")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self._raw += data
        return True

    def read_head(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self._raw:
            if not self._recv(deadline):
                raise StreamClosed("connection closed before the response head")
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        self.header_bytes = head
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if self.status != 200:
            # Read the (non-streamed) error body.
            length = int(self.headers.get("content-length", "0"))
            while len(self._raw) < length:
                if not self._recv(deadline):
                    break
            self.error_body = self._raw[:length]
        return self.status

    def _dechunk(self) -> None:
        if not self.chunked:
            self._body += self._raw
            self._raw = b""
            return
        while True:
            if b"\r\n" not in self._raw:
                return
            size_line, rest = self._raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                if rest.startswith(b"\r\n") or rest == b"":
                    self.ended = True
                    self._raw = rest[2:]
                return
            if len(rest) < size + 2:
                return
            assert rest[size:size + 2] == b"\r\n", "bad chunk framing"
            self._body += rest[:size]
            self._raw = rest[size + 2:]

    def next_frame(self, timeout: float | None = None) -> Frame:
        """The next SSE frame (comments included); StreamClosed when the response ended."""
        if self.status is None:
            self.read_head(timeout)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            self._dechunk()
            sep = self._body.find(b"\n\n")
            if sep >= 0:
                raw = self._body[:sep + 2]
                self._body = self._body[sep + 2:]
                return parse_frame(raw)
            if self.ended or self.eof:
                raise StreamClosed("stream ended" if self.ended else "connection closed")
            if not self._recv(deadline):
                self._dechunk()
                if self._body.find(b"\n\n") < 0:
                    raise StreamClosed("connection closed")

    def events(self, count: int, timeout: float | None = None, skip_comments: bool = True) -> list[Frame]:
        out: list[Frame] = []
        while len(out) < count:
            f = self.next_frame(timeout)
            if skip_comments and f.is_comment:
                continue
            out.append(f)
        return out

    def read_to_end(self, timeout: float | None = None, skip_comments: bool = True) -> list[Frame]:
        """Every frame until the response ends; asserts it ended with the terminating chunk."""
        out: list[Frame] = []
        while True:
            try:
                f = self.next_frame(timeout)
            except StreamClosed:
                return out
            if skip_comments and f.is_comment:
                continue
            out.append(f)

    def close(self) -> None:
        if self.sock:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> "SSEClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_frame(raw: bytes) -> Frame:
    fields = []
    for line in raw.decode("utf-8").split("\n"):
        if line == "":
            continue
        if line.startswith(":"):
            fields.append(("", line[1:].strip()))
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        fields.append((name, value))
    return Frame(raw=raw, fields=fields)


def expected_frame(event: dict) -> bytes:
    """The exact bytes the server must write for an event."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n".encode()
