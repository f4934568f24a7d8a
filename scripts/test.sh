#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Swift unit tests
# (the app driven with request values), then the pytest suites that start the
# real binary on port 0 (end-to-end, streaming, control API, the official
# Python SDK, the OpenAPI document and schemathesis) and the tests of the
# Python package in clients/python (control client, pytest plugin). Ends with
# pytest's summary.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh" --python
cd "$repo"
"$repo/scripts/format-check.sh"
swift build --product cloud-agents-mock
# Every Swift test is XCTest: only its runner reports (Swift Testing would add a "0 tests" line).
# They run under AddressSanitizer (memory errors; leak checking is off: the test process ends
# with its apps alive), then under ThreadSanitizer (data races, where the adapter tests' loop
# thread meets the test's; Tests/sanitizers/tsan.supp says what it may ignore and why);
# Tests/e2e/test_sanitized.py runs the end-to-end suites against a server built with each
# sanitizer, in the same scratch folders.
ASAN_OPTIONS=detect_leaks=0 swift test --disable-swift-testing --sanitize=address --scratch-path .build-asan
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$repo/Tests/sanitizers/tsan.supp" swift test --disable-swift-testing --sanitize=thread --scratch-path .build-tsan
export CLOUD_AGENTS_MOCK_BIN="$repo/.build/debug/cloud-agents-mock"
exec "$repo/.venv/bin/python" -m pytest "$repo/Tests" "$repo/clients/python/tests" -p no:cacheprovider "$@"
