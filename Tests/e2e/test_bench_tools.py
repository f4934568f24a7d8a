"""The C tools the benchmark measures with (bench/tools/) finish and report on any input they
accept: a tool that hangs leaves the benchmark without a number."""

from __future__ import annotations

import re
import shutil
import subprocess

from support.mockserver import REPO

SEND_FLOOR = REPO / "bench" / "tools" / "send_floor.c"


def build(tmp_path, source):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    assert cc, "no C compiler on PATH (the Swift toolchain brings clang)"
    out = tmp_path / source.stem
    subprocess.run([cc, "-O2", "-pthread", "-o", str(out), str(source)], check=True, timeout=120)
    return out


def test_the_send_floor_finishes_when_sends_are_partial(tmp_path):
    """Frames far larger than the sockets' buffers (the readers' bounded to 64 KiB): each send()
    takes part of one and the rest waits for room; every connection still gets every frame and
    the latencies are reported."""
    tool = build(tmp_path, SEND_FLOOR)
    done = subprocess.run([str(tool), "4", "12", "8000000", "65536"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found = dict(re.findall(r"(\w+)=([0-9.]+)", done.stdout))
    assert int(found["sends"]) == 4 * 12
    assert int(found["would_block"]) > 0, "the frames were meant to be larger than the socket buffers"
    assert 0 < float(found["last_p50_ms"]) <= float(found["last_p99_ms"]) <= float(found["last_max_ms"])


def test_the_send_floor_refuses_counts_that_measure_nothing(tmp_path):
    tool = build(tmp_path, SEND_FLOOR)
    for args in (["0", "5", "520"], ["5", "0", "520"], ["5", "5", "0"]):
        done = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 2
        assert "must be positive" in done.stderr
