"""The JSON parser's libFuzzer target (scripts/fuzz.sh) runs for a bounded time in every test
run: its differential and round-trip checks, under AddressSanitizer, must find nothing. Longer
runs: `scripts/fuzz.sh 3600`."""

from __future__ import annotations

import re
import time

from support.mockserver import REPO
from support.progress import run_with_progress, terminal_printer

SECONDS = 30
STATUS_EVERY = 10.0  # seconds between the libFuzzer status lines shown while it runs


def test_the_json_fuzzer_finds_nothing(capsys):
    say = terminal_printer(capsys)
    say("")
    # libFuzzer writes a line per new input, so the run is never quiet enough for the runner's own
    # "still running" line: its start and outcome lines all show, and one status line (runs, coverage,
    # speed) every STATUS_EVERY seconds, so the terminal moves while the fuzzer does.
    last_shown = time.monotonic()

    def show(line: str) -> None:
        nonlocal last_shown
        now = time.monotonic()
        if any(k in line for k in ("INITED", "Done", "ERROR", "stat::", "still running")) or now - last_shown >= STATUS_EVERY:
            say(line)
            last_shown = now

    code, log = run_with_progress(
        "json fuzz", ["bash", str(REPO / "scripts" / "fuzz.sh"), str(SECONDS)], cwd=REPO, deadline=600, say=show
    )
    assert code == 0, log[-6000:]
    runs = re.search(r"Done (\d+) runs", log)
    assert runs and int(runs.group(1)) > 10_000, log[-3000:]
