"""Every libFuzzer target (scripts/fuzz.sh: json, query, page-token, timestamp, fixture, http) runs
for a short time in every test run, under AddressSanitizer: their invariants must hold on every
input they try. Longer runs: `scripts/fuzz.sh 3600`, or one target: `scripts/fuzz.sh 600 http`."""

from __future__ import annotations

import re
import time

from support.mockserver import REPO
from support.progress import run_with_progress, terminal_printer

SECONDS = 15  # per target: with a first build (about a minute) the test takes under 3 minutes
STATUS_EVERY = 10.0  # seconds between the libFuzzer status lines shown while a target runs
# Far below what each target does in SECONDS on a slow machine: a target that runs much less
# is not being fuzzed (a start-up failure, a hang on every input).
MIN_RUNS = {"json": 20_000, "query": 10_000, "page-token": 10_000, "timestamp": 100_000, "fixture": 5_000, "http": 2_000}


def test_the_fuzz_targets_find_nothing(capsys):
    say = terminal_printer(capsys)
    say("")
    # libFuzzer writes a line per new input, so the run is never quiet enough for the runner's own
    # "still running" line: the script's lines, libFuzzer's start and outcome lines all show, and one
    # status line (runs, coverage, speed) every STATUS_EVERY seconds, so the terminal moves while it runs.
    last_shown = time.monotonic()

    def show(line: str) -> None:
        nonlocal last_shown
        now = time.monotonic()
        keys = ("| fuzz", "INITED", "Done", "ERROR", "invariant", "Fatal error", "stat::", "still running")
        if any(k in line for k in keys) or now - last_shown >= STATUS_EVERY:
            say(line)
            last_shown = now

    code, log = run_with_progress(
        "fuzz", ["bash", str(REPO / "scripts" / "fuzz.sh"), str(SECONDS)], cwd=REPO, deadline=900, say=show
    )
    assert code == 0, log[-6000:]
    for target, least in MIN_RUNS.items():
        line = re.search(rf"^fuzz {re.escape(target)}: (\d+) runs.*$", log, re.MULTILINE)
        assert line, f"no summary line for {target}:\n{log[-3000:]}"
        assert int(line.group(1)) >= least, line.group(0)
