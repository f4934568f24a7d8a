"""What the test command itself promises (README "Quick start")."""

from __future__ import annotations

import re

from support.mockserver import REPO


def test_the_swift_step_runs_the_one_runner_the_tests_use():
    """scripts/test.sh turns the Swift Testing runner off so the output has one true summary; that
    holds only while no Swift test uses Swift Testing, which would then be skipped without a word."""
    script = (REPO / "scripts" / "test.sh").read_text()
    assert re.search(
        r"^ASAN_OPTIONS=detect_leaks=0 swift test --disable-swift-testing --sanitize=address --scratch-path \.build-asan$",
        script, re.M,
    )
    assert re.search(
        r'^TSAN_OPTIONS="[^"]*suppressions=\$repo/Tests/sanitizers/tsan\.supp" swift test --disable-swift-testing '
        r"--sanitize=thread --scratch-path \.build-tsan$",
        script, re.M,
    )
    users = [p for p in (REPO / "Tests").rglob("*.swift") if re.search(r"^\s*import Testing\b", p.read_text(), re.M)]
    assert users == [], f"Swift Testing is used by {users}: drop --disable-swift-testing from scripts/test.sh"
