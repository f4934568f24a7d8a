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
# with its apps alive); Tests/e2e/test_sanitized.py runs the end-to-end suites against a
# sanitized server built in the same scratch folder.
ASAN_OPTIONS=detect_leaks=0 swift test --disable-swift-testing --sanitize=address --scratch-path .build-asan
export CLOUD_AGENTS_MOCK_BIN="$repo/.build/debug/cloud-agents-mock"
exec "$repo/.venv/bin/python" -m pytest "$repo/Tests" "$repo/clients/python/tests" -p no:cacheprovider "$@"
