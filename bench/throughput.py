#!/usr/bin/env python3
"""Request throughput and latency of the mock, with peers serving the same bytes in the same run.

    bench/throughput.py --bin .build/release/cloud-agents-mock --out throughput.json \
        [--seconds 5] [--rounds 3] [--hummingbird-bin PATH] [--skip-peers] [--turn-sessions N] [--no-pin]

wrk (1 thread, 50 connections, --latency) measures, against the mock started on its default
fixture:
  (a) list threads of the seed session;
  (b) one page of 100 events from the middle of a thread holding 10,000 (after_id paging);
  (c) retrieve a thread;
  (d) the first page of 100 events of that thread's session (GET .../sessions/{id}/events);
  (e) send a user.message (bench/wrk/send_turn.lua), each answered by the default turn, played
      by the mock's running clock while the load goes on; on a fresh mock each round.
The list-threads answer is also served by the peers: a C program on evhttp answering the mock's
own bytes (the ceiling), nginx (one process) serving the same bytes from a file, and the same
endpoint on Hummingbird 2 and on FastAPI + uvicorn, whose answers must equal the mock's as JSON.
Each measurement is repeated --rounds times, the servers taking turns within each round, and
the medians are reported. Each server runs on one CPU and wrk on another (--no-pin to let them
float). Any non-2xx answer or socket error fails the run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import AUTH, LIST_THREADS, SEED_CHILD, SEED_SESSION, row  # noqa: E402

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / "peers"
HB_PACKAGE = PEERS / "hummingbird-peer"
DEFAULT_FIXTURE = benchlib.REPO / "Sources" / "MockApp" / "Resources" / "default-fixture.json"
SEND_TURN_LUA = BENCH / "wrk" / "send_turn.lua"
SECTION = "throughput"
BIG_THREAD_EVENTS = 10_000
TURN_EVENTS = 6  # user.message, thread running, session running, agent.message, thread idle, session idle
READY_RE = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


# CPUs of the servers and of the load (wrk, and this script): set by main(). Every server gets
# the same one core, the load generator another, so that they do not take turns on one core
# and no server (Hummingbird's event loops, say) spreads over the core wrk needs.
SERVER_CPUS: set[int] | None = None
LOAD_CPUS: set[int] | None = None


def pin_servers(cpus_available: set[int]) -> None:
    global SERVER_CPUS, LOAD_CPUS
    if len(cpus_available) < 2:
        log("one CPU only: servers and wrk share it")
        return
    first, second = sorted(cpus_available)[:2]
    LOAD_CPUS, SERVER_CPUS = {first}, {second}
    os.sched_setaffinity(0, LOAD_CPUS)


class server_cpus:
    """Within it, processes started by this thread inherit the servers' CPU."""

    def __enter__(self) -> None:
        if SERVER_CPUS:
            os.sched_setaffinity(0, SERVER_CPUS)

    def __exit__(self, *exc: object) -> None:
        if LOAD_CPUS:
            os.sched_setaffinity(0, LOAD_CPUS)


# The load makes far more than a test does; the run-time budgets must not be what it measures.
UNBOUNDED = ("--max-run-time-sessions", "100000000", "--max-run-time-threads", "100000000",
             "--max-run-time-events", "1000000000", "--max-pending-steps", "100000000")


def start_mock(binary: str) -> benchlib.Server:
    with server_cpus():
        return benchlib.Server(binary, *UNBOUNDED)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot bind port 0 and tell)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


class Peer:
    """A peer server process, stopped by its pid. `port` is where it listens once started."""

    def __init__(self, name: str, version: str, argv: list[str], *, ready_line: bool, port: int | None = None,
                 env: dict[str, str] | None = None, log_path: Path | None = None,
                 more_logs: list[Path] | None = None, timeout: float = 60.0):
        self.name, self.version = name, version
        full_env = dict(os.environ)
        full_env.update(env or {})
        logs = [p for p in [log_path, *(more_logs or [])] if p is not None]
        self._log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        with server_cpus():
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE if ready_line else self._log,
                                         stderr=self._log, env=full_env)
        try:
            if ready_line:
                line = benchlib.read_ready_line(self.proc, timeout)
                m = READY_RE.search(line)
                if m is None:
                    raise RuntimeError(f"{name}: unexpected first line {line!r}")
                self.port = int(m.group(1))
            else:
                assert port is not None
                self.port = port
                wait_for_connect(self.proc, port, timeout, name)
        except BaseException as e:
            self.stop()
            text = "".join(p.read_text(errors="replace")[-2000:] for p in logs if p.exists())
            raise RuntimeError(f"{name} did not start: {e}\n{text}") from e

    def stop(self) -> None:
        try:
            stop_process(self.proc)
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            if self._log is not subprocess.DEVNULL:
                self._log.close()


def wait_for_connect(proc: subprocess.Popen, port: int, timeout: float, name: str) -> None:
    """For servers that print no ready line: connect until it works, the process exits, or the
    deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not listen on port {port} within {timeout}s")
            time.sleep(0.02)


def command_version(argv: list[str], pattern: str) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def check_status(what: str, status: int, body: bytes, expected: int = 200) -> bytes:
    if status != expected:
        raise RuntimeError(f"{what}: HTTP {status} (expected {expected}): {body[:300]!r}")
    return body


def check_ok(what: str, status: int, body: bytes) -> bytes:
    """For creations, which answer 200 or 201."""
    if status not in (200, 201):
        raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")
    return body


# ---------------------------------------------------------------------------------------------
# Peers


def start_c_peer(tmp: Path, body_file: Path) -> Peer:
    binary = tmp / "evhttp_ceiling"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libevent"], capture_output=True,
                           text=True, check=True, timeout=60).stdout.split()
    subprocess.run(["cc", "-O2", "-o", str(binary), str(PEERS / "evhttp_ceiling.c"), *flags],
                   check=True, timeout=300)
    version = subprocess.run(["pkg-config", "--modversion", "libevent"], capture_output=True, text=True,
                             timeout=60).stdout.strip()
    return Peer("C evhttp", f"libevent {version}", [str(binary), str(body_file)], ready_line=True)


def start_nginx(tmp: Path, body_file: Path) -> Peer:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        raise RuntimeError("nginx is not installed (bench.sh installs it)")
    root = tmp / "nginx"
    root.mkdir()
    port = free_port()
    conf = (PEERS / "nginx.conf.in").read_text()
    for key, value in {"DIR": str(root), "PORT": str(port), "LIST_PATH": LIST_THREADS,
                       "BODY": str(body_file)}.items():
        conf = conf.replace(f"@{key}@", value)
    (root / "nginx.conf").write_text(conf)
    version = command_version([nginx, "-v"], r"nginx/(\S+)")
    return Peer("nginx", f"nginx {version}",
                [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
                ready_line=False, port=port, log_path=root / "stderr.log", more_logs=[root / "error.log"])


def build_hummingbird() -> str:
    """Builds the Hummingbird peer (release) and returns its binary's path."""
    log("building the Hummingbird peer (release; the first build takes minutes)")
    base = ["swift", "build", "-c", "release", "--package-path", str(HB_PACKAGE),
            "--scratch-path", str(HB_PACKAGE / ".build")]
    subprocess.run(base, check=True, timeout=3600, stdout=sys.stderr)
    bin_dir = subprocess.run([*base, "--show-bin-path"], capture_output=True, text=True, check=True,
                             timeout=600).stdout.strip()
    return str(Path(bin_dir) / "ThreadsPeer")


def hummingbird_version(binary: str) -> str:
    for resolved in (HB_PACKAGE / "Package.resolved", Path(binary).parents[2] / "Package.resolved"):
        if resolved.exists():
            for pin in json.loads(resolved.read_text()).get("pins", []):
                if pin.get("identity") == "hummingbird":
                    return f"Hummingbird {pin.get('state', {}).get('version', '?')}"
    return "Hummingbird 2"


def start_hummingbird(binary: str, tmp: Path) -> Peer:
    return Peer("Hummingbird", hummingbird_version(binary),
                [binary, "--fixture", str(DEFAULT_FIXTURE), "--port", "0"], ready_line=True,
                log_path=tmp / "hummingbird.log")


def start_fastapi(tmp: Path) -> Peer:
    python = sys.executable
    probe = subprocess.run([python, "-c", "import fastapi, uvicorn, pydantic; "
                            "print(fastapi.__version__, uvicorn.__version__, pydantic.VERSION)"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        raise RuntimeError(f"FastAPI/uvicorn are not importable by {python} "
                           f"(pip install -r bench/requirements.txt):\n{probe.stderr}")
    fastapi_v, uvicorn_v, pydantic_v = probe.stdout.split()
    extras = [m for m in ("uvloop", "httptools")
              if subprocess.run([python, "-c", f"import {m}"], capture_output=True, timeout=60).returncode == 0]
    port = free_port()
    version = (f"FastAPI {fastapi_v}, pydantic {pydantic_v}, uvicorn {uvicorn_v}"
               + (f" ({', '.join(extras)})" if extras else ""))
    return Peer("FastAPI", version,
                [python, "-m", "uvicorn", "fastapi_app:app", "--app-dir", str(PEERS), "--host", "127.0.0.1",
                 "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"],
                ready_line=False, port=port, env={"THREADS_PEER_FIXTURE": str(DEFAULT_FIXTURE)},
                log_path=tmp / "uvicorn.log")


# ---------------------------------------------------------------------------------------------
# Mock state for the measurements


def make_big_thread(mock: benchlib.Server) -> tuple[str, str, str]:
    """A session whose coordinator holds BIG_THREAD_EVENTS events; returns the session id, the
    thread id, and the id of the event at the middle (the after_id of the measured page)."""
    status, body = mock.request("POST", "/_mock/sessions",
                                {"agent": "agent_019f000000000000000000000000002b", "title": "bench: 10,000 events"})
    session = json.loads(check_ok("create the 10,000-event session", status, body))
    session_id = session["id"]
    thread_id = session["threads"][0]["id"]
    ids: list[str] = []
    batch = 500
    for start in range(0, BIG_THREAD_EVENTS, batch):
        events = [{"type": "agent.message",
                   "content": [{"type": "text", "text": f"Finding {n + 1}: one more paragraph of the agent's "
                                                        f"report, long enough to look like a real message."}]}
                  for n in range(start, min(start + batch, BIG_THREAD_EVENTS))]
        status, body = mock.request("POST", f"/_mock/sessions/{session_id}/threads/{thread_id}/events",
                                    {"events": events})
        answer = json.loads(check_ok("append events", status, body))
        ids += [e["id"] for e in answer["data"]]
    if len(ids) != BIG_THREAD_EVENTS:
        raise RuntimeError(f"appended {len(ids)} events, expected {BIG_THREAD_EVENTS}")
    return session_id, thread_id, ids[BIG_THREAD_EVENTS // 2 - 1]


def check_page(mock: benchlib.Server, path: str, size: int) -> None:
    status, body = mock.request("GET", path)
    page = json.loads(check_status(path, status, body))
    if len(page["data"]) != size or not page["has_more"]:
        raise RuntimeError(f"{path}: expected a page of {size} with more after it, got "
                           f"{len(page['data'])} (has_more {page['has_more']})")


def make_turn_sessions(mock: benchlib.Server, count: int, ids_file: Path) -> str:
    """An agent without a script (so every message gets the default turn) and `count` sessions
    on it, their ids written to `ids_file` for send_turn.lua. Returns the agent's id."""
    status, body = mock.request("POST", "/api/v1/cloud/agents", {"name": "Bench bot", "model": "ultimate"})
    agent = json.loads(check_ok("create the agent", status, body))["id"]
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=60)
    headers = dict(AUTH, **{"Content-Type": "application/json"})
    payload = json.dumps({"agent": agent, "environment_id": "env_local"}).encode()
    ids = []
    try:
        for _ in range(count):
            conn.request("POST", "/api/v1/cloud/sessions", body=payload, headers=headers)
            r = conn.getresponse()
            body = r.read()
            ids.append(json.loads(check_ok("create a session", r.status, body))["id"])
    finally:
        conn.close()
    ids_file.write_text("\n".join(ids) + "\n")
    return agent


def count_events(mock: benchlib.Server) -> int:
    status, body = mock.request("GET", "/_mock/stats")
    return json.loads(check_status("stats", status, body))["events"]


def wait_until_idle(mock: benchlib.Server, agent: str, timeout: float) -> float:
    """Waits until no session of `agent` is running (every turn played out; the seed session,
    whose child stays running, is on another agent); returns the seconds waited."""
    t0 = time.monotonic()
    while True:
        status, body = mock.request("GET", f"/api/v1/cloud/sessions?agent_id={agent}&statuses[]=running&limit=1")
        if not json.loads(check_status("running sessions", status, body))["data"]:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"turns still playing {timeout}s after the load stopped")
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------
# Measuring


class Target:
    """One wrk measurement: a name for the progress lines and the URL (and script) it loads.
    With the server's pid, the result also has `cpu_us`: the server's CPU time (user and
    system) per request answered, which the machine's slow moments (another guest on the host,
    a descheduled server) leave out, where they lower the rate."""

    def __init__(self, name: str, url: str, script: str | None = None, pid: int | None = None):
        self.name, self.url, self.script, self.pid = name, url, script, pid

    def run(self, seconds: int, *, quiet: bool = False) -> dict[str, float]:
        before = benchlib.cpu_seconds(self.pid) if self.pid else 0.0
        result = measure(self.name, self.url, seconds, self.script, quiet=quiet)
        if self.pid and result["requests"] > 0:
            result["cpu_us"] = (benchlib.cpu_seconds(self.pid) - before) * 1e6 / result["requests"]
        return result


def send_turn_round(args: argparse.Namespace, tmp: Path, turn_info: list[tuple[float, int, float]]) -> dict[str, float]:
    """(e) on a fresh mock: sessions made, the send load run, then every turn waited for and
    counted, so that the rate stands for messages whose turns were played."""
    with start_mock(args.bin) as mock:
        ids_file = tmp / "turn-sessions.txt"
        t0 = time.monotonic()
        agent = make_turn_sessions(mock, args.turn_sessions, ids_file)
        log(f"  ({args.turn_sessions:,} sessions made in {time.monotonic() - t0:.1f} s)")
        before = count_events(mock)
        os.environ["SEND_TURN_SESSIONS"] = str(ids_file)
        try:
            result = measure("mock send + default turn", f"http://127.0.0.1:{mock.port}/", args.seconds,
                             str(SEND_TURN_LUA))
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n(a 409 here is a message that reached a session still playing its "
                               f"last turn: raise --turn-sessions above {args.turn_sessions})") from e
        waited = wait_until_idle(mock, agent, 60)
        added = count_events(mock) - before
        if added % TURN_EVENTS:
            raise RuntimeError(f"the send load added {added} events, not a multiple of the {TURN_EVENTS} of a turn")
        turns = added // TURN_EVENTS
        if turns < 0.99 * result["rps"] * args.seconds:
            raise RuntimeError(f"{turns} turns played for {result['rps'] * args.seconds:.0f} answered messages")
        # A session's next message comes this long after its last one; the turn must fit in it.
        gap = args.turn_sessions / result["rps"]
        turn_info.append((waited, turns, gap))
        return result


def measure(name: str, url: str, seconds: int, script: str | None = None, *, quiet: bool = False) -> dict[str, float]:
    result = benchlib.wrk(url, seconds=seconds, connections=50, threads=1, script=script)
    if result["non2xx"]:
        raise RuntimeError(f"{name}: {result['non2xx']:.0f} answers were not 2xx ({url})")
    errors = result.get("socket_errors")
    if errors and any(int(n) for n in re.findall(r"\d+", errors)):
        raise RuntimeError(f"{name}: wrk reported {errors} ({url})")
    if not quiet:
        log(f"  {name:<34} {result['rps']:>10,.0f} req/s  p50 {result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms")
    return result


def same_json(name: str, port: int, expected: Any) -> None:
    status, body = benchlib.request(port, "GET", LIST_THREADS)
    got = json.loads(check_status(f"{name} list threads", status, body))
    if got != expected:
        raise RuntimeError(f"{name} answers list threads differently from the mock:\n"
                           f"  mock: {json.dumps(expected, sort_keys=True)}\n  {name}: {json.dumps(got, sort_keys=True)}")


def same_bytes(name: str, port: int, expected: bytes) -> None:
    status, body = benchlib.request(port, "GET", LIST_THREADS)
    if check_status(f"{name} list threads", status, body) != expected:
        raise RuntimeError(f"{name} does not answer the mock's bytes")


def med(results: dict[str, list[dict[str, float]]], name: str, key: str) -> float:
    return benchlib.median([r[key] for r in results[name]])


# Targets of list threads against each peer: (peer name, mock/peer req/s at least, target text, strict)
RATIO_TARGETS = [
    ("C evhttp", 0.80, "≥ 0.80", False),
    ("nginx", 0.40, "≥ 0.40", False),
    ("FastAPI", 15.0, "≥ 15", False),
    ("Hummingbird", 1.0, "> 1.0", True),
]
PEER_WORDS = {
    "C evhttp": "C evhttp ceiling (fixed bytes, 1 thread)",
    "nginx": "nginx (1 process, same bytes from a file)",
    "Hummingbird": "Hummingbird 2 (Codable + JSONEncoder, default event loop group)",
    "FastAPI": "FastAPI + uvicorn (pydantic, async, 1 worker)",
}


def make_rows(args: argparse.Namespace, results: dict[str, list[dict[str, float]]], peers: list[Peer],
              turn_info: list[tuple[float, int, float]], list_json: Any, list_size: int) -> list[dict[str, Any]]:
    n = f"median of {args.rounds} × {args.seconds} s, wrk 1 thread 50 connections"
    if SERVER_CPUS:
        n += f"; server on CPU {min(SERVER_CPUS)}, wrk on CPU {min(LOAD_CPUS or {0})}"
    rows: list[dict[str, Any]] = []

    def endpoint_rows(name: str, label: str, *, p99_target: bool = False) -> None:
        rps, p50, p99 = med(results, name, "rps"), med(results, name, "p50_ms"), med(results, name, "p99_ms")
        rows.append(row(SECTION, f"{label}: req/s", rps, "req/s", reference=n))
        rows.append(row(SECTION, f"{label}: p50", p50, "ms"))
        if p99_target:
            ceiling = (f"the C evhttp program's own, same run: {med(results, 'C evhttp', 'p99_ms'):.3g} ms"
                       if "C evhttp" in results else "")
            rows.append(row(SECTION, f"{label}: p99", p99, "ms", target="< 2 ms", met=p99 < 2.0,
                            reference=ceiling))
        else:
            rows.append(row(SECTION, f"{label}: p99", p99, "ms"))

    endpoint_rows("mock list threads", f"mock list threads ({len(list_json['data'])} threads, {list_size:,} B)",
                  p99_target=True)
    mock_rps = med(results, "mock list threads", "rps")
    by_name = {p.name: p for p in peers}
    for peer_name, goal, text, strict in RATIO_TARGETS:
        if peer_name not in by_name:
            continue
        peer_rps = med(results, peer_name, "rps")
        # Each round measures both back to back, so the ratio is taken round by round and
        # its median reported: the machine's slow and fast moments cancel within a round.
        rounds = list(zip(results["mock list threads"], results[peer_name]))
        round_ratios = [m["rps"] / p["rps"] for m, p in rounds]
        ratio = benchlib.median(round_ratios)
        reference = (f"median of the rounds' ratios; {PEER_WORDS[peer_name]}: {peer_rps:,.0f} req/s; "
                     f"{by_name[peer_name].version}")
        if peer_name == "C evhttp":
            # The rate follows the server's CPU time per request while the server is the
            # bottleneck; that time varies less from round to round than the rate.
            mock_cpu, peer_cpu = med(results, "mock list threads", "cpu_us"), med(results, peer_name, "cpu_us")
            cpu_ratio = benchlib.median([p["cpu_us"] / m["cpu_us"] for m, p in rounds])
            reference += (f"; server CPU per request: mock {mock_cpu:.1f} µs, C {peer_cpu:.1f} µs "
                          f"(C / mock {cpu_ratio:.3f}); rounds' rate ratios "
                          + ", ".join(f"{r:.3f}" for r in round_ratios))
        elif "C evhttp" in by_name:
            # What the ceiling itself reaches against this peer: a target above it cannot be met
            # by anything built on evhttp, on this machine.
            ceiling = benchlib.median([c["rps"] / p["rps"] for c, p in zip(results["C evhttp"], results[peer_name])])
            reference += f"; the C evhttp program itself: {ceiling:.3g} ×"
        rows.append(row(SECTION, f"list threads: mock / {peer_name} req/s", ratio, "×", target=text,
                        met=ratio > goal if strict else ratio >= goal, reference=reference))
    for p in peers:
        rows.append(row(SECTION, f"peer {p.name} list threads: req/s", med(results, p.name, "rps"), "req/s",
                        reference=p.version))
        rows.append(row(SECTION, f"peer {p.name} list threads: p99", med(results, p.name, "p99_ms"), "ms",
                        reference=p.version))

    endpoint_rows("mock events page", "mock 100 events from the middle of 10,000 (after_id)")
    endpoint_rows("mock retrieve thread", "mock retrieve a thread")
    endpoint_rows("mock session events", "mock session events, first 100 of 10,000")
    endpoint_rows("mock send + turn", "mock send user.message (default turn on the clock)")
    waited = max(w for w, _, _ in turn_info)
    turns = sum(t for _, t, _ in turn_info)
    gap = min(g for _, _, g in turn_info)
    rows.append(row(SECTION, "send + turn: turns still playing after the load stopped", waited * 1000, "ms",
                    reference=f"{turns:,} turns played in all; each session's next message came "
                              f"≥ {gap:.2f} s after its last ({args.turn_sessions:,} sessions in turn)"))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the mock's release binary")
    ap.add_argument("--out", required=True, help="JSON file for the result rows")
    ap.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each measurement (medians are reported)")
    ap.add_argument("--hummingbird-bin", help="a built Hummingbird peer (built from bench/peers when absent)")
    ap.add_argument("--skip-peers", action="store_true", help="measure the mock only")
    ap.add_argument("--turn-sessions", type=int, default=25_000,
                    help="sessions the send-message load takes in turn (each must be idle again "
                         "before its next message)")
    ap.add_argument("--no-pin", action="store_true",
                    help="let servers and wrk run on any CPU (by default the servers share one CPU "
                         "and wrk has another)")
    args = ap.parse_args()
    if args.rounds < 1 or args.seconds < 1 or args.turn_sessions < 1:
        ap.error("--rounds, --seconds and --turn-sessions must be at least 1")

    # A SIGTERM (bench.sh stopped) unwinds through the finally blocks that stop every server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    hb_bin = None
    if not args.skip_peers:
        hb_bin = args.hummingbird_bin or build_hummingbird()

    results: dict[str, list[dict[str, float]]] = {}  # target name -> one wrk result per round
    peers: list[Peer] = []
    turn_info: list[tuple[float, int, float]] = []
    if not args.no_pin:
        pin_servers(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp_name, start_mock(args.bin) as mock:
        tmp = Path(tmp_name)
        try:
            status, list_bytes = mock.request("GET", LIST_THREADS)
            check_status("mock list threads", status, list_bytes)
            list_json = json.loads(list_bytes)
            body_file = tmp / "list-threads.json"
            body_file.write_bytes(list_bytes)

            log(f"preparing a thread of {BIG_THREAD_EVENTS:,} events")
            big_session, big_thread, middle_id = make_big_thread(mock)
            events_page = (f"/api/v1/cloud/sessions/{big_session}/threads/{big_thread}/events"
                           f"?limit=100&after_id={middle_id}")
            session_events = f"/api/v1/cloud/sessions/{big_session}/events?limit=100"
            retrieve = f"/api/v1/cloud/sessions/{SEED_SESSION}/threads/{SEED_CHILD}"
            check_page(mock, events_page, 100)
            check_page(mock, session_events, 100)
            check_status("retrieve a thread", *mock.request("GET", retrieve))

            base = f"http://127.0.0.1:{mock.port}"
            targets = [Target("mock list threads", base + LIST_THREADS, pid=mock.pid)]
            if not args.skip_peers:
                log("starting the peers")
                c_peer = start_c_peer(tmp, body_file)
                peers.append(c_peer)
                same_bytes("C evhttp", c_peer.port, list_bytes)
                nginx = start_nginx(tmp, body_file)
                peers.append(nginx)
                same_bytes("nginx", nginx.port, list_bytes)
                assert hb_bin is not None
                hb = start_hummingbird(hb_bin, tmp)
                peers.append(hb)
                same_json("Hummingbird", hb.port, list_json)
                fa = start_fastapi(tmp)
                peers.append(fa)
                same_json("FastAPI", fa.port, list_json)
                log("the peers answer the mock's list of threads (" +
                    ", ".join(f"{p.name}: {p.version}" for p in peers) + ")")
                targets += [Target(p.name, f"http://127.0.0.1:{p.port}{LIST_THREADS}", pid=p.proc.pid)
                            for p in peers]
            targets += [
                Target("mock events page", base + events_page),
                Target("mock retrieve thread", base + retrieve),
                Target("mock session events", base + session_events),
            ]

            log("warming up (1 s each)")
            for t in targets:
                t.run(1, quiet=True)
            for rnd in range(args.rounds):
                log(f"round {rnd + 1} of {args.rounds}")
                for t in targets:
                    results.setdefault(t.name, []).append(t.run(args.seconds))
                results.setdefault("mock send + turn", []).append(send_turn_round(args, tmp, turn_info))
        finally:
            for p in peers:
                p.stop()

    benchlib.write_rows(args.out, make_rows(args, results, peers, turn_info, list_json, len(list_bytes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
