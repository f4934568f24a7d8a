"""The JSON parser's libFuzzer target (scripts/fuzz.sh) runs for a bounded time in every test
run: its differential and round-trip checks, under AddressSanitizer, must find nothing. Longer
runs: `scripts/fuzz.sh 3600`."""

from __future__ import annotations

import re

from support.mockserver import REPO
from support.progress import run_with_progress, terminal_printer

SECONDS = 30


def test_the_json_fuzzer_finds_nothing(capsys):
    say = terminal_printer(capsys)
    say("")
    code, log = run_with_progress(
        "json fuzz", ["bash", str(REPO / "scripts" / "fuzz.sh"), str(SECONDS)], cwd=REPO, deadline=600,
        say=lambda line: say(line) if any(k in line for k in ("Done", "ERROR", "stat::", "still running")) else None,
    )
    assert code == 0, log[-6000:]
    runs = re.search(r"Done (\d+) runs", log)
    assert runs and int(runs.group(1)) > 10_000, log[-3000:]
