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
        self.chunk_sizes: list[int] = []  # the size of every HTTP chunk of the body, in order
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
        self._parse_head()
        if self.status != 200:
            # Read the (non-streamed) error body.
            length = int(self.headers.get("content-length", "0"))
            while len(self._raw) < length:
                if not self._recv(deadline):
                    break
            self.error_body = self._raw[:length]
        return self.status

    def _parse_head(self) -> None:
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        self.header_bytes = head
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"

    def feed(self, data: bytes) -> list[Frame]:
        """For callers that read the socket themselves (selectors, many streams at once):
        takes the bytes read (b"" for EOF) and returns the frames they complete, comments
        included. The head is parsed on the way; check `status`, `ended` and `eof` after."""
        if data:
            self._raw += data
        else:
            self.eof = True
        if self.status is None:
            if b"\r\n\r\n" not in self._raw:
                return []
            self._parse_head()
            if self.status != 200:
                return []
        self._dechunk()
        out = []
        while True:
            sep = self._body.find(b"\n\n")
            if sep < 0:
                return out
            out.append(parse_frame(self._body[:sep + 2]))
            self._body = self._body[sep + 2:]

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
            self.chunk_sizes.append(size)
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

    @property
    def partial(self) -> bytes:
        """Body bytes received after the last whole frame (a frame cut in the middle)."""
        self._dechunk()
        return self._body

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


class StreamGroup:
    """Many SSE streams on one path, read through one selector with non-blocking sockets.

    Streams are opened in waves, and each wave waits for its response heads before the
    next one connects: the server registers a subscriber in the same loop turn that sends
    the head, so a stream with a head cannot miss a later event, and the listen backlog
    never overflows (which would cost SYN retransmits of a second or more).
    """

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        count: int,
        *,
        token: str | None = "test-token",
        headers: dict[str, str] | None = None,
        wave: int = 100,
        timeout: float = 30.0,
    ):
        import selectors

        self.selector = selectors.DefaultSelector()
        self.clients: list[SSEClient] = []
        # frames[i]: (receipt time, frame) for every frame stream i got, comments included.
        self.frames: list[list[tuple[float, Frame]]] = []
        self.event_counts: list[int] = []
        deadline = time.monotonic() + timeout
        try:
            while len(self.clients) < count:
                batch = []
                for _ in range(min(wave, count - len(self.clients))):
                    c = SSEClient(host, port, path, token=token, headers=headers, timeout=timeout, connect=False)
                    c.connect()
                    c.sock.setblocking(False)
                    self.selector.register(c.sock, selectors.EVENT_READ, len(self.clients))
                    self.clients.append(c)
                    self.frames.append([])
                    self.event_counts.append(0)
                    batch.append(c)
                self.poll(deadline, lambda: all(c.status is not None for c in batch))
                bad = [c.status for c in batch if c.status != 200]
                assert not bad, f"stream heads not all 200: {bad[:5]}"
        except BaseException:
            self.close()
            raise

    def poll(self, deadline: float, done) -> None:
        """Reads whatever arrives until done() is true; TimeoutError at the deadline."""
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("stream group deadline passed")
            for key, _ in self.selector.select(min(left, 0.5)):
                i = key.data
                c = self.clients[i]
                try:
                    data = c.sock.recv(262144)
                except BlockingIOError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    data = b""
                now = time.monotonic()
                if not data:
                    self.selector.unregister(c.sock)
                for f in c.feed(data):
                    self.frames[i].append((now, f))
                    if not f.is_comment:
                        self.event_counts[i] += 1

    def event_frames(self, i: int) -> list[Frame]:
        return [f for _, f in self.frames[i] if not f.is_comment]

    def wait_events(self, count: int, timeout: float = 30.0) -> None:
        """Until every stream holds at least `count` event frames (comments aside)."""
        deadline = time.monotonic() + timeout
        self.poll(deadline, lambda: min(self.event_counts, default=count) >= count)

    def close(self) -> None:
        self.selector.close()
        for c in self.clients:
            c.close()

    def __enter__(self) -> "StreamGroup":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
