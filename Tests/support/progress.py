"""Long test steps show what they are doing: a subprocess's output goes to the terminal line by
line as it comes (past pytest's capture), with a line whenever it has been quiet for a while, so
a run of several minutes never looks hung."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

QUIET_EVERY = 15.0  # seconds between "still running" lines while a step prints nothing


def terminal_printer(capsys) -> Callable[[str], None]:
    """A `say(line)` that prints straight to the terminal, even while pytest captures output."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    return say


def run_with_progress(
    label: str, args: list[str], *, env: dict | None = None, cwd: Path | None = None, deadline: float, say
) -> tuple[int, str]:
    """Runs `args` with stdout and stderr merged, passing each line to `say` as `  label | line`;
    kills it after `deadline` seconds. Returns the exit code and the whole output."""
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    started = last_said = time.monotonic()
    shown = 0

    def show_new() -> bool:
        nonlocal shown
        fresh = lines[shown:]
        shown += len(fresh)
        for line in fresh:
            if line.strip():
                say(f"  {label} | {line.rstrip()}")
        return bool(fresh)

    while True:
        try:
            proc.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if show_new():
            last_said = now
        elif now - last_said >= QUIET_EVERY:
            say(f"  {label} | still running after {now - started:.0f} s")
            last_said = now
        if now - started > deadline:
            proc.kill()
            proc.wait(timeout=30)
            break
    reader.join(timeout=30)
    show_new()
    return proc.returncode, "".join(lines)
