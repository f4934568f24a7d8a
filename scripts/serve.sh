#!/usr/bin/env bash
# Installs what is missing, builds the release binary, and runs the mock on the
# default fixture (the seeds' examples). Extra arguments go to the server, e.g.
#   scripts/serve.sh --port 0 --token secret --fixtures fixtures/default.json
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
cd "$repo"
swift build -c release --product cloud-agents-mock >&2
exec "$repo/.build/release/cloud-agents-mock" "$@"
